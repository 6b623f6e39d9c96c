package privacy_test

import (
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/privacy"
)

// One table for the whole lawfulness decision: each rule, and which rule wins when several
// apply (P-3, R-10, R-12, R-13, C-2, C-4, T-7).
func TestLawful_Rules_P3_R10_R12_R13(t *testing.T) {
	reg := privacy.DefaultRegistry()
	at := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	granted := func(minor bool, parental privacy.ConsentDecision) map[string]privacy.ConsentStatus {
		return map[string]privacy.ConsentStatus{privacy.ConsentKey(fidelis.PurposeMarketingEmail, privacy.ChannelEmail): {Decision: privacy.ConsentGranted, At: at, Minor: minor, Parental: parental}}
	}
	withdrawn := map[string]privacy.ConsentStatus{privacy.ConsentKey(fidelis.PurposeMarketingEmail, privacy.ChannelEmail): {Decision: privacy.ConsentWithdrawn, At: at}}
	restricted := &privacy.Restriction{Since: at, Ground: privacy.RestrictAccuracyContested}
	for _, tt := range []struct {
		name    string
		purpose fidelis.Purpose
		st      *privacy.SubjectState
		reason  string
	}{
		{"no subject", fidelis.PurposeMarketingEmail, nil, ""},
		{"consent missing", fidelis.PurposeMarketingEmail, &privacy.SubjectState{}, "consent_missing"},
		{"consent granted", fidelis.PurposeMarketingEmail, &privacy.SubjectState{Consents: granted(false, "")}, ""},
		{"consent withdrawn", fidelis.PurposeMarketingEmail, &privacy.SubjectState{Consents: withdrawn}, "consent_withdrawn"},
		{"granted on another channel only", fidelis.PurposeMarketingSMS, &privacy.SubjectState{Consents: granted(false, "")}, "consent_missing"},
		{"minor without parent", fidelis.PurposeMarketingEmail, &privacy.SubjectState{Consents: granted(true, "")}, "parental_consent_missing"},
		{"minor with parent", fidelis.PurposeMarketingEmail, &privacy.SubjectState{Consents: granted(true, privacy.ConsentGranted)}, ""},
		{"contract, nothing recorded", fidelis.PurposeCustomerService, &privacy.SubjectState{}, ""},
		{"restricted contract", fidelis.PurposeCustomerService, &privacy.SubjectState{Restriction: restricted}, "restricted"},
		{"restricted legal claims", fidelis.PurposeLegalClaims, &privacy.SubjectState{Restriction: restricted}, ""},
		{"restricted own request", fidelis.PurposeDataProtection, &privacy.SubjectState{Restriction: restricted}, ""},
		{"restricted with consent", fidelis.PurposeMarketingEmail, &privacy.SubjectState{Restriction: restricted, Consents: granted(false, "")}, ""},
		{"restricted without consent", fidelis.PurposeMarketingEmail, &privacy.SubjectState{Restriction: restricted}, "consent_missing"},
		{"marketing objection beats consent", fidelis.PurposeMarketingEmail, &privacy.SubjectState{MarketingObjection: &at, Consents: granted(false, "")}, "objection_direct_marketing"},
		{"marketing objection, other purpose", fidelis.PurposeCustomerService, &privacy.SubjectState{MarketingObjection: &at}, ""},
		{"LI objection upheld", fidelis.PurposeSales, &privacy.SubjectState{Objections: map[fidelis.Purpose]privacy.Objection{fidelis.PurposeSales: {At: at}}}, "objection_upheld"},
		{"LI objection overridden", fidelis.PurposeSales, &privacy.SubjectState{Objections: map[fidelis.Purpose]privacy.Objection{fidelis.PurposeSales: {At: at, Override: &privacy.Override{At: at, By: "user:u", Ground: privacy.OverrideCompellingGrounds, Reference: "D-1"}}}}, ""},
		{"archived", fidelis.PurposeCustomerService, &privacy.SubjectState{Archived: &at}, "retention_expired"},
		{"archived, accounting", fidelis.PurposeAccounting, &privacy.SubjectState{Archived: &at}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := reg.Purpose(tt.purpose)
			if err != nil {
				t.Fatal(err)
			}
			err = d.Lawful(tt.st)
			got := ""
			if err != nil {
				got = fidelis.AsError(err).Reason
			}
			if got != tt.reason {
				t.Fatalf("Lawful(%s) = %v; want reason %q", tt.purpose, err, tt.reason)
			}
		})
	}
}
