package auth_test

import (
	"context"
	"encoding/base64"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/auth"
	"github.com/fidelis/fidelis/fidelistest"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func newApp(t *testing.T, b fidelistest.Backend) (*app.App, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, time.March, 14, 15, 9, 26, 123456789, time.UTC)}
	return fidelistest.MustApp(t, b, fidelistest.Options{Now: c.Now}), c
}

func adminCtx() context.Context {
	return app.SystemContext(context.Background(), "test", fidelis.RoleAdmin)
}

const goodPassword = "correct horse battery"

func mustUser(t *testing.T, a *app.App, username string, role fidelis.Role) *auth.User {
	t.Helper()
	u, err := a.Auth.CreateUser(adminCtx(), username, goodPassword, role, "fr")
	if err != nil {
		t.Fatalf("CreateUser(%q, %s) = %v", username, role, err)
	}
	return u
}

func mustLogin(t *testing.T, a *app.App, username string, p fidelis.Purpose) (string, *auth.Session) {
	t.Helper()
	tok, s, err := a.Auth.Login(context.Background(), username, goodPassword, p)
	if err != nil {
		t.Fatalf("Login(%q) = %v", username, err)
	}
	return tok, s
}

func checkFieldError(t *testing.T, what string, err error, field, rule string) {
	t.Helper()
	e := fidelis.AsError(err)
	if e == nil || e.Code != fidelis.EINVALID {
		t.Fatalf("%s = %v; want EINVALID", what, err)
	}
	for _, f := range e.Fields {
		if f.Field == field && f.Rule == rule {
			return
		}
	}
	t.Errorf("%s field errors = %+v; want {%s %s}", what, e.Fields, field, rule)
}

func TestCreateUser_Validation(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a, _ := newApp(t, b)
		for _, tt := range []struct {
			name               string
			username, password string
			role               fidelis.Role
			locale             string
			field, rule        string
		}{
			{"username too short", "ab", goodPassword, fidelis.RoleSupport, "fr", "username", "invalid_username"},
			{"username with a space", "jean dupont", goodPassword, fidelis.RoleSupport, "fr", "username", "invalid_username"},
			{"username starting with a dash", "-jean", goodPassword, fidelis.RoleSupport, "fr", "username", "invalid_username"},
			{"username with accents", "josé", goodPassword, fidelis.RoleSupport, "fr", "username", "invalid_username"},
			{"username with @", "jean@example.com", goodPassword, fidelis.RoleSupport, "fr", "username", "invalid_username"},
			{"username of 65 characters", strings.Repeat("a", 65), goodPassword, fidelis.RoleSupport, "fr", "username", "invalid_username"},
			{"empty username", "", goodPassword, fidelis.RoleSupport, "fr", "username", "invalid_username"},
			{"password of 11 characters", "jean", "abcdefghijk", fidelis.RoleSupport, "fr", "password", "too_short"},
			{"password of 11 runes in 22 bytes", "jean", strings.Repeat("é", 11), fidelis.RoleSupport, "fr", "password", "too_short"},
			{"empty password", "jean", "", fidelis.RoleSupport, "fr", "password", "too_short"},
			{"password over 1024 bytes", "jean", strings.Repeat("x", 1025), fidelis.RoleSupport, "fr", "password", "too_long"},
			{"unknown role", "jean", goodPassword, "intern", "fr", "role", "unknown_role"},
			{"no role", "jean", goodPassword, "", "fr", "role", "unknown_role"},
			{"unsupported locale", "jean", goodPassword, fidelis.RoleSupport, "de", "locale", "invalid_locale"},
			{"no locale", "jean", goodPassword, fidelis.RoleSupport, "", "locale", "invalid_locale"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				u, err := a.Auth.CreateUser(adminCtx(), tt.username, tt.password, tt.role, tt.locale)
				checkFieldError(t, "CreateUser", err, tt.field, tt.rule)
				if u != nil {
					t.Errorf("CreateUser(%s) user = %+v; want nil", tt.name, u)
				}
				if tt.password != "" && strings.Contains(err.Error(), tt.password) {
					t.Errorf("CreateUser error %q repeats the password", err)
				}
			})
		}
		t.Run("every error at once", func(t *testing.T) {
			_, err := a.Auth.CreateUser(adminCtx(), "x", "short", "intern", "de")
			if e := fidelis.AsError(err); e == nil || len(e.Fields) != 4 {
				t.Errorf("CreateUser(all invalid) = %v; want four field errors", err)
			}
		})
		if n, err := a.DB.CountUsers(context.Background()); err != nil || n != 0 {
			t.Errorf("CountUsers after invalid creates = %d, %v; want 0", n, err)
		}
		for _, tt := range []struct{ in, want string }{
			{"  Alice.Martin ", "alice.martin"},
			{"bob_2", "bob_2"},
			{"c-3", "c-3"},
			{strings.Repeat("d", 64), strings.Repeat("d", 64)},
			{"12345", "12345"},
		} {
			u, err := a.Auth.CreateUser(adminCtx(), tt.in, strings.Repeat("p", 12), fidelis.RoleSupport, "en")
			if err != nil || u.Username != tt.want || u.Role != fidelis.RoleSupport || u.Locale != "en" || !fidelis.ValidID("usr", u.ID) || u.Disabled {
				t.Errorf("CreateUser(%q) = %+v, %v; want username %q", tt.in, u, err, tt.want)
			}
		}
	})
}

