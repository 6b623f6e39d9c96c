// Package httpapi serves the REST API under /api/v1 (JSON, RFC 9457 problems, bearer
// tokens, the Fidelis-Purpose header), the OpenAPI document, /healthz and /metrics. Handlers
// are thin: parse, call the domain service, render.
package httpapi

import (
	"context"
	_ "embed"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/auth"
	"github.com/fidelis/fidelis/consent"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/loyalty"
	"github.com/fidelis/fidelis/privacy"
	"github.com/fidelis/fidelis/proof"
	"github.com/fidelis/fidelis/recipient"
	"github.com/fidelis/fidelis/register"
	"github.com/fidelis/fidelis/retention"
	"github.com/fidelis/fidelis/rights"
)

//go:embed openapi.json
var openAPIDocument []byte

// OpenAPIDocument returns the OpenAPI 3.1 document served at /api/v1/openapi.json.
func OpenAPIDocument() []byte { return openAPIDocument }

// PurposeHeader names the purpose of a request (P-1).
const PurposeHeader = "Fidelis-Purpose"

// Pinger reports database health.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Server is the HTTP API.
type Server struct {
	Customers *customer.Service
	Consents  *consent.Service
	States    *privacy.StateService
	Rights    *rights.Service
	Loyalty   *loyalty.Service
	Auth      *auth.Service
	Registry  *privacy.Registry
	Register  *register.Service
	DB        Pinger
	Logger    *slog.Logger
	Metrics   *prometheus.Registry
	// Extra mounts more handlers (the back-office) on the same mux.
	Extra func(mux *http.ServeMux)
	// Recipients is the recipients registry (D-4, R-9).
	Recipients *recipient.Service
	// Retention is the retention engine (T-1..T-8).
	Retention *retention.Service
	// Proof exports the accountability proof (P-4).
	Proof *proof.Service

	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

type handler func(w http.ResponseWriter, r *http.Request) error

// wrap turns a handler that returns an error into an http.HandlerFunc: the one place where
// errors become responses.
func (s *Server) wrap(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.renderError(w, r, err)
		}
	}
}

// Handler returns the complete HTTP handler.
func (s *Server) Handler() http.Handler {
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.Metrics == nil {
		s.Metrics = prometheus.NewRegistry()
	}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fidelis_http_requests_total", Help: "HTTP requests by route and status."}, []string{"route", "code"})
	s.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "fidelis_http_request_duration_seconds", Help: "HTTP request latency by route.", Buckets: prometheus.DefBuckets}, []string{"route"})
	s.Metrics.MustRegister(s.requests, s.duration, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.wrap(s.handleHealth))
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.Metrics, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /api/v1/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(openAPIDocument)
	})
	api := func(pattern string, h handler) { mux.HandleFunc(pattern, s.wrap(s.authenticated(h))) }
	// Operations on personal data: the purpose is checked before the request is parsed.
	pd := func(pattern string, a fidelis.Action, h handler) { api(pattern, s.purposed(a, h)) }
	api("GET /api/v1/purposes", s.handlePurposes)
	if s.Register != nil {
		api("GET /api/v1/register", s.handleRegister)
		mux.HandleFunc("GET /privacy", s.wrap(s.handlePrivacy(register.OutHTML)))
		mux.HandleFunc("GET /privacy.json", s.wrap(s.handlePrivacy(register.OutJSON)))
	}
	pd("POST /api/v1/customers", fidelis.ActionCreate, s.handleCustomerCreate)
	pd("GET /api/v1/customers", fidelis.ActionRead, s.handleCustomerList)
	pd("POST /api/v1/customers/search", fidelis.ActionRead, s.handleCustomerSearch)
	pd("GET /api/v1/customers/{id}", fidelis.ActionRead, s.handleCustomerGet)
	pd("PATCH /api/v1/customers/{id}", fidelis.ActionUpdate, s.handleCustomerUpdate)
	pd("GET /api/v1/customers/{id}/history", fidelis.ActionRead, s.handleCustomerHistory)
	pd("GET /api/v1/customers/{id}/access-log", fidelis.ActionAccessLog, s.handleCustomerAccessLog)
	pd("GET /api/v1/customers/{id}/export", fidelis.ActionExport, s.handleCustomerExport)
	pd("POST /api/v1/customers/{id}/erase", fidelis.ActionErase, s.handleCustomerErase)
	// Consent ledger and privacy state (C-1..C-5, R-10, R-12, R-13): the role is checked
	// before parsing, but never the customer's state, so that a withdrawal or an objection
	// can always be recorded (C-2).
	api("POST /api/v1/customers/{id}/consents", s.checked(s.consentCheck(fidelis.ActionUpdate), s.handleConsentRecord))
	api("GET /api/v1/customers/{id}/consents", s.checked(s.consentCheck(fidelis.ActionRead), s.handleConsentHistory))
	api("GET /api/v1/customers/{id}/privacy", s.checked(s.consentCheck(fidelis.ActionRead), s.handlePrivacyState))
	api("POST /api/v1/customers/{id}/restrict", s.checked(s.stateCheck, s.handleRestrict))
	api("POST /api/v1/customers/{id}/unrestrict", s.checked(s.stateCheck, s.handleUnrestrict))
	api("POST /api/v1/customers/{id}/objections", s.checked(s.stateCheck, s.handleObject))
	api("POST /api/v1/customers/{id}/objections/{purpose}/override", s.checked(s.stateCheck, s.handleObjectionOverride))
	api("GET /api/v1/consent-notices", s.handleNoticeList)
	api("POST /api/v1/consent-notices", s.handleNoticePublish)
	pd("GET /api/v1/customers/{id}/recipients", fidelis.ActionRead, s.handleCustomerRecipients)
	s.recipientRoutes(api)
	s.rightsRoutes(api)
	s.loyaltyRoutes(api)
	s.retentionRoutes(api)
	s.rewardsRoutes(api)
	s.proofRoutes(api)
	mux.HandleFunc("/api/", s.wrap(func(w http.ResponseWriter, r *http.Request) error {
		// The path may exist with other methods: then it is 405 with Allow, as HTTP says.
		var allow []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "/api/" && pattern != "" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			return &fidelis.Error{Code: fidelis.EMETHOD, Reason: "method_not_allowed", Message: "this path does not support the method; see the Allow header"}
		}
		return &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "no_route", Message: "no API operation at this path and method"}
	}))
	if s.Extra != nil {
		s.Extra(mux)
	}
	var h http.Handler = mux
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(s.wrap(func(w http.ResponseWriter, r *http.Request) error {
		return fidelis.Refusal("cross_origin", "cross-origin state-changing requests are refused")
	}))
	h = cop.Handler(h)
	return s.observe(h)
}

