package web

import (
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/auth"
	"github.com/fidelis/fidelis/loyalty"
	"github.com/fidelis/fidelis/web/webform"
)

// Member pages work under the loyalty purpose, the only one the loyalty service accepts for
// member operations (P-1); programme, terms, rules and reports need the manage_loyalty
// action, which the service checks on every call.
const loyaltyPurpose = fidelis.PurposeLoyalty

// sampleLines is the number of lines of the preview basket form.
const sampleLines = 5

// historyPageSize is the number of ledger transactions per member page.
const historyPageSize = 50

// loyaltyRoutes mounts the loyalty back-office: programmes and terms, rules with their
// preview, the member page, the liability report and the expiry job.
func (s *server) loyaltyRoutes(mux *http.ServeMux) {
	maps.Copy(s.cat, loyaltyMessages())
	for _, name := range []string{"loyalty_programmes", "loyalty_programme", "loyalty_rules", "loyalty_member", "loyalty_liability", "loyalty_expiry"} {
		t := template.New("").Funcs(templateFuncs(s.cat)).Funcs(loyaltyFuncs())
		s.pages[name] = template.Must(t.ParseFS(templateFS, "templates/layout.html", "templates/loyalty_common.html", "templates/"+name+".html"))
	}
	mux.HandleFunc("GET /app/loyalty", s.private(func(w http.ResponseWriter, r *http.Request, v *visit) error {
		http.Redirect(w, r, "/app/loyalty/programmes", http.StatusSeeOther)
		return nil
	}))
	mux.HandleFunc("GET /app/loyalty/programmes", s.private(s.handleProgrammes))
	mux.HandleFunc("POST /app/loyalty/programmes", s.private(s.handleProgrammeLaunch))
	mux.HandleFunc("GET /app/loyalty/programmes/{pid}", s.private(s.handleProgramme))
	mux.HandleFunc("POST /app/loyalty/programmes/{pid}/terms", s.private(s.handleTermsPost))
	mux.HandleFunc("GET /app/loyalty/programmes/{pid}/rules", s.private(s.handleRules))
	mux.HandleFunc("POST /app/loyalty/programmes/{pid}/rules", s.private(s.handleRulesPost))
	mux.HandleFunc("GET /app/loyalty/members/{id}", s.private(s.handleMember))
	mux.HandleFunc("POST /app/loyalty/members/{id}/{op}", s.private(s.handleMemberAction))
	mux.HandleFunc("GET /app/loyalty/liability", s.private(s.handleLiability))
	mux.HandleFunc("GET /app/loyalty/expiry", s.private(s.handleExpiry))
	mux.HandleFunc("POST /app/loyalty/expiry", s.private(s.handleExpiryPost))
}

// pagePair passes the page and one value to a shared template.
type pagePair struct {
	P *page
	V any
}

// loyaltyFuncs are the template functions of the loyalty pages.
func loyaltyFuncs() template.FuncMap {
	return template.FuncMap{
		"pageWith": func(p *page, v any) pagePair { return pagePair{P: p, V: v} },
		"list":     func(s ...string) []string { return s },
		"add":      func(a, b int) int { return a + b },
		"mul":      func(a, b int64) int64 { return a * b },
	}
}

// Money formats an amount in cents with its currency, in the page's language.
func (p *page) Money(cents int64, currency string) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	units := strconv.FormatInt(cents/100, 10)
	for i := len(units) - 3; i > 0; i -= 3 {
		sep := ","
		if p.Lang == "fr" {
			sep = "\u202f"
		}
		units = units[:i] + sep + units[i:]
	}
	if p.Lang == "fr" {
		return fmt.Sprintf("%s%s,%02d %s", sign, units, cents%100, currency)
	}
	return fmt.Sprintf("%s%s.%02d %s", sign, units, cents%100, currency)
}

// Text returns a French and English text in the page's language.
func (p *page) Text(t fidelis.Text) string { return t.In(p.Lang) }

// loyaltyForm is a form as the user filled it, with the field errors to show beside its
// inputs (by input name) and in the summary.
type loyaltyForm struct {
	Values  url.Values
	Errors  map[string][]fieldMsg
	Summary []fieldMsg
}

func newLoyaltyForm(v url.Values) *loyaltyForm {
	if v == nil {
		v = url.Values{}
	}
	return &loyaltyForm{Values: v, Errors: map[string][]fieldMsg{}}
}

// Get returns the value the user typed in input name.
func (f *loyaltyForm) Get(name string) string { return f.Values.Get(name) }

// Err returns the errors of input name.
func (f *loyaltyForm) Err(name string) []fieldMsg { return f.Errors[name] }