func TestCreateUser_UsernameTaken(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a, _ := newApp(t, b)
		mustUser(t, a, "alice", fidelis.RoleSupport)
		for _, name := range []string{"alice", "ALICE", " Alice "} {
			_, err := a.Auth.CreateUser(adminCtx(), name, "another password", fidelis.RoleAdmin, "en")
			checkFieldError(t, "CreateUser("+name+")", err, "username", "taken")
		}
		if n, _ := a.DB.CountUsers(context.Background()); n != 1 {
			t.Errorf("CountUsers = %d; want 1", n)
		}
		// The original account is intact.
		if _, s := mustLogin(t, a, "alice", ""); s.User.Role != fidelis.RoleSupport {
			t.Errorf("alice's role after a refused duplicate = %s; want support", s.User.Role)
		}
	})
}

func TestCreateUser_PasswordHashedWithArgon2id(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a, _ := newApp(t, b)
		mustUser(t, a, "alice", fidelis.RoleSupport)
		mustUser(t, a, "bob", fidelis.RoleSupport)
		_, h1, err := a.DB.UserByUsername(context.Background(), "alice")
		if err != nil {
			t.Fatalf("UserByUsername = %v", err)
		}
		_, h2, _ := a.DB.UserByUsername(context.Background(), "bob")
		// MustApp uses cheap parameters: m=8 MiB, t=1, p=1.
		parts := strings.Split(h1, "$")
		if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v=19" || parts[3] != "m=8192,t=1,p=1" {
			t.Fatalf("stored hash = %q; want a PHC string $argon2id$v=19$m=8192,t=1,p=1$salt$key", h1)
		}
		salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
		key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
		if err1 != nil || err2 != nil || len(salt) != 16 || len(key) != 32 {
			t.Errorf("hash salt/key = %d/%d bytes (%v, %v); want 16/32", len(salt), len(key), err1, err2)
		}
		if strings.Contains(h1, goodPassword) || strings.Contains(h1, base64.RawStdEncoding.EncodeToString([]byte(goodPassword))) {
			t.Errorf("stored hash %q holds the password", h1)
		}
		if h1 == h2 {
			t.Errorf("two users with the same password have the same hash %q; want distinct salts", h1)
		}
		// The password is nowhere in the audit log.
		err = a.DB.ScanEntries(context.Background(), func(e *audit.Entry) error {
			if strings.Contains(e.Actor+e.Action+e.Subject+e.Reason+e.RequestID, goodPassword) {
				t.Errorf("audit entry %d holds the password", e.ID)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("ScanEntries = %v", err)
		}
	})
}

