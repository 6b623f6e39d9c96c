// Package customer manages data subjects: sealed records, purpose-bound reads and writes,
// history of changes, exact search through blind indexes, access log, export and
// erasure by crypto-shredding. Every operation is authorised by the privacy registry
// and audited; it knows nothing of HTTP or SQL.
package customer

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/vault"
)

// Customer is a data subject as seen under one purpose: Values holds only the fields that
// purpose may use (P-2), Visible lists them.
type Customer struct {
	ID         fidelis.CustomerID
	Version    int
	CreatedAt  time.Time
	UpdatedAt  time.Time
	Values     map[fidelis.Field]fidelis.Secret
	Attributes map[string]fidelis.Secret
	Visible    []fidelis.Field
}

// Get returns the value of field f ("" if absent or not visible).
func (c *Customer) Get(f fidelis.Field) fidelis.Secret { return c.Values[f] }

// Input is a new customer or a change to one. For updates, only the fields named in Set or
// Clear change; Attributes, when non-nil, replaces the custom attributes as a whole.
type Input struct {
	Set        map[fidelis.Field]fidelis.Secret
	Clear      []fidelis.Field
	Attributes map[string]fidelis.Secret
}

// Fields returns the names of the fields the input writes, sorted.
func (in *Input) Fields() []fidelis.Field {
	var fs []fidelis.Field
	for f := range in.Set {
		fs = append(fs, f)
	}
	fs = append(fs, in.Clear...)
	if in.Attributes != nil {
		fs = append(fs, fidelis.FieldAttributes)
	}
	slices.Sort(fs)
	return slices.Compact(fs)
}

// Limits on input, chosen for real-world names and addresses while bounding storage.
const (
	maxName       = 100
	maxEmail      = 254
	maxStreet     = 200
	maxPostalCode = 16
	maxCity       = 100
	maxAttributes = 50
	maxAttrValue  = 500
)

var attrKeyRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// Locales are the languages Fidelis speaks to customers in.
var locales = []string{"fr", "en"}

// callingCodes maps countries to telephone calling codes, to normalise national numbers.
var callingCodes = map[string]string{
	"FR": "33", "BE": "32", "LU": "352", "CH": "41", "DE": "49", "AT": "43", "ES": "34",
	"PT": "351", "IT": "39", "NL": "31", "IE": "353", "GB": "44", "PL": "48", "SE": "46",
	"DK": "45", "FI": "358", "NO": "47", "CZ": "420", "GR": "30", "MC": "377",
}

