// Package register generates, from the purpose registry, the controller's identity, the
// list of recipients and the retention rules in force, the two documents the GDPR asks a
// controller to keep and to give: the record of processing activities (art. 30, D-2) and
// the privacy notice (art. 13/14, R-5), in French and English, as JSON, Markdown and HTML.
//
// The output is deterministic (sorted, no generation time) so that successive versions can
// be stored and diffed; each document carries the version and date of the purpose registry
// it comes from and the SHA-256 hash of its own content.
package register

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/privacy"
)

// Document formats. Version 2 added the retention rules in force (retention_rules) and the
// rules each purpose points to; a purpose's retention text may now come from those rules.
const (
	FormatRegister = "fidelis-register/v2"
	FormatNotice   = "fidelis-notice/v2"
)

// ParseLang validates a document language: "fr" or "en" ("" means French).
func ParseLang(s string) (string, error) {
	switch s {
	case "", LangFR:
		return LangFR, nil
	case LangEN:
		return LangEN, nil
	}
	return "", fidelis.Invalid(fidelis.FieldError{Field: "lang", Rule: "one_of", Message: "must be fr or en"})
}

// Input is everything a document is generated from.
type Input struct {
	Registry   *privacy.Registry
	Controller Controller
	Recipients []Recipient
	// RetentionRules are the retention rules in force; none means the documents state the
	// registry's texts only.
	RetentionRules []RetentionRule
	// RegistryDate is when the purpose registry was last changed; zero if unknown.
	RegistryDate time.Time
}

// Party is the controller or the DPO as a document shows them. Missing lists the fields the
// operator has not configured, which the texts show as "not configured".
type Party struct {
	Configured bool     `json:"configured"`
	Name       string   `json:"name"`
	Address    string   `json:"address,omitempty"`
	Email      string   `json:"email,omitempty"`
	Contact    string   `json:"contact,omitempty"`
	Missing    []string `json:"missing"`
}

// Category is a category of personal data with the fields of it a purpose uses.
type Category struct {
	Key    string       `json:"key"`
	Label  string       `json:"label"`
	Fields []FieldLabel `json:"fields"`
}

// Text returns the category and its fields in one line: "Identity (given name, family
// name)"; a category of one field named like it is its label alone.
func (c Category) Text() string {
	if len(c.Fields) == 1 && strings.EqualFold(c.Fields[0].Label, c.Label) {
		return c.Label
	}
	fs := make([]string, len(c.Fields))
	for i, f := range c.Fields {
		fs[i] = f.Label
	}
	return c.Label + " (" + strings.Join(fs, ", ") + ")"
}

// FieldLabel is a customer field and its name in the document's language.
type FieldLabel struct {
	Field fidelis.Field `json:"field"`
	Label string        `json:"label"`
}

// RecipientView is a recipient as a document shows it.
type RecipientView struct {
	Name      string            `json:"name"`
	Kind      RecipientKind     `json:"kind"`
	KindLabel string            `json:"kind_label"`
	Country   string            `json:"country"`
	Purposes  []fidelis.Purpose `json:"purposes"`
	Transfer  bool              `json:"transfer"` // outside the EEA
	Safeguard string            `json:"safeguard,omitempty"`
	// SafeguardLabel explains the safeguard, or says none is documented for a transfer.
	SafeguardLabel string `json:"safeguard_label,omitempty"`
}

// Activity is one processing activity of the register: one purpose (art. 30(1)(b)-(g)).
type Activity struct {
	Purpose            fidelis.Purpose     `json:"purpose"`
	Description        string              `json:"description"`
	LawfulBasis        fidelis.LawfulBasis `json:"lawful_basis"`
	LawfulBasisLabel   string              `json:"lawful_basis_label"`
	LegitimateInterest string              `json:"legitimate_interest,omitempty"`
	DataSubjects       []string            `json:"data_subjects"`
	DataCategories     []Category          `json:"data_categories"`
	InternalRecipients []string            `json:"internal_recipients"`
	ExternalRecipients []string            `json:"external_recipients"`
	Transfers          []string            `json:"transfers"`
	// Retention states how long the purpose's data are kept; RetentionRuleIDs names the
	// retention rules that govern them (purposeRetention).
	Retention        string   `json:"retention"`
	RetentionRuleIDs []string `json:"retention_rule_ids"`
}

