package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/httpapi"
	"github.com/fidelis/fidelis/rights"
	"github.com/fidelis/fidelis/web/webform"
)

// Rights pages work under the data_protection purpose, the only one rights requests are
// handled under; a role that does not hold it is refused by the rights service (audited).
const rightsPurpose = fidelis.PurposeDataProtection

// rightsRoutes mounts the rights-request queue and case pages.
func (s *server) rightsRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /app/rights-requests", s.private(s.handleRightsQueue))
	mux.HandleFunc("POST /app/rights-requests", s.private(s.handleRightsCreate))
	mux.HandleFunc("GET /app/rights-requests/{id}", s.private(s.handleRightsCase))
	mux.HandleFunc("POST /app/rights-requests/{id}/{op}", s.private(s.handleRightsAction))
	mux.HandleFunc("GET /app/rights-requests/{id}/export", s.private(s.handleRightsExport))
}

// HasPurpose reports whether the signed-in user's role holds purpose name (the navigation
// offers the rights queue to the roles that hold data_protection).
func (p *page) HasPurpose(name string) bool {
	for _, pv := range p.Purposes {
		if string(pv.Name) == name {
			return true
		}
	}
	return false
}

// Date formats a calendar date in the page's language.
func (p *page) Date(t time.Time) string { return webform.Date(p.Lang, t) }

// rightsRow is one case in the queue.
type rightsRow struct {
	Case     *rights.Case
	Deadline rights.DeadlineState
}

// queueView is the data of the rights-request queue.
type queueView struct {
	Rows     []rightsRow
	Show     string // "open" or "all"
	Next     string
	After    string
	Kinds    []rights.Kind
	Channels []rights.Channel
	Now      string // default received-at value for the form (datetime-local, Paris)
	Form     url.Values
	Errors   []fieldMsg
	Counts   map[string]int // open cases on this page by deadline state
	// Objectable are the purposes an objection may name: legitimate interest and direct
	// marketing (GDPR art. 21).
	Objectable []purposeView
}

// Picked reports whether the re-displayed form had purpose p checked.
func (q *queueView) Picked(p fidelis.Purpose) bool {
	for _, x := range q.Form["purposes"] {
		if x == string(p) {
			return true
		}
	}
	return false
}

func (s *server) rightsLoc() *time.Location {
	if s.app.Rights != nil && s.app.Rights.Location != nil {
		return s.app.Rights.Location
	}
	return time.UTC
}

func (s *server) queue(w http.ResponseWriter, r *http.Request, v *visit, form url.Values, errs []fieldMsg, status int) error {
	show := r.URL.Query().Get("show")
	if show != "all" {
		show = "open"
	}
	after := r.URL.Query().Get("after")
	q := rights.Query{Cursor: after, Limit: listPageSize}
	if show == "open" {
		q.Status = []rights.Status{rights.StatusReceived, rights.StatusInProgress, rights.StatusExtended}
	}
	pg, err := s.app.Rights.List(r.Context(), rightsPurpose, q)
	if err != nil {
		return err
	}
	qv := &queueView{Show: show, Next: pg.Next, After: after, Kinds: rights.Kinds(), Channels: rights.Channels(),
		Now: time.Now().In(s.rightsLoc()).Format("2006-01-02T15:04"), Form: form, Errors: errs, Counts: map[string]int{}}
	if form == nil {
		qv.Form = url.Values{}
	}
	for _, d := range s.app.Registry.Purposes() {
		if d.LawfulBasis == fidelis.BasisLegitimateInterest || d.Name == fidelis.PurposeMarketingEmail || d.Name == fidelis.PurposeMarketingSMS {
			qv.Objectable = append(qv.Objectable, s.purposeView(d, v.lang))
		}
	}
	for _, c := range pg.Items {
		d := s.app.Rights.Deadline(c)
		qv.Rows = append(qv.Rows, rightsRow{Case: c, Deadline: d})
		qv.Counts[string(d)]++
	}
	p := s.newPage(r, v, "rights", s.cat.t(v.lang, "rights.heading"), qv)
	if r.Method == http.MethodPost {
		p.Path = "/app/rights-requests"
	}
	return s.render(w, status, p)
}

func (s *server) handleRightsQueue(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.queue(w, r, v, nil, nil, http.StatusOK)
}

