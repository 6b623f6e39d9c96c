package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/httpapi"
	"github.com/fidelis/fidelis/privacy"
)

// listPageSize is the number of customers per list page.
const listPageSize = 25

// accessLogSize is the number of access log entries shown on a customer page.
const accessLogSize = 50

// listView is the data of the customer list and of search results.
type listView struct {
	Columns      []fidelis.Field
	Rows         []*customer.Customer
	Next         string // cursor of the next page
	After        string // cursor of this page ("" on the first)
	Searched     bool
	Query        fidelis.Secret
	SearchErrors []fieldMsg
	CanCreate    bool
}

// can reports whether the session's purpose and the user's role allow action a. It only
// decides what to offer (a button, a form); the customer service decides, and audits, the
// operation itself.
func (s *server) can(v *visit, a fidelis.Action) bool {
	_, err := s.app.Registry.Authorize(v.sess.User.Actor(), v.sess.Purpose, a)
	return err == nil
}

// purposeFields returns the fields the session's purpose may use (none if it is unknown).
func (s *server) purposeFields(v *visit) []fidelis.Field {
	d, err := s.app.Registry.Purpose(v.sess.Purpose)
	if err != nil {
		return nil
	}
	return d.Fields
}

// listColumns are the fields the list shows besides the name, as far as the purpose
// allows (P-2).
func (s *server) listColumns(v *visit) []fidelis.Field {
	var cols []fidelis.Field
	for _, f := range []fidelis.Field{fidelis.FieldEmail, fidelis.FieldPhone, fidelis.FieldCity, fidelis.FieldCountry} {
		if slices.Contains(s.purposeFields(v), f) {
			cols = append(cols, f)
		}
	}
	return cols
}

func (s *server) handleCustomerList(w http.ResponseWriter, r *http.Request, v *visit) error {
	after := r.URL.Query().Get("after")
	pg, err := s.app.Customers.List(r.Context(), v.sess.Purpose, after, listPageSize)
	if err != nil {
		return err
	}
	lv := &listView{Columns: s.listColumns(v), Rows: pg.Items, Next: pg.Next, After: after, CanCreate: s.can(v, fidelis.ActionCreate)}
	return s.render(w, http.StatusOK, s.newPage(r, v, "customers", s.cat.t(v.lang, "customers.heading"), lv))
}

// handleCustomerSearch runs an exact search. It is a POST so that the searched e-mail or
// phone number never lands in a URL (browser history, proxy and server logs).
func (s *server) handleCustomerSearch(w http.ResponseWriter, r *http.Request, v *visit) error {
	q := strings.TrimSpace(r.PostForm.Get("q"))
	lv := &listView{Columns: s.listColumns(v), Searched: true, Query: fidelis.NewSecret(q), CanCreate: s.can(v, fidelis.ActionCreate)}
	var query customer.Query
	if strings.Contains(q, "@") {
		query.Email = fidelis.NewSecret(q)
	} else {
		query.Phone = fidelis.NewSecret(q)
	}
	rows, err := s.app.Customers.Search(r.Context(), v.sess.Purpose, query)
	status := http.StatusOK
	if e := fidelis.AsError(err); e != nil && e.Code == fidelis.EINVALID && len(e.Fields) > 0 {
		for _, fe := range e.Fields {
			m := s.cat.fieldError(v.lang, fe)
			m.Field = "q"
			lv.SearchErrors = append(lv.SearchErrors, m)
		}
		status = http.StatusUnprocessableEntity
	} else if err != nil {
		return err
	}
	lv.Rows = rows
	p := s.newPage(r, v, "customers", s.cat.t(v.lang, "customers.heading"), lv)
	return s.render(w, status, p)
}

// customerView is the data of the customer page.
type customerView struct {
	ID               fidelis.CustomerID
	Customer         *customer.Customer // nil when the purpose may not read the record
	Refused          *refusal
	Fields           []fidelis.Field
	ShowAttributes   bool
	CanEdit          bool
	History          []historyRow
	AccessLogPurpose *purposeView // nil when the user's role cannot see the access log
	AccessLog        []accessRow
	AccessLogMore    bool
	Consents         *consentView // nil when the purpose may not read the consents
}

