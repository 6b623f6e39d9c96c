package httpapi

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/recipient"
)

// recipientRoutes adds the recipients registry (D-4) and its webhook deliveries.
// Each operation needs the manage_recipients action, checked before the request is parsed.
func (s *Server) recipientRoutes(api func(pattern string, h handler)) {
	adm := func(pattern string, h handler) {
		api(pattern, func(w http.ResponseWriter, r *http.Request) error {
			if err := s.Recipients.Check(r.Context()); err != nil {
				return err
			}
			return h(w, r)
		})
	}
	adm("GET /api/v1/recipients", s.handleRecipientList)
	adm("POST /api/v1/recipients", s.handleRecipientCreate)
	adm("GET /api/v1/recipients/{id}", s.handleRecipientGet)
	adm("PATCH /api/v1/recipients/{id}", s.handleRecipientUpdate)
	adm("DELETE /api/v1/recipients/{id}", s.handleRecipientDelete)
	adm("POST /api/v1/recipients/{id}/rotate-secret", s.handleRecipientRotate)
	adm("GET /api/v1/recipients/{id}/deliveries", s.handleDeliveryList)
	adm("GET /api/v1/recipients/{id}/deliveries/{delivery}", s.handleDeliveryGet)
	adm("POST /api/v1/recipients/{id}/deliveries/{delivery}/redeliver", s.handleRedeliver)
}

func timeOrNull(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.Format(time.RFC3339Nano)
}

// RecipientJSON renders a registry entry. The signing secret is never part of it.
func RecipientJSON(r *recipient.Recipient) map[string]any {
	purposes, events := r.Purposes, r.Events
	if purposes == nil {
		purposes = []fidelis.Purpose{}
	}
	if events == nil {
		events = []string{}
	}
	return map[string]any{
		"id": r.ID, "version": r.Version, "name": r.Name, "kind": r.Kind, "purposes": purposes,
		"country": r.Country, "transfer": r.Transfer(), "safeguard": nullable(string(r.Safeguard)), "contract_ref": r.ContractRef,
		"contact_name": r.ContactName, "contact_email": r.ContactEmail, "active": r.Active,
		"endpoint": nullable(r.Endpoint), "events": events,
		"created_at": r.CreatedAt.Format(time.RFC3339Nano), "updated_at": r.UpdatedAt.Format(time.RFC3339Nano),
	}
}

// DeliveryJSON renders a delivery: ids, type, state and timings; never the URL.
func DeliveryJSON(d *recipient.Delivery) map[string]any {
	return map[string]any{
		"id": d.ID, "recipient_id": d.RecipientID, "event_id": d.EventID, "event_type": d.EventType, "subject": d.Subject,
		"event_at": d.EventAt.Format(time.RFC3339Nano), "required": d.Required, "state": d.State, "attempts": d.Attempts,
		"next_attempt_at": timeOrNull(d.NextAttempt), "last_attempt_at": timeOrNull(d.LastAttempt),
		"last_status": nullableInt(d.LastStatus), "last_error": nullable(d.LastError),
		"delivered_at": timeOrNull(d.DeliveredAt), "created_at": d.CreatedAt.Format(time.RFC3339Nano),
	}
}

func nullableInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

