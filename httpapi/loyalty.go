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
	"unicode/utf8"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/loyalty"
)

// IdempotencyKeyHeader names the key that makes an external loyalty operation idempotent
// (L-7): a replay with the same key and body returns the first result.
const IdempotencyKeyHeader = "Idempotency-Key"

// loyaltyGuards returns the two ways loyalty routes are registered: lp checks, before the
// handler, that the caller's role holds the request's purpose for action a on the member
// named by {id}, if any (P-1; the service decides again, with the lawfulness check);
// admin requires the manage_loyalty action.
func (s *Server) loyaltyGuards(api func(pattern string, h handler)) (lp func(pattern string, a fidelis.Action, h handler), admin func(pattern string, h handler)) {
	lp = func(pattern string, a fidelis.Action, h handler) {
		api(pattern, func(w http.ResponseWriter, r *http.Request) error {
			id, _ := fidelis.ParseCustomerID(r.PathValue("id"))
			if err := s.Loyalty.Check(r.Context(), purposeOf(r), a, id); err != nil {
				return err
			}
			return h(w, r)
		})
	}
	admin = func(pattern string, h handler) {
		api(pattern, func(w http.ResponseWriter, r *http.Request) error {
			if err := s.Loyalty.CheckManage(r.Context()); err != nil {
				return err
			}
			return h(w, r)
		})
	}
	return lp, admin
}

// loyaltyRoutes mounts the loyalty API. Member operations run under a purpose checked
// before the request is parsed (P-1); programme administration needs the manage_loyalty
// action.
func (s *Server) loyaltyRoutes(api func(pattern string, h handler)) {
	lp, admin := s.loyaltyGuards(api)
	admin("GET /api/v1/loyalty/programmes", s.handleProgrammeList)
	admin("POST /api/v1/loyalty/programmes", s.handleProgrammeCreate)
	api("GET /api/v1/loyalty/programmes/{pid}", s.handleProgrammeGet)
	admin("POST /api/v1/loyalty/programmes/{pid}/terms", s.handleTermsPublish)
	admin("POST /api/v1/loyalty/programmes/{pid}/rules", s.handleRuleCreate)
	admin("GET /api/v1/loyalty/liability", s.handleLiability)
	lp("POST /api/v1/loyalty/programmes/{pid}/members", fidelis.ActionCreate, s.handleJoin)
	lp("POST /api/v1/loyalty/programmes/{pid}/members/{id}/terms-acceptances", fidelis.ActionUpdate, s.handleAcceptTerms)
	lp("POST /api/v1/loyalty/programmes/{pid}/members/{id}/leave", fidelis.ActionUpdate, s.handleLeave)
	lp("POST /api/v1/loyalty/programmes/{pid}/members/{id}/redemptions", fidelis.ActionUpdate, s.handleRedeem)
	lp("POST /api/v1/loyalty/programmes/{pid}/members/{id}/adjustments", fidelis.ActionUpdate, s.handleAdjust)
	lp("GET /api/v1/loyalty/members/{id}", fidelis.ActionRead, s.handleMemberGet)
	lp("POST /api/v1/orders", fidelis.ActionUpdate, s.handleOrderCreate)
	lp("GET /api/v1/orders/{oid}", fidelis.ActionRead, s.handleOrderGet)
	lp("POST /api/v1/orders/{oid}/refunds", fidelis.ActionUpdate, s.handleRefund)
}

// members decodes a strict JSON object into the targets named in spec; required members
// must be present and not null. Unknown members and wrong types are field errors.
func members(w http.ResponseWriter, r *http.Request, spec map[string]any, required ...string) error {
	obj, err := readObject(w, r)
	if err != nil {
		return err
	}
	return decodeMembers(obj, spec, required...)
}

