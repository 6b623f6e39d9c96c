package privacy

import (
	"fmt"
	"time"

	"github.com/fidelis/fidelis"
)

// Channel is a means of contact a consent is given for (C-1).
type Channel string

// Channels.
const (
	ChannelEmail      Channel = "email"
	ChannelSMS        Channel = "sms"
	ChannelPhone      Channel = "phone"
	ChannelPost       Channel = "post"
	ChannelAdMatching Channel = "ad_matching" // audience matching on advertising platforms (M-6)
)

// Channels lists the channels in a stable order.
func Channels() []Channel {
	return []Channel{ChannelEmail, ChannelSMS, ChannelPhone, ChannelPost, ChannelAdMatching}
}

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool {
	for _, k := range Channels() {
		if c == k {
			return true
		}
	}
	return false
}

// ConsentDecision is what a consent record says.
type ConsentDecision string

// Consent decisions. A refusal is recorded like a grant (C-1).
const (
	ConsentGranted   ConsentDecision = "granted"
	ConsentRefused   ConsentDecision = "refused"
	ConsentWithdrawn ConsentDecision = "withdrawn"
)

// Valid reports whether d is one of the three decisions.
func (d ConsentDecision) Valid() bool {
	return d == ConsentGranted || d == ConsentRefused || d == ConsentWithdrawn
}

// ConsentStatus is the current consent of a subject for one purpose and channel: the last
// record of the consent ledger, folded.
type ConsentStatus struct {
	Decision      ConsentDecision `json:"decision"`
	At            time.Time       `json:"at"`
	NoticeVersion int             `json:"notice_version"`
	RecordID      string          `json:"record_id"`
	// Minor is set when the subject was under the age of digital consent when giving it
	// (C-4): the consent then also needs Parental to be granted.
	Minor      bool            `json:"minor,omitempty"`
	Parental   ConsentDecision `json:"parental,omitempty"`
	ParentalAt time.Time       `json:"parental_at,omitzero"`
}

// RestrictionGround is why processing is restricted (GDPR art. 18(1)(a)-(d)).
type RestrictionGround string

// Restriction grounds.
const (
	RestrictAccuracyContested RestrictionGround = "accuracy_contested"  // 18(1)(a)
	RestrictUnlawful          RestrictionGround = "unlawful_processing" // 18(1)(b)
	RestrictLegalClaims       RestrictionGround = "legal_claims"        // 18(1)(c)
	RestrictObjectionPending  RestrictionGround = "objection_pending"   // 18(1)(d)
	// RestrictSubjectRequest is a restriction asked for in a rights request, whose
	// case records the ground.
	RestrictSubjectRequest RestrictionGround = "subject_request"
)

// Valid reports whether g is one of the grounds of art. 18(1).
func (g RestrictionGround) Valid() bool {
	switch g {
	case RestrictAccuracyContested, RestrictUnlawful, RestrictLegalClaims, RestrictObjectionPending, RestrictSubjectRequest:
		return true
	}
	return false
}

// Restriction is the frozen state of a subject.
type Restriction struct {
	Since     time.Time         `json:"since"`
	Ground    RestrictionGround `json:"ground"`
	Reference string            `json:"reference,omitempty"` // the rights request or case, if any
}

// Objection is a subject's objection to a legitimate-interest purpose. It stops the
// processing unless an operator records compelling grounds (Override).
type Objection struct {
	At        time.Time `json:"at"`
	Override  *Override `json:"override,omitempty"`
	Reference string    `json:"reference,omitempty"`
}

// Override records the compelling legitimate grounds an operator gave to go on processing
// despite an objection (GDPR art. 21(1)).
type Override struct {
	At        time.Time `json:"at"`
	By        string    `json:"by"`
	Ground    string    `json:"ground"`    // compelling_grounds or legal_claims
	Reference string    `json:"reference"` // the decision's reference (case number)
}

// Override grounds.
const (
	OverrideCompellingGrounds = "compelling_grounds"
	OverrideLegalClaims       = "legal_claims"
)

// SubjectState is what the lawfulness decision needs to know about one data subject at
// processing time: current consents, restriction, objections, retention. It holds no
// personal values, only decisions and times.
type SubjectState struct {
	Consents    map[string]ConsentStatus      `json:"consents,omitempty"` // by ConsentKey
	Restriction *Restriction                  `json:"restriction,omitempty"`
	Objections  map[fidelis.Purpose]Objection `json:"objections,omitempty"`
	// MarketingObjection is the objection to direct marketing: absolute.
	MarketingObjection *time.Time `json:"marketing_objection,omitempty"`
	// Archived is set when retention moved the subject to the restricted archive (T-7).
	Archived *time.Time `json:"archived,omitempty"`
}

// ConsentKey names the consent of purpose p on channel c in SubjectState.Consents.
func ConsentKey(p fidelis.Purpose, c Channel) string { return string(p) + "/" + string(c) }

// Consent returns the current consent for p on c, if any record exists.
func (s *SubjectState) Consent(p fidelis.Purpose, c Channel) (ConsentStatus, bool) {
	if s == nil || s.Consents == nil {
		return ConsentStatus{}, false
	}
	st, ok := s.Consents[ConsentKey(p, c)]
	return st, ok
}

