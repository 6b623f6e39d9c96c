// Package app assembles Fidelis from its parts: configuration, database, keyring, domain
// services, background jobs and the HTTP handler. Commands and end-to-end tests build on
// it; it holds wiring only, no business rules.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/auth"
	"github.com/fidelis/fidelis/consent"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/httpapi"
	"github.com/fidelis/fidelis/loyalty"
	"github.com/fidelis/fidelis/mailer"
	"github.com/fidelis/fidelis/privacy"
	"github.com/fidelis/fidelis/proof"
	"github.com/fidelis/fidelis/recipient"
	"github.com/fidelis/fidelis/register"
	"github.com/fidelis/fidelis/retention"
	"github.com/fidelis/fidelis/rights"
	"github.com/fidelis/fidelis/selfservice"
	"github.com/fidelis/fidelis/store"
	"github.com/fidelis/fidelis/vault"
)

// Config is what an installation is told at start.
type Config struct {
	DataDir string // SQLite data directory (and default key file location)
	DBURL   string // PostgreSQL URL; SQLite when empty
	KeyFile string // key file; DataDir/fidelis.key when empty
	Addr    string // listen address for Serve
	Now     func() time.Time
	Logger  *slog.Logger
	Stderr  io.Writer // where first-start notices go (key file warning, admin password)
	// Argon2 overrides password hashing cost (tests); zero means the default.
	Argon2 auth.Argon2Params
	// SealInterval is how often the audit sealer runs; zero means one second.
	SealInterval time.Duration
	// Controller is the controller's and DPO's identity shown in the register and the
	// privacy notice (D-2, R-5); what is unset is shown as not configured.
	Controller register.Controller
	// SMTP is the mail server for messages to customers; none when its Host is empty.
	SMTP mailer.Config
	// WebhookInterval is how often the webhook dispatcher looks for work; zero means one
	// second.
	WebhookInterval time.Duration
	// WebhookPolicy bounds webhook retries; zero members take recipient.DefaultPolicy.
	WebhookPolicy recipient.Policy
	// WebHandler, when set, mounts the back-office on the same server.
	WebHandler func(a *App, mux *http.ServeMux)
	// BackupRetention is how long backups are kept; erasure receipts date the effective
	// erasure from it. Zero: 35 days.
	BackupRetention time.Duration
	// SuppressionPeriod is how long the suppression list keeps an entry. Zero: 3 years.
	SuppressionPeriod time.Duration
	// RightsDueSoonDays flags rights requests due within this many days. Zero: 7.
	RightsDueSoonDays int
	// PublicURL is the portal's address as customers reach it, for sign-in links; the
	// listening address when empty.
	PublicURL string
	// PortalHandler, when set, mounts the customer portal on the same server.
	PortalHandler func(a *App, mux *http.ServeMux)
	// RetentionGrace is how long retention waits after a renewal request or a warning
	// (T-1, T-3). Zero: 30 days.
	RetentionGrace time.Duration
	// RetentionInterval is how often Serve runs retention. Zero: daily; negative: never
	// (the operator runs "fidelis retention run").
	RetentionInterval time.Duration
	// ReservationTTL is how long a reward reservation holds points and stock. Zero: 15 minutes.
	ReservationTTL time.Duration
	// ReferralBaseURL is the join page referral links point to. Empty: "/join".
	ReferralBaseURL string
}

// App is a running installation.
type App struct {
	Config    Config
	DB        *store.DB
	Keyring   *vault.Keyring
	Vault     *vault.Vault
	Registry  *privacy.Registry
	AuditLog  *audit.Log
	Customers *customer.Service
	Consents  *consent.Service
	States    *privacy.StateService
	Rights    *rights.Service
	Loyalty   *loyalty.Service
	Auth      *auth.Service
	Register  *register.Service
	Mailer    *mailer.Sender // nil when no SMTP server is configured
	Sealer    *audit.Sealer
	Metrics   *prometheus.Registry
	Logger    *slog.Logger

	// KeyFileCreated is true when this start created the key file.
	KeyFileCreated bool

	// Recipients is the recipients registry (D-4); Dispatcher delivers the outbox to their
	// webhooks.
	Recipients *recipient.Service
	Dispatcher *recipient.Dispatcher

	// Portal is the customer portal: sign-in links and self-service.
	Portal *selfservice.Service
	// Retention applies the retention rules, notices and legal holds (T-1..T-8).
	Retention *retention.Service
	// Proof exports the accountability proof: audit log, consent proofs, register (P-4).
	Proof *proof.Service
}