func decodeMembers(obj map[string]json.RawMessage, spec map[string]any, required ...string) error {
	var errs []fidelis.FieldError
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		target, ok := spec[k]
		if !ok {
			errs = append(errs, fidelis.FieldError{Field: memberName(k), Rule: "unknown_field", Message: "is not a known member"})
			continue
		}
		raw := obj[k]
		if string(bytes.TrimSpace(raw)) == "null" {
			continue
		}
		if err := decodeMember(raw, target); err != nil {
			errs = append(errs, fidelis.FieldError{Field: k, Rule: "invalid_type", Message: "has the wrong type or unknown members; see the API document"})
		}
	}
	for _, k := range required {
		if raw, ok := obj[k]; !ok || string(bytes.TrimSpace(raw)) == "null" {
			errs = append(errs, fidelis.FieldError{Field: k, Rule: "required", Message: "is required"})
		}
	}
	if len(errs) > 0 {
		slices.SortFunc(errs, func(a, b fidelis.FieldError) int { return strings.Compare(a.Field, b.Field) })
		return fidelis.Invalid(errs...)
	}
	return nil
}

// decodeMember decodes one member's value (a single JSON value, not null) into target,
// refusing unknown members of objects. Plain strings and times, most of what a till batch
// sends, skip the reflective decoder: same result, a fraction of the cost.
func decodeMember(raw json.RawMessage, target any) error {
	raw = bytes.TrimSpace(raw) // JSON whitespace around a value means nothing
	switch t := target.(type) {
	case *string:
		if s, ok := plainString(raw); ok {
			*t = s
			return nil
		}
	case *time.Time:
		return t.UnmarshalJSON(raw)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(target)
}

// plainString returns the content of a JSON string without escapes, in valid UTF-8 (what
// encoding/json would decode it to); ok is false for anything else.
func plainString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	for _, c := range body {
		if c == '\\' || c == '"' || c < 0x20 {
			return "", false
		}
	}
	if !utf8.Valid(body) {
		return "", false
	}
	return string(body), true
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func optTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return rfc3339(*t)
}

func textJSON(t fidelis.Text) map[string]string { return map[string]string{"fr": t.FR, "en": t.EN} }

func termsJSON(t *loyalty.Terms) map[string]any {
	return map[string]any{
		"version": t.Version, "text": textJSON(t.Text), "changes": textJSON(t.Changes),
		"mediator":      map[string]string{"name": t.Mediator.Name, "website": t.Mediator.Website, "address": t.Mediator.Address},
		"expiry_months": t.ExpiryMonths, "effective_at": rfc3339(t.EffectiveAt), "published_at": rfc3339(t.PublishedAt), "hash": t.Hash,
	}
}

func ruleJSON(r *loyalty.Rule) map[string]any {
	mult := r.Multipliers
	if mult == nil {
		mult = []loyalty.Multiplier{}
	}
	countries := r.Countries
	if countries == nil {
		countries = []string{}
	}
	return map[string]any{
		"id": r.ID, "version": r.Version, "name": textJSON(r.Name), "points_per_unit": r.PointsPerUnit, "multipliers": mult,
		"min_basket_cents": r.MinBasketCents, "valid_from": optTime(r.ValidFrom), "valid_until": optTime(r.ValidUntil),
		"countries": countries, "min_age": r.MinAge, "created_at": rfc3339(r.CreatedAt),
	}
}

func programmeJSON(p *loyalty.Programme) map[string]any {
	return map[string]any{"id": p.ID, "name": p.Name, "currency": p.Currency, "point_value_cents": p.PointValueCents,
		"notice_days": p.NoticeDays, "created_at": rfc3339(p.CreatedAt)}
}

func programmeViewJSON(v *loyalty.ProgrammeView) map[string]any {
	m := programmeJSON(v.Programme)
	terms := make([]map[string]any, len(v.Terms))
	for i, t := range v.Terms {
		terms[i] = termsJSON(t)
	}
	rules := make([]map[string]any, len(v.Rules))
	for i, r := range v.Rules {
		rules[i] = ruleJSON(r)
	}
	m["terms"], m["rules"], m["current_terms_version"] = terms, rules, nil
	if v.Current != nil {
		m["current_terms_version"] = v.Current.Version
	}
	return m
}

// The documents of the order and ledger responses are structs, not maps: they are what
// every earn answers, and a struct is encoded without building or sorting a map. Their
// members are declared in alphabetical order, the order encoding/json gives a map's.