// refusal explains why the purpose may not read the record.
type refusal struct {
	Explain string
	Detail  string
	Reason  string
}

type historyRow struct {
	Version      int
	At           time.Time
	Actor        string
	Purpose      fidelis.Purpose
	PurposeLabel string
	Changes      []changeRow
}

type changeRow struct {
	Field    fidelis.Field
	Label    string
	Previous fidelis.Secret
	Hidden   bool // the purpose may not see this field's previous value
}

type accessRow struct {
	At           time.Time
	Actor        string
	Action       string
	ActionCode   string
	Purpose      fidelis.Purpose
	PurposeLabel string
	Fields       string
	Outcome      string
	OutcomeCode  string
	Reason       string
}

// handleCustomerShow shows a customer under the session's purpose: the fields it may see,
// the history of changes and, under a purpose that covers it, the access log. When the
// purpose may not read the record (e.g. "audit"), the page says why, with status 403, and
// still shows the access log if the role may see it.
func (s *server) handleCustomerShow(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := fidelis.ParseCustomerID(r.PathValue("id"))
	if err != nil {
		return err
	}
	ctx := r.Context()
	cv := &customerView{ID: id}
	status := http.StatusOK
	c, err := s.app.Customers.Get(ctx, v.sess.Purpose, id)
	switch e := fidelis.AsError(err); {
	case err == nil:
		cv.Customer, cv.Fields = c, customerFieldsOrdered(c.Visible)
		cv.ShowAttributes = slices.Contains(c.Visible, fidelis.FieldAttributes)
		cv.CanEdit = s.can(v, fidelis.ActionUpdate)
		hist, err := s.app.Customers.History(ctx, v.sess.Purpose, id)
		if err != nil {
			return err
		}
		cv.History = s.historyRows(ctx, v, hist)
	case e != nil && e.Code == fidelis.EFORBIDDEN:
		cv.Refused = &refusal{Explain: s.cat.explain(v.lang, e), Detail: e.Message, Reason: e.Reason}
		status = http.StatusForbidden
	default:
		return err
	}
	if cv.Customer != nil {
		if err := s.loadConsents(ctx, v, cv); err != nil {
			return err
		}
	}
	if err := s.loadAccessLog(ctx, v, cv); err != nil {
		return err
	}
	title := s.cat.t(v.lang, "customer.heading")
	p := s.newPage(r, v, "customer", title, cv)
	p.Path = "/app/customers/" + string(id)
	switch r.URL.Query().Get("done") {
	case "created":
		p.Flash = s.cat.t(v.lang, "flash.created")
	case "saved":
		p.Flash = s.cat.t(v.lang, "flash.saved")
	case "consent", "consent_invalid":
		p.Flash = s.cat.t(v.lang, "flash."+r.URL.Query().Get("done"))
	}
	return s.render(w, status, p)
}

// accessLogPurpose returns the purpose to read the access log under: the session's own if
// it allows it, else the first of the role's purposes that does (data_protection, audit
// with the default registry), or nil.
func (s *server) accessLogPurpose(v *visit) *privacy.Purpose {
	actor := v.sess.User.Actor()
	ps := s.app.Registry.PurposesOf(actor.Role)
	slices.SortStableFunc(ps, func(a, b *privacy.Purpose) int {
		switch {
		case a.Name == v.sess.Purpose && b.Name != v.sess.Purpose:
			return -1
		case b.Name == v.sess.Purpose && a.Name != v.sess.Purpose:
			return 1
		}
		return 0
	})
	for _, d := range ps {
		if _, err := s.app.Registry.Authorize(actor, d.Name, fidelis.ActionAccessLog); err == nil {
			return d
		}
	}
	return nil
}

