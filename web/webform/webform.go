// Package webform holds what the server-rendered sites of Fidelis (the staff back-office
// and the customer portal) do alike with a request: security headers, bounded form
// parsing, CSRF token comparison and the open-redirect guard. Errors are fidelis.Error, for
// each site's one error renderer.
package webform

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

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

// Render executes the "layout" template of t with data and writes it with status. The
// output is buffered so that a template failure becomes a clean error page rather than
// half a page. Pages are never cached: most carry personal data, the others CSRF tokens.
func Render(w http.ResponseWriter, status int, t *template.Template, data any) error {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		return &fidelis.Error{Code: fidelis.EINTERNAL, Message: "page rendering failed", Err: err}
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Vary", "Cookie, Accept-Language")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	return nil
}

var monthsFR = []string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}

// Date writes the calendar day of t (in UTC) in lang, in full: "1er mars 2026",
// "14 juillet 1985", "1 March 2026".
func Date(lang string, t time.Time) string {
	t = t.UTC()
	if lang == "en" {
		return t.Format("2 January 2006")
	}
	day := strconv.Itoa(t.Day())
	if t.Day() == 1 {
		day = "1er"
	}
	return day + " " + monthsFR[t.Month()-1] + " " + strconv.Itoa(t.Year())
}