func TestLogin(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a, clk := newApp(t, b)
		u := mustUser(t, a, "alice", fidelis.RoleSupport)
		mustUser(t, a, "mia", fidelis.RoleMarketing)

		tok, s, err := a.Auth.Login(context.Background(), "  ALICE ", goodPassword, "")
		if err != nil {
			t.Fatalf("Login = %v", err)
		}
		if raw, err := base64.RawURLEncoding.DecodeString(tok); err != nil || len(raw) != 32 {
			t.Errorf("session token %q; want 32 random bytes, base64url", tok)
		}
		if s.User.ID != u.ID || s.User.Role != fidelis.RoleSupport || s.CSRFToken == "" || s.CSRFToken == tok {
			t.Errorf("Login session = %+v; want alice with its own CSRF token", s)
		}
		if s.Purpose != fidelis.PurposeCustomerService {
			t.Errorf("Login purpose = %q; want the role's first purpose %q", s.Purpose, fidelis.PurposeCustomerService)
		}
		if want := fidelis.UTC(clk.Now()).Add(12 * time.Hour); !s.ExpiresAt.Equal(want) {
			t.Errorf("Login ExpiresAt = %v; want %v (12 hours)", s.ExpiresAt, want)
		}
		got, err := a.Auth.Session(context.Background(), tok)
		if err != nil || got.User.ID != u.ID || got.CSRFToken != s.CSRFToken || got.Purpose != s.Purpose || !got.ExpiresAt.Equal(s.ExpiresAt) {
			t.Errorf("Session(token) = %+v, %v; want the session Login opened", got, err)
		}
		if _, s2 := mustLogin(t, a, "mia", ""); s2.Purpose != fidelis.PurposeMarketingEmail {
			t.Errorf("Login(marketing) purpose = %q; want %q", s2.Purpose, fidelis.PurposeMarketingEmail)
		}
		if _, s3 := mustLogin(t, a, "alice", fidelis.PurposeCustomerService); s3.Purpose != fidelis.PurposeCustomerService {
			t.Errorf("Login(purpose given) purpose = %q; want %q", s3.Purpose, fidelis.PurposeCustomerService)
		}

		// A disabled account (stored directly: the service has no call for it yet) cannot
		// sign in even with the right password.
		_, hash, err := a.DB.UserByUsername(context.Background(), "alice")
		if err != nil {
			t.Fatal(err)
		}
		if err := a.DB.CreateUser(context.Background(), &auth.User{ID: fidelis.NewID("usr", clk.Now()), Username: "gone", Role: fidelis.RoleSupport,
			Locale: "fr", CreatedAt: clk.Now(), Disabled: true}, hash); err != nil {
			t.Fatal(err)
		}

		// A wrong password, an unknown user and a disabled one get the very same answer.
		_, _, wrong := a.Auth.Login(context.Background(), "alice", "wrong password!", "")
		_, _, unknown := a.Auth.Login(context.Background(), "nobody", goodPassword, "")
		_, _, empty := a.Auth.Login(context.Background(), "alice", "", "")
		_, _, disabled := a.Auth.Login(context.Background(), "gone", goodPassword, "")
		for name, err := range map[string]error{"wrong password": wrong, "unknown user": unknown, "empty password": empty, "disabled user": disabled} {
			e := fidelis.AsError(err)
			if e == nil || e.Code != fidelis.EUNAUTHORIZED || e.Reason != "bad_credentials" {
				t.Errorf("Login(%s) = %v; want EUNAUTHORIZED bad_credentials", name, err)
				continue
			}
			if err.Error() != wrong.Error() || e.Message != fidelis.AsError(wrong).Message {
				t.Errorf("Login(%s) = %q; want the same error as a wrong password %q", name, err, wrong)
			}
		}
		denied := 0
		_ = a.DB.ScanEntries(context.Background(), func(e *audit.Entry) error {
			if e.Action == "auth.login" && e.Outcome == audit.OutcomeDenied && e.Reason == "bad_credentials" {
				denied++
			}
			return nil
		})
		if denied != 4 {
			t.Errorf("denied login audit entries = %d; want 4", denied)
		}

		for _, bad := range []string{"", "not-a-token", strings.Repeat("x", 200), tok + "x"} {
			_, err := a.Auth.Session(context.Background(), bad)
			if e := fidelis.AsError(err); e == nil || e.Code != fidelis.EUNAUTHORIZED || e.Reason != "no_session" {
				t.Errorf("Session(%.20q) = %v; want EUNAUTHORIZED no_session", bad, err)
			}
		}
		if err := a.Auth.Logout(context.Background(), tok); err != nil {
			t.Fatalf("Logout = %v", err)
		}
		_, err = a.Auth.Session(context.Background(), tok)
		if e := fidelis.AsError(err); e == nil || e.Reason != "no_session" {
			t.Errorf("Session after Logout = %v; want no_session", err)
		}
	})
}