// add records a field error of the domain (or of the form's own parsing) against the input
// that holds the field: "mediator.name" → mediator_name, "lines.2.gtin" → lines_2,
// "multipliers.3.percent" → multipliers.
func (s *server) addFieldError(lang string, f *loyaltyForm, fe fidelis.FieldError) {
	parts := strings.Split(fe.Field, ".")
	input := strings.Join(parts, "_")
	label := s.cat.t(lang, "loyalty.field."+input)
	switch {
	case parts[0] == "lines" && len(parts) > 1:
		input = "lines_" + parts[1]
		n, _ := strconv.Atoi(parts[1])
		label = fmt.Sprintf("%s %d", s.cat.t(lang, "loyalty.field.line"), n+1)
		if len(parts) > 2 {
			label += " · " + s.cat.t(lang, "loyalty.field.line_"+parts[2])
		}
	case parts[0] == "multipliers" || parts[0] == "countries":
		input = parts[0]
		label = s.cat.t(lang, "loyalty.field."+parts[0])
		if len(parts) > 1 {
			n, _ := strconv.Atoi(parts[1])
			label += fmt.Sprintf(" %d", n+1)
		}
	}
	spec := strings.Join(parts, "_")
	if input != spec {
		spec = parts[len(parts)-1] // lines.2.gtin → gtin
	}
	text := fe.Message
	for _, key := range []string{"loyalty.rule." + fe.Rule + "." + spec, "loyalty.rule." + fe.Rule} {
		if s.cat.has(key) {
			text = s.cat.t(lang, key)
			break
		}
	}
	// L-2: the notice period names the first allowed time, in the page's language.
	if _, at, ok := strings.Cut(fe.Message, "on or after "); ok && fe.Rule == "notice_period" {
		if t, err := time.Parse(time.RFC3339, at); err == nil {
			text = strings.ReplaceAll(text, "{at}", formatTime(lang, t))
		}
	}
	m := fieldMsg{Field: input, Label: label, Text: text}
	f.Errors[input] = append(f.Errors[input], m)
	f.Summary = append(f.Summary, m)
}

// spread puts a validation error's fields on the form and reports whether it did; any
// other error is for the error page.
func (s *server) spread(lang string, f *loyaltyForm, err error) bool {
	e := fidelis.AsError(err)
	if e == nil || e.Code != fidelis.EINVALID || len(e.Fields) == 0 {
		return false
	}
	for _, fe := range e.Fields {
		s.addFieldError(lang, f, fe)
	}
	return true
}

// formParser reads typed values from a form, collecting field errors.
type formParser struct {
	v    url.Values
	errs []fidelis.FieldError
}

func (p *formParser) bad(field, rule, msg string) {
	p.errs = append(p.errs, fidelis.FieldError{Field: field, Rule: rule, Message: msg})
}

func (p *formParser) str(name string) string { return strings.TrimSpace(p.v.Get(name)) }

// int reads a whole number; empty gives def.
func (p *formParser) int(name, field string, def int64) int64 {
	s := p.str(name)
	if s == "" {
		return def
	}
	n, err := strconv.ParseInt(strings.TrimPrefix(s, "+"), 10, 64)
	if err != nil {
		p.bad(field, "invalid_number", "must be a whole number")
	}
	return n
}

// cents reads an amount such as "12", "12,5" or "12.50" as cents; empty gives 0.
func (p *formParser) cents(name, field string) int64 {
	s := strings.ReplaceAll(p.str(name), " ", "")
	if s == "" {
		return 0
	}
	whole, frac, _ := strings.Cut(strings.Replace(s, ",", ".", 1), ".")
	n, err := strconv.ParseInt(whole, 10, 64)
	if err == nil && (len(frac) > 2 || strings.ContainsAny(frac, "+-")) {
		err = strconv.ErrSyntax
	}
	var f int64
	if err == nil && frac != "" {
		f, err = strconv.ParseInt(frac, 10, 64)
		if len(frac) == 1 {
			f *= 10
		}
	}
	if err != nil || n < 0 || n > 1_000_000_000 {
		p.bad(field, "invalid_amount", "must be an amount such as 12.50")
		return 0
	}
	return n*100 + f
}

// date reads a date (YYYY-MM-DD) as the start of that day, UTC; empty gives the zero time.
func (p *formParser) date(name, field string) time.Time {
	s := p.str(name)
	if s == "" {
		return time.Time{}
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		p.bad(field, "invalid_date", "must be a date as YYYY-MM-DD")
	}
	return d
}

