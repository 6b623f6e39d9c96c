package webhook_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fidelis/fidelis/webhook"
)

func TestVerify_AcceptsItsOwnSignature_R9(t *testing.T) {
	secret := webhook.NewSecret()
	if !strings.HasPrefix(secret, webhook.SecretPrefix) || len(secret) < 40 {
		t.Fatalf("NewSecret() = %d characters with prefix %q; want whsec_ and 32 random bytes", len(secret), secret[:6])
	}
	if other := webhook.NewSecret(); other == secret {
		t.Fatal("NewSecret returned the same secret twice")
	}
	body := []byte(`{"id":"evt_1","type":"customer.updated","subject":"cus_1","at":"2026-11-22T22:00:00Z","fields":["city"]}`)
	at := time.Date(2026, 11, 22, 22, 0, 0, 0, time.UTC)
	h := webhook.Sign(secret, at, body)
	if !strings.HasPrefix(h, "t=1795384800,v1=") || len(h) != len("t=1795384800,v1=")+64 {
		t.Fatalf("Sign = %q; want t=<unix>,v1=<64 hex>", h)
	}
	for _, skew := range []time.Duration{0, 4 * time.Minute, -4 * time.Minute} {
		if err := webhook.Verify(secret, h, body, at.Add(skew), 5*time.Minute); err != nil {
			t.Errorf("Verify(own signature, clock skew %v) = %v; want nil", skew, err)
		}
	}
	// Several v1 entries: any may match.
	if err := webhook.Verify(secret, "v1=00ff,"+h, body, at, 0); err != nil {
		t.Errorf("Verify with an extra non-matching v1 = %v; want nil", err)
	}
}

func TestVerify_RejectsBadSignatures_R9(t *testing.T) {
	secret := webhook.NewSecret()
	body := []byte(`{"id":"evt_1","type":"customer.erased"}`)
	at := time.Unix(1795384800, 0)
	good := webhook.Sign(secret, at, body)
	for _, tt := range []struct {
		name, secret, header string
		body                 []byte
		want                 error
	}{
		{"other secret", webhook.NewSecret(), good, body, webhook.ErrSignature},
		{"body changed", secret, good, []byte(`{"id":"evt_2","type":"customer.erased"}`), webhook.ErrSignature},
		{"body with a trailing space", secret, good, append(append([]byte{}, body...), ' '), webhook.ErrSignature},
		{"timestamp changed", secret, strings.Replace(good, "t=1795384800", "t=1795384801", 1), body, webhook.ErrSignature},
		{"signature truncated", secret, good[:len(good)-2], body, webhook.ErrSignature},
		{"empty header", secret, "", body, webhook.ErrMalformed},
		{"no timestamp", secret, good[strings.Index(good, "v1="):], body, webhook.ErrMalformed},
		{"no signature", secret, "t=1795384800", body, webhook.ErrMalformed},
		{"timestamp not a number", secret, "t=soon," + good[strings.Index(good, "v1="):], body, webhook.ErrMalformed},
		{"two timestamps", secret, "t=1," + good, body, webhook.ErrMalformed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := webhook.Verify(tt.secret, tt.header, tt.body, at, time.Minute); !errors.Is(err, tt.want) {
				t.Errorf("Verify = %v; want %v", err, tt.want)
			}
		})
	}
}

func TestVerify_RejectsReplayOutsideTolerance_R9(t *testing.T) {
	secret := webhook.NewSecret()
	body := []byte(`{"id":"evt_1"}`)
	at := time.Unix(1795384800, 0)
	h := webhook.Sign(secret, at, body)
	for _, tt := range []struct {
		now       time.Time
		tolerance time.Duration
		want      error
	}{
		{at.Add(5 * time.Minute), 5 * time.Minute, nil},
		{at.Add(5*time.Minute + time.Second), 5 * time.Minute, webhook.ErrTimestamp},  // replayed later
		{at.Add(-5*time.Minute - time.Second), 5 * time.Minute, webhook.ErrTimestamp}, // from the future
		{at.Add(time.Hour), 0, webhook.ErrTimestamp},                                  // default tolerance
		{at.Add(4 * time.Minute), 0, nil},
		{at.Add(31 * time.Second), 30 * time.Second, webhook.ErrTimestamp},
	} {
		if err := webhook.Verify(secret, h, body, tt.now, tt.tolerance); !errors.Is(err, tt.want) {
			t.Errorf("Verify(signed at %v, now %v, tolerance %v) = %v; want %v", at.Unix(), tt.now.Unix(), tt.tolerance, err, tt.want)
		}
	}
}