func TestSession_Expires(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a, clk := newApp(t, b)
		mustUser(t, a, "alice", fidelis.RoleSupport)
		start := clk.Now()
		tok, s := mustLogin(t, a, "alice", "")
		for _, tt := range []struct {
			name string
			at   time.Time
			ok   bool
		}{
			{"at once", start, true},
			{"after 11 hours", start.Add(11 * time.Hour), true},
			{"a microsecond before expiry", s.ExpiresAt.Add(-time.Microsecond), true},
			{"at expiry", s.ExpiresAt, false},
			{"a day later", start.Add(24 * time.Hour), false},
		} {
			t.Run(tt.name, func(t *testing.T) {
				clk.Set(tt.at)
				_, err := a.Auth.Session(context.Background(), tok)
				if (err == nil) != tt.ok {
					t.Errorf("Session at %v (expires %v) = %v; want ok=%v", tt.at, s.ExpiresAt, err, tt.ok)
				}
				if err != nil && fidelis.AsError(err).Reason != "no_session" {
					t.Errorf("Session(expired) = %v; want no_session", err)
				}
			})
		}
		// A shorter TTL is honoured.
		clk.Set(start)
		a.Auth.SessionTTL = 30 * time.Minute
		tok, s = mustLogin(t, a, "alice", "")
		if want := fidelis.UTC(start).Add(30 * time.Minute); !s.ExpiresAt.Equal(want) {
			t.Errorf("ExpiresAt with a 30 min TTL = %v; want %v", s.ExpiresAt, want)
		}
		clk.Set(start.Add(31 * time.Minute))
		if _, err := a.Auth.Session(context.Background(), tok); err == nil {
			t.Errorf("Session 31 min into a 30 min session = nil error; want no_session")
		}
	})
}

func TestSetPurpose(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a, _ := newApp(t, b)
		mustUser(t, a, "sam", fidelis.RoleSupport)
		mustUser(t, a, "dora", fidelis.RoleDPO)
		tok, s := mustLogin(t, a, "sam", "")
		for _, p := range []fidelis.Purpose{fidelis.PurposeMarketingEmail, fidelis.PurposeDataProtection, "marketing_fax", ""} {
			err := a.Auth.SetPurpose(context.Background(), tok, s, p)
			if e := fidelis.AsError(err); e == nil || e.Code != fidelis.EFORBIDDEN || e.Reason != "purpose_not_granted" {
				t.Errorf("SetPurpose(support, %q) = %v; want EFORBIDDEN purpose_not_granted", p, err)
			}
		}
		if got, err := a.Auth.Session(context.Background(), tok); err != nil || got.Purpose != fidelis.PurposeCustomerService {
			t.Errorf("Session after refused SetPurpose = %v, %v; want purpose unchanged %q", got, err, fidelis.PurposeCustomerService)
		}
		dtok, ds := mustLogin(t, a, "dora", "")
		for _, p := range []fidelis.Purpose{fidelis.PurposeLegalClaims, fidelis.PurposeAudit, fidelis.PurposeDataProtection} {
			if err := a.Auth.SetPurpose(context.Background(), dtok, ds, p); err != nil {
				t.Fatalf("SetPurpose(dpo, %s) = %v", p, err)
			}
			if got, err := a.Auth.Session(context.Background(), dtok); err != nil || got.Purpose != p {
				t.Errorf("Session after SetPurpose(%s) = %v, %v; want purpose %s", p, got, err, p)
			}
		}
	})
}

func TestSetPassword_EndsSessions(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a, _ := newApp(t, b)
		mustUser(t, a, "alice", fidelis.RoleSupport)
		tok, _ := mustLogin(t, a, "alice", "")
		err := a.Auth.SetPassword(adminCtx(), "alice", "short")
		checkFieldError(t, "SetPassword(short)", err, "password", "too_short")
		if err := a.Auth.SetPassword(adminCtx(), "nobody", "a long new password"); fidelis.ErrorCode(err) != fidelis.ENOTFOUND {
			t.Errorf("SetPassword(unknown user) = %v; want ENOTFOUND", err)
		}
		if err := a.Auth.SetPassword(adminCtx(), " Alice ", "a long new password"); err != nil {
			t.Fatalf("SetPassword = %v", err)
		}
		if _, err := a.Auth.Session(context.Background(), tok); err == nil {
			t.Errorf("Session after SetPassword = nil error; want the session ended")
		}
		if _, _, err := a.Auth.Login(context.Background(), "alice", goodPassword, ""); fidelis.ErrorCode(err) != fidelis.EUNAUTHORIZED {
			t.Errorf("Login(old password) = %v; want EUNAUTHORIZED", err)
		}
		if _, _, err := a.Auth.Login(context.Background(), "alice", "a long new password", ""); err != nil {
			t.Errorf("Login(new password) = %v; want nil", err)
		}
	})
}