// transactionDoc is a ledger transaction with its postings and its reason.
type transactionDoc struct {
	At           string             `json:"at"`
	Customer     fidelis.CustomerID `json:"customer_id"`
	ID           string             `json:"id"`
	Kind         loyalty.Kind       `json:"kind"`
	Points       int64              `json:"points"`
	Postings     []postingDoc       `json:"postings"`
	Programme    string             `json:"programme_id"`
	Reason       textDoc            `json:"reason"`
	Reference    string             `json:"reference"`
	Rule         *ruleRef           `json:"rule"`
	TermsVersion int                `json:"terms_version"`
}

type postingDoc struct {
	Account string  `json:"account"`
	Amount  int64   `json:"amount"`
	Lot     *string `json:"lot_id"`
}

type ruleRef struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
}

// textDoc is a French and English text.
type textDoc struct {
	EN string `json:"en"`
	FR string `json:"fr"`
}

// mediatorDoc names the consumer mediator.
type mediatorDoc struct {
	Address string `json:"address"`
	Name    string `json:"name"`
	Website string `json:"website"`
}

// transactionJSON renders a ledger transaction with its postings and its reason.
func transactionJSON(t *loyalty.Transaction) transactionDoc {
	postings := make([]postingDoc, len(t.Postings))
	for i, p := range t.Postings {
		postings[i] = postingDoc{Account: p.Name(), Amount: p.Amount}
		if p.Lot != "" {
			postings[i].Lot = &t.Postings[i].Lot
		}
	}
	var rule *ruleRef
	if t.RuleID != "" {
		rule = &ruleRef{ID: t.RuleID, Version: t.RuleVersion}
	}
	return transactionDoc{
		At: rfc3339(t.At), Customer: t.Customer, ID: t.ID, Kind: t.Kind, Points: t.MemberDelta(), Postings: postings, Programme: t.Programme,
		Reason: textDoc{EN: t.Reason.EN, FR: t.Reason.FR}, Reference: t.Reference, Rule: rule, TermsVersion: t.TermsVersion,
	}
}

func memberViewJSON(v *loyalty.MemberView) map[string]any {
	lots := make([]map[string]any, len(v.Lots))
	for i, l := range v.Lots {
		lots[i] = map[string]any{"id": l.ID, "earned_at": rfc3339(l.EarnedAt), "expires_at": optTime(l.ExpiresAt), "points": l.Points, "remaining": l.Remaining}
	}
	var next any
	if v.NextExpiry != nil {
		next = map[string]any{"points": v.NextExpiry.Points, "at": rfc3339(v.NextExpiry.At)}
	}
	acc := make([]map[string]any, len(v.Acceptances))
	for i, a := range v.Acceptances {
		acc[i] = map[string]any{"terms_version": a.TermsVersion, "terms_hash": a.TermsHash, "accepted_at": rfc3339(a.AcceptedAt), "channel": a.Channel}
	}
	terms := map[string]any{"accepted_version": v.Member.TermsVersion, "applicable_version": nil, "pending_version": nil, "pending_effective_at": nil, "mediator": nil}
	if v.Applicable != nil {
		terms["applicable_version"] = v.Applicable.Version
		// the mediator is shown to the member with their terms.
		terms["mediator"] = map[string]string{"name": v.Applicable.Mediator.Name, "website": v.Applicable.Mediator.Website, "address": v.Applicable.Mediator.Address}
	}
	if v.Pending != nil {
		terms["pending_version"], terms["pending_effective_at"] = v.Pending.Version, rfc3339(v.Pending.EffectiveAt)
	}
	m := map[string]any{
		"programme_id": v.Programme.ID, "programme_name": v.Programme.Name, "customer_id": v.Member.Customer,
		"active": v.Member.Active(), "joined_at": rfc3339(v.Member.JoinedAt), "left_at": optTime(v.Member.LeftAt),
		"balance": v.Member.Balance, "debt": v.Member.Debt, "currency": v.Programme.Currency,
		"balance_value_cents": v.Member.Balance * v.Programme.PointValueCents,
		"lots":                lots, "next_expiry": next, "terms": terms, "acceptances": acc,
	}
	rewardsMemberJSON(m, v) // tier, progress and history, referral, reserved points (rewards.go)
	return m
}

