package consent_test

import (
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/consent"
	"github.com/fidelis/fidelis/privacy"
)

// Folding the ledger in any recording order gives, for the subject and for the parent
// separately, the decision collected last (on a tie, the one recorded last): a paper grant
// recorded after an online withdrawal it predates does not revive the consent (C-2).
func TestFold_LatestDecisionInTimeWins_C2(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		decisions := []privacy.ConsentDecision{privacy.ConsentGranted, privacy.ConsentRefused, privacy.ConsentWithdrawn}
		st := &privacy.SubjectState{}
		type last struct {
			d  privacy.ConsentDecision
			at time.Time
		}
		var subject, parent last
		n := rapid.IntRange(1, 40).Draw(t, "n")
		for i := range n {
			r := &consent.Record{
				ID: "cns_" + string(rune('a'+i%26)), Purpose: fidelis.PurposeMarketingEmail, Channel: privacy.ChannelEmail,
				Decision:    rapid.SampledFrom(decisions).Draw(t, "decision"),
				Parental:    rapid.Bool().Draw(t, "parental"),
				CollectedAt: base.Add(time.Duration(rapid.IntRange(0, 10).Draw(t, "day")) * 24 * time.Hour),
			}
			consent.Fold(st, r)
			m := &subject
			if r.Parental {
				m = &parent
			}
			if m.d == "" || !m.at.After(r.CollectedAt) {
				*m = last{r.Decision, r.CollectedAt}
			}
		}
		got, _ := st.Consent(fidelis.PurposeMarketingEmail, privacy.ChannelEmail)
		if got.Decision != subject.d || got.Parental != parent.d {
			t.Fatalf("folded = %s (parental %s); want %s (parental %s)", got.Decision, got.Parental, subject.d, parent.d)
		}
	})
}