// datetime reads a datetime-local value (YYYY-MM-DDTHH:MM) as UTC; empty gives nil.
func (p *formParser) datetime(name, field string) *time.Time {
	s := p.str(name)
	if s == "" {
		return nil
	}
	t, err := time.Parse("2006-01-02T15:04", s)
	if err != nil {
		p.bad(field, "invalid_datetime", "must be a date and time")
		return nil
	}
	return &t
}

func (p *formParser) err() error {
	if len(p.errs) == 0 {
		return nil
	}
	return fidelis.Invalid(p.errs...)
}

// now is the installation's clock.
func (s *server) now() time.Time { return s.app.Config.Now().UTC() }

// ---------- Programmes ----------

// programmesView is the data of the programme list with its creation form.
type programmesView struct {
	Rows       []*loyalty.Programme
	Form       *loyaltyForm
	Currencies []string
}

func (s *server) programmes(w http.ResponseWriter, r *http.Request, v *visit, f *loyaltyForm, status int) error {
	ps, err := s.app.Loyalty.Programmes(r.Context())
	if err != nil {
		return err
	}
	if f == nil {
		f = newLoyaltyForm(url.Values{"currency": {"EUR"}, "point_value": {"0,01"}, "notice_days": {strconv.Itoa(loyalty.DefaultNoticeDays)}, "expiry_months": {"24"}})
	}
	p := s.newPage(r, v, "loyalty_programmes", s.cat.t(v.lang, "loyalty.programmes"), &programmesView{Rows: ps, Form: f, Currencies: loyalty.Currencies()})
	p.Path = "/app/loyalty/programmes"
	return s.render(w, status, p)
}

func (s *server) handleProgrammes(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.programmes(w, r, v, nil, http.StatusOK)
}

// handleProgrammeLaunch creates a programme with the first version of its terms, which
// names the consumer mediator (L-1, X-2).
func (s *server) handleProgrammeLaunch(w http.ResponseWriter, r *http.Request, v *visit) error {
	fp := &formParser{v: r.PostForm}
	notice := int(fp.int("notice_days", "notice_days", loyalty.DefaultNoticeDays))
	in := loyalty.ProgrammeInput{Name: fp.str("name"), Currency: fp.str("currency"), PointValueCents: fp.cents("point_value", "point_value_cents"), NoticeDays: &notice}
	terms := s.termsInput(fp)
	// The form's own parsing errors come first; once it parses, the domain names the rest.
	err := fp.err()
	if err == nil {
		var p *loyalty.Programme
		if p, _, err = s.app.Loyalty.LaunchProgramme(r.Context(), in, terms); err == nil {
			http.Redirect(w, r, "/app/loyalty/programmes/"+p.ID+"?done=launched", http.StatusSeeOther)
			return nil
		}
	}
	f := newLoyaltyForm(r.PostForm)
	if !s.spread(v.lang, f, err) {
		return err
	}
	return s.programmes(w, r, v, f, http.StatusUnprocessableEntity)
}

// termsInput reads the terms part of a form.
func (s *server) termsInput(fp *formParser) loyalty.TermsInput {
	return loyalty.TermsInput{
		Text:         loyalty.Text{FR: fp.v.Get("text_fr"), EN: fp.v.Get("text_en")},
		Changes:      loyalty.Text{FR: fp.str("changes_fr"), EN: fp.str("changes_en")},
		Mediator:     loyalty.Mediator{Name: fp.str("mediator_name"), Website: fp.str("mediator_website"), Address: fp.v.Get("mediator_address")},
		ExpiryMonths: int(fp.int("expiry_months", "expiry_months", 0)),
		EffectiveAt:  fp.date("effective_at", "effective_at"),
	}
}

// programmeView is the data of a programme page: its terms (in force, upcoming, former),
// its rules, and the form to publish a new version with its preview.
type programmeView struct {
	Programme *loyalty.Programme
	Current   *loyalty.Terms
	Upcoming  []*loyalty.Terms
	History   []*loyalty.Terms // former versions, newest first
	Rules     []*loyalty.Rule
	Form      *loyaltyForm
	Preview   *loyalty.TermsPreview
	MinDay    string // the first day a new version may take effect (notice period, L-2)
	MinDate   time.Time
}

