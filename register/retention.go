package register

import (
	"cmp"
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/privacy"
)

// RetentionRule is one retention rule in force (T-1..T-6) as the register and the notice
// state it. The retention engine feeds these at each request (app wires
// retention.Service.PublishedRules); here they are plain input, as recipients are.
type RetentionRule struct {
	ID       string       // the requirement that sets it: "T-2"
	Name     fidelis.Text // "Client" / "Customer"
	Subjects fidelis.Text // whose data it governs, in plain words; states no period
	Start    fidelis.Text // when the period runs from, words that follow a number of months
	// Months is the period in force; DefaultMonths the CNIL default it replaces, if it does.
	Months        int
	DefaultMonths int
	Notice        string // what the person is sent before it ends: "", NoticeRenewal, NoticeWarning
	Outcome       string // what happens when it ends: OutcomeErase, OutcomeArchive, OutcomeKeep
	// Changed is set when an operator changed the default period.
	Changed *RetentionChange
}

// RetentionChange is an operator's change of a rule's default period: when and why. Who
// made it is not here: neither document names staff, and the audit log keeps it.
type RetentionChange struct {
	At     time.Time
	Reason string // written by the operator; holds no personal data (retention.OverrideRule)
}

// Notices and outcomes of a retention rule (the values of package retention).
const (
	NoticeRenewal  = "renewal" // T-1: asked once to renew their consent
	NoticeWarning  = "warning" // T-3: warned before the account is deleted
	OutcomeErase   = "erase"   // erased by crypto-shredding
	OutcomeArchive = "archive" // the restricted intermediate archive, then erasure (T-6)
	OutcomeKeep    = "keep"    // kept by law, pseudonymised once the person is erased (T-5)
)

// RetentionSource lists the retention rules in force; the retention engine provides it.
type RetentionSource func(ctx context.Context) ([]RetentionRule, error)

// RetentionView is a retention rule as the notice states it: the period in force, never
// the default it replaced.
type RetentionView struct {
	Rule     string `json:"rule"`
	Name     string `json:"name"`
	Subjects string `json:"subjects"`
	Months   int    `json:"months"`
	// Period states Months in words with its starting point: "48 months (4 years) after
	// the end of the commercial relationship (...)".
	Period  string `json:"period"`
	Notice  string `json:"notice,omitempty"`
	Outcome string `json:"outcome"`
	// AtEnd says what happens when the period ends, and what the person is sent before.
	AtEnd string `json:"at_end"`
}

// RegisterRetention is a retention rule as the register records it: the period in force,
// the CNIL default and, when an operator changed it, when and why (art. 30(1)(f)).
type RegisterRetention struct {
	RetentionView
	DefaultMonths int    `json:"default_months"`
	Default       string `json:"default"`
	Overridden    bool   `json:"overridden"`
	ChangedAt     string `json:"changed_at,omitempty"`
	ChangeReason  string `json:"change_reason,omitempty"`
}

// Limits of retention rule input.
const (
	maxRuleText   = 500
	maxRuleMonths = 1200
)

var ruleIDPattern = regexp.MustCompile(`^[A-Z]-[0-9]{1,3}$`)

func oneLine(s string, max int) bool {
	return strings.TrimSpace(s) != "" && len(s) <= max && utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl)
}

// validate checks a rule. i is its index, for messages.
func (r RetentionRule) validate(i int) []fidelis.FieldError {
	var errs []fidelis.FieldError
	f := func(name string) string { return fmt.Sprintf("retention_rules[%d].%s", i, name) }
	if !ruleIDPattern.MatchString(r.ID) {
		errs = append(errs, fidelis.FieldError{Field: f("id"), Rule: "invalid", Message: "must be a requirement ID such as T-2"})
	}
	for _, t := range []struct {
		name string
		v    fidelis.Text
	}{{"name", r.Name}, {"subjects", r.Subjects}, {"start", r.Start}} {
		if !oneLine(t.v.FR, maxRuleText) || !oneLine(t.v.EN, maxRuleText) {
			errs = append(errs, fidelis.FieldError{Field: f(t.name), Rule: "required", Message: fmt.Sprintf("must be one line in French and in English, at most %d bytes", maxRuleText)})
		}
	}
	if r.Months < 1 || r.Months > maxRuleMonths || r.DefaultMonths < 1 || r.DefaultMonths > maxRuleMonths {
		errs = append(errs, fidelis.FieldError{Field: f("months"), Rule: "out_of_range", Message: fmt.Sprintf("periods must be from 1 to %d months", maxRuleMonths)})
	}
	if _, ok := endTexts[r.Outcome]; !ok {
		errs = append(errs, fidelis.FieldError{Field: f("outcome"), Rule: "one_of", Message: "must be erase, archive or keep"})
	}
	if _, ok := noticeTexts[r.Notice]; r.Notice != "" && !ok {
		errs = append(errs, fidelis.FieldError{Field: f("notice"), Rule: "one_of", Message: "must be empty, renewal or warning"})
	}
	if c := r.Changed; c != nil && (c.At.IsZero() || !oneLine(c.Reason, maxRuleText)) {
		errs = append(errs, fidelis.FieldError{Field: f("changed"), Rule: "invalid", Message: fmt.Sprintf("a change needs its time and a one-line reason of at most %d bytes", maxRuleText)})
	}
	return errs
}

