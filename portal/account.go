package portal

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/httpapi"
	"github.com/fidelis/fidelis/loyalty"
	"github.com/fidelis/fidelis/privacy"
	"github.com/fidelis/fidelis/rights"
	"github.com/fidelis/fidelis/selfservice"
	"github.com/fidelis/fidelis/web/webform"
)

// fieldRow is one field of the customer's record as the page shows it.
type fieldRow struct {
	Field string
	Label string
	Value string
}

// dataView is the "my data" page.
type dataView struct {
	Since  time.Time
	Fields []fieldRow
}

func (s *server) display(lang string, f fidelis.Field, v fidelis.Secret) string {
	raw := v.Reveal()
	switch f {
	case fidelis.FieldBirthDate:
		if d, err := time.Parse(time.DateOnly, raw); err == nil {
			return webform.Date(lang, d)
		}
	case fidelis.FieldLocale:
		if raw == "fr" || raw == "en" {
			return s.cat.t(lang, "locale."+raw)
		}
	}
	return raw
}

// handleData shows what is held about the customer (GDPR art. 15), every field, empty
// ones included so that nothing is hidden.
func (s *server) handleData(w http.ResponseWriter, r *http.Request, v *visit) error {
	c, err := s.svc.Record(r.Context(), v.sess)
	if err != nil {
		return err
	}
	dv := &dataView{Since: c.CreatedAt}
	for _, f := range fidelis.CustomerFields() {
		if f == fidelis.FieldAttributes {
			continue
		}
		dv.Fields = append(dv.Fields, fieldRow{Field: string(f), Label: s.cat.t(v.lang, "field."+string(f)), Value: s.display(v.lang, f, c.Get(f))})
	}
	for _, k := range slices.Sorted(maps.Keys(c.Attributes)) {
		dv.Fields = append(dv.Fields, fieldRow{Field: "attributes." + k, Label: s.cat.t(v.lang, "field.attributes") + " · " + k, Value: c.Attributes[k].Reveal()})
	}
	return s.render(w, http.StatusOK, s.newPage(r, v, "data", "data.title", dv))
}

// handleExport answers an access or portability request at once and sends the browser to
// its download.
func (s *server) handleExport(w http.ResponseWriter, r *http.Request, v *visit) error {
	c, err := s.svc.ExportNow(r.Context(), v.sess, rights.Kind(r.PostForm.Get("kind")))
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/portal/requests/"+c.ID+"/download", http.StatusSeeOther)
	return nil
}

// handleDownload serves the answer to one of the customer's access requests (JSON, R-6)
// or portability requests (zip of JSON and CSV, R-11).
func (s *server) handleDownload(w http.ResponseWriter, r *http.Request, v *visit) error {
	ctx := r.Context()
	ex, c, err := s.svc.Download(ctx, v.sess, r.PathValue("id"))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	h := w.Header()
	switch c.Kind {
	case rights.KindAccess:
		var tables []*rights.Table
		if tables, err = s.svc.Tables(ctx, v.sess, c); err != nil {
			return err
		}
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		err = enc.Encode(httpapi.AccessJSON(ex, tables))
		h.Set("Content-Type", "application/json")
		h.Set("Content-Disposition", `attachment; filename="`+c.ID+`.json"`)
	case rights.KindPortability:
		err = s.svc.WritePortability(ctx, v.sess, &buf, ex, c)
		h.Set("Content-Type", "application/zip")
		h.Set("Content-Disposition", `attachment; filename="`+c.ID+`.zip"`)
	}
	if err != nil {
		return err
	}
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes()) // a failed write means the client went away
	return nil
}

// consentRow is one consent on the page, with its one-click form.
type consentRow struct {
	Purpose       fidelis.Purpose
	Label         string
	Channel       privacy.Channel
	ChannelLabel  string
	Notice        string
	NoticeVersion int
	NoticeHash    string
	Status        string // translated sentence about the current decision, "" if none
	At            time.Time
	Granted       bool
	CanGive       bool // a notice is published: giving is possible
	Minor         bool
}

