package register_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/privacy"
	"github.com/fidelis/fidelis/register"
	"github.com/fidelis/fidelis/retention"
)

var changedAt = time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)

// rulesInForce returns the retention engine's rules with overrides applied, as the
// register's input (app.registerRetention does the same over PublishedRules).
func rulesInForce(ovs ...retention.Override) []register.RetentionRule {
	var out []register.RetentionRule
	for _, r := range retention.Apply(ovs) {
		in := register.RetentionRule{ID: string(r.ID), Name: r.Name, Subjects: r.Subjects, Start: r.Start, Months: r.Months,
			DefaultMonths: r.DefaultMonths, Notice: string(r.Notice), Outcome: string(r.Outcome)}
		if o := r.Override; o != nil {
			in.Changed = &register.RetentionChange{At: o.At, Reason: o.Reason}
		}
		out = append(out, in)
	}
	return out
}

func withRules(ovs ...retention.Override) register.Input {
	in := input()
	in.RetentionRules = rulesInForce(ovs...)
	return in
}

// escaped returns s as html/template or encoding/json writes it in text.
func escaped(s, format string) string {
	switch format {
	case register.OutHTML:
		return strings.NewReplacer("'", "&#39;", `"`, "&#34;").Replace(s)
	case register.OutJSON:
		return strings.ReplaceAll(s, `"`, `\"`)
	}
	return s
}

