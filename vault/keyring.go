// Package vault owns every key and cipher of Fidelis (D-3): per-customer data keys (DEKs)
// wrapped by a key-encryption key (KEK) from a key file, AES-256-GCM field sealing bound to
// the customer and field, blind indexes for exact search, and the audit log's MAC and
// signing keys. It is the only package that imports crypto/aes.
package vault

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fidelis/fidelis"
)

const keyFileVersion = 1

// KEK is one key-encryption key. Retired keys stay in the file so that backups made
// before a rotation can still be restored.
type KEK struct {
	ID      string    `json:"id"`
	Key     []byte    `json:"key"`
	Created time.Time `json:"created"`
	Retired bool      `json:"retired,omitempty"`
}

// keyFile is the on-disk form of the keyring (JSON, mode 0600).
type keyFile struct {
	Version       int    `json:"version"`
	Active        string `json:"active"`
	KEKs          []KEK  `json:"keks"`
	BlindIndexKey []byte `json:"blind_index_key"`
	AuditMACKey   []byte `json:"audit_mac_key"`
	AuditSignSeed []byte `json:"audit_signing_seed"`
}

// Keyring holds the keys of one installation, loaded from a key file. It reloads the file
// when it changes on disk, so that `fidelis keys rotate` run beside a live server takes
// effect without a restart. Safe for concurrent use.
type Keyring struct {
	path string
	now  func() time.Time

	mu      sync.RWMutex
	kf      keyFile
	modTime time.Time
	size    int64 // with modTime: a rotation always grows the file (one more KEK)
	checked time.Time
}

// ErrNoKeyFile is returned by Open when the key file does not exist.
var ErrNoKeyFile = errors.New("vault: key file does not exist")

