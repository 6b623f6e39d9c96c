// Package recipient is the registry of recipients and processors of personal data (D-4,
// GDPR art. 28 and 30(1)(d)) and the propagation of changes to them through signed
// webhooks (R-9, R-7, GDPR art. 19; DESIGN invariant 7): a dispatcher reads the outbox that
// domain changes write in their own transaction, fans each event out into one delivery per
// matching recipient, and posts it signed, with retries, backoff and a dead state.
// Notifications carry IDs and field names only, never personal values (D-5).
package recipient

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/privacy"
	"github.com/fidelis/fidelis/vault"
)

// Kind says what a recipient is to the controller.
type Kind string

// Kinds of recipient.
const (
	KindProcessor       Kind = "processor"        // processes on the controller's behalf (art. 28)
	KindRecipient       Kind = "recipient"        // a third party the data is disclosed to (art. 4(9))
	KindJointController Kind = "joint_controller" // determines purposes jointly (art. 26)
)

// Kinds returns every kind, in display order.
func Kinds() []Kind { return []Kind{KindProcessor, KindRecipient, KindJointController} }

// Safeguard is the ground of a transfer outside the EEA (GDPR chapter V).
type Safeguard string

// Transfer safeguards.
const (
	SafeguardNone       Safeguard = ""                             // inside the EEA: no transfer
	SafeguardAdequacy   Safeguard = "adequacy_decision"            // art. 45
	SafeguardSCC        Safeguard = "standard_contractual_clauses" // art. 46(2)(c)
	SafeguardBCR        Safeguard = "binding_corporate_rules"      // art. 47
	SafeguardDerogation Safeguard = "derogation"                   // art. 49
)

// Safeguards returns the safeguards a transfer may rest on.
func Safeguards() []Safeguard {
	return []Safeguard{SafeguardAdequacy, SafeguardSCC, SafeguardBCR, SafeguardDerogation}
}

// Event types Fidelis publishes about customers.
const (
	EventCustomerCreated           = "customer.created"
	EventCustomerUpdated           = "customer.updated" // rectification (art. 16)
	EventCustomerErased            = "customer.erased"  // erasure (art. 17)
	EventCustomerRestricted        = "customer.restricted"
	EventCustomerRestrictionLifted = "customer.restriction_lifted"
)

// EventTypes returns the event types a recipient may subscribe to.
func EventTypes() []string {
	return []string{EventCustomerCreated, EventCustomerUpdated, EventCustomerErased, EventCustomerRestricted, EventCustomerRestrictionLifted}
}

// Art19 reports whether events of type t must reach every recipient, whatever it
// subscribed to: rectification, erasure and restriction are notified to each recipient
// (GDPR art. 19, R-9).
func Art19(t string) bool {
	switch t {
	case EventCustomerUpdated, EventCustomerErased, EventCustomerRestricted, EventCustomerRestrictionLifted:
		return true
	}
	return false
}

