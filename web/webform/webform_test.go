package webform_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/web/webform"
)

func TestLocalPath_OpenRedirectGuard(t *testing.T) {
	for _, tt := range []struct {
		p, prefix string
		want      bool
	}{
		{"/app/customers", "/", true},
		{"/portal/data", "/portal/", true},
		{"/app/customers", "/portal/", false},
		{"//evil.example/x", "/", false},
		{"/\\evil.example", "/", false},
		{"https://evil.example/", "/", false},
		{"/app/x\r\nSet-Cookie: a=b", "/", false},
		{"", "/", false},
	} {
		if got := webform.LocalPath(tt.p, tt.prefix); got != tt.want {
			t.Errorf("LocalPath(%q, %q) = %v; want %v", tt.p, tt.prefix, got, tt.want)
		}
	}
}

func TestCheckCSRF(t *testing.T) {
	for _, tt := range []struct {
		got, want string
		ok        bool
	}{
		{"tok-1", "tok-1", true},
		{"tok-1", "tok-2", false},
		{"", "tok-1", false},
		{"", "", false}, // nothing expected: never accepted
	} {
		if err := webform.CheckCSRF(tt.got, tt.want); (err == nil) != tt.ok || (err != nil && fidelis.ErrorCode(err) != fidelis.EFORBIDDEN) {
			t.Errorf("CheckCSRF(%q, %q) = %v; want ok %v", tt.got, tt.want, err, tt.ok)
		}
	}
}

func TestParsePost_BoundedBody(t *testing.T) {
	post := func(body string) error {
		r := httptest.NewRequest("POST", "/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return webform.ParsePost(httptest.NewRecorder(), r, 64)
	}
	if err := post(url.Values{"a": {"b"}}.Encode()); err != nil {
		t.Errorf("ParsePost(small form) = %v", err)
	}
	if err := post("a=" + strings.Repeat("x", 100)); fidelis.ErrorCode(err) != fidelis.ETOOLARGE {
		t.Errorf("ParsePost(100 bytes over a 64-byte bound) = %v; want %s", err, fidelis.ETOOLARGE)
	}
	if err := webform.ParsePost(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/", nil), 64); err != nil {
		t.Errorf("ParsePost(GET) = %v; want nothing done", err)
	}
}