// statusRecorder captures the status for logs and metrics.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// observe assigns a request ID and records logs and metrics. Logs name the route pattern,
// never the query string or body, which may hold personal data (D-5).
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := fidelis.NewID("req", start)
		w.Header().Set("X-Request-Id", id)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		r = r.WithContext(fidelis.WithRequestID(r.Context(), id))
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		d := time.Since(start)
		s.requests.WithLabelValues(route, strconv.Itoa(rec.status)).Inc()
		s.duration.WithLabelValues(route).Observe(d.Seconds())
		if route != "GET /metrics" && route != "GET /healthz" {
			s.Logger.LogAttrs(r.Context(), slog.LevelInfo, "request", slog.String("route", route), slog.Int("status", rec.status),
				slog.Duration("duration", d), slog.String("request_id", id))
		}
	})
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.DB.Ping(ctx); err != nil {
		return &fidelis.Error{Code: fidelis.EUNAVAILABLE, Reason: "database_unreachable", Message: "the database does not answer", Err: err}
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// authenticated resolves the bearer token to an actor and puts it in the context.
func (s *Server) authenticated(h handler) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		authz := r.Header.Get("Authorization")
		scheme, token, ok := strings.Cut(authz, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "no_token", Message: "send an API token as 'Authorization: Bearer <token>' (create one with 'fidelis token create')"}
		}
		actor, err := s.Auth.Authenticate(r.Context(), strings.TrimSpace(token))
		if err != nil {
			return err
		}
		return h(w, r.WithContext(fidelis.WithActor(r.Context(), actor)))
	}
}

// purposed checks the purpose and the caller's right to the action before the handler
// parses anything (P-1): a refusal is the first answer, and it is audited.
func (s *Server) purposed(a fidelis.Action, h handler) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, _ := fidelis.ParseCustomerID(r.PathValue("id"))
		if err := s.Customers.Check(r.Context(), purposeOf(r), a, id); err != nil {
			return err
		}
		return h(w, r)
	}
}

func purposeOf(r *http.Request) fidelis.Purpose {
	return fidelis.Purpose(strings.TrimSpace(r.Header.Get(PurposeHeader)))
}

func (s *Server) handlePurposes(w http.ResponseWriter, r *http.Request) error {
	type grant struct {
		Role     fidelis.Role      `json:"role"`
		Purposes []fidelis.Purpose `json:"purposes"`
		Actions  []fidelis.Action  `json:"actions"`
	}
	out := struct {
		Purposes []map[string]any `json:"purposes"`
		Roles    []grant          `json:"roles"`
	}{}
	for _, p := range s.Registry.Purposes() {
		out.Purposes = append(out.Purposes, PurposeJSON(p))
	}
	for _, g := range s.Registry.Roles() {
		out.Roles = append(out.Roles, grant{g.Role, g.Purposes, g.Actions})
	}
	return writeJSON(w, http.StatusOK, out)
}
