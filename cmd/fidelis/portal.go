package main

import (
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fidelis/fidelis"
)

// portalFlags declares the customer portal's public address, also read from
// FIDELIS_PUBLIC_URL.
func portalFlags(root *cobra.Command, publicURL *string) {
	root.PersistentFlags().StringVar(publicURL, "public-url", env("FIDELIS_PUBLIC_URL", ""),
		"address customers reach Fidelis at, for the portal's sign-in links, e.g. https://clients.dupont.example (default: http:// and the listen address) (env FIDELIS_PUBLIC_URL)")
}

// publicURL validates the public URL: http(s), a host, no path, query or fragment (links
// are built as <public-url>/portal/...). It returns it without a trailing slash.
func publicURL(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fidelis.Invalid(fidelis.FieldError{Field: "public-url", Rule: "invalid_url", Message: "must be an http(s) address with a host and no path, such as https://clients.dupont.example"})
	}
	return strings.TrimRight(s, "/"), nil
}