func (s *server) programme(w http.ResponseWriter, r *http.Request, v *visit, f *loyaltyForm, pv *loyalty.TermsPreview, status int) error {
	id := r.PathValue("pid")
	if err := s.app.Loyalty.CheckManage(r.Context()); err != nil {
		return err
	}
	pg, err := s.app.Loyalty.GetProgramme(r.Context(), id)
	if err != nil {
		return err
	}
	now := s.now()
	view := &programmeView{Programme: pg.Programme, Current: pg.Current, Rules: pg.Rules, Preview: pv}
	for _, t := range slices.Backward(pg.Terms) {
		switch {
		case t.EffectiveAt.After(now):
			view.Upcoming = append([]*loyalty.Terms{t}, view.Upcoming...)
		case pg.Current != nil && t.Version < pg.Current.Version:
			view.History = append(view.History, t)
		}
	}
	earliest := now.AddDate(0, 0, pg.Programme.NoticeDays)
	if n := len(pg.Terms); n > 0 && pg.Terms[n-1].EffectiveAt.After(earliest) {
		earliest = pg.Terms[n-1].EffectiveAt
	}
	day := earliest.Truncate(24 * time.Hour)
	if day.Before(earliest) {
		day = day.AddDate(0, 0, 1)
	}
	view.MinDay, view.MinDate = day.Format(time.DateOnly), day
	if f == nil {
		f = newLoyaltyForm(nil)
		if n := len(pg.Terms); n > 0 {
			last := pg.Terms[n-1]
			f.Values = url.Values{"text_fr": {last.Text.FR}, "text_en": {last.Text.EN}, "mediator_name": {last.Mediator.Name},
				"mediator_website": {last.Mediator.Website}, "mediator_address": {last.Mediator.Address}, "expiry_months": {strconv.Itoa(last.ExpiryMonths)},
				"effective_at": {view.MinDay}}
		}
	}
	view.Form = f
	p := s.newPage(r, v, "loyalty_programme", pg.Programme.Name, view)
	p.Path = "/app/loyalty/programmes/" + id
	if d := r.URL.Query().Get("done"); d != "" && s.cat.has("loyalty.flash."+d) {
		p.Flash = s.cat.t(v.lang, "loyalty.flash."+d)
	}
	return s.render(w, status, p)
}

func (s *server) handleProgramme(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.programme(w, r, v, nil, nil, http.StatusOK)
}

// handleTermsPost previews a new version of the terms (action=preview), exactly as members
// will see it, or publishes it (action=publish, from the preview's own form) (L-2).
func (s *server) handleTermsPost(w http.ResponseWriter, r *http.Request, v *visit) error {
	id := r.PathValue("pid")
	fp := &formParser{v: r.PostForm}
	in := s.termsInput(fp)
	f := newLoyaltyForm(r.PostForm)
	err := fp.err()
	switch action := r.PostForm.Get("action"); {
	case err != nil:
	case action == "publish":
		var t *loyalty.Terms
		if t, err = s.app.Loyalty.PublishTerms(r.Context(), id, in); err == nil {
			http.Redirect(w, r, fmt.Sprintf("/app/loyalty/programmes/%s?done=terms_published&v=%d", id, t.Version), http.StatusSeeOther)
			return nil
		}
	default:
		var pv *loyalty.TermsPreview
		if pv, err = s.app.Loyalty.PreviewTerms(r.Context(), id, in); err == nil {
			return s.programme(w, r, v, f, pv, http.StatusOK)
		}
	}
	if !s.spread(v.lang, f, err) {
		return err
	}
	return s.programme(w, r, v, f, nil, http.StatusUnprocessableEntity)
}

// ---------- Rules ----------

// ruleGroup is one rule with its versions, newest first.
type ruleGroup struct {
	ID       string
	Versions []*loyalty.Rule
}

// sampleLine is one line of the preview basket form.
type sampleLine struct {
	N      int
	Errors []fieldMsg
}

// rulesView is the data of the rules page: every version, the form for a new version and
// the preview of a sample basket.
type rulesView struct {
	Programme *loyalty.Programme
	Groups    []ruleGroup
	Form      *loyaltyForm
	Lines     []sampleLine
	Preview   *loyalty.EarningPreview
}

func (s *server) rules(w http.ResponseWriter, r *http.Request, v *visit, f *loyaltyForm, pv *loyalty.EarningPreview, status int) error {
	id := r.PathValue("pid")
	prog, all, err := s.app.Loyalty.RuleVersions(r.Context(), id)
	if err != nil {
		return err
	}
	view := &rulesView{Programme: prog, Preview: pv}
	for _, rv := range slices.Backward(all) {
		if n := len(view.Groups); n == 0 || view.Groups[n-1].ID != rv.ID {
			view.Groups = append(view.Groups, ruleGroup{ID: rv.ID})
		}
		g := &view.Groups[len(view.Groups)-1]
		g.Versions = append(g.Versions, rv)
	}
	slices.Reverse(view.Groups)
	if f == nil {
		f = newLoyaltyForm(url.Values{"points_per_unit": {"1"}})
		if from := r.URL.Query().Get("from"); from != "" {
			for _, g := range view.Groups {
				if g.ID == from {
					ruleValues(f.Values, g.Versions[0])
				}
			}
		}
		// A sample line to start from.
		f.Values.Set("line_0_quantity", "1")
	}
	view.Form = f
	for i := range sampleLines {
		view.Lines = append(view.Lines, sampleLine{N: i, Errors: f.Errors[fmt.Sprintf("lines_%d", i)]})
	}
	p := s.newPage(r, v, "loyalty_rules", s.cat.t(v.lang, "loyalty.rules"), view)
	p.Path = "/app/loyalty/programmes/" + id + "/rules"
	if d := r.URL.Query().Get("done"); d != "" && s.cat.has("loyalty.flash."+d) {
		p.Flash = s.cat.t(v.lang, "loyalty.flash."+d)
	}
	return s.render(w, status, p)
}

