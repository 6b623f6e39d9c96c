package webhook

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// Request is one notification to post.
type Request struct {
	URL        string
	Secret     string
	EventID    string
	EventType  string
	DeliveryID string
	Body       []byte
	At         time.Time // signing time
}

// Error classes of a failed post. They name what went wrong without the URL, whose query
// or path may hold a receiver's secret, and without the response body.
const (
	ClassTimeout    = "timeout"
	ClassConnection = "connection"
	ClassTLS        = "tls"
	ClassStatus     = "http_status" // a response outside 2xx
	ClassRedirect   = "redirect"    // 3xx: not followed (a redirect could point anywhere)
	ClassInvalidURL = "invalid_url"
	ClassCancelled  = "cancelled"
	ClassOther      = "other"
)

// Result is the outcome of one post. OK is a 2xx answer.
type Result struct {
	OK         bool
	StatusCode int    // 0 when no response was received
	ErrorClass string // "" when OK
	Duration   time.Duration
}

// Sender posts signed notifications. The zero value is usable.
type Sender struct {
	// Timeout bounds one post, connection and response included; 10 s when zero.
	Timeout time.Duration
	// Transport, when set, replaces the default transport (tests).
	Transport http.RoundTripper
	// UserAgent is sent as User-Agent; "Fidelis-Webhooks/1" when empty.
	UserAgent string
}

func (s *Sender) client() *http.Client {
	t := s.Timeout
	if t <= 0 {
		t = 10 * time.Second
	}
	return &http.Client{
		Timeout:   t,
		Transport: s.Transport,
		// Redirects are not followed: a receiver must give its final URL.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Send posts r, signed at r.At, and classifies the outcome. The response body is read (up
// to 64 KiB, so that the connection can be reused) and discarded: it is never logged.
func (s *Sender) Send(ctx context.Context, r Request) Result {
	start := time.Now()
	res := s.send(ctx, r)
	res.Duration = time.Since(start)
	return res
}

func (s *Sender) send(ctx context.Context, r Request) Result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return Result{ErrorClass: ClassInvalidURL}
	}
	ua := s.UserAgent
	if ua == "" {
		ua = "Fidelis-Webhooks/1"
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", ua)
	req.Header.Set(HeaderEventID, r.EventID)
	req.Header.Set(HeaderEventType, r.EventType)
	req.Header.Set(HeaderDeliveryID, r.DeliveryID)
	req.Header.Set(HeaderSignature, Sign(r.Secret, r.At, r.Body))
	resp, err := s.client().Do(req)
	if err != nil {
		return Result{ErrorClass: classify(ctx, err)}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return Result{OK: true, StatusCode: resp.StatusCode}
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		return Result{StatusCode: resp.StatusCode, ErrorClass: ClassRedirect}
	}
	return Result{StatusCode: resp.StatusCode, ErrorClass: ClassStatus}
}

// classify names a transport error without repeating it (its text holds the URL).
func classify(ctx context.Context, err error) string {
	var ne net.Error
	var ue *url.Error
	var tlsErr *tls.RecordHeaderError
	var certErr *tls.CertificateVerificationError
	switch {
	case ctx.Err() != nil:
		return ClassCancelled
	case errors.As(err, &ne) && ne.Timeout():
		return ClassTimeout
	case errors.As(err, &tlsErr), errors.As(err, &certErr):
		return ClassTLS
	case errors.As(err, new(*net.OpError)), errors.As(err, new(*net.DNSError)):
		return ClassConnection
	case errors.As(err, &ue) && errors.Is(ue.Err, io.EOF):
		return ClassConnection
	}
	return ClassOther
}