// replayed marks a response that repeats the first result of an Idempotency-Key.
func replayed(w http.ResponseWriter, yes bool) {
	if yes {
		w.Header().Set("Idempotent-Replayed", "true")
	}
}

func (s *Server) handleProgrammeList(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.Loyalty.Programmes(r.Context())
	if err != nil {
		return err
	}
	items := make([]map[string]any, len(ps))
	for i, p := range ps {
		items[i] = programmeJSON(p)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (s *Server) handleProgrammeCreate(w http.ResponseWriter, r *http.Request) error {
	var in loyalty.ProgrammeInput
	var notice int
	spec := map[string]any{"name": &in.Name, "currency": &in.Currency, "point_value_cents": &in.PointValueCents, "notice_days": &notice}
	obj, err := readObject(w, r)
	if err != nil {
		return err
	}
	if err := decodeMembers(obj, spec, "name", "currency", "point_value_cents"); err != nil {
		return err
	}
	if raw, ok := obj["notice_days"]; ok && string(raw) != "null" {
		in.NoticeDays = &notice
	}
	p, err := s.Loyalty.CreateProgramme(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/loyalty/programmes/"+p.ID)
	return writeJSON(w, http.StatusCreated, programmeViewJSON(&loyalty.ProgrammeView{Programme: p}))
}

func (s *Server) handleProgrammeGet(w http.ResponseWriter, r *http.Request) error {
	v, err := s.Loyalty.GetProgramme(r.Context(), r.PathValue("pid"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, programmeViewJSON(v))
}

func (s *Server) handleTermsPublish(w http.ResponseWriter, r *http.Request) error {
	var in loyalty.TermsInput
	var eff time.Time
	spec := map[string]any{"text": &in.Text, "changes": &in.Changes, "mediator": &in.Mediator, "expiry_months": &in.ExpiryMonths, "effective_at": &eff}
	if err := members(w, r, spec, "text", "mediator", "expiry_months"); err != nil {
		return err
	}
	in.EffectiveAt = eff
	t, err := s.Loyalty.PublishTerms(r.Context(), r.PathValue("pid"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, termsJSON(t))
}

func (s *Server) handleRuleCreate(w http.ResponseWriter, r *http.Request) error {
	rule := loyalty.Rule{Programme: r.PathValue("pid")}
	spec := map[string]any{"id": &rule.ID, "name": &rule.Name, "points_per_unit": &rule.PointsPerUnit, "multipliers": &rule.Multipliers,
		"min_basket_cents": &rule.MinBasketCents, "valid_from": &rule.ValidFrom, "valid_until": &rule.ValidUntil, "countries": &rule.Countries, "min_age": &rule.MinAge}
	if err := members(w, r, spec, "id", "name", "points_per_unit"); err != nil {
		return err
	}
	for _, t := range []**time.Time{&rule.ValidFrom, &rule.ValidUntil} {
		if *t != nil {
			u := fidelis.UTC(**t)
			*t = &u
		}
	}
	out, err := s.Loyalty.CreateRule(r.Context(), rule)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, ruleJSON(out))
}

func (s *Server) handleLiability(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	at := time.Now()
	if v := q.Get("at"); v != "" {
		t, err := parseDateOrTime(v)
		if err != nil {
			return fidelis.Invalid(fidelis.FieldError{Field: "at", Rule: "invalid_date", Message: "must be a date (YYYY-MM-DD, meaning its end) or an RFC 3339 time"})
		}
		at = t
	}
	l, err := s.Loyalty.Liability(r.Context(), q.Get("programme_id"), at)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"programme_id": l.Programme.ID, "at": rfc3339(l.At), "points": l.Points,
		"value_cents": l.ValueCents, "currency": l.Programme.Currency, "point_value_cents": l.Programme.PointValueCents})
}

// parseDateOrTime reads a date as the end of that day (UTC), or an RFC 3339 time.
func parseDateOrTime(v string) (time.Time, error) {
	if d, err := time.Parse(time.DateOnly, v); err == nil {
		return d.AddDate(0, 0, 1).Add(-time.Microsecond), nil
	}
	return time.Parse(time.RFC3339Nano, v)
}

func (s *Server) handleJoin(w http.ResponseWriter, r *http.Request) error {
	in := loyalty.MembershipInput{Programme: r.PathValue("pid"), Key: r.Header.Get(IdempotencyKeyHeader)}
	var customer string
	// C-3: joining takes the customer, the terms version and the channel; no consent of any
	// kind is asked for or accepted here.
	if err := members(w, r, map[string]any{"customer_id": &customer, "terms_version": &in.TermsVersion, "channel": &in.Channel, "referral_code": &in.ReferralCode}, "customer_id", "terms_version", "channel"); err != nil {
		return err
	}
	id, err := fidelis.ParseCustomerID(customer)
	if err != nil {
		return err
	}
	in.Customer = id
	v, again, err := s.Loyalty.Join(r.Context(), purposeOf(r), in)
	if err != nil {
		return err
	}
	replayed(w, again)
	w.Header().Set("Location", "/api/v1/loyalty/members/"+string(id))
	return writeJSON(w, http.StatusCreated, memberViewJSON(v))
}

func (s *Server) handleAcceptTerms(w http.ResponseWriter, r *http.Request) error {
	id, err := customerID(r)
	if err != nil {
		return err
	}
	in := loyalty.MembershipInput{Programme: r.PathValue("pid"), Customer: id, Key: r.Header.Get(IdempotencyKeyHeader)}
	if err := members(w, r, map[string]any{"terms_version": &in.TermsVersion, "channel": &in.Channel}, "terms_version", "channel"); err != nil {
		return err
	}
	v, again, err := s.Loyalty.AcceptTerms(r.Context(), purposeOf(r), in)
	if err != nil {
		return err
	}
	replayed(w, again)
	return writeJSON(w, http.StatusOK, memberViewJSON(v))
}

func (s *Server) handleLeave(w http.ResponseWriter, r *http.Request) error {
	id, err := customerID(r)
	if err != nil {
		return err
	}
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) > 0 {
		obj, err := decodeObject(body, "the request body")
		if err != nil {
			return err
		}
		if err := decodeMembers(obj, map[string]any{}); err != nil {
			return err
		}
	}
	in := loyalty.MembershipInput{Programme: r.PathValue("pid"), Customer: id, Key: r.Header.Get(IdempotencyKeyHeader)}
	v, again, err := s.Loyalty.Leave(r.Context(), purposeOf(r), in)
	if err != nil {
		return err
	}
	replayed(w, again)
	return writeJSON(w, http.StatusOK, memberViewJSON(v))
}

func (s *Server) handleRedeem(w http.ResponseWriter, r *http.Request) error {
	id, err := customerID(r)
	if err != nil {
		return err
	}
	in := loyalty.RedeemInput{Programme: r.PathValue("pid"), Customer: id, Key: r.Header.Get(IdempotencyKeyHeader)}
	if err := members(w, r, map[string]any{"points": &in.Points, "reference": &in.Reference}, "points"); err != nil {
		return err
	}
	res, err := s.Loyalty.Redeem(r.Context(), purposeOf(r), in)
	if err != nil {
		return err
	}
	replayed(w, res.Replayed)
	return writeJSON(w, http.StatusCreated, transactionJSON(res.Transaction))
}

func (s *Server) handleAdjust(w http.ResponseWriter, r *http.Request) error {
	id, err := customerID(r)
	if err != nil {
		return err
	}
	in := loyalty.AdjustInput{Programme: r.PathValue("pid"), Customer: id, Key: r.Header.Get(IdempotencyKeyHeader)}
	if err := members(w, r, map[string]any{"points": &in.Points, "reason": &in.Reason}, "points", "reason"); err != nil {
		return err
	}
	res, err := s.Loyalty.Adjust(r.Context(), purposeOf(r), in)
	if err != nil {
		return err
	}
	replayed(w, res.Replayed)
	return writeJSON(w, http.StatusCreated, transactionJSON(res.Transaction))
}

func (s *Server) handleMemberGet(w http.ResponseWriter, r *http.Request) error {
	id, err := customerID(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	limit := 0
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > loyalty.MaxPageSize {
			return fidelis.Invalid(fidelis.FieldError{Field: "limit", Rule: "out_of_range", Message: fmt.Sprintf("must be an integer from 1 to %d", loyalty.MaxPageSize)})
		}
		limit = n
	}
	v, err := s.Loyalty.Member(r.Context(), purposeOf(r), id, q.Get("cursor"), limit)
	if err != nil {
		return err
	}
	ms := make([]map[string]any, len(v.Memberships))
	for i, m := range v.Memberships {
		ms[i] = memberViewJSON(m)
	}
	hist := make([]transactionDoc, len(v.History.Items))
	for i, t := range v.History.Items {
		hist[i] = transactionJSON(t)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"customer_id": v.Customer, "memberships": ms, "history": hist, "next_cursor": nullable(v.History.Next)})
}