// ruleValues fills a form with a rule version, to start a new version from it.
func ruleValues(f url.Values, r *loyalty.Rule) {
	f.Set("id", r.ID)
	f.Set("name_fr", r.Name.FR)
	f.Set("name_en", r.Name.EN)
	f.Set("points_per_unit", strconv.FormatInt(r.PointsPerUnit, 10))
	if r.MinBasketCents > 0 {
		f.Set("min_basket", fmt.Sprintf("%d.%02d", r.MinBasketCents/100, r.MinBasketCents%100))
	}
	var ms []string
	for _, m := range r.Multipliers {
		if m.GTIN != "" {
			ms = append(ms, fmt.Sprintf("gtin %s %d", m.GTIN, m.Percent))
		} else {
			ms = append(ms, fmt.Sprintf("category %s %d", m.Category, m.Percent))
		}
	}
	f.Set("multipliers", strings.Join(ms, "\n"))
	if r.ValidFrom != nil {
		f.Set("valid_from", r.ValidFrom.UTC().Format("2006-01-02T15:04"))
	}
	if r.ValidUntil != nil {
		f.Set("valid_until", r.ValidUntil.UTC().Format("2006-01-02T15:04"))
	}
	f.Set("countries", strings.Join(r.Countries, " "))
	if r.MinAge > 0 {
		f.Set("min_age", strconv.Itoa(r.MinAge))
	}
}

func (s *server) handleRules(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.rules(w, r, v, nil, nil, http.StatusOK)
}

// readRule reads a rule version from the form; nil when no rule ID was given (a preview of
// the published rules only).
func readRule(fp *formParser, programme string) *loyalty.Rule {
	if fp.str("id") == "" && fp.str("name_fr") == "" && fp.str("name_en") == "" {
		return nil
	}
	r := &loyalty.Rule{Programme: programme, ID: fp.str("id"), Name: loyalty.Text{FR: fp.str("name_fr"), EN: fp.str("name_en")},
		PointsPerUnit: fp.int("points_per_unit", "points_per_unit", 0), MinBasketCents: fp.cents("min_basket", "min_basket_cents"),
		ValidFrom: fp.datetime("valid_from", "valid_from"), ValidUntil: fp.datetime("valid_until", "valid_until"),
		MinAge: int(fp.int("min_age", "min_age", 0))}
	for c := range strings.FieldsFuncSeq(strings.ToUpper(fp.str("countries")), func(r rune) bool { return r == ',' || r == ' ' || r == ';' }) {
		r.Countries = append(r.Countries, c)
	}
	// Multipliers: one per line, "category <code> <percent>" or "gtin <code> <percent>".
	n := 0
	for line := range strings.Lines(fp.v.Get("multipliers")) {
		words := strings.Fields(line)
		if len(words) == 0 {
			continue
		}
		field := fmt.Sprintf("multipliers.%d", n)
		n++
		pct, err := strconv.ParseInt(strings.TrimSuffix(words[len(words)-1], "%"), 10, 64)
		if len(words) != 3 || err != nil || (words[0] != "category" && words[0] != "gtin" && words[0] != "catégorie") {
			fp.bad(field, "invalid_multiplier", "write “category <code> <percent>” or “gtin <code> <percent>”")
			continue
		}
		m := loyalty.Multiplier{Percent: pct}
		if words[0] == "gtin" {
			m.GTIN = words[1]
		} else {
			m.Category = words[1]
		}
		r.Multipliers = append(r.Multipliers, m)
	}
	return r
}

