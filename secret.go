package fidelis

import "log/slog"

// Secret holds personal data (D-5). fmt, slog and encoding/json see "[redacted]"; the only
// way to the value is Reveal, which is easy to grep for.
type Secret struct{ v string }

// NewSecret wraps a value.
func NewSecret(v string) Secret { return Secret{v: v} }

// Reveal returns the personal value. Every call site is a place where plaintext exists.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.v == "" }

// String hides the value from fmt.
func (Secret) String() string { return "[redacted]" }

// GoString hides the value from %#v.
func (Secret) GoString() string { return "[redacted]" }

// LogValue hides the value from slog.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// MarshalJSON hides the value from encoding/json; API responses build their own DTOs.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }

// MarshalText hides the value from text encoders.
func (Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }
