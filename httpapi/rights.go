package httpapi

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/rights"
)

// rightsRoutes mounts the rights-request operations (R-1..R-4, R-6..R-8, R-11). Every one
// runs under the data_protection purpose, checked before the request is parsed (P-1).
func (s *Server) rightsRoutes(api func(string, handler)) {
	rp := func(pattern string, a fidelis.Action, h handler) {
		api(pattern, func(w http.ResponseWriter, r *http.Request) error {
			if s.Rights == nil {
				return &fidelis.Error{Code: fidelis.EUNAVAILABLE, Reason: "rights_unavailable", Message: "rights requests are not available in this installation"}
			}
			if err := s.Rights.Check(r.Context(), purposeOf(r), a); err != nil {
				return err
			}
			return h(w, r)
		})
	}
	rp("POST /api/v1/rights-requests", fidelis.ActionUpdate, s.handleRightsCreate)
	rp("GET /api/v1/rights-requests", fidelis.ActionRead, s.handleRightsList)
	rp("GET /api/v1/rights-requests/{id}", fidelis.ActionRead, s.handleRightsGet)
	rp("POST /api/v1/rights-requests/{id}/start", fidelis.ActionUpdate, s.handleRightsStart)
	rp("POST /api/v1/rights-requests/{id}/verify-identity", fidelis.ActionUpdate, s.handleRightsIdentity)
	rp("POST /api/v1/rights-requests/{id}/extend", fidelis.ActionUpdate, s.handleRightsExtend)
	rp("POST /api/v1/rights-requests/{id}/refuse", fidelis.ActionUpdate, s.handleRightsRefuse)
	rp("POST /api/v1/rights-requests/{id}/complete", fidelis.ActionUpdate, s.handleRightsComplete)
	rp("GET /api/v1/rights-requests/{id}/export", fidelis.ActionExport, s.handleRightsExport)
}

// RightsCaseJSON renders a case: IDs, codes, dates and the generated letters; no personal
// value.
func RightsCaseJSON(svc *rights.Service, c *rights.Case) map[string]any {
	purposes := c.Purposes
	if purposes == nil {
		purposes = []fidelis.Purpose{}
	}
	m := map[string]any{
		"id": c.ID, "customer_id": c.CustomerID, "kind": c.Kind, "channel": c.Channel, "status": c.Status,
		"received_at": rfc3339(c.ReceivedAt), "due_date": c.Due.Format(rights.DateLayout), "original_due_date": c.OriginalDue.Format(rights.DateLayout),
		"deadline_state": svc.Deadline(c), "purposes": purposes,
		"identity": nil, "extension": nil, "refusal": nil, "answer": nil,
		"created_at": rfc3339(c.CreatedAt), "created_by": c.CreatedBy, "updated_at": rfc3339(c.UpdatedAt), "version": c.Version,
	}
	if i := c.Identity; i != nil {
		m["identity"] = map[string]any{"method": i.Method, "result": i.Result, "by": i.By, "at": rfc3339(i.At)}
	}
	if e := c.Extension; e != nil {
		m["extension"] = map[string]any{"months": e.Months, "reasons": e.Reasons, "told_at": rfc3339(e.ToldAt), "told_via": e.ToldVia,
			"at": rfc3339(e.At), "by": e.By, "letter": textJSON(rights.Text{FR: rights.ExtensionLetter(c, "fr"), EN: rights.ExtensionLetter(c, "en")})}
	}
	if f := c.Refusal; f != nil {
		m["refusal"] = map[string]any{"reasons": f.Reasons, "channel": f.Channel, "at": rfc3339(f.At), "by": f.By,
			"letter": textJSON(rights.Text{FR: rights.RefusalLetter(c, "fr"), EN: rights.RefusalLetter(c, "en")})}
	}
	if a := c.Answer; a != nil {
		ans := map[string]any{"outcome": a.Outcome, "channel": a.Channel, "at": rfc3339(a.At), "by": a.By, "ref": nullable(a.Ref), "erasure_effective_at": nil}
		if a.ErasureEffectiveAt != nil {
			ans["erasure_effective_at"] = rfc3339(*a.ErasureEffectiveAt)
		}
		m["answer"] = ans
	}
	return m
}

