package vault_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/vault"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, time.March, 14, 15, 9, 26, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// mustKeyring creates a key file in a temporary directory.
func mustKeyring(t *testing.T) (*vault.Keyring, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys", "fidelis.key")
	kr, err := vault.Create(path, newClock().Now)
	if err != nil {
		t.Fatalf("Create(%s) = %v", path, err)
	}
	return kr, path
}

func mustDEK(t *testing.T, v *vault.Vault, id fidelis.CustomerID) (*vault.DEK, vault.WrappedDEK) {
	t.Helper()
	dek, w, err := v.NewDEK(id)
	if err != nil {
		t.Fatalf("NewDEK(%s) = %v", id, err)
	}
	return dek, w
}

func newID(i int) fidelis.CustomerID {
	return fidelis.NewCustomerID(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Millisecond))
}

func TestSealOpen_RoundTrip(t *testing.T) {
	kr, _ := mustKeyring(t)
	v := vault.New(kr)
	dek, _ := mustDEK(t, v, newID(1))
	for _, tt := range []struct{ field, value string }{
		{"email", "alice.martin@example.com"},
		{"given_name", "Zoë-Éléonore 山田"},
		{"street", strings.Repeat("long street ", 100)},
		{"history/2", `{"city":"Paris"}`},
	} {
		t.Run(tt.field, func(t *testing.T) {
			c1 := dek.Seal(tt.field, fidelis.NewSecret(tt.value))
			c2 := dek.Seal(tt.field, fidelis.NewSecret(tt.value))
			if bytes.Equal(c1, c2) {
				t.Errorf("Seal twice gave the same ciphertext; want a fresh nonce each time")
			}
			if bytes.Contains(c1, []byte(tt.value)) {
				t.Errorf("Seal(%q) holds the plaintext", tt.field)
			}
			if got, err := dek.Open(tt.field, c1); err != nil || got.Reveal() != tt.value {
				t.Errorf("Open(Seal(%q)) = %q, %v; want %q", tt.field, got.Reveal(), err, tt.value)
			}
			b := dek.SealBytes(tt.field, []byte(tt.value))
			if got, err := dek.OpenBytes(tt.field, b); err != nil || string(got) != tt.value {
				t.Errorf("OpenBytes(SealBytes(%q)) = %q, %v; want %q", tt.field, got, err, tt.value)
			}
		})
	}
	if c := dek.Seal("email", fidelis.NewSecret("")); c != nil {
		t.Errorf("Seal(empty) = %x; want nil (nothing stored)", c)
	}
	if c := dek.SealBytes("attributes", nil); c != nil {
		t.Errorf("SealBytes(nil) = %x; want nil", c)
	}
	if got, err := dek.Open("email", nil); err != nil || !got.IsZero() {
		t.Errorf("Open(nil) = %q, %v; want empty, nil", got.Reveal(), err)
	}
}

func TestSeal_BoundToCustomerAndField_D3(t *testing.T) {
	kr, _ := mustKeyring(t)
	v := vault.New(kr)
	a, b := newID(1), newID(2)
	dekA, wA := mustDEK(t, v, a)
	dekB, _ := mustDEK(t, v, b)
	c := dekA.Seal("email", fidelis.NewSecret("alice@example.com"))
	for _, tt := range []struct {
		name  string
		dek   *vault.DEK
		field string
	}{
		{"another customer's key", dekB, "email"},
		{"another field", dekA, "phone"},
		{"another history version", dekA, "history/3"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := tt.dek.Open(tt.field, c); !errors.Is(err, vault.ErrDecrypt) || !got.IsZero() {
				t.Errorf("Open(%s) = %q, %v; want ErrDecrypt", tt.field, got.Reveal(), err)
			}
		})
	}
	// The wrapped key is bound to its customer: it does not unwrap as anyone else's.
	if _, err := v.UnwrapDEK(b, wA); !errors.Is(err, vault.ErrDecrypt) {
		t.Errorf("UnwrapDEK(b, wrapped key of a) = %v; want ErrDecrypt", err)
	}
	dek, err := v.UnwrapDEK(a, wA)
	if err != nil {
		t.Fatalf("UnwrapDEK(a, wA) = %v", err)
	}
	if got, err := dek.Open("email", c); err != nil || got.Reveal() != "alice@example.com" {
		t.Errorf("unwrapped key Open = %q, %v; want the value sealed by the original key", got.Reveal(), err)
	}
}