// Create writes a new key file at path with fresh random keys and mode 0600. It refuses to
// overwrite an existing file: losing the KEK makes every customer record unreadable.
func Create(path string, now func() time.Time) (*Keyring, error) {
	kf := keyFile{
		Version:       keyFileVersion,
		BlindIndexKey: randomKey(32),
		AuditMACKey:   randomKey(32),
		AuditSignSeed: randomKey(ed25519.SeedSize),
	}
	k := KEK{ID: newKEKID(now()), Key: randomKey(32), Created: fidelis.UTC(now())}
	kf.KEKs = []KEK{k}
	kf.Active = k.ID
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("vault: create key directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("vault: create key file: %w", err)
	}
	if err := json.NewEncoder(f).Encode(kf); err != nil {
		f.Close()
		return nil, fmt.Errorf("vault: write key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("vault: sync key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("vault: close key file: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return nil, err
	}
	return Open(path, now)
}

// Open loads the key file at path. It returns ErrNoKeyFile if there is none, and refuses a
// file readable by group or others.
func Open(path string, now func() time.Time) (*Keyring, error) {
	kr := &Keyring{path: path, now: now}
	if err := kr.load(); err != nil {
		return nil, err
	}
	return kr, nil
}

// OpenOrCreate opens the key file, creating it if missing; created reports which.
func OpenOrCreate(path string, now func() time.Time) (kr *Keyring, created bool, err error) {
	kr, err = Open(path, now)
	if errors.Is(err, ErrNoKeyFile) {
		kr, err = Create(path, now)
		return kr, err == nil, err
	}
	return kr, false, err
}

// Path returns the key file's path.
func (kr *Keyring) Path() string { return kr.path }

func (kr *Keyring) load() error {
	st, err := os.Stat(kr.path)
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNoKeyFile
	} else if err != nil {
		return fmt.Errorf("vault: stat key file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("vault: key file %s has mode %v; it must be readable by its owner only (chmod 600)", kr.path, st.Mode().Perm())
	}
	b, err := os.ReadFile(kr.path)
	if err != nil {
		return fmt.Errorf("vault: read key file: %w", err)
	}
	var kf keyFile
	if err := json.Unmarshal(b, &kf); err != nil {
		return fmt.Errorf("vault: key file %s is not valid: %w", kr.path, err)
	}
	if err := kf.validate(); err != nil {
		return fmt.Errorf("vault: key file %s: %w", kr.path, err)
	}
	kr.mu.Lock()
	kr.kf, kr.modTime, kr.size, kr.checked = kf, st.ModTime(), st.Size(), kr.now()
	kr.mu.Unlock()
	return nil
}

func (kf *keyFile) validate() error {
	if kf.Version != keyFileVersion {
		return fmt.Errorf("unsupported version %d", kf.Version)
	}
	if len(kf.BlindIndexKey) != 32 || len(kf.AuditMACKey) != 32 || len(kf.AuditSignSeed) != ed25519.SeedSize {
		return errors.New("a key has the wrong length")
	}
	active := false
	for _, k := range kf.KEKs {
		if len(k.Key) != 32 {
			return fmt.Errorf("KEK %s has the wrong length", k.ID)
		}
		if k.ID == kf.Active {
			active = !k.Retired
		}
	}
	if !active {
		return errors.New("no active key-encryption key")
	}
	return nil
}

// refresh reloads the file if it changed; checks at most once a second.
func (kr *Keyring) refresh(force bool) {
	kr.mu.RLock()
	due := force || kr.now().Sub(kr.checked) >= time.Second
	mod, size := kr.modTime, kr.size
	kr.mu.RUnlock()
	if !due {
		return
	}
	st, err := os.Stat(kr.path)
	if err != nil || st.ModTime().Equal(mod) && st.Size() == size && !force {
		kr.mu.Lock()
		kr.checked = kr.now()
		kr.mu.Unlock()
		return
	}
	_ = kr.load() // a half-written file fails validation; keep the keys we have
}

func (kr *Keyring) active() KEK {
	kr.refresh(false)
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	for _, k := range kr.kf.KEKs {
		if k.ID == kr.kf.Active {
			return k
		}
	}
	panic("vault: validated keyring has no active KEK")
}

func (kr *Keyring) kek(id string) (KEK, bool) {
	find := func() (KEK, bool) {
		kr.mu.RLock()
		defer kr.mu.RUnlock()
		for _, k := range kr.kf.KEKs {
			if k.ID == id {
				return k, true
			}
		}
		return KEK{}, false
	}
	if k, ok := find(); ok {
		return k, true
	}
	kr.refresh(true) // a rotation by another process may have added it
	return find()
}

// ActiveKEKID returns the ID of the KEK new data keys are wrapped with.
func (kr *Keyring) ActiveKEKID() string { return kr.active().ID }

// Rotate adds a new KEK, makes it active, retires the previous ones and writes the file
// atomically and durably (temporary file, fsync, rename, fsync of the directory), under an
// exclusive lock file so that two rotations cannot lose a key. It returns the new KEK's ID.
// Rewrapping the stored data keys is the caller's job (see RewrapDEK).
func (kr *Keyring) Rotate() (string, error) {
	unlock, err := lockFile(kr.path + ".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	if err := kr.load(); err != nil { // the file as it is now, after any other rotation
		return "", err
	}
	kr.mu.Lock()
	defer kr.mu.Unlock()
	kf := kr.kf
	kf.KEKs = append([]KEK(nil), kr.kf.KEKs...)
	for i := range kf.KEKs {
		kf.KEKs[i].Retired = true
	}
	k := KEK{ID: newKEKID(kr.now()), Key: randomKey(32), Created: fidelis.UTC(kr.now())}
	kf.KEKs = append(kf.KEKs, k)
	kf.Active = k.ID
	b, err := json.MarshalIndent(kf, "", "  ")
	if err != nil {
		return "", err
	}
	tmp := kr.path + ".tmp"
	if err := writeFileSync(tmp, b); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, kr.path); err != nil {
		return "", fmt.Errorf("vault: replace key file: %w", err)
	}
	// Without this, a crash could bring back the old file while the database already holds
	// data keys wrapped under the new KEK: those customers would be lost.
	if err := syncDir(filepath.Dir(kr.path)); err != nil {
		return "", err
	}
	st, err := os.Stat(kr.path)
	if err != nil {
		return "", err
	}
	kr.kf, kr.modTime, kr.size, kr.checked = kf, st.ModTime(), st.Size(), kr.now()
	return k.ID, nil
}

// syncDir makes a rename or creation in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("vault: open key directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("vault: sync key directory: %w", err)
	}
	return nil
}

// lockFile takes an exclusive lock by creating path; a lock older than ten minutes is taken
// to be left over by a crashed process and is broken.
func lockFile(path string) (unlock func(), err error) {
	for range 2 {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			f.Close()
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("vault: lock key file: %w", err)
		}
		if st, serr := os.Stat(path); serr == nil && time.Since(st.ModTime()) > 10*time.Minute {
			os.Remove(path)
			continue
		}
		return nil, &fidelis.Error{Code: fidelis.ECONFLICT, Reason: "rotation_in_progress",
			Message: "another key rotation is in progress (lock file " + path + ")", Err: err}
	}
	return nil, fmt.Errorf("vault: could not take the lock %s", path)
}

func writeFileSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("vault: write key file: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("vault: write key file: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("vault: sync key file: %w", err)
	}
	return f.Close()
}

// AuditMACKey returns the key that authenticates audit entries as they are written.
func (kr *Keyring) AuditMACKey() []byte {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	return kr.kf.AuditMACKey
}

// AuditSigningKey returns the Ed25519 key that signs audit checkpoints.
func (kr *Keyring) AuditSigningKey() ed25519.PrivateKey {
	kr.mu.RLock()
	defer kr.mu.RUnlock()
	return ed25519.NewKeyFromSeed(kr.kf.AuditSignSeed)
}

func randomKey(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

func newKEKID(now time.Time) string { return fidelis.NewID("kek", now) }
