package httpapi

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/consent"
	"github.com/fidelis/fidelis/privacy"
)

// memberReader decodes the members of a strict JSON object one by one, collecting per-field
// errors; unknown members are reported by done.
type memberReader struct {
	obj  map[string]json.RawMessage
	seen map[string]bool
	errs []fidelis.FieldError
}

func newMembers(obj map[string]json.RawMessage) *memberReader {
	return &memberReader{obj: obj, seen: map[string]bool{}}
}

func (m *memberReader) bad(field, rule, msg string) {
	m.errs = append(m.errs, fidelis.FieldError{Field: field, Rule: rule, Message: msg})
}

// str returns member k as a string ("" when absent or null).
func (m *memberReader) str(k string) string {
	m.seen[k] = true
	raw, ok := m.obj[k]
	if !ok {
		return ""
	}
	s, _, err := stringOrNull(raw)
	if err != nil {
		m.bad(k, "invalid_type", err.Error())
	}
	return s
}

// integer returns member k as an integer (0 when absent or null).
func (m *memberReader) integer(k string) int {
	m.seen[k] = true
	raw, ok := m.obj[k]
	if !ok || string(raw) == "null" {
		return 0
	}
	var n int
	if err := json.Unmarshal(raw, &n); err != nil {
		m.bad(k, "invalid_type", "must be an integer")
	}
	return n
}

// boolean returns member k as a boolean (false when absent or null).
func (m *memberReader) boolean(k string) bool {
	m.seen[k] = true
	raw, ok := m.obj[k]
	if !ok || string(raw) == "null" {
		return false
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err != nil {
		m.bad(k, "invalid_type", "must be true or false")
	}
	return b
}

// timestamp returns member k as an RFC 3339 time (zero when absent or null).
func (m *memberReader) timestamp(k string) time.Time {
	s := m.str(k)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		m.bad(k, "invalid_time", "must be an RFC 3339 date and time, like 2026-03-01T10:00:00Z")
	}
	return t
}

// done reports unknown members and the collected errors.
func (m *memberReader) done() error {
	for _, k := range slices.Sorted(maps.Keys(m.obj)) {
		if !m.seen[k] {
			m.bad(memberName(k), "unknown_field", "is not a known member")
		}
	}
	if len(m.errs) > 0 {
		return fidelis.Invalid(m.errs...)
	}
	return nil
}

// checked is purposed with another pre-check than the customer service's: recording a
// consent decision or an objection must stay possible whatever the customer's state (C-2),
// so these routes check the role only.
func (s *Server) checked(check func(r *http.Request) error, h handler) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := check(r); err != nil {
			return err
		}
		return h(w, r)
	}
}

func (s *Server) consentCheck(a fidelis.Action) func(r *http.Request) error {
	return func(r *http.Request) error {
		id, _ := fidelis.ParseCustomerID(r.PathValue("id"))
		return s.Consents.Check(r.Context(), purposeOf(r), a, id)
	}
}

func consentRecordJSON(r *consent.Record) map[string]any {
	out := map[string]any{
		"id": r.ID, "customer_id": r.CustomerID, "purpose": r.Purpose, "channel": r.Channel, "decision": r.Decision,
		"notice_version": nil, "notice_hash": nil, "method": r.Method, "parental": r.Parental, "minor": r.Minor,
		"reference": nullable(r.Reference), "collected_at": r.CollectedAt, "recorded_at": r.RecordedAt, "recorded_by": r.RecordedBy,
	}
	if r.NoticeVersion > 0 {
		out["notice_version"], out["notice_hash"] = r.NoticeVersion, r.NoticeHash
	}
	return out
}

// consentStatesJSON lists current consents sorted by purpose and channel.
func consentStatesJSON(cs map[string]privacy.ConsentStatus) []map[string]any {
	out := []map[string]any{}
	for _, k := range slices.Sorted(maps.Keys(cs)) {
		c := cs[k]
		purpose, channel, _ := cutKey(k)
		item := map[string]any{"purpose": purpose, "channel": channel, "decision": nullable(string(c.Decision)),
			"at": nil, "notice_version": nil, "minor": c.Minor, "parental": nullable(string(c.Parental))}
		if c.Decision != "" {
			item["at"] = c.At
		}
		if c.NoticeVersion > 0 {
			item["notice_version"] = c.NoticeVersion
		}
		out = append(out, item)
	}
	return out
}