// compareRuleIDs orders "T-2" before "T-10".
func compareRuleIDs(a, b string) int { return cmp.Or(cmp.Compare(len(a), len(b)), cmp.Compare(a, b)) }

// sortedRules returns the rules by ID.
func sortedRules(rs []RetentionRule) []RetentionRule {
	out := slices.Clone(rs)
	slices.SortFunc(out, func(a, b RetentionRule) int { return compareRuleIDs(a.ID, b.ID) })
	return out
}

// months states a number of months, with the years when it is a whole number of them:
// "36 mois (3 ans)", "18 months", "12 months (1 year)".
func months(n int, lang string) string {
	var s string
	switch {
	case lang == LangFR:
		s = fmt.Sprintf("%d mois", n)
	case n == 1:
		s = "1 month"
	default:
		s = fmt.Sprintf("%d months", n)
	}
	if n%12 != 0 {
		return s
	}
	switch y := n / 12; {
	case lang == LangFR && y == 1:
		return s + " (1 an)"
	case lang == LangFR:
		return s + fmt.Sprintf(" (%d ans)", y)
	case y == 1:
		return s + " (1 year)"
	default:
		return s + fmt.Sprintf(" (%d years)", y)
	}
}

// retentionView states rule r in lang for reader (the register or the notice).
func retentionView(r RetentionRule, lang string, forNotice bool) RetentionView {
	end := endTexts[r.Outcome].register
	notice := noticeTexts[r.Notice].register
	if forNotice {
		end, notice = endTexts[r.Outcome].notice, noticeTexts[r.Notice].notice
	}
	atEnd := end.in(lang)
	if r.Notice != "" {
		atEnd = notice.in(lang) + " " + atEnd
	}
	return RetentionView{Rule: r.ID, Name: r.Name.In(lang), Subjects: r.Subjects.In(lang), Months: r.Months,
		Period: months(r.Months, lang) + " " + r.Start.In(lang), Notice: r.Notice, Outcome: r.Outcome, AtEnd: atEnd}
}

func registerRetention(rs []RetentionRule, lang string) []RegisterRetention {
	out := make([]RegisterRetention, 0, len(rs))
	for _, r := range sortedRules(rs) {
		v := RegisterRetention{RetentionView: retentionView(r, lang, false), DefaultMonths: r.DefaultMonths,
			Default: months(r.DefaultMonths, lang), Overridden: r.Changed != nil}
		if c := r.Changed; c != nil {
			v.ChangedAt, v.ChangeReason = date(c.At), strings.TrimSpace(c.Reason)
		}
		out = append(out, v)
	}
	return out
}

func noticeRetention(rs []RetentionRule, lang string) []RetentionView {
	out := make([]RetentionView, 0, len(rs))
	for _, r := range sortedRules(rs) {
		out = append(out, retentionView(r, lang, true))
	}
	return out
}

// purposeRetention returns what purpose p's entry states about retention, and the IDs of
// the rules that govern its data (purposeRules), in ID order.
//
// The registry's retention text of a purpose is kept as is while every rule that governs
// the purpose is at its default period: the texts of the default registry were written
// for those defaults, and an operator's own text stays theirs. Once an operator changed
// the period of one of those rules, the text would state a period no longer applied, and
// a notice that misinforms (art. 13(2)(a), R-5): the entry then states the periods of the
// governing rules in force instead, from the same rules as the retention section, so the
// two can never disagree. A purpose governed by no rule (legal claims, rights requests,
// the access log: the retention engine does not set their periods) keeps its text.
func purposeRetention(p *privacy.Purpose, rs []RetentionRule, lang string) (string, []string) {
	ids := []string{}
	var governing []RetentionRule
	changed := false
	for _, r := range sortedRules(rs) {
		if slices.Contains(purposeRules[p.Name], r.ID) {
			ids = append(ids, r.ID)
			governing = append(governing, r)
			changed = changed || r.Months != r.DefaultMonths
		}
	}
	if !changed {
		return p.Retention.In(lang), ids
	}
	parts := make([]string, len(governing))
	for i, r := range governing {
		parts[i] = r.Name.In(lang) + " (" + r.ID + ")" + colon(lang) + months(r.Months, lang)
	}
	return l(lang, "retention.in_force") + colon(lang) + strings.Join(parts, semicolon(lang)) + ". " + l(lang, "retention.see"), ids
}

// colon is the label separator: French typography puts a space before the colon.
func colon(lang string) string {
	if lang == LangFR {
		return " : "
	}
	return ": "
}

// semicolon separates the items of a list in a line, with French spacing in French.
func semicolon(lang string) string {
	if lang == LangFR {
		return " ; "
	}
	return "; "
}

// ruleLabel names rule id as the documents refer to it: "Client (T-2)".
func ruleLabel[V interface{ view() RetentionView }](rules []V, id string) string {
	for _, r := range rules {
		if v := r.view(); v.Rule == id {
			return v.Name + " (" + v.Rule + ")"
		}
	}
	return id
}

func (v RetentionView) view() RetentionView     { return v }
func (v RegisterRetention) view() RetentionView { return v.RetentionView }

// RuleLabel names a retention rule the register points to: "Customer (T-2)".
func (r *Register) RuleLabel(id string) string { return ruleLabel(r.RetentionRules, id) }

// RuleLabel names a retention rule the notice points to: "Customer (T-2)".
func (n *Notice) RuleLabel(id string) string { return ruleLabel(n.RetentionRules, id) }
