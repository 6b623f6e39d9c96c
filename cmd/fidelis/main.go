// Command fidelis is the Fidelis CRM and loyalty platform: one binary for the server, the
// demo, and the operator's commands. It only wires configuration to package app.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/portal"
	"github.com/fidelis/fidelis/register"
	"github.com/fidelis/fidelis/web"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRoot(os.Stdout, os.Stderr).ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "fidelis:", message(err))
		os.Exit(exitCode(err))
	}
}

// message is what the operator sees: the safe message, plus the cause for internal errors
// (the CLI operator is the operator; causes never hold personal values).
func message(err error) string {
	if e := fidelis.AsError(err); e != nil && e.Code != fidelis.EINTERNAL {
		msg := e.Message
		for _, f := range e.Fields {
			msg += "\n  " + f.Field + ": " + f.Message
		}
		return msg
	}
	return err.Error()
}

// exitCode maps error codes to exit statuses, so scripts can tell failures apart.
func exitCode(err error) int {
	var ve *verifyError
	if errors.As(err, &ve) {
		return 3
	}
	var pe *proofError
	if errors.As(err, &pe) {
		return 3
	}
	switch fidelis.ErrorCode(err) {
	case fidelis.EINVALID:
		return 2
	case fidelis.ENOTFOUND:
		return 4
	case fidelis.EFORBIDDEN, fidelis.EUNAUTHORIZED:
		return 5
	case fidelis.EUNAVAILABLE:
		return 6
	}
	return 1
}

// options are the flags every command takes, each also read from a FIDELIS_* variable
// (and FIDELIS_DB_FILE for the URL, which may hold a password).
type options struct {
	dataDir  string
	dbURL    string
	keyFile  string
	logLevel string
	// controller is the controller's and DPO's identity (register.go).
	controller register.Controller
	// smtp is the mail server for messages to customers (mail.go).
	smtp smtpOptions
	// publicURL is the portal's address for sign-in links (portal.go).
	publicURL string
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	if path := os.Getenv(name + "_FILE"); path != "" {
		if b, err := os.ReadFile(path); err == nil {
			return strings.TrimSpace(string(b))
		}
	}
	return def
}

func (o *options) config(stderr io.Writer) (app.Config, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return app.Config{}, fidelis.Invalid(fidelis.FieldError{Field: "log-level", Rule: "invalid", Message: "must be debug, info, warn or error"})
	}
	smtp, err := o.smtp.config()
	if err != nil {
		return app.Config{}, err
	}
	public, err := publicURL(o.publicURL)
	if err != nil {
		return app.Config{}, err
	}
	cfg := app.Config{
		DataDir: o.dataDir, DBURL: o.dbURL, KeyFile: o.keyFile, Stderr: stderr,
		Logger:        slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level})),
		WebHandler:    web.Mount,
		Controller:    o.controller,
		SMTP:          smtp,
		PublicURL:     public,
		PortalHandler: portal.Mount,
	}
	if err := retentionConfig(&cfg); err != nil {
		return app.Config{}, err
	}
	if err := rightsConfig(&cfg); err != nil {
		return cfg, err
	}
	return cfg, rewardsConfig(&cfg)
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	o := &options{}
	root := &cobra.Command{
		Use:           "fidelis",
		Short:         "Fidelis: customer relationship and loyalty platform that enforces data-protection law",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	pf := root.PersistentFlags()
	pf.StringVar(&o.dataDir, "data", env("FIDELIS_DATA", "fidelis-data"), "data directory: SQLite database and key file (env FIDELIS_DATA)")
	pf.StringVar(&o.dbURL, "db", env("FIDELIS_DB", ""), "PostgreSQL URL, e.g. postgres://user@host/db; SQLite in --data when empty (env FIDELIS_DB, FIDELIS_DB_FILE)")
	pf.StringVar(&o.keyFile, "keyfile", env("FIDELIS_KEYFILE", ""), "key file (default DATA/fidelis.key) (env FIDELIS_KEYFILE)")
	pf.StringVar(&o.logLevel, "log-level", env("FIDELIS_LOG_LEVEL", "info"), "log level: debug, info, warn, error (env FIDELIS_LOG_LEVEL)")
	controllerFlags(root, &o.controller)
	smtpFlags(root, &o.smtp)
	portalFlags(root, &o.publicURL)
	root.AddCommand(serveCmd(o), demoCmd(o), migrateCmd(o), tokenCmd(o), userCmd(o), keysCmd(o), auditCmd(o), registerCmd(o), mailCmd(o), webhooksCmd(o), rightsCmd(o), suppressionCmd(o), loyaltyCmd(o))
	root.AddCommand(retentionCmd(o))
	root.AddCommand(proofCmd(o))
	return root
}

// open opens the installation for a command.
func open(cmd *cobra.Command, o *options) (*app.App, error) {
	cfg, err := o.config(cmd.ErrOrStderr())
	if err != nil {
		return nil, err
	}
	return app.Open(cmd.Context(), cfg)
}