// exemptFromFreeze reports whether purpose p goes on while a subject is restricted or
// archived: storage itself, the establishment or defence of legal claims (art. 18(2)),
// handling the subject's own rights requests, the accountability log and accounting records
// the law requires (T-5).
func exemptFromFreeze(p fidelis.Purpose) bool {
	switch p {
	case fidelis.PurposeLegalClaims, fidelis.PurposeDataProtection, fidelis.PurposeAudit, fidelis.PurposeAccounting:
		return true
	}
	return false
}

// Lawful decides whether processing under purpose d is lawful for the subject in state st
// now (P-3, R-10, R-12, R-13, C-2, C-4). It is the one decision every processing path takes
// after the role check (Registry.Authorize); st nil means no particular subject (creating
// one, or a listing that filters subject by subject). The refusal's Reason names the rule.
func (d *Purpose) Lawful(st *SubjectState) error {
	if st == nil {
		return nil
	}
	if st.Archived != nil && !exemptFromFreeze(d.Name) {
		return &fidelis.Error{Code: fidelis.EFORBIDDEN, Reason: "retention_expired",
			Message: fmt.Sprintf("the customer's data is past its retention period and archived (T-7); purpose %q may no longer process it", d.Name)}
	}
	// an objection to direct marketing is absolute, whatever the consents say.
	if d.DirectMarketing && st.MarketingObjection != nil {
		return &fidelis.Error{Code: fidelis.EFORBIDDEN, Reason: "objection_direct_marketing",
			Message: fmt.Sprintf("the customer objected to direct marketing on %s (R-12); purpose %q may not process their data", st.MarketingObjection.Format(time.DateOnly), d.Name)}
	}
	var basisErr error
	switch d.LawfulBasis {
	case fidelis.BasisConsent:
		basisErr = d.consentHolds(st)
	case fidelis.BasisLegitimateInterest:
		// an objection stops legitimate-interest processing unless an operator
		// recorded compelling grounds.
		if o, ok := st.Objections[d.Name]; ok && o.Override == nil {
			basisErr = &fidelis.Error{Code: fidelis.EFORBIDDEN, Reason: "objection_upheld",
				Message: fmt.Sprintf("the customer objected to processing under purpose %q on %s (R-13) and no compelling grounds were recorded", d.Name, o.At.Format(time.DateOnly))}
		}
	}
	if basisErr != nil {
		return basisErr
	}
	// a restricted subject's data is only stored, except for legal claims, the
	// subject's own requests, or with their consent (art. 18(2)), which held above.
	if st.Restriction != nil && !exemptFromFreeze(d.Name) && d.LawfulBasis != fidelis.BasisConsent {
		return &fidelis.Error{Code: fidelis.EFORBIDDEN, Reason: "restricted",
			Message: fmt.Sprintf("processing of this customer's data is restricted since %s (R-10, ground %s); only storage, legal claims and consented processing may go on", st.Restriction.Since.Format(time.DateOnly), st.Restriction.Ground)}
	}
	return nil
}

// consentHolds checks a consent-based purpose: for every channel the purpose uses, the last
// consent record grants it and, for a minor, so does the parental record (C-4). A withdrawn
// or refused consent never falls back to another basis (P-3).
func (d *Purpose) consentHolds(st *SubjectState) error {
	channels := d.ConsentChannels
	if len(channels) == 0 {
		channels = []Channel{""}
	}
	for _, c := range channels {
		cs, ok := st.Consent(d.Name, c)
		on := ""
		if c != "" {
			on = " on channel " + string(c)
		}
		switch {
		case !ok || cs.Decision == "":
			return &fidelis.Error{Code: fidelis.EFORBIDDEN, Reason: "consent_missing",
				Message: fmt.Sprintf("purpose %q rests on consent and the customer has given none%s (P-3)", d.Name, on)}
		case cs.Decision == ConsentWithdrawn:
			return &fidelis.Error{Code: fidelis.EFORBIDDEN, Reason: "consent_withdrawn",
				Message: fmt.Sprintf("the customer withdrew consent to purpose %q%s on %s; it applies at once to every later processing (C-2)", d.Name, on, cs.At.Format(time.DateOnly))}
		case cs.Decision != ConsentGranted:
			return &fidelis.Error{Code: fidelis.EFORBIDDEN, Reason: "consent_refused",
				Message: fmt.Sprintf("the customer refused consent to purpose %q%s (P-3)", d.Name, on)}
		case cs.Minor && cs.Parental != ConsentGranted:
			return &fidelis.Error{Code: fidelis.EFORBIDDEN, Reason: "parental_consent_missing",
				Message: fmt.Sprintf("the customer was under %d when consenting to purpose %q%s; a holder of parental responsibility must consent too (C-4)", AgeOfDigitalConsent, d.Name, on)}
		}
	}
	return nil
}

// AgeOfDigitalConsent is the age below which consent-based processing also needs parental
// consent in France (GDPR art. 8, loi Informatique et Libertés art. 45).
const AgeOfDigitalConsent = 15

// Decide is the whole decision for one processing: the actor's role holds purpose p for
// action a (P-1), and the processing is lawful for the subject in state st now.
func (r *Registry) Decide(actor fidelis.Actor, p fidelis.Purpose, a fidelis.Action, st *SubjectState) (*Purpose, error) {
	d, err := r.Authorize(actor, p, a)
	if err != nil {
		return nil, err
	}
	if err := d.Lawful(st); err != nil {
		return nil, err
	}
	return d, nil
}
