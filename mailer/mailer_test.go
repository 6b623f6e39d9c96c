package mailer_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/mailer"
)

const customer = "camille.durand@example.fr"

var fixedNow = time.Date(2026, 11, 22, 21, 30, 0, 0, time.UTC)

func config(srv *fidelistest.SMTPServer, mode mailer.TLSMode) mailer.Config {
	return mailer.Config{Host: srv.Host, Port: srv.Port, TLS: mode, RootCAs: srv.RootCAs,
		From: "Boutique Dupont <no-reply@dupont.example>", HELO: "crm.dupont.example", PrivacyURL: "https://dupont.example/privacy",
		Timeout: 5 * time.Second}
}

func mustSender(t *testing.T, cfg mailer.Config, logs io.Writer) *mailer.Sender {
	t.Helper()
	if logs == nil {
		logs = io.Discard
	}
	s, err := mailer.New(cfg, func() time.Time { return fixedNow }, slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatalf("mailer.New: %v", err)
	}
	return s
}

func magicLink(lang string) mailer.Message {
	return mailer.Message{Kind: mailer.KindMagicLink, Lang: lang, To: fidelis.NewSecret(customer),
		Data: map[string]any{"link": "https://portal.dupont.example/login?token=Zm9vYmFy&lang=" + lang, "minutes": 15}}
}

// parsed is a received message, decoded.
type parsed struct {
	header     mail.Header
	subject    string
	text, html string
	ctypes     []string
}

func parse(t *testing.T, raw []byte) parsed {
	t.Helper()
	for i, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 998 {
			t.Errorf("line %d is %d bytes long; RFC 5322 allows 998", i, len(line))
		}
		if strings.Contains(line, "\n") || strings.Contains(line, "\r") {
			t.Errorf("line %d holds a bare CR or LF", i)
		}
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("received message does not parse: %v", err)
	}
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	for _, c := range head {
		if c >= 0x80 {
			t.Fatal("a header holds a non-ASCII byte; RFC 2047 encoding is required")
		}
	}
	p := parsed{header: m.Header}
	if p.subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); err != nil {
		t.Fatalf("Subject does not decode: %v", err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type = %q (%v); want multipart/alternative", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("multipart: %v", err)
		}
		b, err := io.ReadAll(part)
		if err != nil {
			t.Fatal(err)
		}
		ct := part.Header.Get("Content-Type")
		p.ctypes = append(p.ctypes, ct)
		if strings.HasPrefix(ct, "text/plain") {
			p.text = string(b)
		} else {
			p.html = string(b)
		}
	}
	return p
}