// handleRightsCreate records a request from the form: the received date and time are read
// on the controller's calendar (Europe/Paris), as staff read them on a letter.
func (s *server) handleRightsCreate(w http.ResponseWriter, r *http.Request, v *visit) error {
	f := r.PostForm
	in := rights.NewCase{CustomerID: fidelis.CustomerID(strings.TrimSpace(f.Get("customer_id"))), Kind: rights.Kind(f.Get("kind")), Channel: rights.Channel(f.Get("channel"))}
	var errs []fidelis.FieldError
	if rv := strings.TrimSpace(f.Get("received_at")); rv != "" {
		t, err := time.ParseInLocation("2006-01-02T15:04", rv, s.rightsLoc())
		if err != nil {
			errs = append(errs, fidelis.FieldError{Field: "received_at", Rule: "invalid_datetime", Message: "must be a date and time"})
		}
		in.ReceivedAt = t
	}
	for _, p := range f["purposes"] {
		in.Purposes = append(in.Purposes, fidelis.Purpose(p))
	}
	var c *rights.Case
	var err error
	if len(errs) > 0 {
		err = fidelis.Invalid(errs...)
	} else {
		c, err = s.app.Rights.Create(r.Context(), rightsPurpose, in)
	}
	if e := fidelis.AsError(err); e != nil && e.Code == fidelis.EINVALID && len(e.Fields) > 0 {
		var msgs []fieldMsg
		for _, fe := range e.Fields {
			msgs = append(msgs, s.cat.fieldError(v.lang, fe))
		}
		return s.queue(w, r, v, f, msgs, http.StatusUnprocessableEntity)
	} else if err != nil {
		return err
	}
	http.Redirect(w, r, "/app/rights-requests/"+c.ID+"?done=created", http.StatusSeeOther)
	return nil
}

// caseView is the data of a case page.
type caseView struct {
	Case             *rights.Case
	Deadline         rights.DeadlineState
	Channels         []rights.Channel
	IdentityMethods  []rights.IdentityMethod
	ExtensionReasons []rights.ExtensionReason
	RefusalReasons   []rights.RefusalReason
	Fields           []fidelis.Field
	ExtensionLetter  string
	RefusalLetter    string
	Names            map[string]string
	CanStart         bool
	CanExtend        bool
	CanAnswer        bool
	CanComplete      bool
	Exports          []string
}

func (s *server) handleRightsCase(w http.ResponseWriter, r *http.Request, v *visit) error {
	c, err := s.app.Rights.Get(r.Context(), rightsPurpose, r.PathValue("id"))
	if err != nil {
		return err
	}
	cv := &caseView{Case: c, Deadline: s.app.Rights.Deadline(c), Channels: rights.Channels(), IdentityMethods: rights.IdentityMethods(),
		ExtensionReasons: rights.ExtensionReasons(), RefusalReasons: rights.RefusalReasons(),
		ExtensionLetter: rights.ExtensionLetter(c, v.lang), RefusalLetter: rights.RefusalLetter(c, v.lang)}
	for _, f := range fidelis.CustomerFields() {
		if f != fidelis.FieldAttributes {
			cv.Fields = append(cv.Fields, f)
		}
	}
	open := c.Status.Open()
	cv.CanStart = c.Status == rights.StatusReceived
	cv.CanExtend = open && c.Extension == nil && c.Status != rights.StatusExtended
	cv.CanAnswer = open
	cv.CanComplete = c.Status == rights.StatusInProgress || c.Status == rights.StatusExtended
	switch {
	case c.Kind == rights.KindAccess && c.Status != rights.StatusRefused:
		cv.Exports = []string{"html", "json"}
	case c.Kind == rights.KindPortability && c.Status != rights.StatusRefused:
		cv.Exports = []string{"zip"}
	}
	actors := []string{c.CreatedBy}
	for _, a := range []any{c.Identity, c.Extension, c.Refusal, c.Answer} {
		switch x := a.(type) {
		case *rights.Identity:
			if x != nil {
				actors = append(actors, x.By)
			}
		case *rights.Extension:
			if x != nil {
				actors = append(actors, x.By)
			}
		case *rights.Refusal:
			if x != nil {
				actors = append(actors, x.By)
			}
		case *rights.Answer:
			if x != nil {
				actors = append(actors, x.By)
			}
		}
	}
	cv.Names = s.actorNames(r.Context(), v, actors)
	p := s.newPage(r, v, "rights_case", s.cat.t(v.lang, "rights.case_heading"), cv)
	p.Path = "/app/rights-requests/" + c.ID
	if d := r.URL.Query().Get("done"); d != "" && s.cat.has("rights.flash."+d) {
		p.Flash = s.cat.t(v.lang, "rights.flash."+d)
	}
	return s.render(w, http.StatusOK, p)
}