// loadAccessLog fills the access log section. It runs after the reads of the page, so that
// they appear in it.
func (s *server) loadAccessLog(ctx context.Context, v *visit, cv *customerView) error {
	d := s.accessLogPurpose(v)
	if d == nil {
		return nil
	}
	pv := s.purposeView(d, v.lang)
	cv.AccessLogPurpose = &pv
	pg, err := s.app.Customers.AccessLog(ctx, d.Name, cv.ID, 0, accessLogSize)
	if err != nil {
		return err
	}
	cv.AccessLogMore = pg.Next != ""
	actors := make([]string, len(pg.Items))
	for i, e := range pg.Items {
		actors[i] = e.Actor
	}
	names := s.actorNames(ctx, v, actors)
	for _, e := range pg.Items {
		row := accessRow{At: e.At, Actor: names[e.Actor], ActionCode: e.Action, Action: e.Action, Purpose: e.Purpose,
			OutcomeCode: string(e.Outcome), Outcome: s.cat.t(v.lang, "outcome."+string(e.Outcome)), Reason: e.Reason}
		if s.cat.has("action." + e.Action) {
			row.Action = s.cat.t(v.lang, "action."+e.Action)
		}
		if pd, err := s.app.Registry.Purpose(e.Purpose); err == nil {
			row.PurposeLabel = pd.Description.In(v.lang)
		}
		labels := make([]string, len(e.Fields))
		for i, f := range e.Fields {
			labels[i] = s.cat.field(v.lang, string(f))
		}
		row.Fields = strings.Join(labels, ", ")
		cv.AccessLog = append(cv.AccessLog, row)
	}
	return nil
}

// actorNames maps recorded actors to the names shown: usernames, token names, "(you)" for
// the signed-in user. A failed look-up shows the recorded IDs rather than failing the page.
func (s *server) actorNames(ctx context.Context, v *visit, actors []string) map[string]string {
	names, err := s.app.Auth.DisplayNames(ctx, actors)
	if err != nil {
		s.log.WarnContext(ctx, "actor names", "err", err)
		names = map[string]string{}
	}
	for _, a := range actors {
		switch {
		case strings.HasPrefix(a, string(fidelis.ActorCustomer)+":"):
			// The customer themself, signed in to the portal: no staff name to show.
			names[a] = s.cat.t(v.lang, "actor.customer")
		case names[a] == "":
			names[a] = a
		}
	}
	names[v.sess.User.Actor().String()] = v.sess.User.Username + " (" + s.cat.t(v.lang, "actor.you") + ")"
	return names
}

// historyRows turns history items into rows, newest first.
func (s *server) historyRows(ctx context.Context, v *visit, items []customer.HistoryItem) []historyRow {
	rows := make([]historyRow, 0, len(items))
	actors := make([]string, len(items))
	for i, it := range items {
		actors[i] = it.Actor
	}
	names := s.actorNames(ctx, v, actors)
	for _, it := range slices.Backward(items) {
		row := historyRow{Version: it.Version, At: it.At, Actor: names[it.Actor], Purpose: it.Purpose}
		if pd, err := s.app.Registry.Purpose(it.Purpose); err == nil {
			row.PurposeLabel = pd.Description.In(v.lang)
		}
		for _, f := range it.Fields {
			prev, ok := it.Previous[f]
			row.Changes = append(row.Changes, changeRow{Field: f, Label: s.cat.field(v.lang, string(f)), Previous: prev, Hidden: !ok})
		}
		rows = append(rows, row)
	}
	return rows
}

// formView is the data of the create and edit forms.
type formView struct {
	Edit           bool
	ID             fidelis.CustomerID
	Version        int
	Action         string
	Inputs         []inputView
	ShowAttributes bool
	AttrSubmitted  bool
	AttrText       fidelis.Secret
	AttrMap        map[string]fidelis.Secret
	AttrErrors     []fieldMsg
	Summary        []fieldMsg
	Conflict       bool
}

type inputView struct {
	Field  fidelis.Field
	Type   string
	Hint   string
	Wide   bool
	Value  fidelis.Secret
	Errors []fieldMsg
}