// TestSend_STARTTLSAndAuthPlain_RealExchange sends a sign-in link over a real SMTP exchange:
// STARTTLS (required by the server before MAIL), AUTH PLAIN, then a well-formed RFC 5322
// message in the customer's language.
func TestSend_STARTTLSAndAuthPlain_RealExchange(t *testing.T) {
	srv := fidelistest.MustSMTPServer(t, fidelistest.SMTPOptions{TLS: true, RequireTLS: true, Username: "crm", Password: "s3cret-pass"})
	cfg := config(srv, mailer.TLSRequired)
	cfg.Username, cfg.Password = "crm", "s3cret-pass"
	var logs bytes.Buffer
	s := mustSender(t, cfg, &logs)
	id, err := s.Send(context.Background(), magicLink("fr"))
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("server received %d messages; want 1", len(msgs))
	}
	got := msgs[0]
	if !got.TLS || got.Auth != "crm" || got.From != "no-reply@dupont.example" || len(got.To) != 1 || got.To[0] != customer || got.Helo != "crm.dupont.example" {
		t.Fatalf("envelope: TLS %v auth %q from %q to %v helo %q; want TLS, crm, the sender, the customer", got.TLS, got.Auth, got.From, got.To, got.Helo)
	}
	p := parse(t, got.Data)
	if p.subject != "Votre lien de connexion à votre espace client" {
		t.Errorf("Subject = %q", p.subject)
	}
	if p.header.Get("Message-ID") != id || !strings.HasSuffix(id, "@dupont.example>") || !strings.HasPrefix(id, "<msg_") {
		t.Errorf("Message-ID = %q, Send returned %q", p.header.Get("Message-ID"), id)
	}
	if d, err := p.header.Date(); err != nil || !d.Equal(fixedNow) {
		t.Errorf("Date = %v, %v; want %v", d, err, fixedNow)
	}
	from, _ := p.header.AddressList("From")
	to, _ := p.header.AddressList("To")
	if len(from) != 1 || from[0].Name != "Boutique Dupont" || from[0].Address != "no-reply@dupont.example" || len(to) != 1 || to[0].Address != customer {
		t.Errorf("From %v To %v", from, to)
	}
	for _, h := range []struct{ name, want string }{{"MIME-Version", "1.0"}, {"Content-Language", "fr"}, {"Auto-Submitted", "auto-generated"}} {
		if got := p.header.Get(h.name); got != h.want {
			t.Errorf("%s = %q; want %q", h.name, got, h.want)
		}
	}
	link := "https://portal.dupont.example/login?token=Zm9vYmFy&lang=fr"
	if len(p.ctypes) != 2 || p.ctypes[0] != "text/plain; charset=utf-8" || p.ctypes[1] != "text/html; charset=utf-8" {
		t.Errorf("parts = %v; want text then HTML", p.ctypes)
	}
	if !strings.Contains(p.text, link) || !strings.Contains(p.text, "15 minutes") || !strings.Contains(p.text, "Boutique Dupont") || !strings.Contains(p.text, "https://dupont.example/privacy") {
		t.Errorf("text part lacks the link, validity, sender or privacy link:\n%s", p.text)
	}
	if !strings.Contains(p.html, `href="https://portal.dupont.example/login?token=Zm9vYmFy&amp;lang=fr"`) || !strings.Contains(p.html, `<html lang="fr">`) {
		t.Errorf("HTML part lacks the escaped link:\n%s", p.html)
	}
	// D-5: the log names the kind and the Message-ID, never the address or the body.
	for _, secret := range []string{customer, "Zm9vYmFy", "s3cret-pass"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs.String())
		}
	}
	if !strings.Contains(logs.String(), id) || !strings.Contains(logs.String(), string(mailer.KindMagicLink)) {
		t.Errorf("logs do not name the Message-ID and kind:\n%s", logs.String())
	}
}

// TestSend_LanguageOfTheCustomer: the template follows the customer's language.
func TestSend_LanguageOfTheCustomer(t *testing.T) {
	srv := fidelistest.MustSMTPServer(t, fidelistest.SMTPOptions{TLS: true})
	s := mustSender(t, config(srv, mailer.TLSRequired), nil)
	for _, lang := range []string{"en", "fr", ""} {
		if _, err := s.Send(context.Background(), magicLink(lang)); err != nil {
			t.Fatalf("Send(%q): %v", lang, err)
		}
	}
	msgs := srv.Messages()
	want := []struct{ subject, lang, text string }{
		{"Your sign-in link to your customer area", "en", "It is valid for 15 minutes"},
		{"Votre lien de connexion à votre espace client", "fr", "Il est valable 15 minutes"},
		{"Votre lien de connexion à votre espace client", "fr", "Il est valable 15 minutes"},
	}
	for i, w := range want {
		p := parse(t, msgs[i].Data)
		if p.subject != w.subject || p.header.Get("Content-Language") != w.lang || !strings.Contains(p.text, w.text) {
			t.Errorf("message %d: subject %q language %q; want %q in %s", i, p.subject, p.header.Get("Content-Language"), w.subject, w.lang)
		}
	}
}

func code(err error) (fidelis.Code, string) {
	e := fidelis.AsError(err)
	if e == nil {
		return "", ""
	}
	return e.Code, e.Reason
}

// TestSend_RefusesWithoutTLS: with STARTTLS required, a server that does not offer it gets
// nothing; opportunistic mode sends in clear to it; a certificate the client does not trust
// stops the exchange before MAIL.
func TestSend_RefusesWithoutTLS(t *testing.T) {
	plain := fidelistest.MustSMTPServer(t)
	_, err := mustSender(t, config(plain, mailer.TLSRequired), nil).Send(context.Background(), magicLink("fr"))
	if c, r := code(err); c != fidelis.EUNAVAILABLE || r != "starttls_unavailable" || len(plain.Messages()) != 0 {
		t.Fatalf("required STARTTLS not offered: %v (%d received); want EUNAVAILABLE starttls_unavailable and nothing sent", err, len(plain.Messages()))
	}
	if _, err := mustSender(t, config(plain, mailer.TLSOpportunistic), nil).Send(context.Background(), magicLink("fr")); err != nil || len(plain.Messages()) != 1 || plain.Messages()[0].TLS {
		t.Fatalf("opportunistic without STARTTLS: %v; want one message in clear", err)
	}
	tlsSrv := fidelistest.MustSMTPServer(t, fidelistest.SMTPOptions{TLS: true})
	if _, err := mustSender(t, config(tlsSrv, mailer.TLSOpportunistic), nil).Send(context.Background(), magicLink("fr")); err != nil || !tlsSrv.Messages()[0].TLS {
		t.Fatalf("opportunistic with STARTTLS: %v; want one message over TLS", err)
	}
	untrusted := config(tlsSrv, mailer.TLSRequired)
	untrusted.RootCAs = nil // the system pool does not know the test CA
	_, err = mustSender(t, untrusted, nil).Send(context.Background(), magicLink("fr"))
	if c, r := code(err); c != fidelis.EUNAVAILABLE || r != "smtp_unavailable" || len(tlsSrv.Messages()) != 1 {
		t.Fatalf("untrusted certificate: %v; want EUNAVAILABLE and nothing more sent", err)
	}
}