// readMembers reads an optional JSON object body whose members must be among allowed.
func readMembers(w http.ResponseWriter, r *http.Request, allowed ...string) (map[string]json.RawMessage, error) {
	body, err := readBody(w, r)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]json.RawMessage{}, nil
	}
	obj, err := decodeObject(body, "the request body")
	if err != nil {
		return nil, err
	}
	var errs []fidelis.FieldError
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if !slices.Contains(allowed, k) {
			errs = append(errs, fidelis.FieldError{Field: memberName(k), Rule: "unknown_field", Message: "is not a known member"})
		}
	}
	if len(errs) > 0 {
		return nil, fidelis.Invalid(errs...)
	}
	return obj, nil
}

// member decodes obj[k] into dst if present; a type mismatch is a field error.
func member(obj map[string]json.RawMessage, k string, dst any, typ string, errs *[]fidelis.FieldError) {
	raw, ok := obj[k]
	if !ok || string(bytes.TrimSpace(raw)) == "null" {
		return
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		*errs = append(*errs, fidelis.FieldError{Field: k, Rule: "invalid_type", Message: "must be " + typ})
	}
}

func (s *Server) handleRightsCreate(w http.ResponseWriter, r *http.Request) error {
	obj, err := readMembers(w, r, "customer_id", "kind", "channel", "received_at", "purposes")
	if err != nil {
		return err
	}
	if len(obj) == 0 {
		return malformed("the request body is empty; a JSON object is expected")
	}
	var in rights.NewCase
	var received string
	var errs []fidelis.FieldError
	member(obj, "customer_id", &in.CustomerID, "a string", &errs)
	member(obj, "kind", &in.Kind, "a string", &errs)
	member(obj, "channel", &in.Channel, "a string", &errs)
	member(obj, "purposes", &in.Purposes, "an array of purpose names", &errs)
	member(obj, "received_at", &received, "a date-time string", &errs)
	if received != "" {
		t, err := time.Parse(time.RFC3339Nano, received)
		if err != nil {
			errs = append(errs, fidelis.FieldError{Field: "received_at", Rule: "invalid_datetime", Message: "must be an RFC 3339 date-time, e.g. 2026-01-31T09:30:00+01:00"})
		}
		in.ReceivedAt = t
	}
	for _, f := range []string{"customer_id", "kind", "channel"} {
		if _, ok := obj[f]; !ok {
			errs = append(errs, fidelis.FieldError{Field: f, Rule: "required", Message: "is required"})
		}
	}
	if len(errs) > 0 {
		slices.SortFunc(errs, func(a, b fidelis.FieldError) int { return strings.Compare(a.Field, b.Field) })
		return fidelis.Invalid(errs...)
	}
	c, err := s.Rights.Create(r.Context(), purposeOf(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/rights-requests/"+c.ID)
	return writeJSON(w, http.StatusCreated, RightsCaseJSON(s.Rights, c))
}

func (s *Server) handleRightsList(w http.ResponseWriter, r *http.Request) error {
	cursor, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	q := rights.Query{Cursor: cursor, Limit: limit}
	v := r.URL.Query()
	var errs []fidelis.FieldError
	for _, st := range v["status"] {
		for _, one := range strings.Split(st, ",") {
			switch {
			case one == "open":
				q.Status = append(q.Status, rights.StatusReceived, rights.StatusInProgress, rights.StatusExtended)
			case slices.Contains(rights.Statuses(), rights.Status(one)):
				q.Status = append(q.Status, rights.Status(one))
			default:
				errs = append(errs, fidelis.FieldError{Field: "status", Rule: "invalid_status", Message: "must be open, received, in_progress, extended, completed or refused"})
			}
		}
	}
	if k := v.Get("kind"); k != "" {
		if !slices.Contains(rights.Kinds(), rights.Kind(k)) {
			errs = append(errs, fidelis.FieldError{Field: "kind", Rule: "invalid_kind", Message: "must be one of: access, rectification, erasure, restriction, objection, portability"})
		}
		q.Kind = rights.Kind(k)
	}
	if d := v.Get("due_before"); d != "" {
		t, err := time.Parse(rights.DateLayout, d)
		if err != nil {
			errs = append(errs, fidelis.FieldError{Field: "due_before", Rule: "invalid_date", Message: "must be a date as YYYY-MM-DD"})
		}
		q.DueBefore = t
	}
	if c := v.Get("customer_id"); c != "" {
		if !fidelis.ValidID("cus", c) {
			errs = append(errs, fidelis.FieldError{Field: "customer_id", Rule: "invalid_id", Message: "is not a customer id"})
		}
		q.CustomerID = fidelis.CustomerID(c)
	}
	if len(errs) > 0 {
		return fidelis.Invalid(errs...)
	}
	slices.Sort(q.Status)
	q.Status = slices.Compact(q.Status)
	page, err := s.Rights.List(r.Context(), purposeOf(r), q)
	if err != nil {
		return err
	}
	items := make([]map[string]any, len(page.Items))
	for i, c := range page.Items {
		items[i] = RightsCaseJSON(s.Rights, c)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": items, "next_cursor": nullable(page.Next)})
}

func (s *Server) handleRightsGet(w http.ResponseWriter, r *http.Request) error {
	c, err := s.Rights.Get(r.Context(), purposeOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, RightsCaseJSON(s.Rights, c))
}

func (s *Server) handleRightsStart(w http.ResponseWriter, r *http.Request) error {
	if _, err := readMembers(w, r); err != nil {
		return err
	}
	c, err := s.Rights.Start(r.Context(), purposeOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, RightsCaseJSON(s.Rights, c))
}

func (s *Server) handleRightsIdentity(w http.ResponseWriter, r *http.Request) error {
	obj, err := readMembers(w, r, "method", "result")
	if err != nil {
		return err
	}
	var in rights.IdentityInput
	var errs []fidelis.FieldError
	member(obj, "method", &in.Method, "a string", &errs)
	member(obj, "result", &in.Result, "a string", &errs)
	if len(errs) > 0 {
		return fidelis.Invalid(errs...)
	}
	c, err := s.Rights.VerifyIdentity(r.Context(), purposeOf(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, RightsCaseJSON(s.Rights, c))
}

func (s *Server) handleRightsExtend(w http.ResponseWriter, r *http.Request) error {
	obj, err := readMembers(w, r, "months", "reasons", "told_at", "told_via")
	if err != nil {
		return err
	}
	var in rights.ExtendInput
	var told string
	var errs []fidelis.FieldError
	member(obj, "months", &in.Months, "an integer", &errs)
	member(obj, "reasons", &in.Reasons, "an array of reasons", &errs)
	member(obj, "told_via", &in.ToldVia, "a string", &errs)
	member(obj, "told_at", &told, "a date-time string", &errs)
	if told != "" {
		t, err := time.Parse(time.RFC3339Nano, told)
		if err != nil {
			errs = append(errs, fidelis.FieldError{Field: "told_at", Rule: "invalid_datetime", Message: "must be an RFC 3339 date-time"})
		}
		in.ToldAt = t
	}
	if len(errs) > 0 {
		return fidelis.Invalid(errs...)
	}
	c, err := s.Rights.Extend(r.Context(), purposeOf(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, RightsCaseJSON(s.Rights, c))
}

func (s *Server) handleRightsRefuse(w http.ResponseWriter, r *http.Request) error {
	obj, err := readMembers(w, r, "reasons", "channel")
	if err != nil {
		return err
	}
	var in rights.RefuseInput
	var errs []fidelis.FieldError
	member(obj, "reasons", &in.Reasons, "an array of reasons", &errs)
	member(obj, "channel", &in.Channel, "a string", &errs)
	if len(errs) > 0 {
		return fidelis.Invalid(errs...)
	}
	c, err := s.Rights.Refuse(r.Context(), purposeOf(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, RightsCaseJSON(s.Rights, c))
}

func (s *Server) handleRightsComplete(w http.ResponseWriter, r *http.Request) error {
	obj, err := readMembers(w, r, "channel", "changes", "version")
	if err != nil {
		return err
	}
	var in rights.CompleteInput
	var errs []fidelis.FieldError
	member(obj, "channel", &in.Channel, "a string", &errs)
	member(obj, "version", &in.ExpectVersion, "a positive integer", &errs)
	if _, ok := obj["version"]; ok && in.ExpectVersion < 1 && len(errs) == 0 {
		errs = append(errs, fidelis.FieldError{Field: "version", Rule: "invalid_type", Message: "must be a positive integer"})
	}
	if raw, ok := obj["changes"]; ok {
		changes, err := decodeObject(raw, "changes")
		if err != nil {
			errs = append(errs, fidelis.FieldError{Field: "changes", Rule: "invalid_type", Message: "must be an object of customer fields"})
		} else {
			ci, _, err := inputFromObject(changes, false)
			if err != nil {
				e := fidelis.AsError(err)
				for _, f := range e.Fields {
					f.Field = "changes." + f.Field
					errs = append(errs, f)
				}
			}
			in.Changes = &ci
		}
	}
	if len(errs) > 0 {
		return fidelis.Invalid(errs...)
	}
	c, err := s.Rights.Complete(r.Context(), purposeOf(r), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, RightsCaseJSON(s.Rights, c))
}

// handleRightsExport serves the answer to an access request as JSON (the customer
// export) or as a readable HTML page (format=html), and the answer to a portability
// request as a zip of JSON and CSV files.
func (s *Server) handleRightsExport(w http.ResponseWriter, r *http.Request) error {
	format := r.URL.Query().Get("format")
	if format != "" && format != "json" && format != "html" && format != "zip" {
		return fidelis.Invalid(fidelis.FieldError{Field: "format", Rule: "invalid_format", Message: "must be json or html (access) or zip (portability)"})
	}
	ex, c, err := s.Rights.Export(r.Context(), purposeOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	switch {
	case c.Kind == rights.KindPortability && (format == "" || format == "zip"):
		var buf bytes.Buffer
		if err := s.Rights.WritePortability(r.Context(), purposeOf(r), &buf, ex, c); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/zip")
		w.Header().Set("Content-Disposition", `attachment; filename="`+c.ID+`.zip"`)
		_, _ = w.Write(buf.Bytes()) // a failed write means the client went away
		return nil
	case c.Kind == rights.KindAccess && format == "html":
		var buf bytes.Buffer
		if err := s.Rights.AccessHTML(r.Context(), purposeOf(r), &buf, ex, c); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		_, _ = w.Write(buf.Bytes()) // a failed write means the client went away
		return nil
	case c.Kind == rights.KindAccess && (format == "" || format == "json"):
		// the other parts of Fidelis (the loyalty ledger, orders, ...) as in the archive.
		tables, err := s.Rights.Tables(r.Context(), purposeOf(r), c.CustomerID)
		if err != nil {
			return err
		}
		out := AccessJSON(ex, tables)
		w.Header().Set("Content-Disposition", `attachment; filename="`+c.ID+`.json"`)
		return writeJSON(w, http.StatusOK, out)
	}
	return fidelis.Invalid(fidelis.FieldError{Field: "format", Rule: "invalid_format", Message: "an access request exports as json or html, a portability request as zip"})
}