// Register is the record of processing activities (art. 30(1)).
type Register struct {
	Format          string     `json:"format"`
	Lang            string     `json:"lang"`
	Title           string     `json:"title"`
	RegistryVersion string     `json:"registry_version"`
	RegistryDate    string     `json:"registry_date,omitempty"`
	ContentHash     string     `json:"content_hash"`
	Controller      Party      `json:"controller"`
	DPO             Party      `json:"dpo"`
	Activities      []Activity `json:"activities"`
	// RetentionRules are the retention rules in force at the time of the document.
	RetentionRules []RegisterRetention `json:"retention_rules"`
	Recipients     []RecipientView     `json:"recipients"`
	Security       []string            `json:"security_measures"`
}

// NoticePurpose is one purpose as the notice explains it.
type NoticePurpose struct {
	Purpose            fidelis.Purpose     `json:"purpose"`
	Description        string              `json:"description"`
	LawfulBasis        fidelis.LawfulBasis `json:"lawful_basis"`
	LawfulBasisLabel   string              `json:"lawful_basis_label"`
	LegitimateInterest string              `json:"legitimate_interest,omitempty"`
	Data               []string            `json:"data"`
	Retention          string              `json:"retention"`
	RetentionRuleIDs   []string            `json:"retention_rule_ids"`
	Required           string              `json:"required"`
}