// TestSend_ServerRefusals: wrong credentials, a rejected recipient and a temporary failure
// are errors with stable reasons that never quote the address.
func TestSend_ServerRefusals(t *testing.T) {
	srv := fidelistest.MustSMTPServer(t, fidelistest.SMTPOptions{TLS: true, Username: "crm", Password: "right", Reject: []string{customer}})
	cfg := config(srv, mailer.TLSRequired)
	cfg.Username, cfg.Password = "crm", "wrong"
	_, err := mustSender(t, cfg, nil).Send(context.Background(), magicLink("fr"))
	if c, r := code(err); c != fidelis.EUNAVAILABLE || r != "smtp_auth_failed" || !strings.Contains(err.Error(), "535") {
		t.Errorf("wrong password: %v; want EUNAVAILABLE smtp_auth_failed naming 535", err)
	}
	cfg.Password = "right"
	var logs bytes.Buffer
	_, err = mustSender(t, cfg, &logs).Send(context.Background(), magicLink("fr"))
	if c, r := code(err); c != fidelis.EINVALID || r != "recipient_rejected" || !strings.Contains(err.Error(), "550") {
		t.Errorf("rejected recipient: %v; want EINVALID recipient_rejected naming 550", err)
	}
	if full := err.Error() + fidelis.AsError(err).Err.Error() + logs.String(); strings.Contains(full, customer) {
		t.Errorf("the error or the log quotes the address: %s", full)
	}
	temp := fidelistest.MustSMTPServer(t, fidelistest.SMTPOptions{TLS: true, TempFail: true})
	_, err = mustSender(t, config(temp, mailer.TLSRequired), nil).Send(context.Background(), magicLink("fr"))
	if c, r := code(err); c != fidelis.EUNAVAILABLE || r != "smtp_refused" || !strings.Contains(err.Error(), "451") {
		t.Errorf("temporary failure: %v; want EUNAVAILABLE smtp_refused naming 451", err)
	}
	if len(srv.Messages())+len(temp.Messages()) != 0 {
		t.Error("a refused message was recorded as accepted")
	}
}

// TestSend_TimesOut: a server that accepts the connection and never answers is given up
// after the configured timeout.
func TestSend_TimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // silent until the test ends
		}
	}()
	cfg := mailer.Config{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, From: "no-reply@dupont.example", Timeout: 300 * time.Millisecond}
	start := time.Now()
	_, err = mustSender(t, cfg, nil).Send(context.Background(), magicLink("fr"))
	if c, _ := code(err); c != fidelis.EUNAVAILABLE || time.Since(start) > 3*time.Second {
		t.Fatalf("silent server: %v after %v; want EUNAVAILABLE after about 300ms", err, time.Since(start))
	}
	// The caller's context bounds it too: cancelling gives up at once.
	cfg.Timeout = time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start = time.Now()
	_, err = mustSender(t, cfg, nil).Send(ctx, magicLink("fr"))
	if c, _ := code(err); c != fidelis.EUNAVAILABLE || time.Since(start) > 5*time.Second {
		t.Fatalf("cancelled context: %v after %v; want EUNAVAILABLE soon after 200ms", err, time.Since(start))
	}
}