func TestTokens(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a, _ := newApp(t, b)
		ctx := context.Background()
		bearer, tk, err := a.Auth.CreateToken(adminCtx(), "  shop front ", fidelis.RoleSales)
		if err != nil {
			t.Fatalf("CreateToken = %v", err)
		}
		id, secret, ok := strings.Cut(bearer, ".")
		if !ok || !strings.HasPrefix(bearer, "tok_") || id != tk.ID || !fidelis.ValidID("tok", id) || tk.Name != "shop front" || tk.Role != fidelis.RoleSales || tk.RevokedAt != nil {
			t.Fatalf("CreateToken = %q, %+v; want \"tok_<id>.<secret>\" for a sales token named %q", bearer, tk, "shop front")
		}
		if raw, err := base64.RawURLEncoding.DecodeString(secret); err != nil || len(raw) != 32 {
			t.Errorf("token secret %q; want 32 random bytes, base64url", secret)
		}
		stored, hash, err := a.DB.TokenByID(ctx, id)
		if err != nil || stored.Role != fidelis.RoleSales || len(hash) == 0 || strings.Contains(string(hash), secret) {
			t.Errorf("stored token = %+v, %x, %v; want the role and a hash that is not the secret", stored, hash, err)
		}

		actor, err := a.Auth.Authenticate(ctx, bearer)
		if err != nil || actor != (fidelis.Actor{Kind: fidelis.ActorToken, ID: id, Role: fidelis.RoleSales}) {
			t.Fatalf("Authenticate = %+v, %v; want the sales token actor", actor, err)
		}
		other, _, err := a.Auth.CreateToken(adminCtx(), "other", fidelis.RoleAuditor)
		if err != nil {
			t.Fatalf("CreateToken(other) = %v", err)
		}
		_, otherSecret, _ := strings.Cut(other, ".")
		unknownID := fidelis.NewID("tok", time.Now())
		for _, tt := range []struct{ name, bearer string }{
			{"wrong secret", id + "." + strings.Repeat("A", len(secret))},
			{"another token's secret", id + "." + otherSecret},
			{"secret with a suffix", bearer + "x"},
			{"empty secret", id + "."},
			{"no secret", id},
			{"empty", ""},
			{"not an id", "tok_abc." + secret},
			{"wrong prefix", "usr" + strings.TrimPrefix(id, "tok") + "." + secret},
			{"unknown id", unknownID + "." + secret},
			{"extra part", bearer + ".more"},
			{"Bearer prefix left in", "Bearer " + bearer},
		} {
			t.Run(tt.name, func(t *testing.T) {
				_, err := a.Auth.Authenticate(ctx, tt.bearer)
				if e := fidelis.AsError(err); e == nil || e.Code != fidelis.EUNAUTHORIZED || e.Reason != "bad_token" {
					t.Errorf("Authenticate(%s) = %v; want EUNAUTHORIZED bad_token", tt.name, err)
				}
			})
		}

		if err := a.Auth.RevokeToken(adminCtx(), id); err != nil {
			t.Fatalf("RevokeToken = %v", err)
		}
		if _, err := a.Auth.Authenticate(ctx, bearer); fidelis.AsError(err) == nil || fidelis.AsError(err).Reason != "bad_token" {
			t.Errorf("Authenticate(revoked) = %v; want bad_token at once", err)
		}
		if err := a.Auth.RevokeToken(adminCtx(), id); fidelis.ErrorCode(err) != fidelis.ENOTFOUND {
			t.Errorf("RevokeToken(twice) = %v; want ENOTFOUND", err)
		}
		if err := a.Auth.RevokeToken(adminCtx(), unknownID); fidelis.ErrorCode(err) != fidelis.ENOTFOUND {
			t.Errorf("RevokeToken(unknown) = %v; want ENOTFOUND", err)
		}
		if actor, err := a.Auth.Authenticate(ctx, other); err != nil || actor.Role != fidelis.RoleAuditor {
			t.Errorf("Authenticate(other token) after revoking the first = %+v, %v; want the auditor", actor, err)
		}

		_, _, err = a.Auth.CreateToken(adminCtx(), "x", "intern")
		checkFieldError(t, "CreateToken(unknown role)", err, "role", "unknown_role")
		_, _, err = a.Auth.CreateToken(adminCtx(), strings.Repeat("n", 101), fidelis.RoleSales)
		checkFieldError(t, "CreateToken(long name)", err, "name", "too_long")
	})
}