func (s *server) handleConsents(w http.ResponseWriter, r *http.Request, v *visit) error {
	items, err := s.svc.MyConsents(r.Context(), v.sess)
	if err != nil {
		return err
	}
	var rows []consentRow
	for _, it := range items {
		row := consentRow{Purpose: it.Purpose, Label: it.Description.In(v.lang), Channel: it.Channel,
			ChannelLabel: s.cat.t(v.lang, "channel."+string(it.Channel)), Granted: it.Granted()}
		if it.Notice != nil {
			row.Notice, row.NoticeVersion, row.NoticeHash, row.CanGive = it.Notice.Text.In(v.lang), it.Notice.Version, it.Notice.Hash, true
		}
		if it.Current != nil {
			row.At = it.Current.At
			row.Status = s.cat.t(v.lang, "consents."+string(it.Current.Decision))
			row.Minor = it.Current.Minor && it.Current.Parental != privacy.ConsentGranted && it.Granted()
		}
		rows = append(rows, row)
	}
	return s.render(w, http.StatusOK, s.newPage(r, v, "consents", "consents.title", rows))
}

// handleConsentDecide records the one decision of a one-click form: give, or withdraw, one
// consent, with the notice version the page showed (C-1, C-2). Nothing is preselected
// (C-5): each form carries its own decision.
func (s *server) handleConsentDecide(w http.ResponseWriter, r *http.Request, v *visit) error {
	f := r.PostForm
	version, _ := strconv.Atoi(f.Get("notice_version"))
	d := selfservice.Decision{Purpose: fidelis.Purpose(f.Get("purpose")), Channel: privacy.Channel(f.Get("channel")),
		Decision: privacy.ConsentDecision(f.Get("decision")), NoticeVersion: version, NoticeHash: f.Get("notice_hash")}
	if d.Decision != privacy.ConsentGranted && d.Decision != privacy.ConsentWithdrawn {
		return fidelis.Invalid(fidelis.FieldError{Field: "decision", Rule: "one_of", Message: "must be granted or withdrawn"})
	}
	if _, err := s.svc.Decide(r.Context(), v.sess, d); err != nil {
		return err
	}
	redirect(w, r, "/portal/consents", string(d.Decision))
	return nil
}

// caseRow is one rights request on the page.
type caseRow struct {
	ID           string
	Kind         string
	Received     time.Time
	Due          time.Time
	Status       string
	Deadline     string // overdue or due_soon, translated; "" otherwise
	Open         bool
	Downloadable bool
}

// kindOption is a right the customer may exercise, with a plain-language explanation.
type kindOption struct {
	Kind  rights.Kind
	Label string
	Help  string
}

type purposeOption struct {
	Name  fidelis.Purpose
	Label string
}

// requestsView is the "my requests" page.
type requestsView struct {
	Errors   []string // what to fix in the form, translated
	Cases    []caseRow
	Kinds    []kindOption
	Purposes []purposeOption
}

func (s *server) handleRequests(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.renderRequests(w, r, v, http.StatusOK, nil)
}

func (s *server) renderRequests(w http.ResponseWriter, r *http.Request, v *visit, status int, errs []string) error {
	cases, err := s.svc.Requests(r.Context(), v.sess)
	if err != nil {
		return err
	}
	rv := &requestsView{Errors: errs}
	for _, c := range cases {
		row := caseRow{ID: c.ID, Kind: s.cat.t(v.lang, "kind."+string(c.Kind)), Received: c.ReceivedAt, Due: c.Due,
			Status: s.cat.t(v.lang, "status."+string(c.Status)), Open: c.Status.Open(),
			Downloadable: c.Status == rights.StatusCompleted && (c.Kind == rights.KindAccess || c.Kind == rights.KindPortability)}
		if d := s.svc.Deadline(c); d == rights.DeadlineOverdue || d == rights.DeadlineDueSoon {
			row.Deadline = s.cat.t(v.lang, "deadline."+string(d))
		}
		rv.Cases = append(rv.Cases, row)
	}
	for _, k := range rights.Kinds() {
		rv.Kinds = append(rv.Kinds, kindOption{Kind: k, Label: s.cat.t(v.lang, "kind."+string(k)), Help: s.cat.t(v.lang, "kindhelp."+string(k))})
	}
	for _, d := range s.svc.ObjectablePurposes() {
		rv.Purposes = append(rv.Purposes, purposeOption{Name: d.Name, Label: d.Description.In(v.lang)})
	}
	return s.render(w, status, s.newPage(r, v, "requests", "requests.title", rv))
}