// TestCompose_EveryKindInBothLanguages: every kind renders in French and English, with the
// sender, distinct texts per language, and HTML that escapes the data.
func TestCompose_EveryKindInBothLanguages(t *testing.T) {
	s := mustSender(t, mailer.Config{Host: "smtp.dupont.example", From: "Boutique Dupont <no-reply@dupont.example>"}, nil)
	data := map[string]any{
		"link": "https://portal.dupont.example/x", "minutes": 15, "reference": "RR-2026-0042", "right": "erasure",
		"received": fixedNow, "due": fixedNow.AddDate(0, 1, 0), "reasons": `<script>alert("x")</script>`,
		"points": 1200, "date": time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), "programme": "Club Dupont", "effective": fixedNow.AddDate(0, 0, 35),
	}
	for _, kind := range mailer.Kinds() {
		subjects := map[string]string{}
		for _, lang := range []string{"fr", "en"} {
			c, err := s.Compose(mailer.Message{Kind: kind, Lang: lang, To: fidelis.NewSecret(customer), Data: data})
			if err != nil {
				t.Fatalf("Compose(%s, %s): %v", kind, lang, err)
			}
			p := parse(t, c.Raw)
			subjects[lang] = p.subject
			if p.subject == "" || !strings.Contains(p.text, "Boutique Dupont") || !strings.Contains(p.html, "Boutique Dupont") {
				t.Errorf("%s/%s: empty subject or no sender", kind, lang)
			}
			if strings.Contains(p.html, "<script>") {
				t.Errorf("%s/%s: HTML does not escape the data", kind, lang)
			}
			if strings.Contains(p.text, "<no value>") || strings.Contains(p.html, "<no value>") {
				t.Errorf("%s/%s: a template field rendered as <no value>", kind, lang)
			}
		}
		if subjects["fr"] == subjects["en"] {
			t.Errorf("%s: French and English subjects are the same: %q", kind, subjects["fr"])
		}
	}
	c, err := s.Compose(mailer.Message{Kind: mailer.KindRightsRefused, Lang: "fr", To: fidelis.NewSecret(customer), Data: data})
	if err != nil {
		t.Fatal(err)
	}
	if p := parse(t, c.Raw); !strings.Contains(p.text, "CNIL") || !strings.Contains(p.html, "&lt;script&gt;") {
		t.Error("a refusal does not name the CNIL (R-2) or does not escape the reasons")
	}
	c, _ = s.Compose(mailer.Message{Kind: mailer.KindRightsReceived, Lang: "fr", To: fidelis.NewSecret(customer), Data: data})
	if p := parse(t, c.Raw); !strings.Contains(p.text, "votre demande d'effacement") || !strings.Contains(p.text, "22 décembre 2026") {
		t.Errorf("French acknowledgement does not name the right and due date idiomatically:\n%s", p.text)
	}
	secretData := map[string]any{"reference": "RR-7", "reasons": fidelis.NewSecret("Votre compte Club Dupont n° 4471 est clos")}
	c, _ = s.Compose(mailer.Message{Kind: mailer.KindRightsRefused, Lang: "fr", To: fidelis.NewSecret(customer), Data: secretData})
	if p := parse(t, c.Raw); !strings.Contains(p.text, "n° 4471 est clos") || strings.Contains(p.text, "[redacted]") {
		t.Errorf("a fidelis.Secret value is not revealed into the message:\n%s", p.text)
	}
	c, _ = s.Compose(mailer.Message{Kind: mailer.KindPointsExpiring, Lang: "fr", To: fidelis.NewSecret(customer), Data: data})
	if p := parse(t, c.Raw); p.subject != "1200 points arrivent à expiration le 1er décembre 2026" {
		t.Errorf("points subject = %q", p.subject)
	}
}