func serveCmd(o *options) *cobra.Command {
	var addr string
	c := &cobra.Command{
		Use:   "serve",
		Short: "Serve the API and the back-office",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := open(cmd, o)
			if err != nil {
				return err
			}
			defer a.Close()
			if err := a.Bootstrap(cmd.Context()); err != nil {
				return err
			}
			a.Config.Addr = addr
			return a.Serve(cmd.Context(), nil, func(bound string) {
				fmt.Fprintf(cmd.ErrOrStderr(), "Fidelis is listening on http://%s/ (back-office) and http://%s/api/v1 (API)\n", bound, bound)
			})
		},
	}
	c.Flags().StringVar(&addr, "addr", env("FIDELIS_ADDR", "127.0.0.1:8080"), "listen address HOST:PORT (env FIDELIS_ADDR)")
	return c
}

func demoCmd(o *options) *cobra.Command {
	var addr string
	var count int
	var seed uint64
	var loadOnly bool
	c := &cobra.Command{
		Use:   "demo",
		Short: "Load a synthetic data set (French and European customers) and serve it",
		Long: "demo loads a deterministic synthetic data set into an empty installation, then serves it.\n" +
			"Data already present is kept: demo only loads when there are no customers yet.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if count < 1 || count > 1_000_000 {
				return fidelis.Invalid(fidelis.FieldError{Field: "customers", Rule: "out_of_range", Message: "must be from 1 to 1000000"})
			}
			a, err := open(cmd, o)
			if err != nil {
				return err
			}
			defer a.Close()
			if err := a.Bootstrap(cmd.Context()); err != nil {
				return err
			}
			n, err := a.CountCustomers(cmd.Context())
			if err != nil {
				return err
			}
			if n == 0 {
				if err := a.LoadDemo(cmd.Context(), count, seed, cmd.ErrOrStderr()); err != nil {
					return err
				}
				if err := a.LoadDemoRights(cmd.Context()); err != nil {
					return err
				}
				token, _, err := a.Auth.CreateToken(app.SystemContext(cmd.Context(), "demo", fidelis.RoleAdmin), "demo", fidelis.RoleAdmin)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "Demo API token (role admin), shown once:\n  %s\nTry:\n  curl -H 'Authorization: Bearer %s' -H 'Fidelis-Purpose: customer_service' http://%s/api/v1/customers?limit=3\n\n", token, token, addr)
			} else {
				fmt.Fprintf(cmd.ErrOrStderr(), "The installation already holds %d customers; no demo data loaded.\n", n)
			}
			if loadOnly {
				_, err := a.Sealer.SealAll(cmd.Context())
				return err
			}
			a.Config.Addr = addr
			return a.Serve(cmd.Context(), nil, func(bound string) {
				fmt.Fprintf(cmd.ErrOrStderr(), "Fidelis demo is listening on http://%s/ (back-office) and http://%s/api/v1 (API)\n", bound, bound)
			})
		},
	}
	c.Flags().StringVar(&addr, "addr", env("FIDELIS_ADDR", "127.0.0.1:8080"), "listen address HOST:PORT (env FIDELIS_ADDR)")
	c.Flags().IntVar(&count, "customers", 10000, "number of synthetic customers")
	c.Flags().Uint64Var(&seed, "seed", 1, "seed of the synthetic data set (same seed, same data)")
	c.Flags().BoolVar(&loadOnly, "load-only", false, "load the data and exit without serving")
	return c
}

func migrateCmd(o *options) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply database migrations and exit",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := open(cmd, o)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "database is up to date")
			return a.Close()
		},
	}
}

func tokenCmd(o *options) *cobra.Command {
	c := &cobra.Command{Use: "token", Short: "Manage API tokens"}
	var role, name string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an API token bound to a role and print it (shown once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := open(cmd, o)
			if err != nil {
				return err
			}
			defer a.Close()
			token, t, err := a.Auth.CreateToken(app.SystemContext(cmd.Context(), "cli", fidelis.RoleAdmin), name, fidelis.Role(role))
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), token)
			fmt.Fprintf(cmd.ErrOrStderr(), "token %s created for role %s; it is shown once and stored only as a hash\n", t.ID, t.Role)
			return nil
		},
	}
	create.Flags().StringVar(&role, "role", "", "role the token acts with: admin, dpo, sales, marketing, support, loyalty_manager, auditor")
	create.Flags().StringVar(&name, "name", "", "a label to recognise the token (e.g. the system using it)")
	_ = create.MarkFlagRequired("role")
	var id string
	revoke := &cobra.Command{
		Use:   "revoke",
		Short: "Revoke an API token",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := open(cmd, o)
			if err != nil {
				return err
			}
			defer a.Close()
			return a.Auth.RevokeToken(app.SystemContext(cmd.Context(), "cli", fidelis.RoleAdmin), id)
		},
	}
	revoke.Flags().StringVar(&id, "id", "", "token id (tok_...)")
	_ = revoke.MarkFlagRequired("id")
	c.AddCommand(create, revoke)
	return c
}