// TestToken_RevokedElsewhere: a token revoked by another process (the CLI, another node)
// stops working once the in-memory cache has expired (2 seconds).
func TestToken_RevokedElsewhere(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a, _ := newApp(t, b)
		bearer, tk, err := a.Auth.CreateToken(adminCtx(), "shop", fidelis.RoleSales)
		if err != nil {
			t.Fatalf("CreateToken = %v", err)
		}
		if _, err := a.Auth.Authenticate(context.Background(), bearer); err != nil {
			t.Fatalf("Authenticate = %v", err)
		}
		elsewhere := &auth.Service{Store: a.DB, Registry: a.Registry, Audit: a.AuditLog, Recorder: a.DB, Now: a.Config.Now}
		if err := elsewhere.RevokeToken(adminCtx(), tk.ID); err != nil {
			t.Fatalf("RevokeToken elsewhere = %v", err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			_, err := a.Auth.Authenticate(context.Background(), bearer)
			if err != nil {
				if fidelis.AsError(err) == nil || fidelis.AsError(err).Reason != "bad_token" {
					t.Errorf("Authenticate(revoked elsewhere) = %v; want bad_token", err)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("a token revoked by another process still authenticates after 10s; want at most the 2s cache")
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

func TestBootstrap(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a, _ := newApp(t, b)
		user, pass, err := a.Auth.Bootstrap(adminCtx())
		if err != nil || user != "admin" || len(pass) < auth.MinPasswordLength {
			t.Fatalf("Bootstrap = %q, %d-character password, %v; want admin and a password of at least %d", user, len(pass), err, auth.MinPasswordLength)
		}
		_, s, err := a.Auth.Login(context.Background(), user, pass, "")
		if err != nil || s.User.Role != fidelis.RoleAdmin {
			t.Fatalf("Login(bootstrap admin) = %v, %v; want an admin session", s, err)
		}
		user2, pass2, err := a.Auth.Bootstrap(adminCtx())
		if err != nil || user2 != "" || pass2 != "" {
			t.Errorf("second Bootstrap = %q, %q, %v; want \"\", \"\", nil", user2, pass2, err)
		}
		if n, _ := a.DB.CountUsers(context.Background()); n != 1 {
			t.Errorf("CountUsers after two Bootstraps = %d; want 1", n)
		}

		// An installation that already has a user gets no bootstrap admin.
		b2, _ := newApp(t, b)
		mustUser(t, b2, "alice", fidelis.RoleSupport)
		if user, pass, err := b2.Auth.Bootstrap(adminCtx()); err != nil || user != "" || pass != "" {
			t.Errorf("Bootstrap with a user = %q, %q, %v; want nothing", user, pass, err)
		}
	})
}

// TestLogin_LockoutAfterRepeatedFailures: five wrong passwords lock the username for 15
// minutes, even against the right password; unknown usernames are throttled alike, and a
// success resets the count.
func TestLogin_LockoutAfterRepeatedFailures(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a, clk := newApp(t, b)
		mustUser(t, a, "alice", fidelis.RoleSupport)
		ctx := context.Background()
		for i := range 4 {
			if _, _, err := a.Auth.Login(ctx, "alice", "wrong-password-1234", ""); fidelis.ErrorCode(err) != fidelis.EUNAUTHORIZED {
				t.Fatalf("wrong password #%d = %v; want unauthorized", i+1, err)
			}
		}
		mustLogin(t, a, "alice", "") // a success resets the count
		for range 5 {
			a.Auth.Login(ctx, "ALICE", "wrong-password-1234", "")
		}
		_, _, err := a.Auth.Login(ctx, "alice", goodPassword, "")
		if e := fidelis.AsError(err); e == nil || e.Code != fidelis.ETOOMANY || e.Reason != "locked_out" {
			t.Fatalf("Login after 5 failures = %v; want too_many/locked_out", err)
		}
		clk.Set(clk.Now().Add(16 * time.Minute))
		mustLogin(t, a, "alice", "")

		for range 5 {
			a.Auth.Login(ctx, "nobody", "wrong-password-1234", "")
		}
		if _, _, err := a.Auth.Login(ctx, "nobody", "wrong-password-1234", ""); fidelis.ErrorCode(err) != fidelis.ETOOMANY {
			t.Fatalf("6th attempt on an unknown username = %v; want too_many", err)
		}
	})
}
