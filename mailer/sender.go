package mailer

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strconv"
	"time"

	"github.com/fidelis/fidelis"
)

// Sender sends messages through the configured SMTP server, one connection per message.
// It is safe for concurrent use.
type Sender struct {
	Config Config
	Now    func() time.Time
	Logger *slog.Logger

	from      *mail.Address
	templates map[Kind]map[string]parsed
}

// New validates cfg and returns a Sender. now and logger may be nil (time.Now, slog's
// default).
func New(cfg Config, now func() time.Time, logger *slog.Logger) (*Sender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.Default()
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, err // Validate parsed it already
	}
	return &Sender{Config: cfg, Now: now, Logger: logger, from: from, templates: compile()}, nil
}

// Compose renders m as it would be sent now, without sending it (previews, tests).
// EINVALID if the kind, language, address or data do not fit.
func (s *Sender) Compose(m Message) (*Composed, error) {
	return s.compose(m, fidelis.UTC(s.Now()))
}

// Send composes m and delivers it, returning its Message-ID. Errors: EINVALID (the message
// does not fit its template, or the server refused the recipient: reason
// "recipient_rejected"), EUNAVAILABLE (the server is unreachable, answered with a
// temporary failure, does not offer STARTTLS when it is required, or refused the
// credentials). Errors and logs carry SMTP reply codes, never addresses or bodies (D-5).
func (s *Sender) Send(ctx context.Context, m Message) (string, error) {
	start := time.Now()
	c, err := s.Compose(m)
	if err != nil {
		return "", err
	}
	err = s.deliver(ctx, c)
	outcome := "sent"
	if err != nil {
		outcome = "failed"
	}
	s.Logger.LogAttrs(ctx, slog.LevelInfo, "mail", slog.Any("message", m), slog.String("message_id", c.MessageID),
		slog.String("outcome", outcome), slog.String("code", string(fidelis.ErrorCode(err))), slog.Duration("duration", time.Since(start)))
	if err != nil {
		return "", err
	}
	return c.MessageID, nil
}

// smtpError turns a failed SMTP step into a fidelis error that keeps the reply code and
// drops the server's text, which may quote the address.
func smtpError(step string, err error) error {
	var tp *textproto.Error
	if errors.As(err, &tp) {
		msg := "the mail server answered " + strconv.Itoa(tp.Code) + " to " + step
		cause := errors.New("smtp " + step + ": " + strconv.Itoa(tp.Code))
		switch {
		case step == "RCPT" && tp.Code >= 500:
			return &fidelis.Error{Code: fidelis.EINVALID, Reason: "recipient_rejected", Message: msg + ": the address is refused", Err: cause}
		case step == "AUTH":
			return &fidelis.Error{Code: fidelis.EUNAVAILABLE, Reason: "smtp_auth_failed", Message: msg + ": check the SMTP user name and password", Err: cause}
		}
		return &fidelis.Error{Code: fidelis.EUNAVAILABLE, Reason: "smtp_refused", Message: msg, Err: cause}
	}
	if fe := fidelis.AsError(err); fe != nil {
		return fe
	}
	// Network and TLS errors name hosts and certificates, not customers.
	return &fidelis.Error{Code: fidelis.EUNAVAILABLE, Reason: "smtp_unavailable", Message: "the mail server could not be reached during " + step, Err: err}
}

func (s *Sender) deliver(ctx context.Context, c *Composed) error {
	cfg := &s.Config
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.port()))
	deadline := time.Now().Add(cfg.timeout())
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	tlsConfig := &tls.Config{ServerName: cfg.Host, RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12}
	dialer := &net.Dialer{Deadline: deadline}
	var conn net.Conn
	var err error
	if cfg.mode() == TLSImplicit {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: tlsConfig}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return smtpError("connect", err)
	}
	defer conn.Close()
	// One deadline bounds the whole exchange; cancelling ctx aborts it.
	if err := conn.SetDeadline(deadline); err != nil {
		return smtpError("connect", err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	client, err := smtp.NewClient(conn, cfg.Host)
	if err != nil {
		return smtpError("greeting", err)
	}
	defer client.Close()
	if err := client.Hello(cfg.helo()); err != nil {
		return smtpError("EHLO", err)
	}
	secure := cfg.mode() == TLSImplicit
	if !secure && cfg.mode() != TLSNone {
		if ok, _ := client.Extension("STARTTLS"); ok {
			if err := client.StartTLS(tlsConfig); err != nil {
				return smtpError("STARTTLS", err)
			}
			secure = true
		} else if cfg.mode() == TLSRequired {
			return &fidelis.Error{Code: fidelis.EUNAVAILABLE, Reason: "starttls_unavailable",
				Message: "the mail server does not offer STARTTLS, which the configuration requires (smtp-tls=starttls)"}
		}
	}
	if cfg.Username != "" {
		// Credentials never cross the network in clear, except to a loopback relay.
		if !secure && !isLoopback(cfg.Host) {
			return &fidelis.Error{Code: fidelis.EUNAVAILABLE, Reason: "auth_without_tls", Message: "refusing to send SMTP credentials over an unencrypted connection"}
		}
		if ok, _ := client.Extension("AUTH"); !ok {
			return &fidelis.Error{Code: fidelis.EUNAVAILABLE, Reason: "smtp_auth_unavailable", Message: "the mail server does not offer authentication, which the configuration requires"}
		}
		if err := client.Auth(smtp.PlainAuth("", cfg.Username, cfg.Password, cfg.Host)); err != nil {
			return smtpError("AUTH", err)
		}
	}
	if err := client.Mail(c.From); err != nil {
		return smtpError("MAIL", err)
	}
	if err := client.Rcpt(c.To.Reveal()); err != nil {
		return smtpError("RCPT", err)
	}
	w, err := client.Data()
	if err != nil {
		return smtpError("DATA", err)
	}
	if _, err := w.Write(c.Raw); err != nil {
		return smtpError("DATA", err)
	}
	if err := w.Close(); err != nil {
		return smtpError("DATA", err)
	}
	if err := client.Quit(); err != nil {
		// The message is accepted once DATA ends with 250; a failed QUIT loses nothing.
		s.Logger.LogAttrs(ctx, slog.LevelDebug, "mail quit", slog.String("message_id", c.MessageID), slog.String("err", smtpError("QUIT", err).Error()))
	}
	return nil
}
