package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/retention"
)

// retentionRoutes mounts the retention API (T-1..T-8). Rules, reports and runs are
// administrative (the role must manage privacy); legal holds and activity concern one
// customer and name their purpose. Every check runs before the request is parsed (P-1).
func (s *Server) retentionRoutes(api func(string, handler)) {
	guard := func(pattern string, check func(r *http.Request) error, h handler) {
		api(pattern, func(w http.ResponseWriter, r *http.Request) error {
			if s.Retention == nil {
				return &fidelis.Error{Code: fidelis.EUNAVAILABLE, Reason: "retention_unavailable", Message: "retention is not available in this installation"}
			}
			if err := check(r); err != nil {
				return err
			}
			return h(w, r)
		})
	}
	manage := func(action string) func(r *http.Request) error {
		return func(r *http.Request) error { return s.Retention.CheckManage(r.Context(), action) }
	}
	hold := func(r *http.Request) error {
		id, _ := fidelis.ParseCustomerID(r.PathValue("id"))
		return s.Retention.CheckHold(r.Context(), purposeOf(r), id)
	}
	guard("GET /api/v1/retention/rules", func(r *http.Request) error { return s.Retention.CheckRead(r.Context()) }, s.handleRetentionRules)
	guard("PUT /api/v1/retention/rules/{rule}", manage(retention.ActOverride), s.handleRetentionOverride)
	guard("GET /api/v1/retention/report", manage(retention.ActReport), s.handleRetentionReport)
	guard("POST /api/v1/retention/run", manage(retention.ActRun), s.handleRetentionRun)
	guard("GET /api/v1/retention/holds", manage(retention.ActRead), s.handleRetentionHolds)
	guard("POST /api/v1/customers/{id}/legal-holds", hold, s.handleHoldPlace)
	guard("POST /api/v1/customers/{id}/legal-holds/{hold}/lift", hold, s.handleHoldLift)
	guard("POST /api/v1/customers/{id}/activity", func(r *http.Request) error {
		id, _ := fidelis.ParseCustomerID(r.PathValue("id"))
		return s.Retention.CheckActivity(r.Context(), purposeOf(r), id)
	}, s.handleActivity)
}

// RetentionRuleJSON renders a rule with its override, if any.
func RetentionRuleJSON(r retention.Rule) map[string]any {
	m := map[string]any{
		"id": r.ID, "name": textJSON(r.Name), "description": textJSON(r.Description), "months": r.Months, "default_months": r.DefaultMonths,
		"notice": nullable(string(r.Notice)), "outcome": r.Outcome, "min_months": r.MinMonths, "override": nil,
	}
	if o := r.Override; o != nil {
		m["override"] = map[string]any{"months": o.Months, "reason": o.Reason, "by": o.By, "at": rfc3339(o.At)}
	}
	return m
}

// RetentionHoldJSON renders a legal hold.
func RetentionHoldJSON(h *retention.Hold) map[string]any {
	return map[string]any{
		"id": h.ID, "customer_id": h.CustomerID, "case": h.Case, "reason": h.Reason, "placed_by": h.PlacedBy, "placed_at": rfc3339(h.PlacedAt),
		"active": h.Active(), "lifted_by": nullable(h.LiftedBy), "lifted_at": optTime(h.LiftedAt), "lift_reason": nullable(h.LiftReason),
	}
}

func dateOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return rfc3339(t)
}

// RetentionDecisionJSON renders one line of a report: IDs, codes and dates only.
func RetentionDecisionJSON(d retention.Decision) map[string]any {
	holds := d.Holds
	if holds == nil {
		holds = []string{}
	}
	return map[string]any{
		"customer_id": d.CustomerID, "category": d.Category, "rule": d.Rule, "action": d.Action, "reason": d.Reason,
		"last_activity": rfc3339(d.LastActivity), "due": rfc3339(d.Due), "act_at": rfc3339(d.ActAt), "notice_at": dateOrNull(d.NoticeAt), "holds": holds,
	}
}

// RetentionReportJSON renders a report with at most limit lines.
func RetentionReportJSON(rep *retention.Report, limit int) map[string]any {
	counts := map[string]int{}
	for _, a := range retention.Actions() {
		counts[string(a)] = rep.Counts[a]
	}
	byRule := map[string]map[string]int{}
	for rule, c := range rep.ByRule {
		m := map[string]int{}
		for a, n := range c {
			m[string(a)] = n
		}
		byRule[string(rule)] = m
	}
	retention.SortLines(rep.Lines)
	lines := make([]map[string]any, 0, min(len(rep.Lines), limit))
	for i, d := range rep.Lines {
		if i == limit {
			break
		}
		lines = append(lines, RetentionDecisionJSON(d))
	}
	return map[string]any{
		"dry_run": rep.DryRun, "at": rfc3339(rep.At), "scanned": rep.Scanned, "failures": rep.Failures, "duration_ms": rep.Duration.Milliseconds(),
		"counts": counts, "by_rule": byRule, "lines": lines, "lines_total": len(rep.Lines), "lines_truncated": len(rep.Lines) > limit,
	}
}