// KeyFilePath returns the configured key file path.
func (c *Config) KeyFilePath() string {
	if c.KeyFile != "" {
		return c.KeyFile
	}
	return filepath.Join(c.DataDir, "fidelis.key")
}

// Open opens the database (applying migrations), the keyring (creating the key file on
// first start, with a loud warning) and builds the services.
func Open(ctx context.Context, cfg Config) (*App, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if cfg.Stderr == nil {
		cfg.Stderr = os.Stderr
	}
	if cfg.DataDir == "" {
		cfg.DataDir = "fidelis-data"
	}
	if err := cfg.Controller.Validate(); err != nil {
		return nil, err
	}
	var sender *mailer.Sender
	if cfg.SMTP.Configured() {
		var err error
		if sender, err = mailer.New(cfg.SMTP, cfg.Now, cfg.Logger); err != nil {
			return nil, err
		}
	}
	kr, created, err := vault.OpenOrCreate(cfg.KeyFilePath(), cfg.Now)
	if err != nil {
		return nil, err
	}
	if created {
		fmt.Fprintf(cfg.Stderr, "\n"+
			"!!! A new key file was created: %s\n"+
			"!!! It holds the keys that encrypt every customer record. Back it up NOW, apart from\n"+
			"!!! the database backups. Without it, the data cannot be decrypted by anyone.\n\n", cfg.KeyFilePath())
	}
	db, err := store.Open(ctx, cfg.DataDir, cfg.DBURL)
	if err != nil {
		return nil, err
	}
	reg, err := db.LoadRegistry(ctx, cfg.Now())
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("load purpose registry: %w", err)
	}
	regDate, err := db.RegistryUpdatedAt(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("read purpose registry date: %w", err)
	}
	a := &App{Config: cfg, DB: db, Keyring: kr, Vault: vault.New(kr), Registry: reg, Logger: cfg.Logger,
		Metrics: prometheus.NewRegistry(), KeyFileCreated: created}
	a.AuditLog = audit.NewLog(kr.AuditMACKey(), cfg.Now)
	a.Customers = &customer.Service{Store: store.Customers{DB: db}, Vault: a.Vault, Registry: reg, Audit: a.AuditLog, Now: cfg.Now,
		BackupRetention: cfg.BackupRetention, SuppressionPeriod: cfg.SuppressionPeriod}
	a.Consents = &consent.Service{Store: store.Consents{DB: db}, Registry: reg, Audit: a.AuditLog, Ages: a.Customers, Now: cfg.Now}
	a.States = &privacy.StateService{Store: store.States{DB: db}, Registry: reg, Audit: a.AuditLog, Now: cfg.Now, Suppress: suppressor{a}}
	a.Rights = a.newRights()
	a.Loyalty = &loyalty.Service{Store: store.NewLoyalty(db), Registry: reg, Audit: a.AuditLog, Now: cfg.Now, Profiles: a.loyaltyProfile, Lawfulness: a.States}
	if db.Dialect == store.Postgres {
		a.Loyalty.OrderWriters = postgresOrderWriters
	}
	a.wireRewards()
	a.Auth = &auth.Service{Store: db, Registry: reg, Audit: a.AuditLog, Recorder: db, Now: cfg.Now, Argon2: cfg.Argon2}
	a.Mailer = sender
	a.Register = &register.Service{Registry: reg, Controller: cfg.Controller, RegistryDate: regDate}
	a.Sealer = &audit.Sealer{Store: db, Key: kr.AuditSigningKey(), Now: cfg.Now, Logger: cfg.Logger}
	a.wireRecipients()
	a.Register.Recipients = a.registerRecipients
	a.Portal = a.newPortal()
	a.Retention = a.newRetention()
	a.Portal.Activity = portalActivity{a.Retention}
	a.Register.Retention = a.registerRetention
	a.Rights.Retention = a.accessRetention
	a.Proof = a.newProof()
	return a, nil
}

