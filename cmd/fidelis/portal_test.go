package main_test

import (
	"strings"
	"testing"
)

// TestPublicURL_Validated: --public-url (FIDELIS_PUBLIC_URL) must be an http(s) address
// without a path, since sign-in links are built under it; a bad one is a clear error, and
// the subject role cannot be given to a token.
func TestPublicURL_Validated(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--public-url", "ftp://clients.dupont.example", "migrate"}, 2, "public-url"},
		{[]string{"--public-url", "https://clients.dupont.example/portal", "migrate"}, 2, "no path"},
		{[]string{"--public-url", "https://clients.dupont.example/", "migrate"}, 0, ""},
		{[]string{"token", "create", "--role", "subject"}, 2, "reserved for customers"},
	} {
		r := run(t, append([]string{"--data", dir}, tc.args...)...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("fidelis %v = exit %d, %q; want exit %d containing %q", tc.args, r.code, r.stderr, tc.code, tc.want)
		}
	}
}
