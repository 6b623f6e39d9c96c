// Package auth identifies staff and systems: back-office users with argon2id passwords and
// sessions, and API tokens bound to a role. Secrets are stored only as hashes.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/privacy"
)

// User is a staff member of the back-office.
type User struct {
	ID        string
	Username  string
	Role      fidelis.Role
	Locale    string
	CreatedAt time.Time
	Disabled  bool
}

// Actor returns the user as an actor.
func (u *User) Actor() fidelis.Actor {
	return fidelis.Actor{Kind: fidelis.ActorUser, ID: u.ID, Role: u.Role}
}

// Token is an API token bound to a role.
type Token struct {
	ID        string
	Name      string
	Role      fidelis.Role
	CreatedAt time.Time
	RevokedAt *time.Time
}

// Session is a signed-in back-office session. Purpose is the purpose the user works under,
// chosen in the back-office and sent with every operation (P-1).
type Session struct {
	User      *User
	CSRFToken string
	Purpose   fidelis.Purpose
	ExpiresAt time.Time
}

// Store persists users, sessions and tokens.
type Store interface {
	// CreateUser stores a user; ECONFLICT if the username is taken.
	CreateUser(ctx context.Context, u *User, passwordHash string) error
	// UserByUsername returns a user and its password hash; ENOTFOUND if none.
	UserByUsername(ctx context.Context, username string) (*User, string, error)
	// SetPassword replaces a user's password hash and ends their sessions.
	SetPassword(ctx context.Context, userID, passwordHash string) error
	// CountUsers counts users.
	CountUsers(ctx context.Context) (int, error)
	// CreateSession stores a session under the hash of its token.
	CreateSession(ctx context.Context, idHash []byte, s *Session, createdAt time.Time) error
	// SessionByHash returns a session and its user; ENOTFOUND if none or expired at now.
	SessionByHash(ctx context.Context, idHash []byte, now time.Time) (*Session, error)
	// SetSessionPurpose changes the purpose of a session.
	SetSessionPurpose(ctx context.Context, idHash []byte, p fidelis.Purpose) error
	// DeleteSession ends a session.
	DeleteSession(ctx context.Context, idHash []byte) error
	// CreateToken stores a token with the hash of its secret.
	CreateToken(ctx context.Context, t *Token, secretHash []byte) error
	// TokenByID returns a token and its secret hash; ENOTFOUND if none.
	TokenByID(ctx context.Context, id string) (*Token, []byte, error)
	// RevokeToken marks a token revoked.
	RevokeToken(ctx context.Context, id string, at time.Time) error
	// Tokens lists tokens, newest first.
	Tokens(ctx context.Context) ([]*Token, error)
	// PrincipalNames returns the usernames of the user IDs and the names of the token IDs
	// given, by ID; unknown IDs are absent.
	PrincipalNames(ctx context.Context, userIDs, tokenIDs []string) (map[string]string, error)
}

// Argon2Params are the argon2id cost parameters (RFC 9106).
type Argon2Params struct {
	Time    uint32
	Memory  uint32 // KiB
	Threads uint8
}

// DefaultArgon2 follows RFC 9106's second recommended option (64 MiB, 3 passes).
func DefaultArgon2() Argon2Params { return Argon2Params{Time: 3, Memory: 64 * 1024, Threads: 2} }

// Service authenticates staff and systems.
type Service struct {
	Store      Store
	Registry   *privacy.Registry
	Audit      *audit.Log
	Recorder   audit.Recorder
	Now        func() time.Time
	Argon2     Argon2Params
	SessionTTL time.Duration

	tokens   tokenCache
	failures loginFailures
}

// Sign-in throttling: after maxLoginFailures wrong passwords for one username within
// lockoutPeriod, sign-in for that username is refused until the period has passed, even
// with the right password. It slows down password guessing without revealing whether
// the username exists (unknown usernames are throttled the same way).
const (
	maxLoginFailures = 5
	lockoutPeriod    = 15 * time.Minute
)

type loginFailures struct {
	mu sync.Mutex
	m  map[string][]time.Time // username -> recent failure times
}

// locked reports whether username is locked out at now, and until when.
func (f *loginFailures) locked(username string, now time.Time) (time.Time, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	recent := f.prune(username, now)
	if len(recent) >= maxLoginFailures {
		return recent[len(recent)-maxLoginFailures].Add(lockoutPeriod), true
	}
	return time.Time{}, false
}

func (f *loginFailures) prune(username string, now time.Time) []time.Time {
	recent := f.m[username][:0:0]
	for _, t := range f.m[username] {
		if now.Sub(t) < lockoutPeriod {
			recent = append(recent, t)
		}
	}
	if len(recent) == 0 {
		delete(f.m, username)
	} else {
		f.m[username] = recent
	}
	return recent
}

