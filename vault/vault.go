package vault

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/fidelis/fidelis"
)

// DEK is one customer's data key in plaintext. It lives in memory only for the time of an
// operation; the database holds it wrapped.
type DEK struct {
	owner fidelis.CustomerID
	aead  cipher.AEAD
}

// WrappedDEK is a data key encrypted under a KEK, as stored beside the customer.
type WrappedDEK struct {
	KEKID   string
	Wrapped []byte
}

// ErrDecrypt means a ciphertext or wrapped key failed authentication: it was altered, bound
// to another customer or field, or its key is gone.
var ErrDecrypt = errors.New("vault: authentication failed")

// Vault seals and opens personal data with the keys of a Keyring.
type Vault struct {
	kr *Keyring
}

// New returns a vault over kr.
func New(kr *Keyring) *Vault { return &Vault{kr: kr} }

// Keyring returns the vault's keyring.
func (v *Vault) Keyring() *Keyring { return v.kr }

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key) // 32 bytes: AES-256
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithRandomNonce(block) // nonce generated and prepended
}

func wrapAAD(id fidelis.CustomerID, kekID string) []byte {
	return []byte("fidelis/v1/dek|" + string(id) + "|" + kekID)
}

// NewDEK creates a random 256-bit data key for customer id and returns it with its wrapped
// form under the active KEK.
func (v *Vault) NewDEK(id fidelis.CustomerID) (*DEK, WrappedDEK, error) {
	raw := randomKey(32)
	w, err := v.wrap(id, raw)
	if err != nil {
		return nil, WrappedDEK{}, err
	}
	d, err := dekFrom(id, raw)
	return d, w, err
}

func (v *Vault) wrap(id fidelis.CustomerID, raw []byte) (WrappedDEK, error) {
	kek := v.kr.active()
	a, err := newAEAD(kek.Key)
	if err != nil {
		return WrappedDEK{}, fmt.Errorf("vault: wrap: %w", err)
	}
	return WrappedDEK{KEKID: kek.ID, Wrapped: a.Seal(nil, nil, raw, wrapAAD(id, kek.ID))}, nil
}

func (v *Vault) unwrapRaw(id fidelis.CustomerID, w WrappedDEK) ([]byte, error) {
	kek, ok := v.kr.kek(w.KEKID)
	if !ok {
		return nil, fmt.Errorf("vault: key-encryption key %s is not in the key file", w.KEKID)
	}
	a, err := newAEAD(kek.Key)
	if err != nil {
		return nil, err
	}
	raw, err := a.Open(nil, nil, w.Wrapped, wrapAAD(id, w.KEKID))
	if err != nil {
		return nil, ErrDecrypt
	}
	return raw, nil
}

// UnwrapDEK returns customer id's data key.
func (v *Vault) UnwrapDEK(id fidelis.CustomerID, w WrappedDEK) (*DEK, error) {
	raw, err := v.unwrapRaw(id, w)
	if err != nil {
		return nil, err
	}
	return dekFrom(id, raw)
}

// RewrapDEK re-encrypts a wrapped data key under the active KEK (key rotation). The data
// key itself, and so every field sealed with it, is unchanged.
func (v *Vault) RewrapDEK(id fidelis.CustomerID, w WrappedDEK) (WrappedDEK, error) {
	raw, err := v.unwrapRaw(id, w)
	if err != nil {
		return WrappedDEK{}, err
	}
	return v.wrap(id, raw)
}

func dekFrom(id fidelis.CustomerID, raw []byte) (*DEK, error) {
	a, err := newAEAD(raw)
	if err != nil {
		return nil, err
	}
	return &DEK{owner: id, aead: a}, nil
}

func fieldAAD(id fidelis.CustomerID, field string) []byte {
	return []byte("fidelis/v1|" + string(id) + "|" + field)
}

// Seal encrypts one field value; the associated data pins the ciphertext to its owner and
// field, so a ciphertext copied to another row or column fails to open. An empty value
// seals to nil (nothing stored).
func (d *DEK) Seal(field string, plain fidelis.Secret) []byte {
	if plain.IsZero() {
		return nil
	}
	return d.aead.Seal(nil, nil, []byte(plain.Reveal()), fieldAAD(d.owner, field))
}

// SealBytes is Seal for binary or structured values (e.g. JSON of custom attributes).
func (d *DEK) SealBytes(field string, plain []byte) []byte {
	if len(plain) == 0 {
		return nil
	}
	return d.aead.Seal(nil, nil, plain, fieldAAD(d.owner, field))
}

// Open decrypts a field sealed by Seal. nil opens to the empty secret.
func (d *DEK) Open(field string, sealed []byte) (fidelis.Secret, error) {
	b, err := d.OpenBytes(field, sealed)
	return fidelis.NewSecret(string(b)), err
}

// OpenBytes decrypts a value sealed by SealBytes.
func (d *DEK) OpenBytes(field string, sealed []byte) ([]byte, error) {
	if len(sealed) == 0 {
		return nil, nil
	}
	b, err := d.aead.Open(nil, nil, sealed, fieldAAD(d.owner, field))
	if err != nil {
		return nil, fmt.Errorf("%w: field %s of %s", ErrDecrypt, field, d.owner)
	}
	return b, nil
}

// BlindIndexSize is the length of a blind index in bytes. 16 bytes (128 bits) keeps
// collisions negligible for any realistic customer base while revealing nothing usable.
const BlindIndexSize = 16

// BlindIndex returns the keyed hash of a normalised value for exact-match search (D-3):
// HMAC-SHA256 under the blind-index key, with the kind as domain separation, truncated.
// The value must already be normalised (NormalizeEmail, NormalizePhone). Empty gives nil.
func (v *Vault) BlindIndex(kind string, normalised string) []byte {
	if normalised == "" {
		return nil
	}
	v.kr.mu.RLock()
	key := v.kr.kf.BlindIndexKey
	v.kr.mu.RUnlock()
	m := hmac.New(sha256.New, key)
	m.Write([]byte("fidelis/v1/bidx|" + kind + "|"))
	m.Write([]byte(normalised))
	return m.Sum(nil)[:BlindIndexSize]
}

// NormalizeEmail lower-cases and trims an e-mail address. It does not strip "+tags" or dots:
// providers differ, and two different mailboxes must never match.
func NormalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// NormalizePhone returns an E.164-like form: digits only with a leading "+". A national
// number starting with a single 0 is read in the default country's calling code
// (e.g. "33" for France); "00" is the international prefix. Returns "" if s has no digits.
func NormalizePhone(s, defaultCallingCode string) string {
	s = strings.TrimSpace(s)
	// "+33 (0)6 12 34 56 78": the bracketed trunk prefix is not dialled from abroad.
	s = strings.ReplaceAll(s, "(0)", "")
	plus := strings.HasPrefix(s, "+")
	var b strings.Builder
	for _, r := range s {
		if unicode.IsDigit(r) && r < 128 {
			b.WriteRune(r)
		}
	}
	d := b.String()
	switch {
	case d == "":
		return ""
	case plus:
		return "+" + d
	case strings.HasPrefix(d, "00"):
		return "+" + d[2:]
	case strings.HasPrefix(d, "0"):
		return "+" + defaultCallingCode + d[1:]
	}
	return "+" + d
}
