package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/fidelis/fidelis"
)

// Problem is an RFC 9457 problem details object, extended with the stable code and reason
// and per-field errors. It never carries personal data: messages name fields, not values.
type Problem struct {
	Type      string               `json:"type"`
	Title     string               `json:"title"`
	Status    int                  `json:"status"`
	Detail    string               `json:"detail"`
	Instance  string               `json:"instance,omitempty"`
	Code      fidelis.Code         `json:"code"`
	Reason    string               `json:"reason,omitempty"`
	Errors    []fidelis.FieldError `json:"errors,omitempty"`
	RequestID string               `json:"request_id,omitempty"`
}

// Status maps an error to its HTTP status: the one place that decides it, for the API and
// the back-office alike.
func Status(e *fidelis.Error) int {
	switch e.Code {
	case fidelis.EINVALID:
		if e.Reason == "malformed_body" {
			return http.StatusBadRequest
		}
		return http.StatusUnprocessableEntity
	case fidelis.ENOTFOUND:
		return http.StatusNotFound
	case fidelis.ECONFLICT:
		return http.StatusConflict
	case fidelis.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case fidelis.EFORBIDDEN:
		return http.StatusForbidden
	case fidelis.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case fidelis.EUNSUPPORTED:
		return http.StatusUnsupportedMediaType
	case fidelis.EPRECONDITION:
		return http.StatusPreconditionFailed
	case fidelis.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	case fidelis.ETOOMANY:
		return http.StatusTooManyRequests
	case fidelis.EGONE:
		return http.StatusGone
	case fidelis.EMETHOD:
		return http.StatusMethodNotAllowed
	}
	return http.StatusInternalServerError
}

// ProblemFor builds the problem for err. Internal errors get a generic detail: their cause
// is for the operator's log only.
func ProblemFor(err error, r *http.Request) Problem {
	e := fidelis.AsError(err)
	if e == nil || e.Code == fidelis.EINTERNAL {
		e = &fidelis.Error{Code: fidelis.EINTERNAL, Reason: "internal", Message: "an internal error occurred; the operator can find it in the logs by its request id"}
	}
	status := Status(e)
	typ := "urn:fidelis:problem:" + string(e.Code)
	if e.Reason != "" {
		typ += ":" + e.Reason
	}
	p := Problem{
		Type: typ, Title: http.StatusText(status), Status: status, Detail: e.Message,
		Code: e.Code, Reason: e.Reason, Errors: e.Fields, RequestID: fidelis.RequestIDFrom(r.Context()),
	}
	if r.URL != nil {
		p.Instance = r.URL.Path
	}
	return p
}

// renderError writes err as problem+json and logs what the operator needs.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	p := ProblemFor(err, r)
	if p.Status >= 500 {
		s.Logger.ErrorContext(r.Context(), "request failed", "route", r.Pattern, "status", p.Status, "request_id", p.RequestID, "err", err)
	}
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="fidelis"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

// writeJSON writes v with status. Responses with personal data are never cached.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, err = w.Write(append(b, '\n'))
	if err != nil && !errors.Is(err, http.ErrHandlerTimeout) {
		slog.Debug("write response", "err", err)
	}
	return nil
}