// orderDoc is an order with the ledger transactions it made.
type orderDoc struct {
	Channel      string              `json:"channel"`
	Currency     string              `json:"currency"`
	Customer     fidelis.CustomerID  `json:"customer_id"`
	ID           string              `json:"id"`
	Lines        []loyalty.OrderLine `json:"lines"`
	Mediator     *mediatorDoc        `json:"mediator"`
	OrderedAt    string              `json:"ordered_at"`
	Points       int64               `json:"points"`
	Programme    string              `json:"programme_id"`
	Store        string              `json:"store"`
	Transactions []transactionDoc    `json:"transactions"`
}

func orderJSON(res *loyalty.OrderResult) orderDoc {
	o := res.Order
	d := orderDoc{Channel: o.Channel, Currency: o.Currency, Customer: o.Customer, ID: o.ID, Lines: o.Lines, OrderedAt: rfc3339(o.OrderedAt),
		Programme: o.Programme, Store: o.Store, Transactions: make([]transactionDoc, len(res.Transactions))}
	for i, t := range res.Transactions {
		d.Transactions[i] = transactionJSON(t)
		d.Points += t.MemberDelta()
	}
	if m := res.Mediator; m != nil {
		// order confirmations name the consumer mediator.
		d.Mediator = &mediatorDoc{Address: m.Address, Name: m.Name, Website: m.Website}
	}
	return d
}