// Right is one right of the data subject.
type Right struct {
	Right string `json:"right"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

// Authority is the supervisory authority complaints go to (art. 13(2)(d)).
type Authority struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	Website string `json:"website"`
	Text    string `json:"text"`
}

// Notice is the privacy notice (art. 13 and 14).
type Notice struct {
	Format          string          `json:"format"`
	Lang            string          `json:"lang"`
	Title           string          `json:"title"`
	Intro           string          `json:"intro"`
	RegistryVersion string          `json:"registry_version"`
	RegistryDate    string          `json:"registry_date,omitempty"`
	ContentHash     string          `json:"content_hash"`
	Controller      Party           `json:"controller"`
	DPO             Party           `json:"dpo"`
	Purposes        []NoticePurpose `json:"purposes"`
	// RetentionIntro and RetentionRules say how long data are kept, by the rules in force
	// at the time of the document (art. 13(2)(a)).
	RetentionIntro  string          `json:"retention_intro"`
	RetentionRules  []RetentionView `json:"retention_rules"`
	RecipientsIntro string          `json:"recipients_intro"`
	Recipients      []RecipientView `json:"recipients"`
	// TransfersNote says how to obtain a copy of the safeguards (art. 13(1)(f)); set when
	// a recipient is outside the EEA.
	TransfersNote      string    `json:"transfers_note,omitempty"`
	Source             string    `json:"source"`
	Rights             []Right   `json:"rights"`
	HowToExercise      string    `json:"how_to_exercise"`
	Complaint          Authority `json:"complaint"`
	AutomatedDecisions string    `json:"automated_decisions"`
}

// RegistryVersion identifies the content of a purpose registry: the first 16 hex digits of
// the SHA-256 of its purposes and grants, in order.
func RegistryVersion(reg *privacy.Registry) string {
	b, err := json.Marshal([]any{reg.Purposes(), reg.Roles()})
	if err != nil {
		panic(err) // strings and slices of strings always marshal
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

func (in *Input) validate() error {
	if in.Registry == nil {
		return &fidelis.Error{Code: fidelis.EINTERNAL, Message: "register: no purpose registry"}
	}
	if err := in.Controller.Validate(); err != nil {
		return err
	}
	known := func(p fidelis.Purpose) bool { _, err := in.Registry.Purpose(p); return err == nil }
	var errs []fidelis.FieldError
	for i, r := range in.Recipients {
		errs = append(errs, r.validate(i, known)...)
	}
	seen := map[string]bool{}
	for i, r := range in.RetentionRules {
		errs = append(errs, r.validate(i)...)
		if seen[r.ID] {
			errs = append(errs, fidelis.FieldError{Field: fmt.Sprintf("retention_rules[%d].id", i), Rule: "duplicate", Message: "names a rule given already"})
		}
		seen[r.ID] = true
	}
	if len(errs) > 0 {
		return fidelis.Invalid(errs...)
	}
	return nil
}

func controllerParty(c Controller) Party {
	p := Party{Name: c.Name, Address: c.Address, Email: c.Email, Missing: []string{}}
	for _, f := range []struct{ name, v string }{{"name", c.Name}, {"address", c.Address}, {"email", c.Email}} {
		if f.v == "" {
			p.Missing = append(p.Missing, f.name)
		}
	}
	p.Configured = len(p.Missing) == 0
	return p
}

func dpoParty(c Controller) Party {
	p := Party{Name: c.DPOName, Contact: c.DPOContact, Missing: []string{}}
	if c.DPOName == "" {
		p.Missing = append(p.Missing, "name")
	}
	if c.DPOContact == "" {
		p.Missing = append(p.Missing, "contact")
	}
	p.Configured = c.DPOContact != ""
	return p
}

// recipientViews returns the validated recipients in a stable order: by name, kind, country.
func recipientViews(rs []Recipient, lang string) []RecipientView {
	out := make([]RecipientView, 0, len(rs))
	for _, r := range rs {
		ps := slices.Clone(r.Purposes)
		slices.Sort(ps)
		ps = slices.Compact(ps)
		v := RecipientView{Name: strings.TrimSpace(r.Name), Kind: r.Kind, KindLabel: kindLabels[r.Kind].in(lang), Country: r.Country,
			Purposes: ps, Transfer: !InEEA(r.Country), Safeguard: strings.TrimSpace(r.Safeguard)}
		switch {
		case v.Safeguard != "":
			if t, ok := safeguardLabels[v.Safeguard]; ok {
				v.SafeguardLabel = t.in(lang)
			} else {
				v.SafeguardLabel = v.Safeguard
			}
		case v.Transfer:
			v.SafeguardLabel = l(lang, "transfer.none_safeguard")
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b RecipientView) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Country, b.Country), cmp.Compare(a.Safeguard, b.Safeguard))
	})
	return out
}

// dataCategories groups a purpose's fields into categories, in a fixed order.
func dataCategories(fields []fidelis.Field, lang string) []Category {
	out := []Category{}
	seen := map[fidelis.Field]bool{}
	label := func(f fidelis.Field) FieldLabel {
		if t, ok := fieldLabels[f]; ok {
			return FieldLabel{f, t.in(lang)}
		}
		return FieldLabel{f, string(f)}
	}
	for _, c := range categories {
		cat := Category{Key: c.key, Label: c.label.in(lang)}
		for _, f := range c.fields {
			if slices.Contains(fields, f) {
				cat.Fields = append(cat.Fields, label(f))
				seen[f] = true
			}
		}
		if len(cat.Fields) > 0 {
			out = append(out, cat)
		}
	}
	other := Category{Key: otherCategory.key, Label: otherCategory.label.in(lang)}
	rest := slices.Clone(fields)
	slices.Sort(rest)
	for _, f := range slices.Compact(rest) {
		if !seen[f] {
			other.Fields = append(other.Fields, label(f))
		}
	}
	if len(other.Fields) > 0 {
		out = append(out, other)
	}
	return out
}

func legitimateInterest(p *privacy.Purpose, lang string) string {
	if p.LawfulBasis != fidelis.BasisLegitimateInterest {
		return ""
	}
	if t, ok := interests[p.Name]; ok {
		return t.in(lang)
	}
	return p.Description.In(lang)
}

// sortedPurposes returns the registry's purposes by name.
func sortedPurposes(reg *privacy.Registry) []*privacy.Purpose {
	ps := reg.Purposes()
	slices.SortFunc(ps, func(a, b *privacy.Purpose) int { return cmp.Compare(a.Name, b.Name) })
	return ps
}

// externalFor returns the names of the purpose's recipients: those the registry declares
// and those of the recipients list that name the purpose, sorted and without repeats.
func externalFor(p *privacy.Purpose, rs []RecipientView) (names, transfers []string) {
	names = []string{}
	transfers = []string{}
	for _, r := range p.Recipients {
		if r = strings.TrimSpace(r); r != "" {
			names = append(names, r)
		}
	}
	for _, r := range rs {
		if !slices.Contains(r.Purposes, p.Name) {
			continue
		}
		names = append(names, r.Name+" ("+r.KindLabel+", "+r.Country+")")
		if r.Transfer {
			transfers = append(transfers, r.Name+" ("+r.Country+") — "+r.SafeguardLabel)
		}
	}
	slices.Sort(names)
	slices.Sort(transfers)
	return slices.Compact(names), slices.Compact(transfers)
}

func date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// BuildRegister generates the record of processing activities in lang (D-2). It returns
// EINVALID if the controller configuration or a recipient is invalid.
func BuildRegister(in Input, lang string) (*Register, error) {
	lang, err := ParseLang(lang)
	if err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	rs := recipientViews(in.Recipients, lang)
	reg := &Register{
		Format: FormatRegister, Lang: lang, Title: l(lang, "register.title"),
		RegistryVersion: RegistryVersion(in.Registry), RegistryDate: date(in.RegistryDate),
		Controller: controllerParty(in.Controller), DPO: dpoParty(in.Controller),
		Activities: []Activity{}, RetentionRules: registerRetention(in.RetentionRules, lang), Recipients: rs, Security: []string{},
	}
	for _, p := range sortedPurposes(in.Registry) {
		a := Activity{
			Purpose: p.Name, Description: p.Description.In(lang), LawfulBasis: p.LawfulBasis,
			LawfulBasisLabel: bases[p.LawfulBasis].in(lang), LegitimateInterest: legitimateInterest(p, lang),
			DataCategories: dataCategories(p.Fields, lang), InternalRecipients: []string{},
		}
		a.Retention, a.RetentionRuleIDs = purposeRetention(p, in.RetentionRules, lang)
		subj, ok := subjects[p.Name]
		if !ok {
			subj = defaultSubjects
		}
		for _, s := range subj {
			a.DataSubjects = append(a.DataSubjects, s.in(lang))
		}
		// Internal recipients: the roles granted the purpose (Roles is sorted by role).
		for _, g := range in.Registry.Roles() {
			if g.Role == fidelis.RoleSubject {
				continue // the customer reading their own data is not a recipient
			}
			if slices.Contains(g.Purposes, p.Name) {
				name := string(g.Role)
				if t, ok := roleLabels[g.Role]; ok {
					name = t.in(lang)
				}
				a.InternalRecipients = append(a.InternalRecipients, name)
			}
		}
		a.ExternalRecipients, a.Transfers = externalFor(p, rs)
		reg.Activities = append(reg.Activities, a)
	}
	for _, m := range security {
		reg.Security = append(reg.Security, m.in(lang))
	}
	reg.ContentHash = contentHash(reg)
	return reg, nil
}

// BuildNotice generates the privacy notice in lang. It returns EINVALID if the
// controller configuration or a recipient is invalid.
func BuildNotice(in Input, lang string) (*Notice, error) {
	lang, err := ParseLang(lang)
	if err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	n := &Notice{
		Format: FormatNotice, Lang: lang, Title: l(lang, "notice.title"), Intro: l(lang, "notice.intro"),
		RegistryVersion: RegistryVersion(in.Registry), RegistryDate: date(in.RegistryDate),
		Controller: controllerParty(in.Controller), DPO: dpoParty(in.Controller),
		Purposes: []NoticePurpose{}, RetentionIntro: l(lang, "retention.notice_intro"), RetentionRules: noticeRetention(in.RetentionRules, lang),
		RecipientsIntro: l(lang, "recipients.intro"),
		Recipients:      recipientViews(in.Recipients, lang), Source: l(lang, "source.text"),
		HowToExercise: l(lang, "exercise.text"),
		Complaint: Authority{Name: l(lang, "cnil.name"), Address: l(lang, "cnil.address"), Website: l(lang, "cnil.website"),
			Text: l(lang, "complaint.text")},
		AutomatedDecisions: l(lang, "automated.text"),
	}
	for i := range n.Recipients {
		if n.Recipients[i].Transfer {
			n.TransfersNote = l(lang, "transfers.copy")
		}
		if n.Recipients[i].Transfer && n.Recipients[i].Safeguard == "" {
			// The public text states the gap plainly, without the register's internal wording.
			n.Recipients[i].SafeguardLabel = l(lang, "transfer.notice_missing")
		}
	}
	for _, p := range sortedPurposes(in.Registry) {
		np := NoticePurpose{
			Purpose: p.Name, Description: p.Description.In(lang), LawfulBasis: p.LawfulBasis,
			LawfulBasisLabel: bases[p.LawfulBasis].in(lang), LegitimateInterest: legitimateInterest(p, lang),
			Required: required[p.LawfulBasis].in(lang), Data: []string{},
		}
		np.Retention, np.RetentionRuleIDs = purposeRetention(p, in.RetentionRules, lang)
		for _, c := range dataCategories(p.Fields, lang) {
			np.Data = append(np.Data, c.Text())
		}
		n.Purposes = append(n.Purposes, np)
	}
	for _, r := range rights {
		n.Rights = append(n.Rights, Right{Right: r.key, Title: r.title.in(lang), Text: r.text.in(lang)})
	}
	n.ContentHash = contentHash(n)
	return n, nil
}

// contentHash is the SHA-256 of the document's JSON with an empty hash member: the same
// for its JSON, Markdown and HTML renderings, different for each language.
func contentHash(doc any) string {
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err) // documents hold strings and slices only
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Verify recomputes a document's content hash and reports whether it matches, so that a
// stored version can be checked.
func (r *Register) Verify() bool {
	c := *r
	c.ContentHash = ""
	return contentHash(&c) == r.ContentHash
}

// Verify recomputes the notice's content hash and reports whether it matches.
func (n *Notice) Verify() bool {
	c := *n
	c.ContentHash = ""
	return contentHash(&c) == n.ContentHash
}

// RecipientSource lists the external recipients; the recipients registry provides it.
type RecipientSource func(ctx context.Context) ([]Recipient, error)

// Service generates the documents of an installation. It is safe for concurrent use.
type Service struct {
	Registry     *privacy.Registry
	Controller   Controller
	RegistryDate time.Time
	// Recipients, when set, lists the external recipients at the time of the request.
	Recipients RecipientSource
	// Retention, when set, lists the retention rules in force at the time of the request,
	// so that both documents state the periods actually applied (D-2, R-5).
	Retention RetentionSource
}

func (s *Service) input(ctx context.Context) (Input, error) {
	in := Input{Registry: s.Registry, Controller: s.Controller, RegistryDate: s.RegistryDate}
	if s.Recipients != nil {
		rs, err := s.Recipients(ctx)
		if err != nil {
			return in, err
		}
		in.Recipients = rs
	}
	if s.Retention != nil {
		rules, err := s.Retention(ctx)
		if err != nil {
			return in, err
		}
		in.RetentionRules = rules
	}
	return in, nil
}

// Register returns the record of processing activities in lang. The actor in ctx must hold
// the administrative action read_register (P-4): EUNAUTHORIZED without an actor,
// EFORBIDDEN without the action, EINVALID for a bad language or configuration.
func (s *Service) Register(ctx context.Context, lang string) (*Register, error) {
	if err := s.CanRead(ctx); err != nil {
		return nil, err
	}
	in, err := s.input(ctx)
	if err != nil {
		return nil, err
	}
	return BuildRegister(in, lang)
}

// CanRead reports, as an error, whether the actor in ctx may read the register.
func (s *Service) CanRead(ctx context.Context) error {
	actor, ok := fidelis.ActorFrom(ctx)
	if !ok {
		return &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "no_actor", Message: "authentication required"}
	}
	if !s.Registry.Can(actor.Role, fidelis.ActionReadRegister) {
		return fidelis.Refusal("action_not_permitted", "role "+string(actor.Role)+" may not read the register of processing")
	}
	return nil
}

// Notice returns the privacy notice in lang. It is public: no actor is needed.
func (s *Service) Notice(ctx context.Context, lang string) (*Notice, error) {
	in, err := s.input(ctx)
	if err != nil {
		return nil, err
	}
	return BuildNotice(in, lang)
}