// readRecipientInput decodes a recipient creation or change strictly, with an error per
// bad member. allowVersion admits "version" (optimistic concurrency on changes).
func readRecipientInput(w http.ResponseWriter, r *http.Request, allowVersion bool) (recipient.Input, int, error) {
	var in recipient.Input
	obj, err := readObject(w, r)
	if err != nil {
		return in, 0, err
	}
	var errs []fidelis.FieldError
	bad := func(k, rule, msg string) { errs = append(errs, fidelis.FieldError{Field: k, Rule: rule, Message: msg}) }
	str := func(k string, raw json.RawMessage, nullOK bool) (string, bool) {
		v, isNull, err := stringOrNull(raw)
		if err != nil || isNull && !nullOK {
			if nullOK {
				bad(k, "invalid_type", "must be a string or null")
			} else {
				bad(k, "invalid_type", "must be a string")
			}
			return "", false
		}
		return v, true
	}
	strs := func(k string, raw json.RawMessage) ([]string, bool) {
		var v []string
		if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) || json.Unmarshal(raw, &v) != nil {
			bad(k, "invalid_type", "must be an array of strings")
			return nil, false
		}
		if v == nil {
			v = []string{}
		}
		return v, true
	}
	version := 0
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		raw := obj[k]
		switch k {
		case "name":
			if v, ok := str(k, raw, false); ok {
				in.Name = &v
			}
		case "kind":
			if v, ok := str(k, raw, false); ok {
				kind := recipient.Kind(v)
				in.Kind = &kind
			}
		case "purposes":
			if v, ok := strs(k, raw); ok {
				ps := make([]fidelis.Purpose, len(v))
				for i, p := range v {
					ps[i] = fidelis.Purpose(p)
				}
				in.Purposes = &ps
			}
		case "country":
			if v, ok := str(k, raw, false); ok {
				in.Country = &v
			}
		case "safeguard":
			if v, ok := str(k, raw, true); ok {
				sg := recipient.Safeguard(v)
				in.Safeguard = &sg
			}
		case "contract_ref":
			if v, ok := str(k, raw, true); ok {
				in.ContractRef = &v
			}
		case "contact_name":
			if v, ok := str(k, raw, true); ok {
				in.ContactName = &v
			}
		case "contact_email":
			if v, ok := str(k, raw, false); ok {
				in.ContactEmail = &v
			}
		case "active":
			var b bool
			if json.Unmarshal(raw, &b) != nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
				bad(k, "invalid_type", "must be true or false")
			} else {
				in.Active = &b
			}
		case "endpoint":
			if v, ok := str(k, raw, true); ok {
				in.Endpoint = &v
			}
		case "events":
			if v, ok := strs(k, raw); ok {
				in.Events = &v
			}
		case "version":
			if !allowVersion {
				bad(k, "unknown_field", "is not a known member")
			} else if json.Unmarshal(raw, &version) != nil || version < 1 {
				bad(k, "invalid_type", "must be a positive integer")
			}
		default:
			bad(memberName(k), "unknown_field", "is not a known member")
		}
	}
	if len(errs) > 0 {
		return in, 0, fidelis.Invalid(errs...)
	}
	return in, version, nil
}

func (s *Server) handleRecipientCreate(w http.ResponseWriter, r *http.Request) error {
	in, _, err := readRecipientInput(w, r, false)
	if err != nil {
		return err
	}
	rec, secret, err := s.Recipients.Create(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/recipients/"+rec.ID)
	w.Header().Set("ETag", etag(rec.Version))
	out := RecipientJSON(rec)
	out["secret"] = secret // shown once
	return writeJSON(w, http.StatusCreated, out)
}

func (s *Server) handleRecipientGet(w http.ResponseWriter, r *http.Request) error {
	rec, err := s.Recipients.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(rec.Version))
	return writeJSON(w, http.StatusOK, RecipientJSON(rec))
}

func (s *Server) handleRecipientList(w http.ResponseWriter, r *http.Request) error {
	cursor, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	page, err := s.Recipients.List(r.Context(), cursor, limit)
	if err != nil {
		return err
	}
	items := make([]map[string]any, len(page.Items))
	for i, rec := range page.Items {
		items[i] = RecipientJSON(rec)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": items, "next_cursor": nullable(page.Next)})
}

// ifMatchVersion reads an If-Match header holding an ETag "vN"; 0 when absent or "*".
func ifMatchVersion(r *http.Request) (int, error) {
	m := strings.TrimSpace(r.Header.Get("If-Match"))
	if m == "" || m == "*" {
		return 0, nil
	}
	v, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(m, `"v`), `"`))
	if err != nil || v < 1 {
		return 0, &fidelis.Error{Code: fidelis.EPRECONDITION, Reason: "bad_if_match", Message: `If-Match must be an ETag returned by the API, like "v3"`}
	}
	return v, nil
}

func (s *Server) handleRecipientUpdate(w http.ResponseWriter, r *http.Request) error {
	in, version, err := readRecipientInput(w, r, true)
	if err != nil {
		return err
	}
	v, err := ifMatchVersion(r)
	if err != nil {
		return err
	}
	if v != 0 {
		if version != 0 && version != v {
			return fidelis.Invalid(fidelis.FieldError{Field: "version", Rule: "mismatch", Message: "differs from If-Match"})
		}
		version = v
	}
	rec, err := s.Recipients.Update(r.Context(), r.PathValue("id"), in, version)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(rec.Version))
	return writeJSON(w, http.StatusOK, RecipientJSON(rec))
}

