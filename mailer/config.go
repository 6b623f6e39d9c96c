// Package mailer sends messages to customers (portal sign-in links, rights-request letters,
// loyalty notices) through a real SMTP server: STARTTLS or implicit TLS, optional AUTH
// PLAIN, timeouts; messages are built per RFC 5322 and RFC 2045-2047 (UTF-8 subjects,
// multipart text and HTML, Message-ID, Date) from templates per kind in French and English.
//
// Recipients' addresses and message bodies are personal data: they never reach logs or
// errors (D-5). Logs and errors carry the kind, the language, the Message-ID and SMTP
// reply codes only.
package mailer

import (
	"crypto/x509"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/fidelis/fidelis"
)

// TLSMode says how the connection to the SMTP server is protected.
type TLSMode string

// TLS modes.
const (
	// TLSRequired upgrades with STARTTLS and refuses to send if the server does not offer it
	// (the default: customers' addresses and links never cross the network in clear).
	TLSRequired TLSMode = "starttls"
	// TLSOpportunistic upgrades with STARTTLS when the server offers it.
	TLSOpportunistic TLSMode = "opportunistic"
	// TLSImplicit speaks TLS from the first byte (submissions port 465, RFC 8314).
	TLSImplicit TLSMode = "tls"
	// TLSNone never encrypts: only for a relay on the loopback interface.
	TLSNone TLSMode = "none"
)

// Config is the SMTP configuration.
type Config struct {
	Host     string  // SMTP server host name (also the name its certificate must hold)
	Port     int     // 587 by default, 465 with TLSImplicit
	TLS      TLSMode // TLSRequired by default
	Username string  // AUTH PLAIN user; no authentication when empty
	Password string  // AUTH PLAIN password (from FIDELIS_SMTP_PASSWORD_FILE, never a flag)
	From     string  // sender, e.g. "Boutique Dupont <no-reply@dupont.example>"
	HELO     string  // name sent in EHLO; "localhost" when empty
	// PrivacyURL, when set, is linked at the bottom of every message.
	PrivacyURL string
	// Timeout bounds connecting and the whole SMTP exchange; 30 s when zero.
	Timeout time.Duration
	// RootCAs verifies the server's certificate; the system pool when nil.
	RootCAs *x509.CertPool
}

// Configured reports whether an SMTP server is configured at all.
func (c *Config) Configured() bool { return c.Host != "" }

func (c *Config) port() int {
	switch {
	case c.Port != 0:
		return c.Port
	case c.TLS == TLSImplicit:
		return 465
	}
	return 587
}

func (c *Config) mode() TLSMode {
	if c.TLS == "" {
		return TLSRequired
	}
	return c.TLS
}

func (c *Config) timeout() time.Duration {
	if c.Timeout <= 0 {
		return 30 * time.Second
	}
	return c.Timeout
}

func (c *Config) helo() string {
	if c.HELO == "" {
		return "localhost"
	}
	return c.HELO
}

// isLoopback reports whether host names the loopback interface.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Validate checks the configuration. Field names are the command-line flag names.
func (c *Config) Validate() error {
	var errs []fidelis.FieldError
	add := func(field, rule, msg string) {
		errs = append(errs, fidelis.FieldError{Field: field, Rule: rule, Message: msg})
	}
	if c.Host == "" || strings.ContainsAny(c.Host, " /:\r\n") && net.ParseIP(c.Host) == nil {
		add("smtp-host", "invalid", "must be a host name or an IP address")
	}
	if c.Port < 0 || c.Port > 65535 {
		add("smtp-port", "out_of_range", "must be from 1 to 65535")
	}
	switch c.mode() {
	case TLSRequired, TLSOpportunistic, TLSImplicit:
	case TLSNone:
		if !isLoopback(c.Host) {
			add("smtp-tls", "insecure", "none is allowed only for a relay on the loopback interface; use starttls or tls")
		}
	default:
		add("smtp-tls", "one_of", "must be starttls, opportunistic, tls or none")
	}
	if c.Username != "" && c.Password == "" {
		add("smtp-password-file", "required", "is required when a user name is given")
	}
	if c.Username == "" && c.Password != "" {
		add("smtp-username", "required", "is required when a password is given")
	}
	if strings.ContainsAny(c.Username, "\x00\r\n") {
		add("smtp-username", "invalid", "must not contain control characters")
	}
	if a, err := mail.ParseAddress(c.From); c.From == "" || err != nil || !asciiAddress(a.Address) {
		add("smtp-from", "invalid_email", `must be an address such as "Boutique Dupont <no-reply@dupont.example>"`)
	}
	if c.HELO != "" && strings.ContainsAny(c.HELO, " \r\n") {
		add("smtp-helo", "invalid", "must be a host name")
	}
	if c.PrivacyURL != "" {
		if u, err := url.Parse(c.PrivacyURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			add("smtp-privacy-url", "invalid", "must be an http(s) address")
		}
	}
	if c.Timeout < 0 || c.Timeout > 10*time.Minute {
		add("smtp-timeout", "out_of_range", "must be from 1s to 10m")
	}
	if len(errs) > 0 {
		return fidelis.Invalid(errs...)
	}
	return nil
}

// asciiAddress reports whether an address is plain ASCII without spaces or controls: what
// every SMTP server accepts without the SMTPUTF8 extension.
func asciiAddress(a string) bool {
	if a == "" || len(a) > 254 {
		return false
	}
	for i := 0; i < len(a); i++ {
		if a[i] <= ' ' || a[i] >= 0x7f {
			return false
		}
	}
	return strings.Count(a, "@") == 1
}

// String describes the configuration without the password.
func (c *Config) String() string {
	return fmt.Sprintf("smtp://%s:%d (tls=%s, auth=%v)", c.Host, c.port(), c.mode(), c.Username != "")
}