func (f *loginFailures) fail(username string, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil || len(f.m) > 100000 {
		f.m = map[string][]time.Time{}
	}
	f.m[username] = append(f.prune(username, now), now)
}

func (f *loginFailures) reset(username string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.m, username)
}

// tokenCacheTTL bounds how long a token checked against the database is trusted without
// asking again: a revocation made by another process takes effect within this delay (one
// made through this Service, at once).
const tokenCacheTTL = 2 * time.Second

// tokenCache remembers recently verified tokens, so that an API request costs no database
// read for authentication.
type tokenCache struct {
	mu sync.Mutex
	m  map[string]cachedToken
}

type cachedToken struct {
	hash    []byte
	actor   fidelis.Actor
	revoked bool
	until   time.Time
}

func (c *tokenCache) get(id string, now time.Time) (cachedToken, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.m[id]
	if !ok || now.After(t.until) {
		return cachedToken{}, false
	}
	return t, true
}

func (c *tokenCache) put(id string, t cachedToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 10000 {
		c.m = map[string]cachedToken{}
	}
	c.m[id] = t
}

func (c *tokenCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, id)
}

func (s *Service) now() time.Time { return fidelis.UTC(s.Now()) }

// reservedRole refuses the subject role to staff and tokens: it is the customer's own role
// in the portal, bound there to one customer; a user or token holding it would reach every
// customer's data under data_protection.
func reservedRole() fidelis.FieldError {
	return fidelis.FieldError{Field: "role", Rule: "reserved_role", Message: "is reserved for customers signed in to the portal"}
}

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,63}$`)

// MinPasswordLength follows NIST SP 800-63B's minimum for passwords chosen by users... and
// raises it: staff accounts reach customer data.
const MinPasswordLength = 12

// CreateUser creates a staff user.
func (s *Service) CreateUser(ctx context.Context, username, password string, role fidelis.Role, locale string) (*User, error) {
	var errs []fidelis.FieldError
	username = strings.TrimSpace(strings.ToLower(username))
	if !usernameRE.MatchString(username) {
		errs = append(errs, fidelis.FieldError{Field: "username", Rule: "invalid_username", Message: "3 to 64 characters: lower-case letters, digits, '.', '_' or '-'"})
	}
	if utf8.RuneCountInString(password) < MinPasswordLength {
		errs = append(errs, fidelis.FieldError{Field: "password", Rule: "too_short", Message: fmt.Sprintf("must be at least %d characters", MinPasswordLength)})
	} else if len(password) > 1024 {
		errs = append(errs, fidelis.FieldError{Field: "password", Rule: "too_long", Message: "must be at most 1024 bytes"})
	}
	if !s.Registry.ValidRole(role) {
		errs = append(errs, fidelis.FieldError{Field: "role", Rule: "unknown_role", Message: "is not a known role"})
	} else if role == fidelis.RoleSubject {
		errs = append(errs, reservedRole())
	}
	if locale != "fr" && locale != "en" {
		errs = append(errs, fidelis.FieldError{Field: "locale", Rule: "invalid_locale", Message: "must be one of: fr, en"})
	}
	if len(errs) > 0 {
		return nil, fidelis.Invalid(errs...)
	}
	now := s.now()
	u := &User{ID: fidelis.NewID("usr", now), Username: username, Role: role, Locale: locale, CreatedAt: now}
	if err := s.Store.CreateUser(ctx, u, s.hashPassword(password)); err != nil {
		if fidelis.ErrorCode(err) == fidelis.ECONFLICT {
			return nil, fidelis.Invalid(fidelis.FieldError{Field: "username", Rule: "taken", Message: "is already taken"})
		}
		return nil, fmt.Errorf("auth.CreateUser: %w", err)
	}
	s.record(ctx, "user.create", u.ID, audit.OutcomeOK, "")
	return u, nil
}

// SetPassword changes a user's password and signs them out everywhere.
func (s *Service) SetPassword(ctx context.Context, username, password string) error {
	if utf8.RuneCountInString(password) < MinPasswordLength {
		return fidelis.Invalid(fidelis.FieldError{Field: "password", Rule: "too_short", Message: fmt.Sprintf("must be at least %d characters", MinPasswordLength)})
	}
	u, _, err := s.Store.UserByUsername(ctx, strings.ToLower(strings.TrimSpace(username)))
	if err != nil {
		return err
	}
	if err := s.Store.SetPassword(ctx, u.ID, s.hashPassword(password)); err != nil {
		return err
	}
	s.record(ctx, "user.password", u.ID, audit.OutcomeOK, "")
	return nil
}

// Bootstrap creates the administrator on an installation without users and returns its
// password, to be shown once. It returns "" when users exist.
func (s *Service) Bootstrap(ctx context.Context) (username, password string, err error) {
	n, err := s.Store.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", "", err
	}
	password = RandomSecret(18)
	if _, err := s.CreateUser(ctx, "admin", password, fidelis.RoleAdmin, "fr"); err != nil {
		return "", "", err
	}
	return "admin", password, nil
}

func (s *Service) params() Argon2Params {
	if s.Argon2.Time == 0 {
		return DefaultArgon2()
	}
	return s.Argon2
}

func (s *Service) hashPassword(password string) string {
	p := s.params()
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, 32)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads, enc.EncodeToString(salt), enc.EncodeToString(key))
}

// verifyPassword checks password against a PHC-encoded argon2id hash.
func verifyPassword(encoded, password string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var v int
	var p Argon2Params
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	want, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// errBadLogin is deliberately vague: it does not tell whether the user exists.
func errBadLogin() error {
	return &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "bad_credentials", Message: "wrong username or password"}
}

// Login checks a username and password and opens a session. It returns the session token
// to set as a cookie; only its hash is stored.
func (s *Service) Login(ctx context.Context, username, password string, purpose fidelis.Purpose) (string, *Session, error) {
	username = strings.ToLower(strings.TrimSpace(username))
	now := s.now()
	if until, locked := s.failures.locked(username, now); locked {
		s.record(ctx, "auth.login", "", audit.OutcomeDenied, "locked_out")
		return "", nil, &fidelis.Error{Code: fidelis.ETOOMANY, Reason: "locked_out",
			Message: fmt.Sprintf("too many failed sign-ins for this username; try again in %d minutes", int(until.Sub(now).Minutes())+1)}
	}
	u, hash, err := s.Store.UserByUsername(ctx, username)
	if err != nil {
		if fidelis.ErrorCode(err) != fidelis.ENOTFOUND {
			return "", nil, err
		}
		// Spend the same time as a real check so response time does not reveal usernames.
		verifyPassword(s.hashPassword("timing-equaliser"), password)
		s.failures.fail(username, now)
		s.record(ctx, "auth.login", "", audit.OutcomeDenied, "bad_credentials")
		return "", nil, errBadLogin()
	}
	if !verifyPassword(hash, password) || u.Disabled {
		s.failures.fail(username, now)
		s.record(fidelis.WithActor(ctx, u.Actor()), "auth.login", u.ID, audit.OutcomeDenied, "bad_credentials")
		return "", nil, errBadLogin()
	}
	s.failures.reset(username)
	// Start under the requested purpose if the role holds it, else the role's first one.
	granted := s.Registry.PurposesOf(u.Role)
	ok := false
	for _, d := range granted {
		ok = ok || d.Name == purpose
	}
	if !ok {
		purpose = ""
		if len(granted) > 0 {
			purpose = granted[0].Name
		}
	}
	token := RandomSecret(32)
	sess := &Session{User: u, CSRFToken: RandomSecret(24), Purpose: purpose, ExpiresAt: now.Add(s.ttl())}
	if err := s.Store.CreateSession(ctx, hashSecret(token), sess, now); err != nil {
		return "", nil, fmt.Errorf("auth.Login: %w", err)
	}
	s.record(fidelis.WithActor(ctx, u.Actor()), "auth.login", u.ID, audit.OutcomeOK, "")
	return token, sess, nil
}

func (s *Service) ttl() time.Duration {
	if s.SessionTTL <= 0 {
		return 12 * time.Hour
	}
	return s.SessionTTL
}

// Session returns the live session for a session token.
func (s *Service) Session(ctx context.Context, token string) (*Session, error) {
	if token == "" || len(token) > 128 {
		return nil, &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "no_session", Message: "please sign in"}
	}
	sess, err := s.Store.SessionByHash(ctx, hashSecret(token), s.now())
	if fidelis.ErrorCode(err) == fidelis.ENOTFOUND || err == nil && sess.User.Disabled {
		return nil, &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "no_session", Message: "your session has ended; please sign in again"}
	}
	return sess, err
}

// SetPurpose changes the purpose a session works under, after checking the user's role
// holds it.
func (s *Service) SetPurpose(ctx context.Context, token string, sess *Session, p fidelis.Purpose) error {
	ok := false
	for _, d := range s.Registry.PurposesOf(sess.User.Role) {
		ok = ok || d.Name == p
	}
	if !ok {
		return fidelis.Refusal("purpose_not_granted", fmt.Sprintf("role %q is not granted purpose %q", sess.User.Role, p))
	}
	return s.Store.SetSessionPurpose(ctx, hashSecret(token), p)
}

// Logout ends a session.
func (s *Service) Logout(ctx context.Context, token string) error {
	return s.Store.DeleteSession(ctx, hashSecret(token))
}

// CreateToken creates an API token for role and returns its secret form, shown once.
func (s *Service) CreateToken(ctx context.Context, name string, role fidelis.Role) (string, *Token, error) {
	name = strings.TrimSpace(name)
	var errs []fidelis.FieldError
	if !s.Registry.ValidRole(role) {
		errs = append(errs, fidelis.FieldError{Field: "role", Rule: "unknown_role", Message: "is not a known role"})
	} else if role == fidelis.RoleSubject {
		errs = append(errs, reservedRole())
	}
	if utf8.RuneCountInString(name) > 100 {
		errs = append(errs, fidelis.FieldError{Field: "name", Rule: "too_long", Message: "must be at most 100 characters"})
	}
	if len(errs) > 0 {
		return "", nil, fidelis.Invalid(errs...)
	}
	now := s.now()
	t := &Token{ID: fidelis.NewID("tok", now), Name: name, Role: role, CreatedAt: now}
	secret := RandomSecret(32)
	if err := s.Store.CreateToken(ctx, t, hashSecret(secret)); err != nil {
		return "", nil, fmt.Errorf("auth.CreateToken: %w", err)
	}
	s.record(ctx, "token.create", t.ID, audit.OutcomeOK, "")
	return t.ID + "." + secret, t, nil
}

// RevokeToken revokes an API token.
func (s *Service) RevokeToken(ctx context.Context, id string) error {
	if err := s.Store.RevokeToken(ctx, id, s.now()); err != nil {
		return err
	}
	s.tokens.forget(id)
	s.record(ctx, "token.revoke", id, audit.OutcomeOK, "")
	return nil
}

// Authenticate returns the actor of a bearer token.
func (s *Service) Authenticate(ctx context.Context, bearer string) (fidelis.Actor, error) {
	bad := &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "bad_token", Message: "the API token is not valid"}
	id, secret, ok := strings.Cut(bearer, ".")
	if !ok || !fidelis.ValidID("tok", id) || secret == "" {
		return fidelis.Actor{}, bad
	}
	// The cache runs on the wall clock, not the injected business clock: it bounds real
	// elapsed time before a revocation elsewhere takes effect.
	now := time.Now()
	c, ok := s.tokens.get(id, now)
	if !ok {
		t, hash, err := s.Store.TokenByID(ctx, id)
		if fidelis.ErrorCode(err) == fidelis.ENOTFOUND {
			return fidelis.Actor{}, bad
		} else if err != nil {
			return fidelis.Actor{}, err
		}
		c = cachedToken{hash: hash, revoked: t.RevokedAt != nil, until: now.Add(tokenCacheTTL),
			actor: fidelis.Actor{Kind: fidelis.ActorToken, ID: t.ID, Role: t.Role}}
		s.tokens.put(id, c)
	}
	if subtle.ConstantTimeCompare(hashSecret(secret), c.hash) != 1 || c.revoked {
		return fidelis.Actor{}, bad
	}
	return c.actor, nil
}

func (s *Service) record(ctx context.Context, action, subject string, o audit.Outcome, reason string) {
	if s.Recorder == nil || s.Audit == nil {
		return
	}
	_ = s.Recorder.RecordAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: action, Subject: subject, Outcome: o, Reason: reason}))
}

// hashSecret hashes a high-entropy secret (token, session ID). A fast hash is right here:
// the secrets have 256 bits of entropy, so there is nothing to brute-force.
func hashSecret(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// RandomSecret returns n random bytes, base64url-encoded.
func RandomSecret(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DisplayNames maps actor strings as audit entries record them ("user:usr_…",
// "token:tok_…", "system:job") to names a person reads: the username, the token's name, or
// the job. Staff names are staff data, shown to staff who may see the access log.
func (s *Service) DisplayNames(ctx context.Context, actors []string) (map[string]string, error) {
	var users, tokens []string
	for _, a := range actors {
		kind, id, _ := strings.Cut(a, ":")
		switch fidelis.ActorKind(kind) {
		case fidelis.ActorUser:
			users = append(users, id)
		case fidelis.ActorToken:
			tokens = append(tokens, id)
		}
	}
	names, err := s.Store.PrincipalNames(ctx, users, tokens)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(actors))
	for _, a := range actors {
		kind, id, _ := strings.Cut(a, ":")
		switch n := names[id]; {
		case fidelis.ActorKind(kind) == fidelis.ActorSystem:
			out[a] = "Fidelis (" + id + ")"
		case n != "" && fidelis.ActorKind(kind) == fidelis.ActorToken:
			out[a] = n + " (API)"
		case n != "":
			out[a] = n
		default:
			out[a] = a
		}
	}
	return out, nil
}