func cutKey(k string) (string, string, bool) {
	for i := range len(k) {
		if k[i] == '/' {
			return k[:i], k[i+1:], true
		}
	}
	return k, "", false
}

func (s *Server) handleConsentRecord(w http.ResponseWriter, r *http.Request) error {
	id, err := customerID(r)
	if err != nil {
		return err
	}
	obj, err := readObject(w, r)
	if err != nil {
		return err
	}
	m := newMembers(obj)
	in := consent.Input{
		Purpose: fidelis.Purpose(m.str("purpose")), Channel: privacy.Channel(m.str("channel")),
		Decision: privacy.ConsentDecision(m.str("decision")), NoticeVersion: m.integer("notice_version"),
		NoticeHash: m.str("notice_hash"), Method: consent.Method(m.str("method")), Parental: m.boolean("parental"),
		Reference: m.str("reference"), CollectedAt: m.timestamp("collected_at"),
	}
	if in.Method == "" {
		in.Method = consent.MethodAPI // the channel this call comes through
	}
	if err := m.done(); err != nil {
		return err
	}
	rec, st, err := s.Consents.Record(r.Context(), purposeOf(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"record": consentRecordJSON(rec), "current": consentStatesJSON(st.Consents)})
}

func (s *Server) handleConsentHistory(w http.ResponseWriter, r *http.Request) error {
	id, err := customerID(r)
	if err != nil {
		return err
	}
	cursor, limit, err := pageParams(r)
	if err != nil {
		return err
	}
	h, err := s.Consents.History(r.Context(), purposeOf(r), id, cursor, limit)
	if err != nil {
		return err
	}
	items := make([]map[string]any, len(h.Records))
	for i, rec := range h.Records {
		items[i] = consentRecordJSON(rec)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"current": consentStatesJSON(h.Current), "history": items, "next_cursor": nullable(h.Next)})
}

func noticeJSON(n *consent.Notice) map[string]any {
	return map[string]any{"purpose": n.Purpose, "version": n.Version, "text": map[string]string{"fr": n.Text.FR, "en": n.Text.EN},
		"hash": n.Hash, "published_at": n.PublishedAt, "published_by": n.PublishedBy}
}

func (s *Server) handleNoticeList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	for k := range q {
		if k != "purpose" {
			return fidelis.Invalid(fidelis.FieldError{Field: memberName(k), Rule: "unknown_parameter", Message: "is not a known query parameter"})
		}
	}
	ns, err := s.Consents.Notices(r.Context(), fidelis.Purpose(q.Get("purpose")))
	if err != nil {
		return err
	}
	items := make([]map[string]any, len(ns))
	for i, n := range ns {
		items[i] = noticeJSON(n)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (s *Server) handleNoticePublish(w http.ResponseWriter, r *http.Request) error {
	obj, err := readObject(w, r)
	if err != nil {
		return err
	}
	m := newMembers(obj)
	p := fidelis.Purpose(m.str("purpose"))
	var text privacy.Text
	m.seen["text"] = true
	if raw, ok := obj["text"]; !ok {
		m.bad("text", "required", "is required: an object with fr and en")
	} else if t, err := decodeObject(raw, "text"); err != nil {
		m.bad("text", "invalid_type", "must be an object with fr and en strings")
	} else {
		tm := newMembers(t)
		text = privacy.Text{FR: tm.str("fr"), EN: tm.str("en")}
		if err := tm.done(); err != nil {
			for _, fe := range fidelis.AsError(err).Fields {
				m.bad("text."+fe.Field, fe.Rule, fe.Message)
			}
		}
	}
	if err := m.done(); err != nil {
		return err
	}
	n, err := s.Consents.PublishNotice(r.Context(), p, text)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, noticeJSON(n))
}

