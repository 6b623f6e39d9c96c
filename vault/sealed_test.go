package vault_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/fidelis/fidelis/vault"
)

func TestSealSecret_BoundToKindAndOwnerAndSurvivesRotation_D4(t *testing.T) {
	kr, _ := mustKeyring(t)
	v := vault.New(kr)
	plain := []byte("whsec_not-a-real-secret")
	s, err := v.SealSecret("webhook", "rcp_a", plain)
	if err != nil {
		t.Fatal(err)
	}
	if s.KEKID != kr.ActiveKEKID() || bytes.Contains(s.Data, plain) {
		t.Fatalf("SealSecret = KEK %s, data holding the plaintext %v; want the active KEK and ciphertext", s.KEKID, bytes.Contains(s.Data, plain))
	}
	if got, err := v.OpenSecret("webhook", "rcp_a", s); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("OpenSecret = %q, %v; want the secret", got, err)
	}
	for _, tt := range []struct{ kind, owner string }{{"webhook", "rcp_b"}, {"smtp", "rcp_a"}} {
		if _, err := v.OpenSecret(tt.kind, tt.owner, s); !errors.Is(err, vault.ErrDecrypt) {
			t.Errorf("OpenSecret(%s, %s) of another's secret = %v; want ErrDecrypt", tt.kind, tt.owner, err)
		}
	}
	tampered := vault.Sealed{KEKID: s.KEKID, Data: bytes.Clone(s.Data)}
	tampered.Data[len(tampered.Data)-1] ^= 1
	if _, err := v.OpenSecret("webhook", "rcp_a", tampered); !errors.Is(err, vault.ErrDecrypt) {
		t.Errorf("OpenSecret(tampered) = %v; want ErrDecrypt", err)
	}
	if _, err := kr.Rotate(); err != nil {
		t.Fatal(err)
	}
	if got, err := v.OpenSecret("webhook", "rcp_a", s); err != nil || !bytes.Equal(got, plain) {
		t.Errorf("OpenSecret after a KEK rotation = %q, %v; want the secret (retired KEKs stay)", got, err)
	}
	s2, err := v.SealSecret("webhook", "rcp_a", plain)
	if err != nil || s2.KEKID == s.KEKID {
		t.Errorf("SealSecret after rotation used KEK %s, %v; want the new active one", s2.KEKID, err)
	}
}
