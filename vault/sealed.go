package vault

import (
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
)

// Sealed is a system secret (not personal data: e.g. a webhook signing secret) encrypted
// under a key derived from a KEK, as stored beside its owner.
type Sealed struct {
	KEKID string
	Data  []byte
}

// secretKey derives the key that seals secrets of kind under kek: HKDF-SHA256 with the
// kind as info, so that a secret key never equals a KEK used to wrap customer keys.
func secretKey(kek KEK, kind string) ([]byte, error) {
	return hkdf.Key(sha256.New, kek.Key, nil, "fidelis/v1/secret-key|"+kind, 32)
}

func secretAAD(kind, owner, kekID string) []byte {
	return []byte("fidelis/v1/secret|" + kind + "|" + owner + "|" + kekID)
}

// SealSecret encrypts a system secret of kind (e.g. "webhook") belonging to owner (e.g. a
// recipient ID) under the active KEK. The associated data binds it to its kind and owner:
// a sealed secret copied to another row fails to open.
func (v *Vault) SealSecret(kind, owner string, plain []byte) (Sealed, error) {
	kek := v.kr.active()
	key, err := secretKey(kek, kind)
	if err != nil {
		return Sealed{}, fmt.Errorf("vault: seal secret: %w", err)
	}
	a, err := newAEAD(key)
	if err != nil {
		return Sealed{}, fmt.Errorf("vault: seal secret: %w", err)
	}
	return Sealed{KEKID: kek.ID, Data: a.Seal(nil, nil, plain, secretAAD(kind, owner, kek.ID))}, nil
}

// OpenSecret decrypts a secret sealed by SealSecret. Retired KEKs stay in the key file, so
// secrets sealed before a rotation still open.
func (v *Vault) OpenSecret(kind, owner string, s Sealed) ([]byte, error) {
	kek, ok := v.kr.kek(s.KEKID)
	if !ok {
		return nil, fmt.Errorf("vault: key-encryption key %s is not in the key file", s.KEKID)
	}
	key, err := secretKey(kek, kind)
	if err != nil {
		return nil, err
	}
	a, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	plain, err := a.Open(nil, nil, s.Data, secretAAD(kind, owner, s.KEKID))
	if err != nil {
		return nil, ErrDecrypt
	}
	return plain, nil
}
