package httpapi

import (
	"context"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/consent"
	"github.com/fidelis/fidelis/privacy"
)

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
	var in consent.Input
	var collected *time.Time
	if err := members(w, r, map[string]any{
		"purpose": &in.Purpose, "channel": &in.Channel, "decision": &in.Decision, "notice_version": &in.NoticeVersion,
		"notice_hash": &in.NoticeHash, "method": &in.Method, "parental": &in.Parental, "reference": &in.Reference, "collected_at": &collected,
	}); err != nil {
		return err
	}
	if collected != nil {
		in.CollectedAt = *collected
	}
	if in.Method == "" {
		in.Method = consent.MethodAPI // the channel this call comes through
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
	var p fidelis.Purpose
	var text fidelis.Text
	if err := members(w, r, map[string]any{"purpose": &p, "text": &text}, "purpose", "text"); err != nil {
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

// stateOp runs one change of a customer's privacy state with the members of the request
// body decoded into spec, and answers the new state.
func (s *Server) stateOp(w http.ResponseWriter, r *http.Request, spec map[string]any, op func(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID) (*privacy.SubjectState, error)) error {
	id, err := customerID(r)
	if err != nil {
		return err
	}
	if err := members(w, r, spec); err != nil {
		return err
	}
	st, err := op(r.Context(), purposeOf(r), id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, SubjectStateJSON(id, st))
}

func (s *Server) handleRestrict(w http.ResponseWriter, r *http.Request) error {
	var ground privacy.RestrictionGround
	var ref string
	return s.stateOp(w, r, map[string]any{"ground": &ground, "reference": &ref}, func(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID) (*privacy.SubjectState, error) {
		return s.States.Restrict(ctx, p, id, ground, ref)
	})
}

func (s *Server) handleUnrestrict(w http.ResponseWriter, r *http.Request) error {
	var reason privacy.LiftReason
	return s.stateOp(w, r, map[string]any{"reason": &reason}, func(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID) (*privacy.SubjectState, error) {
		return s.States.Lift(ctx, p, id, reason)
	})
}

func (s *Server) handleObject(w http.ResponseWriter, r *http.Request) error {
	var scope, ref string
	return s.stateOp(w, r, map[string]any{"scope": &scope, "reference": &ref}, func(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID) (*privacy.SubjectState, error) {
		return s.States.Object(ctx, p, id, scope, ref)
	})
}

func (s *Server) handleObjectionOverride(w http.ResponseWriter, r *http.Request) error {
	var ground, ref string
	return s.stateOp(w, r, map[string]any{"ground": &ground, "reference": &ref}, func(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID) (*privacy.SubjectState, error) {
		return s.States.OverrideObjection(ctx, p, id, fidelis.Purpose(r.PathValue("purpose")), ground, ref)
	})
}