// normalize validates in against the current values (nil for a create) and returns the
// field errors. It also canonicalises values in place: trimmed, upper-case country.
func (in *Input) normalize(now time.Time) []fidelis.FieldError {
	var errs []fidelis.FieldError
	bad := func(f fidelis.Field, rule, msg string) {
		errs = append(errs, fidelis.FieldError{Field: string(f), Rule: rule, Message: msg})
	}
	known := fidelis.CustomerFields()
	for f, v := range in.Set {
		if !slices.Contains(known, f) || f == fidelis.FieldAttributes {
			bad(f, "unknown", "is not a customer field")
			delete(in.Set, f)
			continue
		}
		s := strings.TrimSpace(v.Reveal())
		if s == "" {
			// An empty value is a clear.
			delete(in.Set, f)
			in.Clear = append(in.Clear, f)
			continue
		}
		if !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) {
			bad(f, "invalid_characters", "contains invalid characters")
			continue
		}
		switch f {
		case fidelis.FieldGivenName, fidelis.FieldFamilyName:
			if utf8.RuneCountInString(s) > maxName {
				bad(f, "too_long", fmt.Sprintf("must be at most %d characters", maxName))
			}
		case fidelis.FieldEmail:
			a, err := mail.ParseAddress(s)
			if err != nil || a.Address != s || a.Name != "" || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
				bad(f, "invalid_email", "is not a valid e-mail address")
			} else if len(s) > maxEmail {
				bad(f, "too_long", fmt.Sprintf("must be at most %d characters", maxEmail))
			}
		case fidelis.FieldPhone:
			n := vault.NormalizePhone(s, "33")
			digits := len(n) - 1
			if strings.ContainsFunc(s, func(r rune) bool { return !strings.ContainsRune("+0123456789 .-()/", r) }) || digits < 6 || digits > 15 {
				bad(f, "invalid_phone", "is not a valid telephone number")
			}
		case fidelis.FieldBirthDate:
			d, err := time.Parse(time.DateOnly, s)
			switch {
			case err != nil:
				bad(f, "invalid_date", "must be a date as YYYY-MM-DD")
			case d.After(now):
				bad(f, "in_future", "cannot be in the future")
			case d.Before(now.AddDate(-130, 0, 0)):
				bad(f, "too_old", "is more than 130 years ago")
			}
		case fidelis.FieldStreet:
			if utf8.RuneCountInString(s) > maxStreet {
				bad(f, "too_long", fmt.Sprintf("must be at most %d characters", maxStreet))
			}
		case fidelis.FieldPostalCode:
			if utf8.RuneCountInString(s) > maxPostalCode {
				bad(f, "too_long", fmt.Sprintf("must be at most %d characters", maxPostalCode))
			}
		case fidelis.FieldCity:
			if utf8.RuneCountInString(s) > maxCity {
				bad(f, "too_long", fmt.Sprintf("must be at most %d characters", maxCity))
			}
		case fidelis.FieldCountry:
			s = strings.ToUpper(s)
			if len(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' {
				bad(f, "invalid_country", "must be a two-letter ISO 3166 country code")
			}
		case fidelis.FieldLocale:
			s = strings.ToLower(s)
			if !slices.Contains(locales, s) {
				bad(f, "invalid_locale", "must be one of: fr, en")
			}
		}
		in.Set[f] = fidelis.NewSecret(s)
	}
	for _, f := range in.Clear {
		if !slices.Contains(known, f) {
			bad(f, "unknown", "is not a customer field")
		}
	}
	if in.Attributes != nil {
		if len(in.Attributes) > maxAttributes {
			bad(fidelis.FieldAttributes, "too_many", fmt.Sprintf("at most %d custom attributes", maxAttributes))
		}
		for _, k := range slices.Sorted(maps.Keys(in.Attributes)) {
			v := strings.TrimSpace(in.Attributes[k].Reveal())
			name := fidelis.Field("attributes." + k)
			switch {
			case !attrKeyRE.MatchString(k):
				// The invalid name is not repeated back: it is free text.
				bad(fidelis.FieldAttributes, "invalid_key", "attribute names are 1 to 40 characters: lower-case letters, digits and _ , starting with a letter")
				delete(in.Attributes, k)
			case !utf8.ValidString(v) || strings.ContainsFunc(v, unicode.IsControl):
				bad(name, "invalid_characters", "contains invalid characters")
			case utf8.RuneCountInString(v) > maxAttrValue:
				bad(name, "too_long", fmt.Sprintf("must be at most %d characters", maxAttrValue))
			case v == "":
				delete(in.Attributes, k)
			default:
				in.Attributes[k] = fidelis.NewSecret(v)
			}
		}
	}
	slices.SortFunc(errs, func(a, b fidelis.FieldError) int { return strings.Compare(a.Field, b.Field) })
	return errs
}

// identifiable reports whether values name or reach a person: a customer record needs a
// name, an e-mail address or a telephone number to be of any use (D-1: no empty shells).
func identifiable(v map[fidelis.Field]fidelis.Secret) bool {
	for _, f := range []fidelis.Field{fidelis.FieldGivenName, fidelis.FieldFamilyName, fidelis.FieldEmail, fidelis.FieldPhone} {
		if !v[f].IsZero() {
			return true
		}
	}
	return false
}

// phoneIndexValue normalises a phone number in the customer's country.
func phoneIndexValue(phone, country string) string {
	code, ok := callingCodes[country]
	if !ok {
		code = "33"
	}
	return vault.NormalizePhone(phone, code)
}

// encodeAttributes turns attributes into sealed-able JSON.
func encodeAttributes(a map[string]fidelis.Secret) []byte {
	if len(a) == 0 {
		return nil
	}
	m := make(map[string]string, len(a))
	for k, v := range a {
		m[k] = v.Reveal()
	}
	b, _ := json.Marshal(m)
	return b
}

func decodeAttributes(b []byte) (map[string]fidelis.Secret, error) {
	if len(b) == 0 {
		return map[string]fidelis.Secret{}, nil
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	out := make(map[string]fidelis.Secret, len(m))
	for k, v := range m {
		out[k] = fidelis.NewSecret(v)
	}
	return out, nil
}
