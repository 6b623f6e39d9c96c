package register

import (
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"unicode"

	"github.com/fidelis/fidelis"
)

// Controller is the identity of the data controller and of its data protection officer, as
// the operator configures them (GDPR art. 13(1)(a)-(b), 30(1)(a)). Every field is optional:
// what is not configured is shown as "not configured", never invented.
type Controller struct {
	Name       string // legal name of the controller
	Address    string // postal address
	Email      string // contact e-mail address for data protection matters
	DPOName    string // name of the data protection officer (optional even with a DPO)
	DPOContact string // the DPO's e-mail address or an https:// contact page
}

// Limits of the configured texts.
const (
	maxNameLen    = 200
	maxAddressLen = 500
	maxEmailLen   = 254
	maxURLLen     = 500
)

// Validate checks the configuration. Field names are the command-line flag names.
func (c Controller) Validate() error {
	var errs []fidelis.FieldError
	text := func(field, v string, max int) {
		switch {
		case len(v) > max:
			errs = append(errs, fidelis.FieldError{Field: field, Rule: "too_long", Message: fmt.Sprintf("must be at most %d bytes", max)})
		case strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }):
			errs = append(errs, fidelis.FieldError{Field: field, Rule: "invalid", Message: "must not contain control characters"})
		case v != "" && strings.TrimSpace(v) == "":
			errs = append(errs, fidelis.FieldError{Field: field, Rule: "blank", Message: "must not be only spaces"})
		}
	}
	text("controller-name", c.Name, maxNameLen)
	text("controller-address", c.Address, maxAddressLen)
	text("dpo-name", c.DPOName, maxNameLen)
	if strings.Contains(c.Name, "\n") {
		errs = append(errs, fidelis.FieldError{Field: "controller-name", Rule: "invalid", Message: "must be one line"})
	}
	if c.Email != "" && !validEmail(c.Email) {
		errs = append(errs, fidelis.FieldError{Field: "controller-email", Rule: "invalid_email", Message: "must be a plain e-mail address such as privacy@example.fr"})
	}
	if c.DPOContact != "" && !validEmail(c.DPOContact) && !validHTTPS(c.DPOContact) {
		errs = append(errs, fidelis.FieldError{Field: "dpo-contact", Rule: "invalid_contact", Message: "must be an e-mail address or an https:// address of a contact page"})
	}
	if c.DPOName != "" && c.DPOContact == "" {
		// Art. 13(1)(b) asks for the DPO's contact details; a name alone reaches no one.
		errs = append(errs, fidelis.FieldError{Field: "dpo-contact", Rule: "required", Message: "is required when the DPO's name is given"})
	}
	if len(errs) > 0 {
		return fidelis.Invalid(errs...)
	}
	return nil
}

func validEmail(s string) bool {
	if len(s) > maxEmailLen {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == ""
}

func validHTTPS(s string) bool {
	if len(s) > maxURLLen {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "https" && u.Host != "" && u.User == nil && !strings.ContainsAny(s, " \n\t")
}

// RecipientKind says what a recipient is to the controller (art. 4(9), 26, 28).
type RecipientKind string

// Recipient kinds.
const (
	KindProcessor       RecipientKind = "processor"        // acts on the controller's instructions (art. 28)
	KindJointController RecipientKind = "joint_controller" // determines purposes jointly (art. 26)
	KindThirdParty      RecipientKind = "third_party"      // another controller receiving data
	KindAuthority       RecipientKind = "authority"        // a public authority entitled to receive data
)

// Recipient is one external recipient of personal data as the register and the notice show
// it. The recipients registry feeds these; here they are plain input.
type Recipient struct {
	Name      string            `json:"name"`
	Kind      RecipientKind     `json:"kind"`
	Purposes  []fidelis.Purpose `json:"purposes"`
	Country   string            `json:"country"`   // ISO 3166-1 alpha-2, upper case
	Safeguard string            `json:"safeguard"` // for a country outside the EEA: a Safeguard code or a short text
}

// Transfer safeguards of GDPR chapter V, by code.
const (
	SafeguardAdequacy   = "adequacy_decision"            // art. 45
	SafeguardSCC        = "standard_contractual_clauses" // art. 46(2)(c)
	SafeguardBCR        = "binding_corporate_rules"      // art. 47
	SafeguardDerogation = "derogation_art_49"            // art. 49
)

// eea lists the member states of the European Economic Area: a recipient elsewhere means a
// transfer under GDPR chapter V.
var eea = []string{
	"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT",
	"LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "IS", "LI", "NO",
}

// InEEA reports whether the ISO country code is a member of the EEA.
func InEEA(country string) bool { return slices.Contains(eea, country) }

// validate checks a recipient against the registry's purposes. i is its index, for messages.
func (r Recipient) validate(i int, known func(fidelis.Purpose) bool) []fidelis.FieldError {
	var errs []fidelis.FieldError
	f := func(name string) string { return fmt.Sprintf("recipients[%d].%s", i, name) }
	switch {
	case strings.TrimSpace(r.Name) == "":
		errs = append(errs, fidelis.FieldError{Field: f("name"), Rule: "required", Message: "is required"})
	case len(r.Name) > maxNameLen || strings.ContainsFunc(r.Name, unicode.IsControl):
		errs = append(errs, fidelis.FieldError{Field: f("name"), Rule: "invalid", Message: fmt.Sprintf("must be one line of at most %d bytes", maxNameLen)})
	}
	switch r.Kind {
	case KindProcessor, KindJointController, KindThirdParty, KindAuthority:
	default:
		errs = append(errs, fidelis.FieldError{Field: f("kind"), Rule: "invalid", Message: "must be processor, joint_controller, third_party or authority"})
	}
	if len(r.Country) != 2 || r.Country[0] < 'A' || r.Country[0] > 'Z' || r.Country[1] < 'A' || r.Country[1] > 'Z' {
		errs = append(errs, fidelis.FieldError{Field: f("country"), Rule: "invalid", Message: "must be an ISO 3166-1 alpha-2 code in upper case, such as FR"})
	}
	if len(r.Purposes) == 0 {
		errs = append(errs, fidelis.FieldError{Field: f("purposes"), Rule: "required", Message: "must name at least one purpose"})
	}
	for _, p := range r.Purposes {
		if !known(p) {
			errs = append(errs, fidelis.FieldError{Field: f("purposes"), Rule: "unknown_purpose", Message: "names a purpose that is not in the registry"})
			break
		}
	}
	if len(r.Safeguard) > maxNameLen || strings.ContainsFunc(r.Safeguard, unicode.IsControl) {
		errs = append(errs, fidelis.FieldError{Field: f("safeguard"), Rule: "invalid", Message: fmt.Sprintf("must be one line of at most %d bytes", maxNameLen)})
	}
	return errs
}
