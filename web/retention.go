package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/retention"
)

// retentionRoutes mounts the retention page (T-1..T-8): rules, the dry-run report, legal
// holds, and the forms that override a rule, place or lift a hold and run retention. The
// retention service checks the role (manage_privacy) and audits refusals.
func (s *server) retentionRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /app/retention", s.private(s.handleRetention))
	mux.HandleFunc("POST /app/retention/run", s.private(s.handleRetentionRun))
	mux.HandleFunc("POST /app/retention/rules", s.private(s.handleRetentionOverride))
	mux.HandleFunc("POST /app/retention/holds", s.private(s.handleRetentionHold))
	mux.HandleFunc("POST /app/retention/holds/{hold}/lift", s.private(s.handleRetentionLift))
}

// retentionReportLines bounds the lines the page shows; the counts cover everyone.
const retentionReportLines = 200

// retentionView is the data of the retention page.
type retentionView struct {
	Rules   retention.Rules
	Report  *retention.Report
	Lines   []retention.Decision
	More    int // lines not shown
	Holds   []*retention.Hold
	Runs    []*retention.Run
	Actions []retention.Action
	Errors  []fieldMsg
	Form    map[string]string
}

// Count returns the report's count for action a.
func (rv *retentionView) Count(a retention.Action) int { return rv.Report.Counts[a] }

// retentionPage renders the page with report rep (a dry run when nil).
func (s *server) retentionPage(w http.ResponseWriter, r *http.Request, v *visit, rep *retention.Report, errs []fieldMsg, form map[string]string, status int) error {
	ctx := r.Context()
	rules, err := s.app.Retention.Rules(ctx)
	if err != nil {
		return err
	}
	if rep == nil {
		if rep, err = s.app.Retention.Report(ctx, nil); err != nil {
			return err
		}
	}
	holds, err := s.app.Retention.Holds(ctx, retention.HoldFilter{ActiveOnly: true})
	if err != nil {
		return err
	}
	runs, err := s.app.Retention.Runs(ctx, 5)
	if err != nil {
		return err
	}
	retention.SortLines(rep.Lines)
	rv := &retentionView{Rules: rules, Report: rep, Lines: rep.Lines, Holds: holds, Runs: runs, Actions: retention.Actions(), Errors: errs, Form: form}
	if len(rv.Lines) > retentionReportLines {
		rv.More = len(rv.Lines) - retentionReportLines
		rv.Lines = rv.Lines[:retentionReportLines]
	}
	if rv.Form == nil {
		rv.Form = map[string]string{}
	}
	p := s.newPage(r, v, "retention", s.cat.t(v.lang, "retention.heading"), rv)
	p.Path = "/app/retention"
	if d := r.URL.Query().Get("done"); d != "" && s.cat.has("retention.flash."+d) {
		p.Flash = s.cat.t(v.lang, "retention.flash."+d)
	}
	if !rep.DryRun {
		p.Flash = s.cat.t(v.lang, "retention.flash.run")
	}
	return s.render(w, status, p)
}

func (s *server) handleRetention(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.retentionPage(w, r, v, nil, nil, nil, http.StatusOK)
}

// handleRetentionRun runs retention now and shows what it did.
func (s *server) handleRetentionRun(w http.ResponseWriter, r *http.Request, v *visit) error {
	rep, err := s.app.Retention.Run(r.Context(), nil)
	if err != nil {
		return err
	}
	return s.retentionPage(w, r, v, rep, nil, nil, http.StatusOK)
}

// retentionFormErrors re-shows the page with err's field errors when it has some.
func (s *server) retentionFormErrors(w http.ResponseWriter, r *http.Request, v *visit, err error, form map[string]string) error {
	if e := fidelis.AsError(err); e != nil && e.Code == fidelis.EINVALID && len(e.Fields) > 0 {
		var msgs []fieldMsg
		for _, fe := range e.Fields {
			msgs = append(msgs, s.cat.fieldError(v.lang, fe))
		}
		return s.retentionPage(w, r, v, nil, msgs, form, http.StatusUnprocessableEntity)
	}
	return err
}

func (s *server) handleRetentionOverride(w http.ResponseWriter, r *http.Request, v *visit) error {
	f := r.PostForm
	form := map[string]string{"rule": f.Get("rule"), "months": f.Get("months"), "override_reason": f.Get("reason")}
	months, err := strconv.Atoi(strings.TrimSpace(f.Get("months")))
	if err != nil {
		err = fidelis.Invalid(fidelis.FieldError{Field: "months", Rule: "out_of_range", Message: "must be a number of months"})
	} else {
		_, err = s.app.Retention.OverrideRule(r.Context(), retention.RuleID(f.Get("rule")), months, f.Get("reason"))
	}
	if err != nil {
		return s.retentionFormErrors(w, r, v, err, form)
	}
	http.Redirect(w, r, "/app/retention?done=rule", http.StatusSeeOther)
	return nil
}

func (s *server) handleRetentionHold(w http.ResponseWriter, r *http.Request, v *visit) error {
	f := r.PostForm
	form := map[string]string{"customer_id": f.Get("customer_id"), "case": f.Get("case"), "hold_reason": f.Get("reason")}
	_, err := s.app.Retention.PlaceHold(r.Context(), fidelis.PurposeDataProtection, fidelis.CustomerID(strings.TrimSpace(f.Get("customer_id"))),
		retention.HoldInput{Case: f.Get("case"), Reason: f.Get("reason")})
	if err != nil {
		return s.retentionFormErrors(w, r, v, err, form)
	}
	http.Redirect(w, r, "/app/retention?done=hold", http.StatusSeeOther)
	return nil
}

func (s *server) handleRetentionLift(w http.ResponseWriter, r *http.Request, v *visit) error {
	f := r.PostForm
	_, err := s.app.Retention.LiftHold(r.Context(), fidelis.PurposeDataProtection, fidelis.CustomerID(f.Get("customer_id")), r.PathValue("hold"), f.Get("reason"))
	if err != nil {
		return s.retentionFormErrors(w, r, v, err, nil)
	}
	http.Redirect(w, r, "/app/retention?done=lift", http.StatusSeeOther)
	return nil
}
