package fidelistest

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FormClient talks to the back-office as a browser without JavaScript would: it keeps
// cookies, posts url-encoded forms and does not follow redirects (tests look at them).
type FormClient struct {
	TB   testing.TB
	Base string
	HTTP *http.Client
}

// FormResponse is a back-office response.
type FormResponse struct {
	Status int
	Header http.Header
	Body   string
}

// NewFormClient returns a FormClient for the server at base.
func NewFormClient(tb testing.TB, base string) *FormClient {
	jar, _ := cookiejar.New(nil)
	return &FormClient{TB: tb, Base: base, HTTP: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Do sends a request, with form as an url-encoded body when not nil, and header as
// name/value pairs.
func (c *FormClient) Do(method, path string, form url.Values, header ...string) *FormResponse {
	c.TB.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.Base+path, body)
	if err != nil {
		c.TB.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	status, h, b := send(c.TB, c.HTTP, req, header)
	return &FormResponse{Status: status, Header: h, Body: string(b)}
}
