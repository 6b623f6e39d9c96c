// Package fidelis holds the domain types every part of Fidelis shares: identifiers, the
// Secret wrapper for personal data, actors, purposes and roles, and the one error type.
// It imports only the standard library.
package fidelis

import (
	"errors"
	"fmt"
	"strings"
)

// Code is a stable error class. It decides the HTTP status and the CLI exit code, so it
// never changes once published.
type Code string

// Error codes.
const (
	EINVALID      Code = "invalid"      // the input breaks a rule; Fields says which
	ENOTFOUND     Code = "not_found"    // never existed, or was erased
	ECONFLICT     Code = "conflict"     // a concurrent change or a duplicate
	EUNAUTHORIZED Code = "unauthorized" // no or bad credentials
	EFORBIDDEN    Code = "forbidden"    // authenticated, but role or purpose refuse it
	ETOOLARGE     Code = "too_large"    // request body over the limit
	EUNAVAILABLE  Code = "unavailable"  // a dependency is down; retry later
	EINTERNAL     Code = "internal"     // a bug or an unexpected failure
	EUNSUPPORTED  Code = "unsupported"  // wrong media type or method
	ETOOMANY      Code = "too_many"     // rate limit
	EGONE         Code = "gone"         // reserved for resources that existed and cannot come back
	EPRECONDITION Code = "precondition" // If-Match or expected version does not hold
	EMETHOD       Code = "method"       // the resource exists, but not with this method
)

// FieldError names one invalid input field. Message is safe to show (it never repeats the
// value, which may be personal data); Rule is a stable key the UI translates.
type FieldError struct {
	Field   string `json:"field"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// Error is the one error type of Fidelis: a code, a message safe for end users (no personal
// data, no SQL), a machine-readable reason for refusals, optional field errors, and the
// wrapped cause for operators.
type Error struct {
	Code    Code
	Reason  string // stable machine key, e.g. "purpose_not_granted"
	Message string
	Fields  []FieldError
	Err     error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(string(e.Code))
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with a formatted, user-safe message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Refusal returns an EFORBIDDEN error with a machine reason, used by access control.
func Refusal(reason, message string) *Error {
	return &Error{Code: EFORBIDDEN, Reason: reason, Message: message}
}

// Invalid returns an EINVALID error listing field errors.
func Invalid(fields ...FieldError) *Error {
	msg := "the request has invalid fields"
	if len(fields) == 1 {
		msg = fields[0].Field + ": " + fields[0].Message
	}
	return &Error{Code: EINVALID, Reason: "validation_failed", Message: msg, Fields: fields}
}

// ErrorCode returns "" for nil and EINTERNAL for anything that is not an *Error.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of err, or a generic one for internal errors:
// causes are for operators and may hold details that must not reach a client.
func ErrorMessage(err error) string {
	if e, ok := errors.AsType[*Error](err); ok && e.Message != "" {
		return e.Message
	}
	return "an internal error occurred"
}

// AsError returns the *Error in err's chain, or nil.
func AsError(err error) *Error {
	if e, ok := errors.AsType[*Error](err); ok {
		return e
	}
	return nil
}