// newForm returns a form offering the fields the purpose allows, and only those (P-2).
func (s *server) newForm(v *visit, fields []fidelis.Field) *formView {
	fv := &formView{Action: "/app/customers", ShowAttributes: slices.Contains(fields, fidelis.FieldAttributes)}
	for _, f := range customerFieldsOrdered(fields) {
		in := inputView{Field: f, Type: "text", Wide: f == fidelis.FieldStreet}
		switch f {
		case fidelis.FieldEmail:
			in.Type = "email"
		case fidelis.FieldPhone:
			in.Type = "tel"
		case fidelis.FieldBirthDate:
			in.Type = "date"
		case fidelis.FieldLocale:
			in.Type = "locale"
		}
		if s.cat.has("hint." + string(f)) {
			in.Hint = s.cat.t(v.lang, "hint."+string(f))
		}
		fv.Inputs = append(fv.Inputs, in)
	}
	return fv
}

// fill puts submitted values back in the form, as typed.
func (fv *formView) fill(form url.Values) {
	for i := range fv.Inputs {
		fv.Inputs[i].Value = fidelis.NewSecret(form.Get(string(fv.Inputs[i].Field)))
	}
	fv.AttrSubmitted, fv.AttrText = true, fidelis.NewSecret(form.Get("attributes"))
}

// addErrors attaches field errors to their inputs and to the summary at the top. Errors
// about fields the form does not offer appear in the summary only.
func (fv *formView) addErrors(cat catalogue, lang string, errs []fidelis.FieldError) {
	for _, fe := range errs {
		m := cat.fieldError(lang, fe)
		fv.Summary = append(fv.Summary, m)
		if m.Field == string(fidelis.FieldAttributes) {
			fv.AttrErrors = append(fv.AttrErrors, m)
			continue
		}
		for i := range fv.Inputs {
			if string(fv.Inputs[i].Field) == m.Field {
				fv.Inputs[i].Errors = append(fv.Inputs[i].Errors, m)
			}
		}
	}
}

// renderForm renders a create or edit form.
func (s *server) renderForm(w http.ResponseWriter, r *http.Request, v *visit, status int, fv *formView) error {
	key := "form.new_heading"
	if fv.Edit {
		key = "form.edit_heading"
	}
	p := s.newPage(r, v, "form", s.cat.t(v.lang, key), fv)
	if fv.Edit {
		p.Path = "/app/customers/" + string(fv.ID) + "/edit"
	} else {
		p.Path = "/app/customers/new"
	}
	return s.render(w, status, p)
}

// formFailure re-renders a form after the service refused it: field errors (422, or 403
// for fields the purpose may not use) or a concurrent change (409). Other errors go to the
// error page.
func (s *server) formFailure(w http.ResponseWriter, r *http.Request, v *visit, fv *formView, err error) error {
	e := fidelis.AsError(err)
	switch {
	case e != nil && e.Code == fidelis.EPRECONDITION:
		fv.Conflict = true
		return s.renderForm(w, r, v, http.StatusConflict, fv)
	case e != nil && len(e.Fields) > 0 && (e.Code == fidelis.EINVALID || e.Code == fidelis.EFORBIDDEN):
		fv.addErrors(s.cat, v.lang, e.Fields)
		return s.renderForm(w, r, v, httpapi.Status(e), fv)
	}
	return err
}

// readInput turns a submitted form into a customer input. Only the fields present in the
// form are read; on a create, empty ones are left out; on an edit, an empty one clears the
// field. Custom attributes are "key = value" lines; a line that is not is a field error.
func readInput(form url.Values, create bool) (customer.Input, []fidelis.FieldError) {
	in := customer.Input{Set: map[fidelis.Field]fidelis.Secret{}}
	for _, f := range fidelis.CustomerFields() {
		vals, ok := form[string(f)]
		if f == fidelis.FieldAttributes || !ok || create && strings.TrimSpace(vals[0]) == "" {
			continue
		}
		in.Set[f] = fidelis.NewSecret(vals[0])
	}
	vals, ok := form[string(fidelis.FieldAttributes)]
	if !ok {
		return in, nil
	}
	attrs, errs := parseAttributes(vals[0])
	if len(attrs) > 0 || !create {
		in.Attributes = attrs
	}
	return in, errs
}

