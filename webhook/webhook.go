// Package webhook is the wire protocol of Fidelis webhooks: how a notification is signed by
// Fidelis and verified by the receiving system, and how it is posted. It depends on the
// standard library only, so that an integrator writing a receiver in Go can import it.
//
// A notification is an HTTP POST of a JSON body (event id, type, subject id, time and field
// names, never personal values) with these headers:
//
//	Fidelis-Event-Id:    evt_...  (the same for every delivery of one event: deduplicate on it)
//	Fidelis-Event-Type:  customer.updated
//	Fidelis-Delivery-Id: dlv_...  (one per recipient and event)
//	Fidelis-Signature:   t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>
//
// The receiver recomputes the HMAC over the raw body with its secret, compares in constant
// time, and refuses a timestamp further than its tolerance from its clock (replay).
package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Headers of a notification.
const (
	HeaderEventID    = "Fidelis-Event-Id"
	HeaderEventType  = "Fidelis-Event-Type"
	HeaderDeliveryID = "Fidelis-Delivery-Id"
	HeaderSignature  = "Fidelis-Signature"
)

// DefaultTolerance is the replay window receivers should use: a signature older or newer
// than this is refused.
const DefaultTolerance = 5 * time.Minute

// SecretPrefix starts every signing secret, so that one found in a file is recognisable.
const SecretPrefix = "whsec_"

// NewSecret returns a new signing secret: the prefix and 32 random bytes, base64url.
func NewSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return SecretPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// mac returns hex(HMAC-SHA256(secret, t + "." + body)). The key is the whole secret string,
// as the receiver holds it.
func mac(secret string, t int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(t, 10)))
	m.Write([]byte("."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Sign returns the Fidelis-Signature header value for body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := t.Unix()
	return "t=" + strconv.FormatInt(ts, 10) + ",v1=" + mac(secret, ts, body)
}

// Verification errors. Verify wraps exactly one of them.
var (
	// ErrMalformed: the header is missing or not "t=<unix>,v1=<hex>".
	ErrMalformed = errors.New("webhook: malformed signature header")
	// ErrSignature: no v1 signature matches the body and secret.
	ErrSignature = errors.New("webhook: signature does not match")
	// ErrTimestamp: the signed time is outside the tolerance (a replay, or a skewed clock).
	ErrTimestamp = errors.New("webhook: signature timestamp outside the tolerance")
)

// Verify checks a notification as received: header is the Fidelis-Signature value, body
// the raw request body (before any JSON decoding), now the receiver's clock. It returns nil
// only if a v1 signature matches and its timestamp is within tolerance of now (tolerance
// <= 0 means DefaultTolerance). The signature is checked first, so an attacker learns
// nothing about the timestamp rule without the secret. Several v1 entries are accepted
// (any may match), so the format can carry more than one signature later.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	var ts int64
	haveT := false
	var sigs []string
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return ErrMalformed
		}
		switch k {
		case "t":
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || haveT {
				return ErrMalformed
			}
			ts, haveT = n, true
		case "v1":
			sigs = append(sigs, v)
		}
	}
	if !haveT || len(sigs) == 0 {
		return ErrMalformed
	}
	want := []byte(mac(secret, ts, body))
	matched := false
	for _, s := range sigs {
		if hmac.Equal([]byte(strings.ToLower(s)), want) {
			matched = true
		}
	}
	if !matched {
		return ErrSignature
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return ErrTimestamp
	}
	return nil
}