// handleRequestCreate records a rights request made in the portal; the customer
// picked the right themself (nothing preselected).
func (s *server) handleRequestCreate(w http.ResponseWriter, r *http.Request, v *visit) error {
	kind := rights.Kind(r.PostForm.Get("kind"))
	var purposes []fidelis.Purpose
	for _, p := range r.PostForm["purposes"] {
		purposes = append(purposes, fidelis.Purpose(p))
	}
	_, err := s.svc.NewRequest(r.Context(), v.sess, kind, purposes)
	if e := fidelis.AsError(err); e != nil && e.Code == fidelis.EINVALID {
		// The form again, saying what to fix.
		return s.renderRequests(w, r, v, http.StatusUnprocessableEntity, s.formErrors(v.lang, e))
	} else if err != nil {
		return err
	}
	redirect(w, r, "/portal/requests", "request")
	return nil
}

// formErrors translates the field errors of a request form.
func (s *server) formErrors(lang string, e *fidelis.Error) []string {
	var out []string
	for _, f := range e.Fields {
		key := "error." + f.Field
		if !s.cat.has(key) {
			key = "error.invalid"
		}
		if msg := s.cat.t(lang, key); !slices.Contains(out, msg) {
			out = append(out, msg)
		}
	}
	if len(out) == 0 {
		out = append(out, s.cat.t(lang, "error.invalid"))
	}
	return out
}

// membershipView is one loyalty membership as the member sees it.
type membershipView struct {
	Programme    string
	Balance      int64
	NextExpiry   *loyalty.NextExpiry
	Left         *time.Time
	TermsVersion int
	PendingTerms int
	Lots         []*loyalty.Lot
	Mediator     *loyalty.Mediator
}

// historyRow is one ledger transaction with its reason (L-3).
type historyRow struct {
	At     time.Time
	Points int64
	Reason string
}

// pointsView is the "my points" page.
type pointsView struct {
	Member      bool
	Memberships []membershipView
	History     []historyRow
	Next        string
}

func (s *server) handlePoints(w http.ResponseWriter, r *http.Request, v *visit) error {
	l, err := s.svc.Points(r.Context(), v.sess, r.URL.Query().Get("cursor"))
	pv := &pointsView{}
	if e := fidelis.AsError(err); e != nil && e.Reason == "not_a_member" {
		return s.render(w, http.StatusOK, s.newPage(r, v, "points", "points.title", pv))
	} else if err != nil {
		return err
	}
	pv.Member, pv.Next = true, l.History.Next
	for _, m := range l.Memberships {
		mv := membershipView{Programme: m.Programme.Name, Balance: m.Member.Balance, NextExpiry: m.NextExpiry, Left: m.Member.LeftAt,
			TermsVersion: m.Member.TermsVersion, Lots: m.Lots}
		if m.Pending != nil {
			mv.PendingTerms = m.Pending.Version
		}
		// the mediator of the terms that govern the member now.
		for _, t := range []*loyalty.Terms{m.Applicable, m.Accepted} {
			if t != nil && t.Mediator.Name != "" {
				med := t.Mediator
				mv.Mediator = &med
				break
			}
		}
		pv.Memberships = append(pv.Memberships, mv)
	}
	for _, t := range l.History.Items {
		pv.History = append(pv.History, historyRow{At: t.At, Points: t.MemberDelta(), Reason: t.Reason.In(v.lang)})
	}
	return s.render(w, http.StatusOK, s.newPage(r, v, "points", "points.title", pv))
}