// TestRetention_RulesInEveryFormatAndLanguage_D2_R5: both documents carry a retention
// section with every rule T-1..T-6: its name, who it applies to, the period in force and
// what happens at the end, in French and English, as JSON, Markdown and HTML; the
// register adds the default period; purposes governed by a rule point to it.
func TestRetention_RulesInEveryFormatAndLanguage_D2_R5(t *testing.T) {
	in := withRules()
	period := map[string]string{"fr": "36 mois (3 ans)", "en": "36 months (3 years)"}
	for _, lang := range langs {
		r, n := mustRegister(t, in, lang), mustNotice(t, in, lang)
		if len(r.RetentionRules) != 6 || len(n.RetentionRules) != 6 {
			t.Fatalf("%s: register has %d rules, notice %d; want T-1..T-6 in both", lang, len(r.RetentionRules), len(n.RetentionRules))
		}
		for i, id := range retention.RuleIDs() {
			rule := retention.Apply(nil).Get(id)
			rv, nv := r.RetentionRules[i], n.RetentionRules[i]
			if rv.Rule != string(id) || nv.Rule != string(id) || rv.Name != rule.Name.In(lang) || nv.Subjects != rule.Subjects.In(lang) ||
				rv.Months != rule.Months || rv.DefaultMonths != rule.Months || rv.Overridden || rv.Outcome != string(rule.Outcome) || nv.AtEnd == "" || rv.AtEnd == nv.AtEnd {
				t.Errorf("%s: rule %d = %+v / %+v; want %s with its texts, the register's own wording at the end", lang, i, rv, nv, id)
			}
		}
		if got := r.RetentionRules[1].Period; !strings.HasPrefix(got, period[lang]) {
			t.Errorf("%s: T-2 period = %q; want it to start with %q", lang, got, period[lang])
		}
		for _, a := range r.Activities {
			switch a.Purpose {
			case fidelis.PurposeLoyalty:
				if !reflect.DeepEqual(a.RetentionRuleIDs, []string{"T-4"}) {
					t.Errorf("%s: loyalty points to %v; want T-4", lang, a.RetentionRuleIDs)
				}
			case fidelis.PurposeAudit, fidelis.PurposeLegalClaims, fidelis.PurposeDataProtection:
				if len(a.RetentionRuleIDs) != 0 {
					t.Errorf("%s: %s points to %v; the engine sets no period for it", lang, a.Purpose, a.RetentionRuleIDs)
				}
			}
			p, _ := in.Registry.Purpose(a.Purpose)
			if a.Retention != p.Retention.In(lang) {
				t.Errorf("%s: %s retention = %q; want the registry's text while every rule is at its default", lang, a.Purpose, a.Retention)
			}
		}
		for _, doc := range []register.Document{r, n} {
			for _, format := range formats {
				out := render(t, doc, format)
				for i, id := range retention.RuleIDs() {
					rule := retention.Apply(nil).Get(id)
					v := n.RetentionRules[i]
					if _, isReg := doc.(*register.Register); isReg {
						v = r.RetentionRules[i].RetentionView
					}
					for _, want := range []string{string(id), v.Name, v.Subjects, v.Period, v.AtEnd} {
						if !strings.Contains(out, escaped(want, format)) {
							t.Errorf("%s/%s %T lacks %q (rule %s)", lang, format, doc, want, id)
						}
					}
					if format == register.OutHTML && !strings.Contains(out, `data-rule="`+string(id)+`" data-months="`+itoa(rule.Months)+`"`) {
						t.Errorf("%s %T HTML: rule %s has no data-rule and data-months", lang, doc, id)
					}
				}
				switch format {
				case register.OutHTML:
					if !strings.Contains(out, `<section data-section="retention">`) || !strings.Contains(out, `href="#retention-T-4"`) {
						t.Errorf("%s %T HTML: no retention section or no link from a purpose to its rule", lang, doc)
					}
				case register.OutJSON:
					if !strings.Contains(out, `"retention_rules": [`) || !strings.Contains(out, `"retention_rule_ids": [`) {
						t.Errorf("%s %T JSON: no retention_rules or retention_rule_ids", lang, doc)
					}
				}
			}
		}
		if out := render(t, r, register.OutMarkdown); !strings.Contains(out, map[string]string{"fr": "Durée par défaut (référentiel CNIL)", "en": "Default period (CNIL guidelines)"}[lang]) {
			t.Errorf("%s register Markdown does not state the default periods", lang)
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestRetention_OverrideInForceNotDefault_D2_R5_T2: once an operator changes T-2 to 48
// months, both documents state 48 months as the period in force; the register records the
// default, the date and the reason; neither states the old default as in force, and no
// purpose's text still states it; the public notice shows neither the reason nor who.
func TestRetention_OverrideInForceNotDefault_D2_R5_T2(t *testing.T) {
	const reason = `Our furniture carries a 4-year warranty <script>alert(1)</script> [x](javascript:alert(2))`
	in := withRules(retention.Override{Rule: retention.RuleCustomer, Months: 48, Reason: reason, By: "user:usr_dpo", At: changedAt})
	want := map[string]struct{ now, old, registryText string }{
		"fr": {"48 mois (4 ans)", "36 mois (3 ans)", "3 ans après la fin de la relation commerciale"},
		"en": {"48 months (4 years)", "36 months (3 years)", "3 years after the end of the commercial relationship"},
	}
	for _, lang := range langs {
		w := want[lang]
		r, n := mustRegister(t, in, lang), mustNotice(t, in, lang)
		rv, nv := r.RetentionRules[1], n.RetentionRules[1]
		if rv.Rule != "T-2" || rv.Months != 48 || !strings.HasPrefix(rv.Period, w.now) || strings.Contains(rv.Period, w.old) ||
			rv.DefaultMonths != 36 || rv.Default != w.old || !rv.Overridden || rv.ChangedAt != "2026-12-01T09:30:00Z" || rv.ChangeReason != reason {
			t.Errorf("%s register T-2 = %+v; want 48 months in force, 36 as the default, changed on 2026-12-01 with the reason", lang, rv)
		}
		if nv.Months != 48 || !strings.HasPrefix(nv.Period, w.now) || strings.Contains(nv.Period, w.old) {
			t.Errorf("%s notice T-2 = %+v; want 48 months only", lang, nv)
		}
		for _, other := range r.RetentionRules {
			if other.Rule != "T-2" && (other.Overridden || other.ChangedAt != "") {
				t.Errorf("%s: %s marked changed: %+v", lang, other.Rule, other)
			}
		}
		// Every purpose governed by T-2 states the period in force, none the registry's
		// text written for the default; the others keep their text.
		for _, a := range r.Activities {
			p, _ := in.Registry.Purpose(a.Purpose)
			governed := false
			for _, id := range a.RetentionRuleIDs {
				governed = governed || id == "T-2"
			}
			switch {
			case governed && (a.Retention == p.Retention.In(lang) || !strings.Contains(a.Retention, w.now) || strings.Contains(a.Retention, w.registryText)):
				t.Errorf("%s: %s retention = %q; want the periods in force (T-2: %s)", lang, a.Purpose, a.Retention, w.now)
			case !governed && a.Retention != p.Retention.In(lang):
				t.Errorf("%s: %s retention = %q; want the registry's text, no rule of it changed", lang, a.Purpose, a.Retention)
			}
		}
		for _, p := range n.Purposes {
			if strings.Contains(p.Retention, w.registryText) {
				t.Errorf("%s notice: %s still states %q", lang, p.Purpose, w.registryText)
			}
		}
		for _, format := range formats {
			for _, doc := range []register.Document{r, n} {
				out := render(t, doc, format)
				if strings.Contains(out, w.registryText) {
					t.Errorf("%s/%s %T states the default %q", lang, format, doc, w.registryText)
				}
				if strings.Contains(out, "usr_dpo") {
					t.Errorf("%s/%s %T names who changed the rule", lang, format, doc)
				}
				if !strings.Contains(out, escaped(rv.Period, format)) && !strings.Contains(out, escaped(nv.Period, format)) {
					t.Errorf("%s/%s %T lacks the period in force", lang, format, doc)
				}
			}
			// The register states the default as the default only: its line in force says 48.
			reg := render(t, r, format)
			if line := lineWith(reg, "T-2", format); !strings.Contains(line, w.now) {
				t.Errorf("%s/%s register: the T-2 period in force is not 48 months: %q", lang, format, line)
			}
			if format != register.OutJSON && !strings.Contains(reg, "2026-12-01T09:30:00Z") {
				t.Errorf("%s/%s register lacks the date of the change", lang, format)
			}
			// The reason is operator text: escaped like the rest, and only in the register.
			not := render(t, n, format)
			if strings.Contains(not, "furniture") {
				t.Errorf("%s/%s notice shows the operator's reason", lang, format)
			}
			switch format {
			case register.OutHTML:
				if strings.Contains(reg, "<script>") || !strings.Contains(reg, "&lt;script&gt;alert(1)&lt;/script&gt;") {
					t.Errorf("%s register HTML does not escape the reason", lang)
				}
			case register.OutMarkdown:
				if !strings.Contains(reg, `\<script\>`) || strings.Contains(reg, "[x](javascript") {
					t.Errorf("%s register Markdown does not escape the reason", lang)
				}
			}
		}
	}
}

// lineWith returns the period-in-force line of rule id in a rendering: the Markdown item or
// the HTML element after the rule's heading, or the JSON object's period member.
func lineWith(out, id, format string) string {
	i := -1 // the rule's heading, not a purpose's pointer to it
	if loc := regexp.MustCompile(`(?m)^### .*\(` + id + `\)$`).FindStringIndex(out); loc != nil {
		i = loc[0]
	}
	switch format {
	case register.OutHTML:
		i = strings.Index(out, `data-rule="`+id+`"`)
	case register.OutJSON:
		i = strings.Index(out, `"rule": "`+id+`"`)
	}
	if i < 0 {
		return ""
	}
	rest := out[i:]
	for _, marker := range []string{`data-field="period">`, "**Durée en vigueur**", "**Period in force**", `"period": `} {
		if j := strings.Index(rest, marker); j >= 0 {
			rest = rest[j:]
			if k := strings.IndexAny(rest, "\n<"); k > len(marker) {
				return rest[:k]
			}
			return rest
		}
	}
	return ""
}

// TestRetention_DeterministicHashFollowsRules_D2: rules in any order give the same bytes;
// a changed period gives a new content hash in both documents, which verifies, and a
// document whose rule is altered afterwards no longer verifies.
func TestRetention_DeterministicHashFollowsRules_D2(t *testing.T) {
	a := withRules()
	b := withRules()
	rs := b.RetentionRules
	b.RetentionRules = []register.RetentionRule{rs[5], rs[2], rs[0], rs[4], rs[1], rs[3]}
	for _, lang := range langs {
		for _, format := range formats {
			if render(t, mustRegister(t, a, lang), format) != render(t, mustRegister(t, b, lang), format) ||
				render(t, mustNotice(t, a, lang), format) != render(t, mustNotice(t, b, lang), format) {
				t.Errorf("%s/%s: the documents depend on the rules' order", lang, format)
			}
		}
		c := withRules(retention.Override{Rule: retention.RuleProspect, Months: 24, Reason: "Shorter for prospects, board decision", At: changedAt})
		for _, pair := range [][2]register.Document{{mustRegister(t, a, lang), mustRegister(t, c, lang)}, {mustNotice(t, a, lang), mustNotice(t, c, lang)}} {
			if pair[0].Hash() == pair[1].Hash() {
				t.Errorf("%s %T: hash %s unchanged when T-1 went from 36 to 24 months", lang, pair[0], pair[0].Hash())
			}
		}
		r := mustRegister(t, c, lang)
		var back register.Register
		if err := json.Unmarshal([]byte(render(t, r, register.OutJSON)), &back); err != nil || !reflect.DeepEqual(&back, r) || !back.Verify() {
			t.Fatalf("%s: register with a changed rule does not round-trip and verify: %v", lang, err)
		}
		back.RetentionRules[0].Months = 36
		if back.Verify() {
			t.Errorf("%s: a register whose T-1 period was altered still verifies", lang)
		}
		n := mustNotice(t, c, lang)
		var nb register.Notice
		if err := json.Unmarshal([]byte(render(t, n, register.OutJSON)), &nb); err != nil || !reflect.DeepEqual(&nb, n) || !nb.Verify() {
			t.Fatalf("%s: notice with a changed rule does not round-trip and verify: %v", lang, err)
		}
		nb.RetentionRules[0].Period = "forever"
		if nb.Verify() {
			t.Errorf("%s: a notice whose T-1 period was altered still verifies", lang)
		}
		if r.Format != "fidelis-register/v2" || n.Format != "fidelis-notice/v2" {
			t.Errorf("formats %q %q; want version 2 of both", r.Format, n.Format)
		}
	}
}

// TestRetention_NoRulesSaysSo_D2_R5: without a retention source the documents say no rule
// is configured and keep the registry's texts.
func TestRetention_NoRulesSaysSo_D2_R5(t *testing.T) {
	for _, doc := range []register.Document{mustRegister(t, input(), "en"), mustNotice(t, input(), "en")} {
		for _, format := range []string{register.OutMarkdown, register.OutHTML} {
			if out := render(t, doc, format); !strings.Contains(out, "No automatic retention rule is configured") {
				t.Errorf("%s %T without rules does not say so", format, doc)
			}
		}
		if out := render(t, doc, register.OutJSON); !strings.Contains(out, `"retention_rules": []`) {
			t.Errorf("%T JSON without rules has no empty retention_rules", doc)
		}
	}
}

func TestRetentionRules_Validated_D2(t *testing.T) {
	for _, tt := range []struct {
		name  string
		edit  func(rs []register.RetentionRule) []register.RetentionRule
		field string
	}{
		{"bad id", func(rs []register.RetentionRule) []register.RetentionRule { rs[0].ID = "T 1"; return rs }, "retention_rules[0].id"},
		{"duplicate", func(rs []register.RetentionRule) []register.RetentionRule { return append(rs, rs[2]) }, "retention_rules[6].id"},
		{"no months", func(rs []register.RetentionRule) []register.RetentionRule { rs[1].Months = 0; return rs }, "retention_rules[1].months"},
		{"no English name", func(rs []register.RetentionRule) []register.RetentionRule { rs[1].Name.EN = ""; return rs }, "retention_rules[1].name"},
		{"two-line start", func(rs []register.RetentionRule) []register.RetentionRule { rs[2].Start.FR = "a\nb"; return rs }, "retention_rules[2].start"},
		{"bad outcome", func(rs []register.RetentionRule) []register.RetentionRule { rs[3].Outcome = "shred"; return rs }, "retention_rules[3].outcome"},
		{"bad notice", func(rs []register.RetentionRule) []register.RetentionRule { rs[3].Notice = "sms"; return rs }, "retention_rules[3].notice"},
		{"change without reason", func(rs []register.RetentionRule) []register.RetentionRule {
			rs[4].Changed = &register.RetentionChange{At: changedAt}
			return rs
		}, "retention_rules[4].changed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := withRules()
			in.RetentionRules = tt.edit(in.RetentionRules)
			for _, build := range []func() error{
				func() error { _, err := register.BuildRegister(in, "fr"); return err },
				func() error { _, err := register.BuildNotice(in, "en"); return err },
			} {
				if e := fidelis.AsError(build()); e == nil || e.Code != fidelis.EINVALID || e.Fields[0].Field != tt.field {
					t.Fatalf("Build = %v; want EINVALID on %s", e, tt.field)
				}
			}
		})
	}
}

// TestService_RetentionSourceAtEachRequest_D2_R5: the service reads the rules in force at
// each request, for the register and for the public notice alike; a failing source fails
// the document rather than state stale periods.
func TestService_RetentionSourceAtEachRequest_D2_R5(t *testing.T) {
	months := 36
	var fail error
	s := &register.Service{Registry: privacy.DefaultRegistry(), Retention: func(context.Context) ([]register.RetentionRule, error) {
		if fail != nil {
			return nil, fail
		}
		rs := rulesInForce()
		rs[3].Months = months
		return rs, nil
	}}
	admin := fidelis.WithActor(context.Background(), fidelis.SystemActor("test", fidelis.RoleAdmin))
	for _, m := range []int{36, 30} {
		months = m
		r, err := s.Register(admin, "en")
		if err != nil || r.RetentionRules[3].Months != m {
			t.Fatalf("Register with T-4 at %d months = %v; rules %+v", m, err, r)
		}
		n, err := s.Notice(context.Background(), "en")
		if err != nil || n.RetentionRules[3].Months != m {
			t.Fatalf("Notice with T-4 at %d months = %v", m, err)
		}
	}
	fail = errors.New("database down")
	if _, err := s.Notice(context.Background(), "fr"); !errors.Is(err, fail) {
		t.Errorf("Notice with a failing source = %v; want the source's error", err)
	}
}
