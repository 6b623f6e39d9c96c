// Package retention keeps personal data no longer than its purpose needs (T-1..T-8): the
// CNIL default periods per kind of relationship, overridable by an operator with a written
// reason; the customer's own activity as the clock; a renewal request or a warning before
// deletion, sent once; the restricted intermediate archive and erasure when a period ends;
// and legal holds that suspend both. It is pure domain: storage, mail and erasure come in
// through the interfaces it declares.
package retention

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/fidelis/fidelis"
)

// Text is a text in French and English (fidelis.Text).
type Text = fidelis.Text

// RuleID names a retention rule by the requirement that sets it.
type RuleID string

// Retention rules (REQUIREMENTS T-1..T-6).
const (
	RuleProspect   RuleID = "T-1" // prospect: 3 years from collection or last contact from them
	RuleCustomer   RuleID = "T-2" // customer data used for marketing: 3 years after the relationship ends
	RuleAccount    RuleID = "T-3" // inactive online account: 2 years of inactivity, after a warning
	RuleLoyalty    RuleID = "T-4" // loyalty member: membership, then 3 years of member inactivity
	RuleAccounting RuleID = "T-5" // accounting records: 10 years, pseudonymised once the customer is erased
	RuleEvidence   RuleID = "T-6" // contract evidence: 5 years after the relationship ends
)

// RuleIDs returns every rule ID in order.
func RuleIDs() []RuleID {
	return []RuleID{RuleProspect, RuleCustomer, RuleAccount, RuleLoyalty, RuleAccounting, RuleEvidence}
}

// ParseRuleID validates s ("T-1".."T-6"); ENOTFOUND for anything else.
func ParseRuleID(s string) (RuleID, error) {
	if slices.Contains(RuleIDs(), RuleID(s)) {
		return RuleID(s), nil
	}
	return "", &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "unknown_rule", Message: "no retention rule with this id (T-1 to T-6)"}
}

// Notice is what the customer is sent before a rule's period ends.
type Notice string

// Notices.
const (
	NoticeNone    Notice = ""
	NoticeRenewal Notice = "renewal" // T-1: asked once to renew their consent
	NoticeWarning Notice = "warning" // T-3: warned that the inactive account will be deleted
)

// Outcome is what happens to the customer's data when a rule's period ends.
type Outcome string

// Outcomes.
const (
	OutcomeErase   Outcome = "erase"   // crypto-shredding erasure
	OutcomeArchive Outcome = "archive" // the restricted intermediate archive (T-7)
	OutcomeKeep    Outcome = "keep"    // kept by law, pseudonymised once the customer is erased (T-5)
)

// Rule is one retention rule: its period, the notice sent before it ends and what happens
// then. Months is in force; DefaultMonths is the CNIL default it overrides, if it does.
type Rule struct {
	ID          RuleID
	Name        Text
	Description Text
	// Subjects says, in plain words, whose data the rule governs; Start says when its
	// period runs from, as words that follow a number of months ("after the end of the
	// commercial relationship"). Neither states a period, so that the documents built from
	// them (register of processing, privacy notice: D-2, R-5) stay true when an operator
	// changes Months; Description states the default period and is for staff.
	Subjects      Text
	Start         Text
	Months        int
	DefaultMonths int
	Notice        Notice
	Outcome       Outcome
	// MinMonths is the shortest period the law allows (T-5: the 10-year accounting
	// obligation of the Code de commerce); 0 means none.
	MinMonths int
	Override  *Override
}

// Override is an operator's change of a default period: who, when and why (REQUIREMENTS
// preamble: defaults an operator may change, with the operator, time and written reason in
// the audit log).
type Override struct {
	Rule   RuleID
	Months int
	Reason string
	By     string
	At     time.Time
}

// Limits of an override.
const (
	MaxMonths       = 600 // 50 years
	MinReasonLength = 10
	MaxReasonLength = 500
)

