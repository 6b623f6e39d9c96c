package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/internal/jsontext"
	"github.com/fidelis/fidelis/privacy"
	"github.com/fidelis/fidelis/rights"
)

// customerJSON renders a customer as its purpose sees it: visible fields only, null when
// empty. This is the one place personal values are revealed into the API.
func customerJSON(c *customer.Customer) customerDoc { return customerDoc{c} }

// customerDoc encodes a customer as the object {id, version, created_at, updated_at,
// visible_fields, and each visible field: its value, null when empty; attributes as an
// object}, members in sorted order, exactly as encoding/json encodes the same map: every
// read answers one, and reflection over a map cost a tenth of the request.
type customerDoc struct{ c *customer.Customer }

// MarshalJSON implements json.Marshaler.
func (d customerDoc) MarshalJSON() ([]byte, error) {
	c := d.c
	keys := make([]string, 0, 5+len(c.Visible))
	keys = append(keys, "id", "version", "created_at", "updated_at", "visible_fields")
	for _, f := range c.Visible {
		if !slices.Contains(keys, string(f)) {
			keys = append(keys, string(f))
		}
	}
	slices.Sort(keys)
	b := make([]byte, 0, 512)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsontext.AppendString(b, k)
		b = append(b, ':')
		switch k {
		case "id":
			b = jsontext.AppendString(b, string(c.ID))
		case "version":
			b = strconv.AppendInt(b, int64(c.Version), 10)
		case "created_at":
			b = jsontext.AppendString(b, c.CreatedAt.Format(time.RFC3339Nano))
		case "updated_at":
			b = jsontext.AppendString(b, c.UpdatedAt.Format(time.RFC3339Nano))
		case "visible_fields":
			b = append(b, '[')
			for j, f := range c.Visible {
				if j > 0 {
					b = append(b, ',')
				}
				b = jsontext.AppendString(b, string(f))
			}
			b = append(b, ']')
		case string(fidelis.FieldAttributes):
			names := slices.Sorted(maps.Keys(c.Attributes))
			b = append(b, '{')
			for j, n := range names {
				if j > 0 {
					b = append(b, ',')
				}
				b = jsontext.AppendString(b, n)
				b = append(b, ':')
				b = jsontext.AppendString(b, c.Attributes[n].Reveal())
			}
			b = append(b, '}')
		default:
			if v := c.Values[fidelis.Field(k)]; !v.IsZero() {
				b = jsontext.AppendString(b, v.Reveal())
			} else {
				b = append(b, "null"...)
			}
		}
	}
	return append(b, '}'), nil
}

// readInput decodes a customer create or update body. allowVersion admits the "version"
// member (optimistic concurrency on updates).
func readInput(w http.ResponseWriter, r *http.Request, allowVersion bool) (customer.Input, int, error) {
	obj, err := readObject(w, r)
	if err != nil {
		return customer.Input{}, 0, err
	}
	return inputFromObject(obj, allowVersion)
}