// readSample reads the preview's sample basket, member profile and order time.
// rows[n] is the form row of lines[n] (empty rows are skipped).
func readSample(fp *formParser) (lines []loyalty.OrderLine, rows []int, profile loyalty.Profile, at time.Time) {
	for i := range sampleLines {
		k := func(s string) string { return fmt.Sprintf("line_%d_%s", i, s) }
		if fp.str(k("gtin")) == "" && fp.str(k("category")) == "" && fp.str(k("unit_price")) == "" {
			continue
		}
		f := func(s string) string { return fmt.Sprintf("lines.%d.%s", i, s) }
		rows = append(rows, i)
		lines = append(lines, loyalty.OrderLine{GTIN: fp.str(k("gtin")), Category: fp.str(k("category")), Quantity: fp.int(k("quantity"), f("quantity"), 1),
			UnitPriceCents: fp.cents(k("unit_price"), f("unit_price_cents")), PromotionCents: fp.cents(k("promotion"), f("promotion_cents"))})
	}
	profile.Country = strings.ToUpper(fp.str("sample_country"))
	if b := fp.date("sample_birth_date", "sample_birth_date"); !b.IsZero() {
		profile.BirthDate = &b
	}
	if t := fp.datetime("sample_at", "sample_at"); t != nil {
		at = *t
	}
	return lines, rows, profile, at
}

// lineRows renames the domain's "lines.<n>..." fields to the form rows they came from.
func lineRows(err error, rows []int) error {
	e := fidelis.AsError(err)
	if e == nil || e.Code != fidelis.EINVALID {
		return err
	}
	fields := slices.Clone(e.Fields)
	for i, fe := range fields {
		parts := strings.SplitN(fe.Field, ".", 3)
		if n, cerr := strconv.Atoi(parts[min(1, len(parts)-1)]); parts[0] == "lines" && len(parts) > 1 && cerr == nil && n < len(rows) {
			parts[1] = strconv.Itoa(rows[n])
			fields[i].Field = strings.Join(parts, ".")
		}
	}
	return fidelis.Invalid(fields...)
}

// handleRulesPost previews a sample basket under the rules and the draft version, nothing
// posted (action=preview), or publishes the draft (action=publish) (L-3).
func (s *server) handleRulesPost(w http.ResponseWriter, r *http.Request, v *visit) error {
	id := r.PathValue("pid")
	fp := &formParser{v: r.PostForm}
	draft := readRule(fp, id)
	f := newLoyaltyForm(r.PostForm)
	var err error
	if r.PostForm.Get("action") == "publish" {
		if draft == nil {
			draft = &loyalty.Rule{Programme: id}
		}
		if err = fp.err(); err == nil {
			var created *loyalty.Rule
			if created, err = s.app.Loyalty.CreateRule(r.Context(), *draft); err == nil {
				http.Redirect(w, r, fmt.Sprintf("/app/loyalty/programmes/%s/rules?done=rule_published&rule=%s&v=%d", id, created.ID, created.Version), http.StatusSeeOther)
				return nil
			}
		}
	} else {
		lines, rows, profile, at := readSample(fp)
		if err = fp.err(); err == nil {
			var pv *loyalty.EarningPreview
			if pv, err = s.app.Loyalty.PreviewEarning(r.Context(), loyalty.PreviewInput{Programme: id, Draft: draft, Lines: lines, At: at, Profile: profile}); err == nil {
				return s.rules(w, r, v, f, pv, http.StatusOK)
			}
			err = lineRows(err, rows)
		}
	}
	if !s.spread(v.lang, f, err) {
		return err
	}
	return s.rules(w, r, v, f, nil, http.StatusUnprocessableEntity)
}

// ---------- Member page ----------

// joinOption is a programme and terms version a customer may join under.
type joinOption struct {
	Value string // "<programme>/<version>"
	Label string
}

// memberView is the data of a customer's loyalty page.
type memberView struct {
	ID          fidelis.CustomerID
	Loyalty     *loyalty.CustomerLoyalty // nil when the customer is a member of no programme
	Names       map[string]string        // programme names by ID
	Currencies  map[string]string
	Joinable    []joinOption
	CanWrite    bool
	Key         string // a fresh Idempotency-Key for each form: a resubmission replays (L-7)
	Reasons     []choice
	Form        *loyaltyForm
	Before      string
	HistoryNext string
}

// Delta is the change a transaction made to the member's points.
func (m *memberView) Delta(t *loyalty.Transaction) int64 { return t.MemberDelta() }