func TestOpen_TamperedFails_D3(t *testing.T) {
	kr, _ := mustKeyring(t)
	v := vault.New(kr)
	id := newID(1)
	dek, w := mustDEK(t, v, id)
	c := dek.Seal("city", fidelis.NewSecret("Paris"))
	for i := range c {
		bad := bytes.Clone(c)
		bad[i] ^= 0x01
		if _, err := dek.Open("city", bad); !errors.Is(err, vault.ErrDecrypt) {
			t.Errorf("Open(ciphertext with byte %d flipped) = %v; want ErrDecrypt", i, err)
		}
	}
	for name, bad := range map[string][]byte{
		"truncated":     c[:len(c)-1],
		"extended":      append(bytes.Clone(c), 0),
		"nonce only":    c[:12],
		"shorter":       c[:5],
		"swapped nonce": append(dek.Seal("city", fidelis.NewSecret("Paris"))[:12], c[12:]...),
	} {
		if _, err := dek.Open("city", bad); err == nil {
			t.Errorf("Open(%s ciphertext) = nil error; want a failure", name)
		}
	}
	for i := range w.Wrapped {
		bad := w
		bad.Wrapped = bytes.Clone(w.Wrapped)
		bad.Wrapped[i] ^= 0x80
		if _, err := v.UnwrapDEK(id, bad); !errors.Is(err, vault.ErrDecrypt) {
			t.Errorf("UnwrapDEK(wrapped key with byte %d flipped) = %v; want ErrDecrypt", i, err)
		}
	}
	unknown := w
	unknown.KEKID = fidelis.NewID("kek", time.Now())
	if _, err := v.UnwrapDEK(id, unknown); err == nil {
		t.Errorf("UnwrapDEK(unknown KEK) = nil error; want a failure")
	}
}

func TestKeyFile_Permissions(t *testing.T) {
	kr, path := mustKeyring(t)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != 0o600 {
		t.Errorf("mode of a new key file = %v; want 0600", got)
	}
	want := vault.New(kr).BlindIndex("email", "a@example.com")
	for _, tt := range []struct {
		mode os.FileMode
		ok   bool
	}{
		{0o640, false},
		{0o604, false},
		{0o660, false},
		{0o644, false},
		{0o400, true},
		{0o600, true},
	} {
		t.Run(tt.mode.String(), func(t *testing.T) {
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			got, err := vault.Open(path, time.Now)
			if (err == nil) != tt.ok {
				t.Fatalf("Open(key file with mode %v) = %v; want ok=%v", tt.mode, err, tt.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "chmod 600") {
				t.Errorf("Open(mode %v) error = %q; want it to say how to fix it (chmod 600)", tt.mode, err)
			}
			if err == nil && !bytes.Equal(vault.New(got).BlindIndex("email", "a@example.com"), want) {
				t.Errorf("Open(mode %v) loaded other keys", tt.mode)
			}
		})
	}
}

func TestCreate_RefusesToOverwrite(t *testing.T) {
	kr, path := mustKeyring(t)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vault.Create(path, time.Now); err == nil {
		t.Fatalf("Create(existing key file) = nil error; want a refusal")
	}
	after, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(before, after) {
		t.Fatalf("key file changed after a refused Create")
	}
	again, err := vault.Open(path, time.Now)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	if again.ActiveKEKID() != kr.ActiveKEKID() {
		t.Errorf("ActiveKEKID after reopen = %s; want %s", again.ActiveKEKID(), kr.ActiveKEKID())
	}
}

func TestOpen_MissingAndOpenOrCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fidelis.key")
	if _, err := vault.Open(path, time.Now); !errors.Is(err, vault.ErrNoKeyFile) {
		t.Errorf("Open(missing) = %v; want ErrNoKeyFile", err)
	}
	kr, created, err := vault.OpenOrCreate(path, time.Now)
	if err != nil || !created {
		t.Fatalf("OpenOrCreate(missing) = %v, created %v; want a new file", err, created)
	}
	again, created, err := vault.OpenOrCreate(path, time.Now)
	if err != nil || created {
		t.Fatalf("OpenOrCreate(existing) = %v, created %v; want the existing file", err, created)
	}
	if again.ActiveKEKID() != kr.ActiveKEKID() || !bytes.Equal(again.AuditMACKey(), kr.AuditMACKey()) || !again.AuditSigningKey().Equal(kr.AuditSigningKey()) {
		t.Errorf("OpenOrCreate(existing) loaded other keys than the file holds")
	}
	if again.Path() != path {
		t.Errorf("Path() = %q; want %q", again.Path(), path)
	}
}