// postgresOrderWriters is how many groups of single orders a node writes at once on
// PostgreSQL (loyalty.Service.OrderWriters): enough to keep the server busy while each
// group waits on its round trips, few enough to leave the pool's other connections free.
const postgresOrderWriters = 2

// Close waits for the portal's messages under way, then closes the database.
func (a *App) Close() error {
	if a.Portal != nil {
		a.Portal.Wait()
	}
	return a.DB.Close()
}

// SystemContext returns a context acting as Fidelis itself with role, for commands.
func SystemContext(ctx context.Context, job string, role fidelis.Role) context.Context {
	return fidelis.WithActor(ctx, fidelis.SystemActor(job, role))
}

// Handler returns the HTTP handler: API, health, metrics and (if configured) back-office.
func (a *App) Handler() http.Handler {
	s := &httpapi.Server{Customers: a.Customers, Consents: a.Consents, States: a.States, Auth: a.Auth, Registry: a.Registry, DB: a.DB, Logger: a.Logger, Metrics: a.Metrics}
	s.Register = a.Register
	s.Recipients = a.Recipients
	s.Rights = a.Rights
	s.Loyalty = a.Loyalty
	s.Retention = a.Retention
	s.Proof = a.Proof
	if a.Config.WebHandler != nil || a.Config.PortalHandler != nil {
		s.Extra = func(mux *http.ServeMux) {
			for _, h := range []func(*App, *http.ServeMux){a.Config.WebHandler, a.Config.PortalHandler} {
				if h != nil {
					h(a, mux)
				}
			}
		}
	}
	return s.Handler()
}

// Bootstrap creates the first administrator if there is none and prints its password once.
func (a *App) Bootstrap(ctx context.Context) error {
	user, pass, err := a.Auth.Bootstrap(SystemContext(ctx, "bootstrap", fidelis.RoleAdmin))
	if err != nil || user == "" {
		return err
	}
	fmt.Fprintf(a.Config.Stderr, "\n"+
		"=== Administrator created. This password is shown ONCE; sign in and keep it safe.\n"+
		"===   username: %s\n"+
		"===   password: %s\n\n", user, pass)
	return nil
}

// Serve listens on Config.Addr (or on ln if given) and serves until ctx ends, then shuts
// down gracefully: in-flight requests finish, the sealer seals what is pending. ready, if
// not nil, receives the bound address once listening.
func (a *App) Serve(ctx context.Context, ln net.Listener, ready func(addr string)) error {
	if ln == nil {
		addr := a.Config.Addr
		if addr == "" {
			addr = "127.0.0.1:8080"
		}
		var err error
		if ln, err = net.Listen("tcp", addr); err != nil {
			return fmt.Errorf("listen on %s: %w", addr, err)
		}
	}
	a.portalDefaults(ln.Addr().String())
	srv := &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.Logger.Handler(), slog.LevelWarn),
	}
	interval := a.Config.SealInterval
	if interval <= 0 {
		interval = time.Second
	}
	jobs, stopJobs := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { a.Sealer.Run(jobs, interval) })
	wg.Go(func() { a.Dispatcher.Run(jobs, a.webhookInterval()) })
	wg.Go(func() { a.rightsDaily(jobs) })
	wg.Go(func() { a.runLoyaltyJobs(jobs, time.Hour) })
	wg.Go(func() { a.retentionJob(jobs) })
	wg.Go(func() { a.runRewardsJobs(jobs, time.Minute) })

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.Logger.Info("fidelis is serving", "addr", ln.Addr().String(), "database", a.dbKind())
	if ready != nil {
		ready(ln.Addr().String())
	}
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		a.Logger.Info("shutting down")
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		err = srv.Shutdown(sctx)
		cancel()
	}
	stopJobs()
	wg.Wait()
	// Seal what the last requests wrote, so a clean stop leaves nothing pending.
	if _, serr := a.Sealer.SealAll(context.Background()); serr != nil {
		err = errors.Join(err, serr)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func (a *App) dbKind() string {
	if a.DB.Dialect == store.Postgres {
		return "postgres"
	}
	return "sqlite:" + a.DB.Path()
}