// inputFromObject turns a decoded JSON object into a customer input (see readInput).
func inputFromObject(obj map[string]json.RawMessage, allowVersion bool) (customer.Input, int, error) {
	in := customer.Input{Set: map[fidelis.Field]fidelis.Secret{}}
	known := fidelis.CustomerFields()
	var errs []fidelis.FieldError
	version := 0
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		raw := obj[k]
		f := fidelis.Field(k)
		switch {
		case k == "version" && allowVersion:
			if err := json.Unmarshal(raw, &version); err != nil || version < 1 {
				errs = append(errs, fidelis.FieldError{Field: k, Rule: "invalid_type", Message: "must be a positive integer"})
			}
		case f == fidelis.FieldAttributes:
			if string(raw) == "null" {
				in.Clear = append(in.Clear, f)
				continue
			}
			obj, err := decodeObject(raw, "attributes")
			if err != nil {
				if e := fidelis.AsError(err); e != nil && strings.Contains(e.Message, "twice") {
					errs = append(errs, fidelis.FieldError{Field: k, Rule: "duplicate_key", Message: "has an attribute twice"})
				} else {
					errs = append(errs, fidelis.FieldError{Field: k, Rule: "invalid_type", Message: "must be an object of strings, or null"})
				}
				continue
			}
			in.Attributes = map[string]fidelis.Secret{}
			for ak, av := range obj {
				v, isNull, err := stringOrNull(av)
				if err != nil {
					errs = append(errs, fidelis.FieldError{Field: k, Rule: "invalid_type", Message: "must be an object of strings, or null"})
					break
				}
				if !isNull {
					in.Attributes[ak] = fidelis.NewSecret(v)
				}
			}
		case slices.Contains(known, f):
			s, isNull, err := stringOrNull(raw)
			if err != nil {
				errs = append(errs, fidelis.FieldError{Field: k, Rule: "invalid_type", Message: err.Error()})
			} else if isNull {
				in.Clear = append(in.Clear, f)
			} else {
				in.Set[f] = fidelis.NewSecret(s)
			}
		default:
			errs = append(errs, fidelis.FieldError{Field: memberName(k), Rule: "unknown_field", Message: "is not a known member"})
		}
	}
	if len(errs) > 0 {
		return in, 0, fidelis.Invalid(errs...)
	}
	return in, version, nil
}

func customerID(r *http.Request) (fidelis.CustomerID, error) {
	return fidelis.ParseCustomerID(r.PathValue("id"))
}

func (s *Server) handleCustomerCreate(w http.ResponseWriter, r *http.Request) error {
	in, _, err := readInput(w, r, false)
	if err != nil {
		return err
	}
	c, err := s.Customers.Create(r.Context(), purposeOf(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/customers/"+string(c.ID))
	w.Header().Set("ETag", etag(c.Version))
	return writeJSON(w, http.StatusCreated, customerJSON(c))
}

func etag(v int) string { return fmt.Sprintf(`"v%d"`, v) }

func (s *Server) handleCustomerGet(w http.ResponseWriter, r *http.Request) error {
	id, err := customerID(r)
	if err != nil {
		return err
	}
	c, err := s.Customers.Get(r.Context(), purposeOf(r), id)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(c.Version))
	return writeJSON(w, http.StatusOK, customerJSON(c))
}

func (s *Server) handleCustomerUpdate(w http.ResponseWriter, r *http.Request) error {
	id, err := customerID(r)
	if err != nil {
		return err
	}
	in, version, err := readInput(w, r, true)
	if err != nil {
		return err
	}
	// "*" matches any current version (RFC 9110 §13.1.1); a weak tag never matches, since
	// If-Match uses the strong comparison.
	if m := strings.TrimSpace(r.Header.Get("If-Match")); m != "" && m != "*" {
		v, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(m, `"v`), `"`))
		if err != nil || v < 1 {
			return &fidelis.Error{Code: fidelis.EPRECONDITION, Reason: "bad_if_match", Message: `If-Match must be an ETag returned by the API, like "v3"`}
		}
		if version != 0 && version != v {
			return fidelis.Invalid(fidelis.FieldError{Field: "version", Rule: "mismatch", Message: "differs from If-Match"})
		}
		version = v
	}
	c, err := s.Customers.Update(r.Context(), purposeOf(r), id, in, version)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(c.Version))
	return writeJSON(w, http.StatusOK, customerJSON(c))
}

func pageParams(r *http.Request) (string, int, error) {
	q := r.URL.Query()
	limit := 0
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > customer.MaxPageSize {
			return "", 0, fidelis.Invalid(fidelis.FieldError{Field: "limit", Rule: "out_of_range", Message: fmt.Sprintf("must be an integer from 1 to %d", customer.MaxPageSize)})
		}
		limit = n
	}
	return q.Get("cursor"), limit, nil
}