// handleRightsAction runs one operation on a case from its page and returns to it.
func (s *server) handleRightsAction(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, op, f := r.PathValue("id"), r.PathValue("op"), r.PostForm
	ctx := r.Context()
	var err error
	switch op {
	case "start":
		_, err = s.app.Rights.Start(ctx, rightsPurpose, id)
	case "verify-identity":
		_, err = s.app.Rights.VerifyIdentity(ctx, rightsPurpose, id, rights.IdentityInput{Method: rights.IdentityMethod(f.Get("method")), Result: rights.IdentityResult(f.Get("result"))})
	case "extend":
		in := rights.ExtendInput{ToldVia: rights.Channel(f.Get("told_via"))}
		switch f.Get("months") {
		case "1":
			in.Months = 1
		case "2":
			in.Months = 2
		}
		for _, x := range f["reasons"] {
			in.Reasons = append(in.Reasons, rights.ExtensionReason(x))
		}
		_, err = s.app.Rights.Extend(ctx, rightsPurpose, id, in)
	case "refuse":
		in := rights.RefuseInput{Channel: rights.Channel(f.Get("channel"))}
		for _, x := range f["reasons"] {
			in.Reasons = append(in.Reasons, rights.RefusalReason(x))
		}
		_, err = s.app.Rights.Refuse(ctx, rightsPurpose, id, in)
	case "complete":
		in := rights.CompleteInput{Channel: rights.Channel(f.Get("channel"))}
		if field := fidelis.Field(f.Get("field")); field != "" {
			ch := customer.Input{Set: map[fidelis.Field]fidelis.Secret{}}
			if val := f.Get("value"); strings.TrimSpace(val) == "" {
				ch.Clear = []fidelis.Field{field}
			} else {
				ch.Set[field] = fidelis.NewSecret(val)
			}
			in.Changes = &ch
		}
		_, err = s.app.Rights.Complete(ctx, rightsPurpose, id, in)
	default:
		return &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "no_route", Message: "there is no page at this address"}
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/app/rights-requests/"+id+"?done="+op, http.StatusSeeOther)
	return nil
}

// handleRightsExport downloads the answer to an access (HTML page or JSON) or portability
// (zip) request.
func (s *server) handleRightsExport(w http.ResponseWriter, r *http.Request, v *visit) error {
	ctx := r.Context()
	format := r.URL.Query().Get("format")
	ex, c, err := s.app.Rights.Export(ctx, rightsPurpose, r.PathValue("id"))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	h := w.Header()
	var tables []*rights.Table
	if c.Kind == rights.KindAccess {
		if tables, err = s.app.Rights.Tables(ctx, rightsPurpose, c.CustomerID); err != nil {
			return err
		}
	}
	switch {
	case c.Kind == rights.KindAccess && format == "html":
		err = s.app.Rights.AccessHTML(ctx, rightsPurpose, &buf, ex, c)
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="`+c.ID+`.html"`)
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	case c.Kind == rights.KindAccess && format == "json":
		err = json.NewEncoder(&buf).Encode(httpapi.AccessJSON(ex, tables))
		h.Set("Content-Type", "application/json")
		h.Set("Content-Disposition", `attachment; filename="`+c.ID+`.json"`)
	case c.Kind == rights.KindPortability && format == "zip":
		err = s.app.Rights.WritePortability(ctx, rightsPurpose, &buf, ex, c)
		h.Set("Content-Type", "application/zip")
		h.Set("Content-Disposition", `attachment; filename="`+c.ID+`.zip"`)
	default:
		return fidelis.Invalid(fidelis.FieldError{Field: "format", Rule: "invalid_format", Message: "an access request exports as json or html, a portability request as zip"})
	}
	if err != nil {
		return err
	}
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
	return nil
}
