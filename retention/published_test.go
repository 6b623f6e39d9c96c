package retention_test

import (
	"context"
	"testing"

	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/retention"
)

// TestRetention_PublishedRulesNeedNoActor_D2_R5: the rules as published in the privacy
// notice and the register are read without an actor (the public notice has none): the
// periods in force with the override's date and reason, but not who made it, which Rules
// keeps for those who may read it.
func TestRetention_PublishedRulesNeedNoActor_D2_R5(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := newEnv(t, b, false)
		rules, err := e.a.Retention.PublishedRules(context.Background())
		if err != nil || len(rules) != len(retention.RuleIDs()) || rules.Get(retention.RuleLoyalty).Months != 36 || rules.Get(retention.RuleLoyalty).Override != nil {
			t.Fatalf("PublishedRules before any change = %v, %v; want the six defaults", rules, err)
		}
		if _, err := e.a.Retention.Rules(context.Background()); err == nil {
			t.Fatal("Rules without an actor succeeded; only PublishedRules is role-free")
		}
		const reason = "Members keep their card 2 years longer"
		if _, err := e.a.Retention.OverrideRule(dpo, retention.RuleLoyalty, 60, reason); err != nil {
			t.Fatal(err)
		}
		rules, err = e.a.Retention.PublishedRules(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		r := rules.Get(retention.RuleLoyalty)
		if r.Months != 60 || r.DefaultMonths != 36 || r.Override == nil || r.Override.Reason != reason || r.Override.At.IsZero() || r.Override.By != "" {
			t.Errorf("published T-4 = %+v (override %+v); want 60 months over 36, the reason and date, no operator", r, r.Override)
		}
		if other := rules.Get(retention.RuleCustomer); other.Months != 36 || other.Override != nil {
			t.Errorf("published T-2 = %+v; want its default", other)
		}
		managed, err := e.a.Retention.Rules(dpo)
		if err != nil || managed.Get(retention.RuleLoyalty).Override.By != "system:dpo" {
			t.Errorf("Rules for the DPO = %v; want the operator kept", err)
		}
		for _, r := range rules {
			if r.Subjects.FR == "" || r.Subjects.EN == "" || r.Start.FR == "" || r.Start.EN == "" {
				t.Errorf("rule %s has no plain-words subjects or start in both languages", r.ID)
			}
		}
	})
}
