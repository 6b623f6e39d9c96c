package fidelis

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"strings"
	"time"
)

// CustomerID identifies a data subject. It is random and time-ordered and carries no
// personal data, so it may appear in logs, audit entries and events.
type CustomerID string

// idEncoding is lower-case Crockford-like base32 without padding: sortable as text.
var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewID returns prefix + "_" + 26 characters: 48 bits of milliseconds then 80 random bits,
// so that IDs sort by creation time (cursor pagination relies on it).
func NewID(prefix string, now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return prefix + "_" + idEncoding.EncodeToString(b[:])
}

// ValidID reports whether s looks like an ID with the given prefix.
func ValidID(prefix, s string) bool {
	rest, ok := strings.CutPrefix(s, prefix+"_")
	if !ok || len(rest) != 26 {
		return false
	}
	_, err := idEncoding.DecodeString(rest)
	return err == nil
}

// NewCustomerID returns a new customer ID.
func NewCustomerID(now time.Time) CustomerID { return CustomerID(NewID("cus", now)) }

// ParseCustomerID validates s.
func ParseCustomerID(s string) (CustomerID, error) {
	if !ValidID("cus", s) {
		return "", &Error{Code: ENOTFOUND, Reason: "bad_id", Message: "no customer with this id"}
	}
	return CustomerID(s), nil
}

// UTC returns t in UTC truncated to microseconds, the precision both databases keep, so
// that values compare equal after a round trip.
func UTC(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