func (s *server) member(w http.ResponseWriter, r *http.Request, v *visit, f *loyaltyForm, status int) error {
	id, err := fidelis.ParseCustomerID(r.PathValue("id"))
	if err != nil {
		return err
	}
	ctx := r.Context()
	before := r.URL.Query().Get("before")
	mv := &memberView{ID: id, Names: map[string]string{}, Currencies: map[string]string{}, Key: auth.RandomSecret(18), Form: f, Before: before}
	if mv.Form == nil {
		mv.Form = newLoyaltyForm(nil)
	}
	cl, err := s.app.Loyalty.Member(ctx, loyaltyPurpose, id, before, historyPageSize)
	switch e := fidelis.AsError(err); {
	case err == nil:
		mv.Loyalty, mv.HistoryNext = cl, cl.History.Next
	case e != nil && e.Reason == "not_a_member":
		// Not a member: the page offers to join.
	default:
		return err
	}
	_, aerr := s.app.Registry.Authorize(v.sess.User.Actor(), loyaltyPurpose, fidelis.ActionUpdate)
	mv.CanWrite = aerr == nil
	active := map[string]bool{}
	if cl != nil {
		for _, m := range cl.Memberships {
			mv.Names[m.Programme.ID], mv.Currencies[m.Programme.ID] = m.Programme.Name, m.Programme.Currency
			active[m.Programme.ID] = m.Member.Active()
		}
	}
	if mv.CanWrite && s.app.Loyalty.CheckManage(ctx) == nil {
		ps, err := s.app.Loyalty.Programmes(ctx)
		if err != nil {
			return err
		}
		now := s.now()
		for _, p := range ps {
			if active[p.ID] {
				continue
			}
			pg, err := s.app.Loyalty.GetProgramme(ctx, p.ID)
			if err != nil {
				return err
			}
			for _, t := range pg.Terms {
				// L-1: the version in force or a later one may be accepted.
				if pg.Current != nil && t.Version < pg.Current.Version {
					continue
				}
				state := s.cat.t(v.lang, "loyalty.terms_in_force")
				if t.EffectiveAt.After(now) {
					state = s.cat.t(v.lang, "loyalty.terms_from") + " " + webform.Date(v.lang, t.EffectiveAt)
				}
				mv.Joinable = append(mv.Joinable, joinOption{Value: fmt.Sprintf("%s/%d", p.ID, t.Version),
					Label: fmt.Sprintf("%s — %s v%d (%s)", p.Name, s.cat.t(v.lang, "loyalty.terms"), t.Version, state)})
			}
		}
	}
	for _, code := range slices.Sorted(maps.Keys(loyalty.AdjustReasons())) {
		mv.Reasons = append(mv.Reasons, choice{Value: code, Label: loyalty.AdjustReasons()[code].In(v.lang), Checked: mv.Form.Get("reason") == code})
	}
	p := s.newPage(r, v, "loyalty_member", s.cat.t(v.lang, "loyalty.member"), mv)
	p.Path = "/app/loyalty/members/" + string(id)
	if d := r.URL.Query().Get("done"); d != "" && s.cat.has("loyalty.flash."+d) {
		p.Flash = s.cat.t(v.lang, "loyalty.flash."+d)
	}
	return s.render(w, status, p)
}

func (s *server) handleMember(w http.ResponseWriter, r *http.Request, v *visit) error {
	return s.member(w, r, v, nil, http.StatusOK)
}

// handleMemberAction joins, leaves, records the acceptance of newer terms or adjusts the
// points of a member, each with the form's Idempotency-Key (L-7), under the loyalty purpose.
func (s *server) handleMemberAction(w http.ResponseWriter, r *http.Request, v *visit) error {
	id, err := fidelis.ParseCustomerID(r.PathValue("id"))
	if err != nil {
		return err
	}
	ctx, pf, op := r.Context(), r.PostForm, r.PathValue("op")
	fp := &formParser{v: pf}
	key := pf.Get("key")
	in := loyalty.MembershipInput{Programme: pf.Get("programme_id"), Customer: id, Channel: "back_office", Key: key}
	switch op {
	case "join":
		pid, ver, _ := strings.Cut(pf.Get("terms"), "/")
		in.Programme = pid
		in.TermsVersion, _ = strconv.Atoi(ver)
		if pf.Get("terms") == "" {
			fp.bad("terms", "required", "choose the programme and the version of the terms")
		}
		// L-1: joining is accepting one specific version; staff confirm the customer did.
		if pf.Get("accepted") != "on" {
			fp.bad("accepted", "required", "the customer must accept this version of the terms")
		}
		if err = fp.err(); err == nil {
			_, _, err = s.app.Loyalty.Join(ctx, loyaltyPurpose, in)
		}
	case "accept":
		in.TermsVersion, _ = strconv.Atoi(pf.Get("terms_version"))
		_, _, err = s.app.Loyalty.AcceptTerms(ctx, loyaltyPurpose, in)
	case "leave":
		_, _, err = s.app.Loyalty.Leave(ctx, loyaltyPurpose, in)
	case "adjust":
		points := fp.int("points", "points", 0)
		if err = fp.err(); err == nil {
			_, err = s.app.Loyalty.Adjust(ctx, loyaltyPurpose, loyalty.AdjustInput{Programme: in.Programme, Customer: id, Points: points, Reason: pf.Get("reason"), Key: key})
		}
	default:
		return &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "no_route", Message: "there is no page at this address"}
	}
	if err == nil {
		http.Redirect(w, r, "/app/loyalty/members/"+string(id)+"?done="+op, http.StatusSeeOther)
		return nil
	}
	f := newLoyaltyForm(pf)
	f.Values.Set("op", op)
	if !s.spread(v.lang, f, err) {
		return err
	}
	return s.member(w, r, v, f, http.StatusUnprocessableEntity)
}

