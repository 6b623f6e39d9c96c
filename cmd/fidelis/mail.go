package main

import (
	"crypto/x509"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/mailer"
)

// smtpOptions are the SMTP flags, each also read from a FIDELIS_SMTP_* variable. The
// password comes from a file or FIDELIS_SMTP_PASSWORD(_FILE), never from a flag value that
// other users could read in the process list.
type smtpOptions struct {
	cfg          mailer.Config
	port         string
	timeout      string
	tls          string
	passwordFile string
	caFile       string
}

func smtpFlags(root *cobra.Command, o *smtpOptions) {
	fs := root.PersistentFlags()
	fs.StringVar(&o.cfg.Host, "smtp-host", env("FIDELIS_SMTP_HOST", ""), "SMTP server for messages to customers; none when empty (env FIDELIS_SMTP_HOST)")
	fs.StringVar(&o.port, "smtp-port", env("FIDELIS_SMTP_PORT", ""), "SMTP port (default 587, or 465 with --smtp-tls=tls) (env FIDELIS_SMTP_PORT)")
	fs.StringVar(&o.tls, "smtp-tls", env("FIDELIS_SMTP_TLS", "starttls"), "starttls (required), opportunistic, tls (implicit, port 465) or none (loopback relay only) (env FIDELIS_SMTP_TLS)")
	fs.StringVar(&o.cfg.Username, "smtp-username", env("FIDELIS_SMTP_USERNAME", ""), "AUTH PLAIN user name; no authentication when empty (env FIDELIS_SMTP_USERNAME)")
	fs.StringVar(&o.passwordFile, "smtp-password-file", "", "file holding the SMTP password (env FIDELIS_SMTP_PASSWORD or FIDELIS_SMTP_PASSWORD_FILE)")
	fs.StringVar(&o.cfg.From, "smtp-from", env("FIDELIS_SMTP_FROM", ""), `sender of messages, e.g. "Boutique Dupont <no-reply@dupont.example>" (env FIDELIS_SMTP_FROM)`)
	fs.StringVar(&o.cfg.HELO, "smtp-helo", env("FIDELIS_SMTP_HELO", ""), "name sent in EHLO (default localhost) (env FIDELIS_SMTP_HELO)")
	fs.StringVar(&o.cfg.PrivacyURL, "smtp-privacy-url", env("FIDELIS_SMTP_PRIVACY_URL", ""), "address of the privacy notice linked in every message, e.g. https://shop.example/privacy (env FIDELIS_SMTP_PRIVACY_URL)")
	fs.StringVar(&o.timeout, "smtp-timeout", env("FIDELIS_SMTP_TIMEOUT", "30s"), "bound on connecting and the whole SMTP exchange (env FIDELIS_SMTP_TIMEOUT)")
	fs.StringVar(&o.caFile, "smtp-ca-file", env("FIDELIS_SMTP_CA_FILE", ""), "PEM file of the CA that signs the SMTP server's certificate; the system's when empty (env FIDELIS_SMTP_CA_FILE)")
}

// config returns the SMTP configuration; mailer.New validates the rest when a host is set.
func (o *smtpOptions) config() (mailer.Config, error) {
	c := o.cfg
	c.TLS = mailer.TLSMode(o.tls)
	var errs []fidelis.FieldError
	if o.port != "" {
		p, err := strconv.Atoi(o.port)
		if err != nil || p < 1 || p > 65535 {
			errs = append(errs, fidelis.FieldError{Field: "smtp-port", Rule: "out_of_range", Message: "must be from 1 to 65535"})
		}
		c.Port = p
	}
	if d, err := time.ParseDuration(o.timeout); err != nil || d < time.Second {
		errs = append(errs, fidelis.FieldError{Field: "smtp-timeout", Rule: "invalid", Message: "must be a duration of at least 1s, such as 30s"})
	} else {
		c.Timeout = d
	}
	c.Password = env("FIDELIS_SMTP_PASSWORD", "")
	if o.passwordFile != "" {
		b, err := os.ReadFile(o.passwordFile)
		if err != nil {
			errs = append(errs, fidelis.FieldError{Field: "smtp-password-file", Rule: "unreadable", Message: "cannot be read"})
		}
		c.Password = strings.TrimRight(string(b), "\r\n")
	}
	if o.caFile != "" {
		pem, err := os.ReadFile(o.caFile)
		pool := x509.NewCertPool()
		if err != nil || !pool.AppendCertsFromPEM(pem) {
			errs = append(errs, fidelis.FieldError{Field: "smtp-ca-file", Rule: "invalid", Message: "must be a readable PEM file of certificates"})
		}
		c.RootCAs = pool
	}
	if len(errs) > 0 {
		return c, fidelis.Invalid(errs...)
	}
	return c, nil
}

func mailCmd(o *options) *cobra.Command {
	c := &cobra.Command{Use: "mail", Short: "Messages to customers over SMTP"}
	var to, lang string
	test := &cobra.Command{
		Use:   "test",
		Short: "Send a test message through the configured SMTP server and print its Message-ID",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := open(cmd, o)
			if err != nil {
				return err
			}
			defer a.Close()
			if a.Mailer == nil {
				return fidelis.Invalid(fidelis.FieldError{Field: "smtp-host", Rule: "required", Message: "no SMTP server is configured (--smtp-host or FIDELIS_SMTP_HOST)"})
			}
			id, err := a.Mailer.Send(cmd.Context(), mailer.Message{Kind: mailer.KindTest, Lang: lang, To: fidelis.NewSecret(to)})
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), id)
			fmt.Fprintf(cmd.ErrOrStderr(), "test message accepted by %s\n", a.Mailer.Config.String())
			return nil
		},
	}
	test.Flags().StringVar(&to, "to", "", "address to send the test message to")
	test.Flags().StringVar(&lang, "lang", "fr", "language of the message: fr or en")
	_ = test.MarkFlagRequired("to")
	c.AddCommand(test)
	return c
}