func (s *Server) handleRecipientDelete(w http.ResponseWriter, r *http.Request) error {
	if err := s.Recipients.Delete(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// requireNoBody refuses parameters on an action that takes none.
func requireNoBody(w http.ResponseWriter, r *http.Request, what string) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	obj, err := decodeObject(body, "the request body")
	if err != nil {
		return err
	}
	if len(obj) > 0 {
		return fidelis.Invalid(fidelis.FieldError{Field: memberName(slices.Sorted(maps.Keys(obj))[0]), Rule: "unknown_field", Message: what + " takes no parameters"})
	}
	return nil
}

func (s *Server) handleRecipientRotate(w http.ResponseWriter, r *http.Request) error {
	if err := requireNoBody(w, r, "rotating the secret"); err != nil {
		return err
	}
	rec, secret, err := s.Recipients.RotateSecret(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(rec.Version))
	out := RecipientJSON(rec)
	out["secret"] = secret // shown once
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleDeliveryList(w http.ResponseWriter, r *http.Request) error {
	cursor, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	page, err := s.Recipients.Deliveries(r.Context(), r.PathValue("id"), recipient.State(r.URL.Query().Get("state")), cursor, limit)
	if err != nil {
		return err
	}
	items := make([]map[string]any, len(page.Items))
	for i, d := range page.Items {
		items[i] = DeliveryJSON(d)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": items, "next_cursor": nullable(page.Next)})
}

func (s *Server) handleDeliveryGet(w http.ResponseWriter, r *http.Request) error {
	d, attempts, err := s.Recipients.Delivery(r.Context(), r.PathValue("id"), r.PathValue("delivery"))
	if err != nil {
		return err
	}
	out := DeliveryJSON(d)
	hist := make([]map[string]any, len(attempts))
	for i, a := range attempts {
		hist[i] = map[string]any{"n": a.N, "at": a.At.Format(time.RFC3339Nano), "status": nullableInt(a.StatusCode),
			"error": nullable(a.ErrorClass), "duration_ms": a.Duration.Milliseconds(), "next_attempt_at": timeOrNull(a.NextAttempt)}
	}
	out["history"] = hist
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleRedeliver(w http.ResponseWriter, r *http.Request) error {
	if err := requireNoBody(w, r, "redelivery"); err != nil {
		return err
	}
	d, err := s.Recipients.Redeliver(r.Context(), r.PathValue("id"), r.PathValue("delivery"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, DeliveryJSON(d))
}

// handleCustomerRecipients answers who receives a customer's data and what they were told
// about the customer (R-9, GDPR art. 15(1)(c) and 19).
func (s *Server) handleCustomerRecipients(w http.ResponseWriter, r *http.Request) error {
	id, err := customerID(r)
	if err != nil {
		return err
	}
	cr, err := s.Recipients.ForCustomer(r.Context(), purposeOf(r), id)
	if err != nil {
		return err
	}
	items := make([]map[string]any, len(cr.Recipients))
	for i, c := range cr.Recipients {
		rec := c.Recipient
		notes := make([]map[string]any, len(c.Notifications))
		for j, d := range c.Notifications {
			notes[j] = map[string]any{"event_id": d.EventID, "event_type": d.EventType, "event_at": d.EventAt.Format(time.RFC3339Nano),
				"state": d.State, "delivered_at": timeOrNull(d.DeliveredAt)}
		}
		purposes := rec.Purposes
		if purposes == nil {
			purposes = []fidelis.Purpose{}
		}
		items[i] = map[string]any{"id": rec.ID, "name": rec.Name, "kind": rec.Kind, "purposes": purposes, "country": rec.Country,
			"transfer": rec.Transfer(), "safeguard": nullable(string(rec.Safeguard)), "active": rec.Active, "contact_email": rec.ContactEmail,
			"notifications": notes}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"customer_id": cr.CustomerID, "erased": cr.Erased, "truncated": cr.Truncated, "recipients": items})
}
