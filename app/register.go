package app

import (
	"context"

	"github.com/fidelis/fidelis"

	"github.com/fidelis/fidelis/register"
	"github.com/fidelis/fidelis/retention"
)

// registerRetention lists the retention rules in force (T-1..T-6) as the register of
// processing and the privacy notice state them (D-2, R-5): read from the retention engine
// at the time of the request, so that an operator's change of a period reaches both
// documents at once. The read is role-free (the public notice has no actor) and carries
// no one's identity: who changed a rule stays in the audit log.
func (a *App) registerRetention(ctx context.Context) ([]register.RetentionRule, error) {
	rules, err := a.Retention.PublishedRules(ctx)
	if err != nil {
		return nil, err
	}
	return registerRules(rules), nil
}

// registerRules maps the retention engine's rules to the register's input.
func registerRules(rules retention.Rules) []register.RetentionRule {
	out := make([]register.RetentionRule, 0, len(rules))
	for _, r := range rules {
		in := register.RetentionRule{ID: string(r.ID), Name: r.Name, Subjects: r.Subjects, Start: r.Start,
			Months: r.Months, DefaultMonths: r.DefaultMonths, Notice: string(r.Notice), Outcome: string(r.Outcome)}
		if o := r.Override; o != nil {
			in.Changed = &register.RetentionChange{At: o.At, Reason: o.Reason}
		}
		out = append(out, in)
	}
	return out
}

// accessRetention gives the readable access answer each purpose's retention as the
// privacy notice states it in lang, so that both say the same, rules in force included.
func (a *App) accessRetention(ctx context.Context, lang string) (map[fidelis.Purpose]string, error) {
	n, err := a.Register.Notice(ctx, lang)
	if err != nil {
		return nil, err
	}
	out := make(map[fidelis.Purpose]string, len(n.Purposes))
	for _, p := range n.Purposes {
		out[p.Purpose] = p.Retention
	}
	return out, nil
}
