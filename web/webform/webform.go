// Package webform holds what the server-rendered sites of Fidelis (the staff back-office
// and the customer portal) do alike with a request: security headers, bounded form
// parsing, CSRF token comparison and the open-redirect guard. Errors are fidelis.Error, for
// each site's one error renderer.
package webform

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/fidelis/fidelis"
)

// SecureHeaders are sent with every page: only this origin (no inline script, no CDN), no
// framing (clickjacking), no form posts elsewhere, no Referer (a page address may carry a
// customer ID or a sign-in token), no content sniffing.
func SecureHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
}

// ParsePost bounds the body of a POST to max bytes and parses its form; other methods are
// left alone. ETOOLARGE or EINVALID when the form cannot be read.
func ParsePost(w http.ResponseWriter, r *http.Request, max int64) error {
	if r.Method != http.MethodPost {
		return nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, max)
	if err := r.ParseForm(); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return &fidelis.Error{Code: fidelis.ETOOLARGE, Reason: "form_too_large", Message: "the form is too large", Err: err}
		}
		return &fidelis.Error{Code: fidelis.EINVALID, Reason: "malformed_form", Message: "the form could not be read", Err: err}
	}
	return nil
}

// CheckCSRF compares a submitted token with the expected one in constant time; EFORBIDDEN
// when they differ or none is expected.
func CheckCSRF(got, want string) error {
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return &fidelis.Error{Code: fidelis.EFORBIDDEN, Reason: "csrf",
			Message: "the form is missing its security token or the token has expired; reload the page and try again"}
	}
	return nil
}

// LocalPath reports whether p is a path on this site under prefix (which starts with
// "/"): the open-redirect guard for a "next" address.
func LocalPath(p, prefix string) bool {
	return strings.HasPrefix(p, prefix) && !strings.HasPrefix(p, "//") && !strings.ContainsAny(p, "\\\r\n")
}