func TestOpen_RejectsInvalidFile(t *testing.T) {
	for _, tt := range []struct {
		name   string
		mutate func(m map[string]any)
	}{
		{"unsupported version", func(m map[string]any) { m["version"] = 2 }},
		{"short blind index key", func(m map[string]any) { m["blind_index_key"] = "c2hvcnQ=" }},
		{"short audit MAC key", func(m map[string]any) { m["audit_mac_key"] = "" }},
		{"no such active KEK", func(m map[string]any) { m["active"] = "kek_missing" }},
		{"active KEK retired", func(m map[string]any) { m["keks"].([]any)[0].(map[string]any)["retired"] = true }},
		{"short KEK", func(m map[string]any) { m["keks"].([]any)[0].(map[string]any)["key"] = "c2hvcnQ=" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, path := mustKeyring(t)
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("key file is not JSON: %v", err)
			}
			tt.mutate(m)
			if b, err = json.Marshal(m); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := vault.Open(path, time.Now); err == nil {
				t.Errorf("Open(key file with %s) = nil error; want a refusal", tt.name)
			}
		})
	}
	t.Run("not JSON", func(t *testing.T) {
		_, path := mustKeyring(t)
		if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := vault.Open(path, time.Now); err == nil {
			t.Errorf("Open(garbage) = nil error; want a refusal")
		}
	})
}