// Recipient is one entry of the registry. Contact is a business contact at the recipient
// (its DPO or service desk), not a data subject.
type Recipient struct {
	ID           string
	Version      int
	Name         string
	Kind         Kind
	Purposes     []fidelis.Purpose
	Country      string    // ISO 3166-1 alpha-2, upper case
	Safeguard    Safeguard // SafeguardNone inside the EEA
	ContractRef  string    // contract or data processing agreement reference
	ContactName  string
	ContactEmail string
	Active       bool
	Endpoint     string   // webhook URL; "" for none
	Events       []string // subscribed event types (art. 19 events are sent regardless)
	Secret       vault.Sealed
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Webhook reports whether r receives notifications now.
func (r *Recipient) Webhook() bool { return r.Active && r.Endpoint != "" }

// Wants reports whether r receives events of type t: every art. 19 event, and the others
// it subscribed to.
func (r *Recipient) Wants(t string) bool {
	return r.Webhook() && (Art19(t) || slices.Contains(r.Events, t))
}

// Transfer reports whether sending data to r is a transfer outside the EEA.
func (r *Recipient) Transfer() bool { return !EEA(r.Country) }

// Input is a creation or a partial change: nil members are left as they are.
type Input struct {
	Name         *string
	Kind         *Kind
	Purposes     *[]fidelis.Purpose
	Country      *string
	Safeguard    *Safeguard
	ContractRef  *string
	ContactName  *string
	ContactEmail *string
	Active       *bool
	Endpoint     *string
	Events       *[]string
}

// apply writes in's members into r and returns the names of the attributes that changed.
func (in *Input) apply(r *Recipient) []string {
	var changed []string
	set := func(name string, differ bool, do func()) {
		if differ {
			changed = append(changed, name)
			do()
		}
	}
	trim := strings.TrimSpace
	if in.Name != nil {
		v := trim(*in.Name)
		set("name", v != r.Name, func() { r.Name = v })
	}
	if in.Kind != nil {
		set("kind", *in.Kind != r.Kind, func() { r.Kind = *in.Kind })
	}
	if in.Purposes != nil {
		v := slices.Clone(*in.Purposes)
		slices.Sort(v)
		set("purposes", !slices.Equal(v, r.Purposes), func() { r.Purposes = v })
	}
	if in.Country != nil {
		v := strings.ToUpper(trim(*in.Country))
		set("country", v != r.Country, func() { r.Country = v })
	}
	if in.Safeguard != nil {
		set("safeguard", *in.Safeguard != r.Safeguard, func() { r.Safeguard = *in.Safeguard })
	}
	if in.ContractRef != nil {
		v := trim(*in.ContractRef)
		set("contract_ref", v != r.ContractRef, func() { r.ContractRef = v })
	}
	if in.ContactName != nil {
		v := trim(*in.ContactName)
		set("contact_name", v != r.ContactName, func() { r.ContactName = v })
	}
	if in.ContactEmail != nil {
		v := trim(*in.ContactEmail)
		set("contact_email", v != r.ContactEmail, func() { r.ContactEmail = v })
	}
	if in.Active != nil {
		set("active", *in.Active != r.Active, func() { r.Active = *in.Active })
	}
	if in.Endpoint != nil {
		v := trim(*in.Endpoint)
		set("endpoint", v != r.Endpoint, func() { r.Endpoint = v })
	}
	if in.Events != nil {
		v := slices.Clone(*in.Events)
		slices.Sort(v)
		set("events", !slices.Equal(v, r.Events), func() { r.Events = v })
	}
	return changed
}

// Length limits.
const (
	maxName     = 200
	maxText     = 200
	maxEndpoint = 2000
)

// validate checks a whole recipient against the registry of purposes.
func validate(r *Recipient, reg *privacy.Registry) []fidelis.FieldError {
	var errs []fidelis.FieldError
	bad := func(field, rule, msg string) {
		errs = append(errs, fidelis.FieldError{Field: field, Rule: rule, Message: msg})
	}
	text := func(field, v string, required bool, max int) {
		switch {
		case v == "" && required:
			bad(field, "required", "is required")
		case utf8.RuneCountInString(v) > max:
			bad(field, "too_long", fmt.Sprintf("must be at most %d characters", max))
		case !utf8.ValidString(v) || strings.IndexFunc(v, unicode.IsControl) >= 0:
			bad(field, "invalid_text", "must be printable text on one line")
		}
	}
	text("name", r.Name, true, maxName)
	if !slices.Contains(Kinds(), r.Kind) {
		bad("kind", "invalid_kind", "must be one of: processor, recipient, joint_controller")
	}
	if len(r.Purposes) == 0 {
		bad("purposes", "required", "name at least one purpose the recipient receives data for")
	}
	for i, p := range r.Purposes {
		if _, err := reg.Purpose(p); err != nil {
			bad("purposes", "unknown_purpose", "names a purpose that is not declared in the registry (GET /api/v1/purposes lists them)")
			break
		}
		if i > 0 && r.Purposes[i-1] == p {
			bad("purposes", "duplicate", "names a purpose twice")
			break
		}
	}
	switch {
	case r.Country == "":
		bad("country", "required", "is required (ISO 3166-1 alpha-2 code, e.g. FR)")
	case !validCountry(r.Country):
		bad("country", "invalid_country", "must be an ISO 3166-1 alpha-2 country code, e.g. FR")
	case EEA(r.Country) && r.Safeguard != SafeguardNone:
		bad("safeguard", "not_a_transfer", "must be empty: the recipient is inside the EEA, so there is no transfer")
	case !EEA(r.Country) && r.Safeguard == SafeguardNone:
		bad("safeguard", "required", "a recipient outside the EEA needs a transfer safeguard: adequacy_decision, standard_contractual_clauses, binding_corporate_rules or derogation")
	case r.Safeguard != SafeguardNone && !slices.Contains(Safeguards(), r.Safeguard):
		bad("safeguard", "invalid_safeguard", "must be one of: adequacy_decision, standard_contractual_clauses, binding_corporate_rules, derogation")
	case r.Safeguard == SafeguardAdequacy && !adequate(r.Country):
		bad("safeguard", "no_adequacy_decision", "the European Commission has adopted no adequacy decision for this country; use another safeguard")
	}
	// Art. 28(3) and 26(1): a processor needs a contract, joint controllers an arrangement.
	text("contract_ref", r.ContractRef, r.Kind == KindProcessor || r.Kind == KindJointController, maxText)
	text("contact_name", r.ContactName, false, maxText)
	switch {
	case r.ContactEmail == "":
		bad("contact_email", "required", "is required: whom to write to about this recipient's processing")
	case len(r.ContactEmail) > 254 || !validEmail(r.ContactEmail):
		bad("contact_email", "invalid_email", "must be an e-mail address")
	}
	if r.Endpoint != "" {
		if rule, msg := checkEndpoint(r.Endpoint); rule != "" {
			bad("endpoint", rule, msg)
		}
	}
	for i, e := range r.Events {
		if !slices.Contains(EventTypes(), e) {
			bad("events", "unknown_event", "names an event type Fidelis does not publish: "+strings.Join(EventTypes(), ", "))
			break
		}
		if i > 0 && r.Events[i-1] == e {
			bad("events", "duplicate", "names an event type twice")
			break
		}
	}
	return errs
}

func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == ""
}