func (s *Server) handleCustomerList(w http.ResponseWriter, r *http.Request) error {
	cursor, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	page, err := s.Customers.List(r.Context(), purposeOf(r), cursor, limit)
	if err != nil {
		return err
	}
	items := make([]customerDoc, len(page.Items))
	for i, c := range page.Items {
		items[i] = customerJSON(c)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": items, "next_cursor": nullable(page.Next)})
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// handleCustomerSearch searches by exact e-mail or phone. It is a POST so that the searched
// value travels in the body, never in URLs that proxies and access logs keep.
func (s *Server) handleCustomerSearch(w http.ResponseWriter, r *http.Request) error {
	obj, err := readObject(w, r)
	if err != nil {
		return err
	}
	var q customer.Query
	var errs []fidelis.FieldError
	for k, raw := range obj {
		v, isNull, err := stringOrNull(raw)
		switch {
		case k != "email" && k != "phone":
			errs = append(errs, fidelis.FieldError{Field: memberName(k), Rule: "unknown_field", Message: "is not a known member; search by email or phone"})
		case err != nil || isNull:
			errs = append(errs, fidelis.FieldError{Field: k, Rule: "invalid_type", Message: "must be a string"})
		case k == "email":
			q.Email = fidelis.NewSecret(v)
		default:
			q.Phone = fidelis.NewSecret(v)
		}
	}
	if len(errs) > 0 {
		return fidelis.Invalid(errs...)
	}
	found, err := s.Customers.Search(r.Context(), purposeOf(r), q)
	if err != nil {
		return err
	}
	items := make([]customerDoc, len(found))
	for i, c := range found {
		items[i] = customerJSON(c)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func historyJSON(items []customer.HistoryItem) []map[string]any {
	out := make([]map[string]any, len(items))
	for i, it := range items {
		prev := map[string]any{}
		for f, v := range it.Previous {
			switch {
			case v.IsZero():
				prev[string(f)] = nil
			case f == fidelis.FieldAttributes:
				// Stored as the JSON of the previous attributes: render it as an object.
				attrs := map[string]string{}
				if json.Unmarshal([]byte(v.Reveal()), &attrs) != nil {
					attrs = map[string]string{}
				}
				prev[string(f)] = attrs
			default:
				prev[string(f)] = v.Reveal()
			}
		}
		fields := it.Fields
		if fields == nil {
			fields = []fidelis.Field{}
		}
		out[i] = map[string]any{"version": it.Version, "at": it.At.Format(time.RFC3339Nano), "actor": it.Actor,
			"purpose": it.Purpose, "fields": fields, "previous": prev}
	}
	return out
}

func (s *Server) handleCustomerHistory(w http.ResponseWriter, r *http.Request) error {
	id, err := customerID(r)
	if err != nil {
		return err
	}
	items, err := s.Customers.History(r.Context(), purposeOf(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": historyJSON(items)})
}

// AccessEntryJSON renders an audit entry about a customer: who, when, why, what fields.
func AccessEntryJSON(e audit.Entry) AccessEntry {
	fields := e.Fields
	if fields == nil {
		fields = []fidelis.Field{}
	}
	return AccessEntry{ID: e.ID, At: e.At.Format(time.RFC3339Nano), Actor: e.Actor, Action: e.Action,
		Purpose: e.Purpose, Fields: fields, Outcome: e.Outcome, Reason: e.Reason, RequestID: e.RequestID}
}

// AccessEntry is one access-log entry as the API shows it. A struct rather than a map: an
// access export holds thousands of them, and encoding a map sorts its keys every time.
type AccessEntry struct {
	Action    string          `json:"action"`
	Actor     string          `json:"actor"`
	At        string          `json:"at"`
	Fields    []fidelis.Field `json:"fields"`
	ID        int64           `json:"id"`
	Outcome   audit.Outcome   `json:"outcome"`
	Purpose   fidelis.Purpose `json:"purpose"`
	Reason    string          `json:"reason"`
	RequestID string          `json:"request_id"`
}

func (s *Server) handleCustomerAccessLog(w http.ResponseWriter, r *http.Request) error {
	id, err := customerID(r)
	if err != nil {
		return err
	}
	cursor, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	var before int64
	if cursor != "" {
		if before, err = strconv.ParseInt(cursor, 10, 64); err != nil || before < 1 {
			return fidelis.Invalid(fidelis.FieldError{Field: "cursor", Rule: "invalid_cursor", Message: "is not a cursor returned by a previous page"})
		}
	}
	page, err := s.Customers.AccessLog(r.Context(), purposeOf(r), id, before, limit)
	if err != nil {
		return err
	}
	items := make([]AccessEntry, len(page.Items))
	for i, e := range page.Items {
		items[i] = AccessEntryJSON(e)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": items, "next_cursor": nullable(page.Next)})
}

// PurposeJSON renders a purpose declaration.
func PurposeJSON(p *privacy.Purpose) map[string]any {
	fields, recipients := p.Fields, p.Recipients
	if fields == nil {
		fields = []fidelis.Field{}
	}
	if recipients == nil {
		recipients = []string{}
	}
	actions := p.Actions
	if actions == nil {
		actions = []fidelis.Action{}
	}
	channels := p.ConsentChannels
	if channels == nil {
		channels = []privacy.Channel{}
	}
	return map[string]any{"name": p.Name, "lawful_basis": p.LawfulBasis, "fields": fields, "actions": actions, "recipients": recipients,
		"retention": p.Retention, "description": p.Description, "direct_marketing": p.DirectMarketing, "consent_channels": channels}
}

// ExportJSON renders an access export.
func ExportJSON(ex *customer.Export) map[string]any {
	log := make([]AccessEntry, len(ex.AccessLog))
	for i, e := range ex.AccessLog {
		log[i] = AccessEntryJSON(e)
	}
	processing := make([]map[string]any, len(ex.Processing))
	for i, p := range ex.Processing {
		processing[i] = PurposeJSON(p)
	}
	return map[string]any{
		"generated_at": ex.GeneratedAt.Format(time.RFC3339Nano),
		"customer":     customerJSON(ex.Customer),
		"history":      historyJSON(ex.History),
		"access_log":   log,
		"processing":   processing,
		"source":       "collected by the controller (back-office, API or import); see the history for each change",
		"encryption":   map[string]any{"algorithm": "AES-256-GCM", "per_customer_key_created_at": ex.KeyCreated.Format(time.RFC3339Nano)},
	}
}

// AccessJSON renders the answer to an access request: the export, and under
// "sections" the other parts of Fidelis's data (rights.Service.Tables), each an array of
// objects as in the portability archive's JSON files.
func AccessJSON(ex *customer.Export, tables []*rights.Table) map[string]any {
	out := ExportJSON(ex)
	sections := make(map[string]any, len(tables))
	for _, t := range tables {
		rows := make([]map[string]string, len(t.Rows))
		for i, row := range t.Rows {
			rows[i] = make(map[string]string, len(t.Columns))
			for j, col := range t.Columns {
				if j < len(row) {
					rows[i][col] = row[j]
				}
			}
		}
		sections[t.Name] = rows
	}
	out["sections"] = sections
	return out
}

func (s *Server) handleCustomerExport(w http.ResponseWriter, r *http.Request) error {
	id, err := customerID(r)
	if err != nil {
		return err
	}
	ex, err := s.Customers.Export(r.Context(), purposeOf(r), id)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+string(id)+`.json"`)
	return writeJSON(w, http.StatusOK, ExportJSON(ex))
}

func (s *Server) handleCustomerErase(w http.ResponseWriter, r *http.Request) error {
	id, err := customerID(r)
	if err != nil {
		return err
	}
	// Erasure cannot be undone: any body, however it is sent (chunked included), must be
	// an empty JSON object or nothing.
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) > 0 {
		obj, err := decodeObject(body, "the request body")
		if err != nil {
			return err
		}
		if len(obj) > 0 {
			return fidelis.Invalid(fidelis.FieldError{Field: memberName(slices.Sorted(maps.Keys(obj))[0]), Rule: "unknown_field", Message: "erasure takes no parameters"})
		}
	}
	rec, err := s.Customers.Erase(r.Context(), purposeOf(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rec)
}