func readPassword(cmd *cobra.Command, file string) (string, error) {
	if file == "" {
		return "", fidelis.Invalid(fidelis.FieldError{Field: "password-file", Rule: "required", Message: "give a file holding the password (- for standard input)"})
	}
	var b []byte
	var err error
	if file == "-" {
		b, err = io.ReadAll(io.LimitReader(cmd.InOrStdin(), 4096))
	} else {
		b, err = os.ReadFile(file)
	}
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

func userCmd(o *options) *cobra.Command {
	c := &cobra.Command{Use: "user", Short: "Manage back-office users"}
	var username, role, locale, pwFile string
	create := &cobra.Command{
		Use:   "create",
		Short: "Create a back-office user",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pw, err := readPassword(cmd, pwFile)
			if err != nil {
				return err
			}
			a, err := open(cmd, o)
			if err != nil {
				return err
			}
			defer a.Close()
			u, err := a.Auth.CreateUser(app.SystemContext(cmd.Context(), "cli", fidelis.RoleAdmin), username, pw, fidelis.Role(role), locale)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "user %s (%s) created with role %s\n", u.Username, u.ID, u.Role)
			return nil
		},
	}
	create.Flags().StringVar(&username, "username", "", "login name")
	create.Flags().StringVar(&role, "role", "", "role: admin, dpo, sales, marketing, support, loyalty_manager, auditor")
	create.Flags().StringVar(&locale, "locale", "fr", "language of the back-office: fr or en")
	create.Flags().StringVar(&pwFile, "password-file", "", "file holding the password, or - for standard input")
	_ = create.MarkFlagRequired("username")
	_ = create.MarkFlagRequired("role")
	passwd := &cobra.Command{
		Use:   "passwd",
		Short: "Set a user's password (ends their sessions)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pw, err := readPassword(cmd, pwFile)
			if err != nil {
				return err
			}
			a, err := open(cmd, o)
			if err != nil {
				return err
			}
			defer a.Close()
			return a.Auth.SetPassword(app.SystemContext(cmd.Context(), "cli", fidelis.RoleAdmin), username, pw)
		},
	}
	passwd.Flags().StringVar(&username, "username", "", "login name")
	passwd.Flags().StringVar(&pwFile, "password-file", "", "file holding the password, or - for standard input")
	_ = passwd.MarkFlagRequired("username")
	c.AddCommand(create, passwd)
	return c
}

func keysCmd(o *options) *cobra.Command {
	c := &cobra.Command{Use: "keys", Short: "Manage encryption keys"}
	c.AddCommand(&cobra.Command{
		Use:   "rotate",
		Short: "Create a new key-encryption key and rewrap every data key under it (safe while serving)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := open(cmd, o)
			if err != nil {
				return err
			}
			defer a.Close()
			_, _, err = a.RotateKeys(cmd.Context(), cmd.ErrOrStderr())
			if err == nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "Back up the key file again: it now holds the new key.")
			}
			return err
		},
	})
	return c
}

// verifyError marks a failed audit verification (exit status 3).
type verifyError struct{ first string }

func (e *verifyError) Error() string {
	return "audit log verification FAILED: first bad entry: " + e.first
}

func auditCmd(o *options) *cobra.Command {
	c := &cobra.Command{Use: "audit", Short: "Audit log operations"}
	var against []string
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Recompute the whole audit log and check every entry, leaf, root and signature",
		Long: "verify recomputes every entry's authentication code and Merkle leaf, the root at every\n" +
			"signed checkpoint, and every signature. It exits 0 if the log is intact and 3 naming the\n" +
			"first bad entry if any entry was changed, removed, inserted or reordered.\n\n" +
			"Removing the end of the log together with its newest checkpoints cannot be seen from\n" +
			"inside the database: archive the output of 'fidelis audit seal' elsewhere and pass it\n" +
			"with --against to check the log still holds it.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := open(cmd, o)
			if err != nil {
				return err
			}
			defer a.Close()
			r, err := a.VerifyAudit(cmd.Context(), against...)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "entries: %d (sealed %d, pending %d), checkpoints: %d, tree size %d, root %s\n", r.Entries, r.Sealed, r.Pending, r.Checkpoints, r.Size, r.Root)
			if r.OK() {
				fmt.Fprintln(out, "audit log OK")
				return nil
			}
			for _, p := range r.Problems {
				fmt.Fprintln(out, "PROBLEM:", p)
			}
			return &verifyError{first: r.Problems[0].String()}
		},
	}
	verify.Flags().StringArrayVar(&against, "against", nil, "a signed checkpoint exported by 'fidelis audit seal' that the log must still contain (repeatable)")
	c.AddCommand(verify)
	c.AddCommand(&cobra.Command{
		Use:   "seal",
		Short: "Seal pending audit entries now and print the latest signed checkpoint (archive it elsewhere)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := open(cmd, o)
			if err != nil {
				return err
			}
			defer a.Close()
			n, err := a.Sealer.SealAll(cmd.Context())
			if err != nil {
				return err
			}
			cp, err := a.DB.LatestCheckpoint(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "sealed %d entries; latest signed checkpoint on standard output\n", n)
			if cp != nil {
				cmd.OutOrStdout().Write(audit.FormatCheckpoint(cp))
			}
			return nil
		},
	})
	return c
}