func (s *Server) handleRetentionRules(w http.ResponseWriter, r *http.Request) error {
	rules, err := s.Retention.Rules(r.Context())
	if err != nil {
		return err
	}
	out := make([]map[string]any, len(rules))
	for i, ru := range rules {
		out[i] = RetentionRuleJSON(ru)
	}
	grace := s.Retention.Grace
	if grace <= 0 {
		grace = retention.DefaultGrace
	}
	return writeJSON(w, http.StatusOK, map[string]any{"rules": out, "grace_days": int(grace / (24 * time.Hour))})
}

func (s *Server) handleRetentionOverride(w http.ResponseWriter, r *http.Request) error {
	id, err := retention.ParseRuleID(r.PathValue("rule"))
	if err != nil {
		return err
	}
	var months int
	var reason string
	if err := members(w, r, map[string]any{"months": &months, "reason": &reason}, "months", "reason"); err != nil {
		return err
	}
	rule, err := s.Retention.OverrideRule(r.Context(), id, months, reason)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, RetentionRuleJSON(*rule))
}

// Report line limits.
const (
	defaultReportLines = 100
	maxReportLines     = 1000
)

func reportLimit(r *http.Request) (int, error) {
	l := r.URL.Query().Get("limit")
	if l == "" {
		return defaultReportLines, nil
	}
	n, err := strconv.Atoi(l)
	if err != nil || n < 0 || n > maxReportLines {
		return 0, fidelis.Invalid(fidelis.FieldError{Field: "limit", Rule: "out_of_range", Message: "must be an integer from 0 to 1000"})
	}
	return n, nil
}

func (s *Server) handleRetentionReport(w http.ResponseWriter, r *http.Request) error {
	limit, err := reportLimit(r)
	if err != nil {
		return err
	}
	rep, err := s.Retention.Report(r.Context(), nil)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, RetentionReportJSON(rep, limit))
}

func (s *Server) handleRetentionRun(w http.ResponseWriter, r *http.Request) error {
	limit, err := reportLimit(r)
	if err != nil {
		return err
	}
	if _, err := readMembers(w, r); err != nil {
		return err
	}
	rep, err := s.Retention.Run(r.Context(), nil)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, RetentionReportJSON(rep, limit))
}

func (s *Server) handleRetentionHolds(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := retention.HoldFilter{CustomerID: fidelis.CustomerID(q.Get("customer_id")), ActiveOnly: true}
	switch q.Get("active") {
	case "", "true":
	case "false":
		f.ActiveOnly = false
	default:
		return fidelis.Invalid(fidelis.FieldError{Field: "active", Rule: "invalid", Message: "must be true or false"})
	}
	hs, err := s.Retention.Holds(r.Context(), f)
	if err != nil {
		return err
	}
	items := make([]map[string]any, len(hs))
	for i, h := range hs {
		items[i] = RetentionHoldJSON(h)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (s *Server) handleHoldPlace(w http.ResponseWriter, r *http.Request) error {
	id, err := customerID(r)
	if err != nil {
		return err
	}
	var in retention.HoldInput
	if err := members(w, r, map[string]any{"case": &in.Case, "reason": &in.Reason}, "case", "reason"); err != nil {
		return err
	}
	h, err := s.Retention.PlaceHold(r.Context(), purposeOf(r), id, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, RetentionHoldJSON(h))
}

func (s *Server) handleHoldLift(w http.ResponseWriter, r *http.Request) error {
	id, err := customerID(r)
	if err != nil {
		return err
	}
	var reason string
	if err := members(w, r, map[string]any{"reason": &reason}, "reason"); err != nil {
		return err
	}
	h, err := s.Retention.LiftHold(r.Context(), purposeOf(r), id, r.PathValue("hold"), reason)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, RetentionHoldJSON(h))
}

func (s *Server) handleActivity(w http.ResponseWriter, r *http.Request) error {
	id, err := customerID(r)
	if err != nil {
		return err
	}
	var kind string
	var at time.Time
	if err := members(w, r, map[string]any{"kind": &kind, "at": &at}, "kind"); err != nil {
		return err
	}
	res, err := s.Retention.RecordActivity(r.Context(), purposeOf(r), id, retention.Kind(kind), at)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{
		"customer_id": res.CustomerID, "kind": res.Kind, "at": rfc3339(res.At), "last_contact": rfc3339(res.LastContact), "clock_restarted": res.ClockRestarted,
	})
}