// Defaults returns the rules with the CNIL default periods (référentiel 2021-131).
func Defaults() []Rule {
	return []Rule{
		{ID: RuleProspect, Months: 36, Notice: NoticeRenewal, Outcome: OutcomeErase,
			Name: Text{FR: "Prospect", EN: "Prospect"},
			Subjects: Text{FR: "Personnes qui n'ont ni acheté, ni adhéré au programme de fidélité, ni ouvert de compte en ligne",
				EN: "People who have not bought anything, joined the loyalty programme or opened an online account"},
			Start: Text{FR: "à compter de la collecte ou du dernier contact venant de la personne (un clic compte, l'ouverture d'un courriel non)",
				EN: "from collection or from the last contact from the person (a click counts, opening an e-mail does not)"},
			Description: Text{FR: "3 ans à compter de la collecte ou du dernier contact émanant du prospect (un clic compte, une ouverture de courriel non) ; avant l'effacement, une seule demande de renouvellement du consentement.",
				EN: "3 years from collection or from the last contact from the prospect (a click counts, an e-mail open does not); before erasure, renewed consent is asked for once."}},
		{ID: RuleCustomer, Months: 36, Outcome: OutcomeArchive,
			Name:     Text{FR: "Client", EN: "Customer"},
			Subjects: Text{FR: "Clients ayant acheté au moins une fois", EN: "Customers who have bought at least once"},
			Start: Text{FR: "après la fin de la relation commerciale (le dernier achat ou le dernier contact venant du client)",
				EN: "after the end of the commercial relationship (the last purchase or the last contact from the customer)"},
			Description: Text{FR: "3 ans après la fin de la relation commerciale (dernier achat ou dernier contact émanant du client), puis archivage intermédiaire à accès restreint.",
				EN: "3 years after the end of the commercial relationship (last purchase or last contact from the customer), then the restricted intermediate archive."}},
		{ID: RuleAccount, Months: 24, Notice: NoticeWarning, Outcome: OutcomeErase,
			Name: Text{FR: "Compte en ligne inactif", EN: "Inactive online account"},
			Subjects: Text{FR: "Titulaires d'un compte en ligne qui n'ont ni acheté ni adhéré au programme de fidélité",
				EN: "Online account holders who have neither bought anything nor joined the loyalty programme"},
			Start: Text{FR: "sans activité sur le compte (ni connexion ni contact venant du titulaire)", EN: "without activity on the account (no sign-in and no contact from the holder)"},
			Description: Text{FR: "2 ans d'inactivité, après un avertissement ; s'applique aux titulaires d'un compte qui n'ont ni acheté ni adhéré au programme.",
				EN: "2 years of inactivity, after a warning; applies to account holders who neither bought nor joined the programme."}},
		{ID: RuleLoyalty, Months: 36, Outcome: OutcomeArchive,
			Name:     Text{FR: "Adhérent du programme de fidélité", EN: "Loyalty member"},
			Subjects: Text{FR: "Adhérents du programme de fidélité, actuels ou anciens", EN: "Current and former loyalty programme members"},
			Start: Text{FR: "après l'adhésion, le départ du programme ou la dernière activité de l'adhérent (la plus récente de ces dates)",
				EN: "after joining, leaving the programme or the member's last activity (whichever is latest)"},
			Description: Text{FR: "Durée de l'adhésion puis 3 ans d'inactivité de l'adhérent (4 ans ont été jugés excessifs), puis archivage intermédiaire.",
				EN: "Membership, then 3 years of member inactivity (4 years was held excessive), then the intermediate archive."}},
		{ID: RuleAccounting, Months: 120, MinMonths: 120, Outcome: OutcomeKeep,
			Name:     Text{FR: "Pièces comptables", EN: "Accounting records"},
			Subjects: Text{FR: "Acheteurs : commandes, factures et écritures de points de fidélité", EN: "Buyers: orders, invoices and loyalty points entries"},
			Start:    Text{FR: "à compter de la date de la pièce", EN: "from the date of the record"},
			Description: Text{FR: "Commandes, factures et écritures de points : 10 ans (Code de commerce L123-22), pseudonymisées dès l'effacement du client ; jamais effacées par la conservation.",
				EN: "Orders, invoices and points ledger entries: 10 years (Code de commerce L123-22), pseudonymised once the customer is erased; never deleted by retention."}},
		{ID: RuleEvidence, Months: 60, Outcome: OutcomeErase,
			Name:     Text{FR: "Preuves du contrat", EN: "Contract evidence"},
			Subjects: Text{FR: "Clients et adhérents : conditions acceptées et consentements", EN: "Customers and members: accepted terms and consents"},
			Start:    Text{FR: "après la fin de la relation", EN: "after the relationship ends"},
			Description: Text{FR: "Conditions acceptées et consentements : 5 ans après la fin de la relation (prescription civile) ; fin de l'archivage intermédiaire, puis effacement.",
				EN: "Accepted terms and consents: 5 years after the relationship ends (civil limitation period); the end of the intermediate archive, then erasure."}},
	}
}

// Rules is the set of rules in force: the defaults with the operator's overrides applied.
type Rules []Rule

// Apply returns the defaults with overrides applied (later overrides of a rule win).
func Apply(overrides []Override) Rules {
	rules := Defaults()
	for i := range rules {
		rules[i].DefaultMonths = rules[i].Months
	}
	for _, o := range overrides {
		for i := range rules {
			if rules[i].ID == o.Rule {
				o := o
				rules[i].Months = o.Months
				rules[i].Override = &o
			}
		}
	}
	return rules
}

// Get returns rule id; the rule set always holds every ID.
func (rs Rules) Get(id RuleID) Rule {
	for _, r := range rs {
		if r.ID == id {
			return r
		}
	}
	panic("retention: no rule " + string(id)) // RuleIDs are constants; Apply keeps them all
}

// End returns when a period of rule id that started at start ends.
func (rs Rules) End(id RuleID, start time.Time) time.Time {
	return start.AddDate(0, rs.Get(id).Months, 0)
}

// validateOverride checks an override's months and reason against rule r.
func validateOverride(r Rule, months int, reason string) error {
	var errs []fidelis.FieldError
	switch {
	case months < 1 || months > MaxMonths:
		errs = append(errs, fidelis.FieldError{Field: "months", Rule: "out_of_range", Message: fmt.Sprintf("must be from 1 to %d months", MaxMonths)})
	case r.MinMonths > 0 && months < r.MinMonths:
		errs = append(errs, fidelis.FieldError{Field: "months", Rule: "out_of_range",
			Message: fmt.Sprintf("must be at least %d months: the law requires keeping these records that long", r.MinMonths)})
	}
	reason = strings.TrimSpace(reason)
	switch n := utf8.RuneCountInString(reason); {
	case n < MinReasonLength:
		errs = append(errs, fidelis.FieldError{Field: "reason", Rule: "required", Message: fmt.Sprintf("is required: the written reason for the change, at least %d characters", MinReasonLength)})
	case n > MaxReasonLength:
		errs = append(errs, fidelis.FieldError{Field: "reason", Rule: "too_long", Message: fmt.Sprintf("must be at most %d characters", MaxReasonLength)})
	case !utf8.ValidString(reason) || strings.ContainsFunc(reason, unicode.IsControl):
		errs = append(errs, fidelis.FieldError{Field: "reason", Rule: "invalid_characters", Message: "must be one line of text"})
	}
	if len(errs) > 0 {
		return fidelis.Invalid(errs...)
	}
	return nil
}