// checkEndpoint accepts an absolute https URL, or http to a loopback host (a receiver on the
// same machine). Credentials in the URL are refused: the signature authenticates Fidelis,
// and URLs end up in places (proxies, screenshots) secrets should not.
func checkEndpoint(s string) (rule, msg string) {
	if len(s) > maxEndpoint {
		return "too_long", fmt.Sprintf("must be at most %d characters", maxEndpoint)
	}
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return "invalid_url", "must be an absolute URL, e.g. https://crm.example.com/fidelis/webhook"
	}
	if u.User != nil {
		return "credentials_in_url", "must not hold a user name or password"
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return "invalid_url", "must not have a fragment (#...)"
	}
	switch u.Scheme {
	case "https":
		return "", ""
	case "http":
		if loopback(u.Hostname()) {
			return "", ""
		}
		return "insecure_url", "must use https (http is allowed only for a receiver on this machine: localhost, 127.0.0.1, ::1)"
	}
	return "invalid_url", "must be an https URL"
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// eea lists the European Economic Area: the EU 27, Iceland, Liechtenstein and Norway.
const eea = "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK IS LI NO"

// adequacy lists the countries with an adequacy decision of the European Commission (GDPR
// art. 45) in force: Andorra, Argentina, Canada (commercial organisations), Switzerland,
// Faroe Islands, United Kingdom, Guernsey, Israel, Isle of Man, Jersey, Japan, Republic of
// Korea, New Zealand, United States (organisations certified under the EU-US Data Privacy
// Framework) and Uruguay. When the Commission adopts a new one, add it here.
const adequacy = "AD AR CA CH FO GB GG IL IM JE JP KR NZ US UY"

// EEA reports whether country (ISO alpha-2, upper case) is in the European Economic Area.
func EEA(country string) bool {
	return len(country) == 2 && strings.Contains(eea, country) && !strings.Contains(country, " ")
}

func adequate(country string) bool { return len(country) == 2 && strings.Contains(adequacy, country) }

// iso3166 holds every officially assigned ISO 3166-1 alpha-2 code.
const iso3166 = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP " +
	"KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ " +
	"NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW " +
	"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ " +
	"UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"

func validCountry(c string) bool {
	return len(c) == 2 && c[0] >= 'A' && c[0] <= 'Z' && c[1] >= 'A' && c[1] <= 'Z' && strings.Contains(iso3166, c)
}