func (s *Server) handleOrderCreate(w http.ResponseWriter, r *http.Request) error {
	body, err := readObjectBody(w, r)
	if err != nil {
		return err
	}
	in, err := decodeOrder(body)
	if err != nil {
		return err
	}
	in.Key = r.Header.Get(IdempotencyKeyHeader)
	res, err := s.Loyalty.PlaceOrder(r.Context(), purposeOf(r), in)
	if err != nil {
		return err
	}
	replayed(w, res.Replayed)
	w.Header().Set("Location", "/api/v1/orders/"+res.Order.ID)
	return writeJSON(w, http.StatusCreated, orderJSON(res))
}

func (s *Server) handleRefund(w http.ResponseWriter, r *http.Request) error {
	in := loyalty.RefundInput{Order: r.PathValue("oid"), Key: r.Header.Get(IdempotencyKeyHeader)}
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) > 0 {
		obj, err := decodeObject(body, "the request body")
		if err != nil {
			return err
		}
		if err := decodeMembers(obj, map[string]any{"lines": &in.Lines}); err != nil {
			return err
		}
	}
	res, err := s.Loyalty.Refund(r.Context(), purposeOf(r), in)
	if err != nil {
		return err
	}
	replayed(w, res.Replayed)
	return writeJSON(w, http.StatusCreated, orderJSON(res))
}

func (s *Server) handleOrderGet(w http.ResponseWriter, r *http.Request) error {
	res, err := s.Loyalty.GetOrder(r.Context(), purposeOf(r), r.PathValue("oid"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, orderJSON(res))
}