// parseAttributes parses "key = value" lines; blank lines are skipped. Keys are checked by
// the customer service; here only the shape of each line.
func parseAttributes(text string) (map[string]fidelis.Secret, []fidelis.FieldError) {
	attrs := map[string]fidelis.Secret{}
	var errs []fidelis.FieldError
	for i, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, val, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		switch _, dup := attrs[k]; {
		case !ok || k == "":
			errs = append(errs, fidelis.FieldError{Field: string(fidelis.FieldAttributes), Rule: "invalid_line",
				Message: fmt.Sprintf("line %d is not written as 'key = value'", i+1)})
		case dup:
			errs = append(errs, fidelis.FieldError{Field: string(fidelis.FieldAttributes), Rule: "duplicate_key",
				Message: fmt.Sprintf("line %d sets an attribute already set above", i+1)})
		default:
			attrs[k] = fidelis.NewSecret(strings.TrimSpace(val))
		}
	}
	return attrs, errs
}

// handleCustomerNew shows an empty form with the fields the purpose may collect.
func (s *server) handleCustomerNew(w http.ResponseWriter, r *http.Request, v *visit) error {
	d, err := s.app.Registry.Authorize(v.sess.User.Actor(), v.sess.Purpose, fidelis.ActionCreate)
	if err != nil {
		return err
	}
	return s.renderForm(w, r, v, http.StatusOK, s.newForm(v, d.Fields))
}

func (s *server) handleCustomerCreate(w http.ResponseWriter, r *http.Request, v *visit) error {
	fv := s.newForm(v, s.purposeFields(v))
	fv.fill(r.PostForm)
	in, ferrs := readInput(r.PostForm, true)
	if len(ferrs) > 0 {
		fv.addErrors(s.cat, v.lang, ferrs)
		return s.renderForm(w, r, v, http.StatusUnprocessableEntity, fv)
	}
	c, err := s.app.Customers.Create(r.Context(), v.sess.Purpose, in)
	if err != nil {
		return s.formFailure(w, r, v, fv, err)
	}
	http.Redirect(w, r, "/app/customers/"+string(c.ID)+"?done=created", http.StatusSeeOther)
	return nil
}

// handleCustomerEdit shows the edit form: the record as the purpose sees it (an audited
// read), with its version for optimistic concurrency.
func (s *server) handleCustomerEdit(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := fidelis.ParseCustomerID(r.PathValue("id"))
	if err != nil {
		return err
	}
	c, err := s.app.Customers.Get(r.Context(), v.sess.Purpose, id)
	if err != nil {
		return err
	}
	if _, err := s.app.Registry.Authorize(v.sess.User.Actor(), v.sess.Purpose, fidelis.ActionUpdate); err != nil {
		return err
	}
	fv := s.newForm(v, c.Visible)
	fv.Edit, fv.ID, fv.Version, fv.Action = true, id, c.Version, "/app/customers/"+string(id)
	for i := range fv.Inputs {
		fv.Inputs[i].Value = c.Get(fv.Inputs[i].Field)
	}
	fv.AttrMap = c.Attributes
	return s.renderForm(w, r, v, http.StatusOK, fv)
}

func (s *server) handleCustomerUpdate(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := fidelis.ParseCustomerID(r.PathValue("id"))
	if err != nil {
		return err
	}
	fv := s.newForm(v, s.purposeFields(v))
	fv.Edit, fv.ID, fv.Action = true, id, "/app/customers/"+string(id)
	fv.fill(r.PostForm)
	version, verr := strconv.Atoi(r.PostForm.Get("version"))
	fv.Version = version
	in, ferrs := readInput(r.PostForm, false)
	if verr != nil || version < 1 {
		ferrs = append(ferrs, fidelis.FieldError{Field: "version", Rule: "invalid_version", Message: "the form's version is not valid"})
	}
	if len(ferrs) > 0 {
		fv.addErrors(s.cat, v.lang, ferrs)
		return s.renderForm(w, r, v, http.StatusUnprocessableEntity, fv)
	}
	if _, err := s.app.Customers.Update(r.Context(), v.sess.Purpose, id, in, version); err != nil {
		return s.formFailure(w, r, v, fv, err)
	}
	http.Redirect(w, r, "/app/customers/"+string(id)+"?done=saved", http.StatusSeeOther)
	return nil
}