// SubjectStateJSON renders a customer's privacy state.
func SubjectStateJSON(id fidelis.CustomerID, st *privacy.SubjectState) map[string]any {
	out := map[string]any{"customer_id": id, "restriction": nil, "marketing_objection": nil, "objections": []map[string]any{},
		"consents": consentStatesJSON(st.Consents), "archived_at": nil}
	if st.Restriction != nil {
		out["restriction"] = map[string]any{"since": st.Restriction.Since, "ground": st.Restriction.Ground, "reference": nullable(st.Restriction.Reference)}
	}
	if st.MarketingObjection != nil {
		out["marketing_objection"] = map[string]any{"at": *st.MarketingObjection}
	}
	if st.Archived != nil {
		out["archived_at"] = *st.Archived
	}
	var objs []map[string]any
	for _, p := range slices.Sorted(maps.Keys(st.Objections)) {
		o := st.Objections[p]
		item := map[string]any{"purpose": p, "at": o.At, "reference": nullable(o.Reference), "override": nil, "upheld": o.Override == nil}
		if o.Override != nil {
			item["override"] = map[string]any{"at": o.Override.At, "by": o.Override.By, "ground": o.Override.Ground, "reference": o.Override.Reference}
		}
		objs = append(objs, item)
	}
	if objs != nil {
		out["objections"] = objs
	}
	return out
}

func (s *Server) stateCheck(r *http.Request) error {
	// The role check only: an objection or a lifting must be recordable whatever the state.
	id, _ := fidelis.ParseCustomerID(r.PathValue("id"))
	return s.Consents.Check(r.Context(), purposeOf(r), fidelis.ActionUpdate, id)
}

func (s *Server) handlePrivacyState(w http.ResponseWriter, r *http.Request) error {
	id, err := customerID(r)
	if err != nil {
		return err
	}
	st, err := s.States.State(r.Context(), purposeOf(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, SubjectStateJSON(id, st))
}

func (s *Server) handleRestrict(w http.ResponseWriter, r *http.Request) error {
	id, err := customerID(r)
	if err != nil {
		return err
	}
	obj, err := readObject(w, r)
	if err != nil {
		return err
	}
	m := newMembers(obj)
	ground, ref := privacy.RestrictionGround(m.str("ground")), m.str("reference")
	if err := m.done(); err != nil {
		return err
	}
	st, err := s.States.Restrict(r.Context(), purposeOf(r), id, ground, ref)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, SubjectStateJSON(id, st))
}

func (s *Server) handleUnrestrict(w http.ResponseWriter, r *http.Request) error {
	id, err := customerID(r)
	if err != nil {
		return err
	}
	obj, err := readObject(w, r)
	if err != nil {
		return err
	}
	m := newMembers(obj)
	reason := privacy.LiftReason(m.str("reason"))
	if err := m.done(); err != nil {
		return err
	}
	st, err := s.States.Lift(r.Context(), purposeOf(r), id, reason)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, SubjectStateJSON(id, st))
}

func (s *Server) handleObject(w http.ResponseWriter, r *http.Request) error {
	id, err := customerID(r)
	if err != nil {
		return err
	}
	obj, err := readObject(w, r)
	if err != nil {
		return err
	}
	m := newMembers(obj)
	scope, ref := m.str("scope"), m.str("reference")
	if err := m.done(); err != nil {
		return err
	}
	st, err := s.States.Object(r.Context(), purposeOf(r), id, scope, ref)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, SubjectStateJSON(id, st))
}

func (s *Server) handleObjectionOverride(w http.ResponseWriter, r *http.Request) error {
	id, err := customerID(r)
	if err != nil {
		return err
	}
	obj, err := readObject(w, r)
	if err != nil {
		return err
	}
	m := newMembers(obj)
	ground, ref := m.str("ground"), m.str("reference")
	if err := m.done(); err != nil {
		return err
	}
	st, err := s.States.OverrideObjection(r.Context(), purposeOf(r), id, fidelis.Purpose(r.PathValue("purpose")), ground, ref)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, SubjectStateJSON(id, st))
}
