package mailer

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"

	"github.com/fidelis/fidelis"
)

var (
	errNotTime      = errors.New("not a time.Time")
	errUnknownRight = errors.New("not a known right")
)

// Message is a message to one customer. To and Data are personal data: Message prints and
// logs as its kind and language only.
type Message struct {
	Kind Kind
	Lang string         // the customer's language: "fr" or "en" ("" is French)
	To   fidelis.Secret // the customer's e-mail address
	// Data fills the kind's template; the Kind constants document the fields each needs.
	// Values may be fidelis.Secret: they are revealed into the message, nowhere else.
	Data map[string]any
}

// String describes the message without its recipient or data.
func (m Message) String() string { return "mail " + string(m.Kind) + " (" + m.lang() + ")" }

// LogValue logs the kind and language only (D-5).
func (m Message) LogValue() slog.Value {
	return slog.GroupValue(slog.String("kind", string(m.Kind)), slog.String("lang", m.lang()))
}

func (m Message) lang() string {
	if m.Lang == "en" {
		return "en"
	}
	return "fr"
}

// Composed is a message ready to send: its envelope and its RFC 5322 bytes (CRLF line
// endings).
type Composed struct {
	MessageID string // with the angle brackets
	From      string // envelope sender
	To        fidelis.Secret
	Raw       []byte
}

// maxSubject bounds a rendered subject, in bytes.
const maxSubject = 250

// compose renders m for sender from at now.
func (s *Sender) compose(m Message, now time.Time) (*Composed, error) {
	if m.Lang != "" && m.Lang != "fr" && m.Lang != "en" {
		return nil, fidelis.Invalid(fidelis.FieldError{Field: "lang", Rule: "one_of", Message: "must be fr or en"})
	}
	tpl, ok := s.templates[m.Kind]
	if !ok {
		return nil, fidelis.Invalid(fidelis.FieldError{Field: "kind", Rule: "one_of", Message: "is not a known message kind"})
	}
	to, err := mail.ParseAddress(m.To.Reveal())
	if err != nil || to.Name != "" || to.Address != m.To.Reveal() || !asciiAddress(to.Address) {
		// The address is never repeated (D-5).
		return nil, fidelis.Invalid(fidelis.FieldError{Field: "to", Rule: "invalid_email", Message: "must be one plain e-mail address"})
	}
	var missing []fidelis.FieldError
	for _, f := range catalogue[m.Kind].fields {
		if _, ok := m.Data[f]; !ok {
			missing = append(missing, fidelis.FieldError{Field: "data." + f, Rule: "required", Message: "is required by this message kind"})
		}
	}
	if len(missing) > 0 {
		return nil, fidelis.Invalid(missing...)
	}
	t := tpl[m.lang()]
	data := map[string]any{"sender": s.from.Name, "privacy": s.Config.PrivacyURL}
	if data["sender"] == "" {
		data["sender"] = s.from.Address
	}
	for k, v := range m.Data {
		if k == "sender" || k == "privacy" {
			continue
		}
		// Personal values typed Secret (D-5) are revealed here, into the message only;
		// templates would otherwise print "[redacted]".
		if sv, ok := v.(fidelis.Secret); ok {
			v = sv.Reveal()
		}
		data[k] = v
	}
	var subject, text, html bytes.Buffer
	for _, step := range []func() error{
		func() error { return t.subject.Execute(&subject, data) },
		func() error { return t.text.Execute(&text, data) },
		func() error { return t.html.Execute(&html, data) },
	} {
		if err := step(); err != nil {
			// Template errors name the field, never its value.
			return nil, &fidelis.Error{Code: fidelis.EINVALID, Reason: "template_data", Message: "the message data do not fit the template of " + string(m.Kind), Err: errors.New(templateErrorKind(err))}
		}
	}
	subj := oneLine(subject.String())
	if len(subj) > maxSubject {
		return nil, fidelis.Invalid(fidelis.FieldError{Field: "subject", Rule: "too_long", Message: fmt.Sprintf("must be at most %d bytes once rendered", maxSubject)})
	}

	id := "<" + strings.ToLower(fidelis.NewID("msg", now)) + "@" + domainOf(s.from.Address) + ">"
	var b bytes.Buffer
	h := func(name, value string) { b.WriteString(name + ": " + value + "\r\n") }
	h("From", s.from.String())
	h("To", (&mail.Address{Address: to.Address}).String())
	h("Subject", mime.QEncoding.Encode("utf-8", subj))
	h("Date", now.Format(time.RFC1123Z))
	h("Message-ID", id)
	h("MIME-Version", "1.0")
	h("Content-Language", m.lang())
	// RFC 3834: an automatic message; auto-responders must not answer it.
	h("Auto-Submitted", "auto-generated")
	mw := multipart.NewWriter(&b)
	h("Content-Type", `multipart/alternative; boundary="`+mw.Boundary()+`"`)
	b.WriteString("\r\n")
	for _, part := range []struct {
		ctype string
		body  []byte
	}{{"text/plain; charset=utf-8", text.Bytes()}, {"text/html; charset=utf-8", html.Bytes()}} {
		w, err := mw.CreatePart(textproto.MIMEHeader{"Content-Type": {part.ctype}, "Content-Transfer-Encoding": {"quoted-printable"}})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write(part.body); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return &Composed{MessageID: id, From: s.from.Address, To: fidelis.NewSecret(to.Address), Raw: b.Bytes()}, nil
}

// templateErrorKind keeps what a template error says about the template (the field or
// function at fault), dropping anything that could quote data.
func templateErrorKind(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, errNotTime.Error()):
		return "a date field is not a time.Time"
	case strings.Contains(msg, errUnknownRight.Error()):
		return "the right is not one of access, rectification, erasure, restriction, objection, portability"
	case strings.Contains(msg, "map has no entry for key"):
		return "a field the template needs is missing"
	}
	return "template execution failed"
}

func domainOf(addr string) string {
	_, d, _ := strings.Cut(addr, "@")
	return strings.ToLower(d)
}