// TestCompose_RefusesBadInput_D5: bad kinds, languages, addresses (header injection
// included) and missing data are EINVALID errors that never repeat the value.
func TestCompose_RefusesBadInput_D5(t *testing.T) {
	s := mustSender(t, mailer.Config{Host: "smtp.dupont.example", From: "no-reply@dupont.example"}, nil)
	for _, tt := range []struct {
		name  string
		m     mailer.Message
		field string
	}{
		{"unknown kind", mailer.Message{Kind: "newsletter", To: fidelis.NewSecret(customer)}, "kind"},
		{"unknown language", mailer.Message{Kind: mailer.KindMagicLink, Lang: "de", To: fidelis.NewSecret(customer)}, "lang"},
		{"header injection", mailer.Message{Kind: mailer.KindMagicLink, To: fidelis.NewSecret(customer + "\r\nBcc: spy@evil.example"), Data: magicLink("fr").Data}, "to"},
		{"display name", mailer.Message{Kind: mailer.KindMagicLink, To: fidelis.NewSecret("Camille <" + customer + ">"), Data: magicLink("fr").Data}, "to"},
		{"two addresses", mailer.Message{Kind: mailer.KindMagicLink, To: fidelis.NewSecret(customer + ", spy@evil.example"), Data: magicLink("fr").Data}, "to"},
		{"missing data", mailer.Message{Kind: mailer.KindRightsReceived, To: fidelis.NewSecret(customer), Data: map[string]any{"reference": "R"}}, "data.right"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Compose(tt.m)
			e := fidelis.AsError(err)
			if e == nil || e.Code != fidelis.EINVALID || len(e.Fields) == 0 || e.Fields[0].Field != tt.field {
				t.Fatalf("Compose = %v; want EINVALID on %s", err, tt.field)
			}
			if strings.Contains(e.Error(), "camille") || strings.Contains(e.Error(), "spy@") {
				t.Fatalf("the error repeats the address: %v", e)
			}
		})
	}
	// A subject can never carry a header: data with a line break is folded to one line.
	c, err := s.Compose(mailer.Message{Kind: mailer.KindRightsCompleted, To: fidelis.NewSecret(customer),
		Data: map[string]any{"reference": "R-1\r\nBcc: spy@evil.example", "right": "access"}})
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := strings.Cut(string(c.Raw), "\r\n\r\n")
	if strings.Contains(head, "\r\nBcc:") {
		t.Fatalf("data injected a header:\n%s", head)
	}
	// Wrong data types are refused without quoting them.
	_, err = s.Compose(mailer.Message{Kind: mailer.KindRightsReceived, To: fidelis.NewSecret(customer),
		Data: map[string]any{"reference": "R", "right": "everything", "received": fixedNow, "due": fixedNow}})
	if e := fidelis.AsError(err); e == nil || e.Code != fidelis.EINVALID || e.Reason != "template_data" || strings.Contains(err.Error()+e.Err.Error(), "everything") {
		t.Fatalf("unknown right: %v; want EINVALID template_data without the value", err)
	}
	if got := (mailer.Message{Kind: mailer.KindMagicLink, To: fidelis.NewSecret(customer), Data: magicLink("fr").Data}).String(); strings.Contains(got, "camille") || strings.Contains(got, "Zm9v") {
		t.Fatalf("Message.String() = %q; want no address or data", got)
	}
}

func TestConfig_Validate(t *testing.T) {
	ok := mailer.Config{Host: "smtp.example.fr", From: "Shop <no-reply@example.fr>"}
	for _, tt := range []struct {
		name  string
		edit  func(*mailer.Config)
		field string
	}{
		{"minimal", func(*mailer.Config) {}, ""},
		{"implicit TLS with auth", func(c *mailer.Config) { c.TLS, c.Username, c.Password = mailer.TLSImplicit, "u", "p" }, ""},
		{"no host", func(c *mailer.Config) { c.Host = "" }, "smtp-host"},
		{"bad port", func(c *mailer.Config) { c.Port = 70000 }, "smtp-port"},
		{"bad mode", func(c *mailer.Config) { c.TLS = "ssl" }, "smtp-tls"},
		{"clear text to a remote host", func(c *mailer.Config) { c.TLS = mailer.TLSNone }, "smtp-tls"},
		{"clear text to loopback", func(c *mailer.Config) { c.TLS, c.Host = mailer.TLSNone, "127.0.0.1" }, ""},
		{"user without password", func(c *mailer.Config) { c.Username = "u" }, "smtp-password-file"},
		{"password without user", func(c *mailer.Config) { c.Password = "p" }, "smtp-username"},
		{"no from", func(c *mailer.Config) { c.From = "" }, "smtp-from"},
		{"bad from", func(c *mailer.Config) { c.From = "nobody" }, "smtp-from"},
		{"bad privacy URL", func(c *mailer.Config) { c.PrivacyURL = "javascript:alert(1)" }, "smtp-privacy-url"},
		{"huge timeout", func(c *mailer.Config) { c.Timeout = time.Hour }, "smtp-timeout"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			err := c.Validate()
			e := fidelis.AsError(err)
			if tt.field == "" && err != nil || tt.field != "" && (e == nil || e.Code != fidelis.EINVALID || e.Fields[0].Field != tt.field) {
				t.Fatalf("Validate() = %v; want field %q", err, tt.field)
			}
		})
	}
	if s := (&mailer.Config{Host: "h", Username: "u", Password: "hunter2", From: "a@b.fr"}).String(); strings.Contains(s, "hunter2") {
		t.Fatalf("Config.String() = %q shows the password", s)
	}
}