// ---------- Reports ----------

// liabilityView is the data of the liability report (L-6) with the ledger's verification.
type liabilityView struct {
	At     string
	Rows   []*loyalty.Liability
	Verify *loyalty.VerifyReport
	Form   *loyaltyForm
}

// handleLiability reports the outstanding points and their value at the end of a chosen
// day (UTC), per programme, and on request the result of verify (L-6).
func (s *server) handleLiability(w http.ResponseWriter, r *http.Request, v *visit) error {
	ctx := r.Context()
	q := r.URL.Query()
	f := newLoyaltyForm(url.Values{"at": {q.Get("at")}})
	fp := &formParser{v: f.Values}
	day := fp.date("at", "at")
	if day.IsZero() {
		day = s.now().Truncate(24 * time.Hour)
		f.Values.Set("at", day.Format(time.DateOnly))
	}
	status := http.StatusOK
	lv := &liabilityView{At: f.Get("at"), Form: f}
	if err := fp.err(); err != nil {
		s.spread(v.lang, f, err)
		status = http.StatusUnprocessableEntity
		day = s.now().Truncate(24 * time.Hour)
	}
	ps, err := s.app.Loyalty.Programmes(ctx)
	if err != nil {
		return err
	}
	end := day.AddDate(0, 0, 1).Add(-time.Microsecond)
	for _, p := range ps {
		l, err := s.app.Loyalty.Liability(ctx, p.ID, end)
		if err != nil {
			return err
		}
		lv.Rows = append(lv.Rows, l)
	}
	if q.Get("verify") == "1" {
		if lv.Verify, err = s.app.Loyalty.Verify(ctx); err != nil {
			return err
		}
	}
	p := s.newPage(r, v, "loyalty_liability", s.cat.t(v.lang, "loyalty.liability"), lv)
	return s.render(w, status, p)
}

// expiryView is the data of the expiry page: what the job has to do, a dry run, a run.
type expiryView struct {
	Outlook *loyalty.ExpiryOutlook
	DryRun  *loyalty.ExpiryReport
	Ran     *loyalty.ExpiryReport
}

func (s *server) expiry(w http.ResponseWriter, r *http.Request, v *visit, ev *expiryView) error {
	o, err := s.app.Loyalty.Outlook(r.Context(), s.now())
	if err != nil {
		return err
	}
	ev.Outlook = o
	p := s.newPage(r, v, "loyalty_expiry", s.cat.t(v.lang, "loyalty.expiry"), ev)
	p.Path = "/app/loyalty/expiry"
	return s.render(w, http.StatusOK, p)
}

func (s *server) handleExpiry(w http.ResponseWriter, r *http.Request, v *visit) error {
	ev := &expiryView{}
	q := r.URL.Query()
	if q.Get("done") == "run" {
		tx, _ := strconv.Atoi(q.Get("tx"))
		pts, _ := strconv.ParseInt(q.Get("points"), 10, 64)
		n, _ := strconv.Atoi(q.Get("notices"))
		ev.Ran = &loyalty.ExpiryReport{Transactions: tx, Points: pts, Notices: n}
	}
	return s.expiry(w, r, v, ev)
}

// handleExpiryPost runs the expiry job now, dry (action=preview: what it would post and
// notify) or for real (action=run) (L-4). It always runs as of now: expiring points early
// from the back-office is not possible.
func (s *server) handleExpiryPost(w http.ResponseWriter, r *http.Request, v *visit) error {
	dry := r.PostForm.Get("action") != "run"
	rep, err := s.app.Loyalty.Expire(r.Context(), s.now(), dry)
	if err != nil {
		return err
	}
	if dry {
		return s.expiry(w, r, v, &expiryView{DryRun: rep})
	}
	http.Redirect(w, r, fmt.Sprintf("/app/loyalty/expiry?done=run&tx=%d&points=%d&notices=%d", rep.Transactions, rep.Points, rep.Notices), http.StatusSeeOther)
	return nil
}