func TestRotate_NewActiveOldStillUnwrap(t *testing.T) {
	kr, path := mustKeyring(t)
	v := vault.New(kr)
	id := newID(1)
	old := kr.ActiveKEKID()
	dek, w := mustDEK(t, v, id)
	sealed := dek.Seal("email", fidelis.NewSecret("alice@example.com"))
	bidx := v.BlindIndex("email", "alice@example.com")
	if w.KEKID != old {
		t.Fatalf("NewDEK KEK = %s; want the active %s", w.KEKID, old)
	}

	next, err := kr.Rotate()
	if err != nil {
		t.Fatalf("Rotate = %v", err)
	}
	if next == old || kr.ActiveKEKID() != next {
		t.Fatalf("after Rotate active = %s (returned %s); want a new KEK, not %s", kr.ActiveKEKID(), next, old)
	}
	if _, w2 := mustDEK(t, v, newID(2)); w2.KEKID != next {
		t.Errorf("NewDEK after Rotate KEK = %s; want %s", w2.KEKID, next)
	}
	if _, err := v.UnwrapDEK(id, w); err != nil {
		t.Errorf("UnwrapDEK(key wrapped under the retired KEK) = %v; want nil", err)
	}
	rw, err := v.RewrapDEK(id, w)
	if err != nil || rw.KEKID != next || bytes.Equal(rw.Wrapped, w.Wrapped) {
		t.Fatalf("RewrapDEK = %s, %v; want wrapped under %s", rw.KEKID, err, next)
	}
	again, err := v.UnwrapDEK(id, rw)
	if err != nil {
		t.Fatalf("UnwrapDEK(rewrapped) = %v", err)
	}
	if got, err := again.Open("email", sealed); err != nil || got.Reveal() != "alice@example.com" {
		t.Errorf("rewrapped key Open = %q, %v; want the data key unchanged", got.Reveal(), err)
	}
	if got := v.BlindIndex("email", "alice@example.com"); !bytes.Equal(got, bidx) {
		t.Errorf("BlindIndex after Rotate = %x; want %x unchanged (search must survive rotation)", got, bidx)
	}
	// Under the wrong KEK ID the rewrapped key does not open.
	wrong := rw
	wrong.KEKID = old
	if _, err := v.UnwrapDEK(id, wrong); !errors.Is(err, vault.ErrDecrypt) {
		t.Errorf("UnwrapDEK(key labelled with the other KEK) = %v; want ErrDecrypt", err)
	}

	// The file holds both keys, the old one retired, and keeps its mode.
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("key file after Rotate: mode %v, %v; want 0600", st.Mode().Perm(), err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Active string `json:"active"`
		KEKs   []struct {
			ID      string `json:"id"`
			Retired bool   `json:"retired"`
		} `json:"keks"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if f.Active != next || len(f.KEKs) != 2 || f.KEKs[0].ID != old || !f.KEKs[0].Retired || f.KEKs[1].ID != next || f.KEKs[1].Retired {
		t.Errorf("key file after Rotate = %+v; want %s retired and %s active", f, old, next)
	}
	reopened, err := vault.Open(path, time.Now)
	if err != nil || reopened.ActiveKEKID() != next {
		t.Fatalf("Open after Rotate = %v; want active %s", err, next)
	}
	if _, err := vault.New(reopened).UnwrapDEK(id, w); err != nil {
		t.Errorf("reopened keyring UnwrapDEK(old) = %v; want nil", err)
	}
	if _, err := os.Stat(path + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file left after Rotate: %v", err)
	}
}

// TestRotate_SeenByAnotherKeyring is a server and `fidelis keys rotate` sharing one key
// file: the server unwraps keys under the new KEK at once, and wraps new keys under it
// once it notices the file changed.
func TestRotate_SeenByAnotherKeyring(t *testing.T) {
	kr1, path := mustKeyring(t)
	// The file was written a while ago, as on a running installation.
	past := time.Now().Add(-time.Hour)
	if err := os.Chtimes(path, past, past); err != nil {
		t.Fatal(err)
	}
	serverClock, idleClock := newClock(), newClock()
	kr2, err := vault.Open(path, serverClock.Now)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	// A third process only wraps: it notices the rotation by the file's change.
	kr3, err := vault.Open(path, idleClock.Now)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	v1, v2 := vault.New(kr1), vault.New(kr2)
	old := kr2.ActiveKEKID()
	next, err := kr1.Rotate()
	if err != nil {
		t.Fatalf("Rotate = %v", err)
	}
	id := newID(1)
	dek, w := mustDEK(t, v1, id)
	if w.KEKID != next {
		t.Fatalf("NewDEK after Rotate KEK = %s; want %s", w.KEKID, next)
	}
	got, err := v2.UnwrapDEK(id, w)
	if err != nil {
		t.Fatalf("second keyring UnwrapDEK(key under the new KEK) = %v; want nil (reload on an unknown KEK)", err)
	}
	c := dek.Seal("email", fidelis.NewSecret("a@example.com"))
	if s, err := got.Open("email", c); err != nil || s.Reveal() != "a@example.com" {
		t.Errorf("second keyring's key Open = %q, %v; want the same data key", s.Reveal(), err)
	}
	if a := kr2.ActiveKEKID(); a != next && a != old {
		t.Errorf("second keyring ActiveKEKID = %s; want %s or %s", a, old, next)
	}
	serverClock.Advance(2 * time.Second)
	if a := kr2.ActiveKEKID(); a != next {
		t.Errorf("second keyring ActiveKEKID 2s after the rotation = %s; want %s", a, next)
	}
	if _, w2 := mustDEK(t, v2, newID(2)); w2.KEKID != next {
		t.Errorf("second keyring NewDEK KEK = %s; want %s", w2.KEKID, next)
	}
	idleClock.Advance(2 * time.Second)
	if a := kr3.ActiveKEKID(); a != next {
		t.Errorf("third keyring ActiveKEKID 2s after the rotation = %s; want %s (the file changed)", a, next)
	}
}

func TestBlindIndex(t *testing.T) {
	kr, path := mustKeyring(t)
	v := vault.New(kr)
	a := v.BlindIndex("email", "alice@example.com")
	if len(a) != vault.BlindIndexSize || vault.BlindIndexSize != 16 {
		t.Fatalf("len(BlindIndex) = %d (BlindIndexSize %d); want 16", len(a), vault.BlindIndexSize)
	}
	for _, tt := range []struct {
		name        string
		kind, value string
		same        bool
	}{
		{"same kind and value", "email", "alice@example.com", true},
		{"other kind", "phone", "alice@example.com", false},
		{"other value", "email", "alice@example.org", false},
		{"not normalised by BlindIndex", "email", "Alice@example.com", false},
		{"kind and value do not run together", "emai", "lalice@example.com", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := v.BlindIndex(tt.kind, tt.value); bytes.Equal(got, a) != tt.same {
				t.Errorf("BlindIndex(%q, %q) = %x vs %x; want same=%v", tt.kind, tt.value, got, a, tt.same)
			}
		})
	}
	if got := v.BlindIndex("email", ""); got != nil {
		t.Errorf("BlindIndex(email, \"\") = %x; want nil", got)
	}
	reopened, err := vault.Open(path, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if got := vault.New(reopened).BlindIndex("email", "alice@example.com"); !bytes.Equal(got, a) {
		t.Errorf("BlindIndex on a reopened keyring = %x; want %x", got, a)
	}
	other, _ := mustKeyring(t)
	if got := vault.New(other).BlindIndex("email", "alice@example.com"); bytes.Equal(got, a) {
		t.Errorf("BlindIndex under another installation's key = %x; want it to differ", got)
	}
	if bytes.Contains(a, []byte("alice")) {
		t.Errorf("BlindIndex holds the value")
	}
}

func TestNormalizeEmail(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"alice@example.com", "alice@example.com"},
		{"  Alice.Martin@Example.COM\t", "alice.martin@example.com"},
		{"alice+shop@example.com", "alice+shop@example.com"}, // tags are kept: another mailbox
		{"a.l.i.c.e@gmail.com", "a.l.i.c.e@gmail.com"},       // dots are kept
		{"", ""},
		{"   ", ""},
	} {
		if got := vault.NormalizeEmail(tt.in); got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestNormalizePhone(t *testing.T) {
	for _, tt := range []struct{ in, code, want string }{
		{"06 12 34 56 78", "33", "+33612345678"},
		{"0612345678", "33", "+33612345678"},
		{"06.12.34.56.78", "33", "+33612345678"},
		{"06-12-34-56-78", "33", "+33612345678"},
		{"+33 6 12 34 56 78", "33", "+33612345678"},
		{"+33612345678", "32", "+33612345678"}, // international ignores the default
		{"0033 6 12 34 56 78", "33", "+33612345678"},
		{"0033612345678", "32", "+33612345678"},
		{"0470 12 34 56", "32", "+32470123456"},
		{"0470 12 34 56", "33", "+33470123456"},
		{"+32 470 12 34 56", "33", "+32470123456"},
		{"  +1 (555) 010-9999 ", "33", "+15550109999"},
		{"+33 (0)6 12 34 56 78", "33", "+33612345678"}, // bracketed trunk prefix is not dialled
		{"+44 (0)20 7946 0000", "33", "+442079460000"},
		{"612345678", "33", "+612345678"}, // no trunk prefix: read as international digits
		{"", "33", ""},
		{"   ", "33", ""},
		{"+", "33", ""},
		{"abc", "33", ""},
		{"٠٦١٢٣٤٥٦٧٨", "33", ""}, // only ASCII digits count
	} {
		if got := vault.NormalizePhone(tt.in, tt.code); got != tt.want {
			t.Errorf("NormalizePhone(%q, %q) = %q; want %q", tt.in, tt.code, got, tt.want)
		}
	}
}

func TestAuditKeys(t *testing.T) {
	kr, path := mustKeyring(t)
	if len(kr.AuditMACKey()) != 32 {
		t.Errorf("len(AuditMACKey) = %d; want 32", len(kr.AuditMACKey()))
	}
	reopened, err := vault.Open(path, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(reopened.AuditMACKey(), kr.AuditMACKey()) || !reopened.AuditSigningKey().Equal(kr.AuditSigningKey()) {
		t.Errorf("audit keys differ after reopening the key file")
	}
	if _, err := kr.Rotate(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(reopened.AuditMACKey(), kr.AuditMACKey()) || !reopened.AuditSigningKey().Equal(kr.AuditSigningKey()) {
		t.Errorf("audit keys changed with a KEK rotation; want them unchanged (old entries must still verify)")
	}
	other, _ := mustKeyring(t)
	if bytes.Equal(other.AuditMACKey(), kr.AuditMACKey()) || other.AuditSigningKey().Equal(kr.AuditSigningKey()) {
		t.Errorf("two installations share audit keys; want fresh random keys")
	}
}
