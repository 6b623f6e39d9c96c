package web

import (
	"encoding/json"
	"html/template"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/web/webform"
)

// templateFuncs are the functions templates may call. They are the only place where the
// back-office turns personal data (fidelis.Secret) into text (D-5: grep for Reveal).
// html/template escapes what they return.
func templateFuncs(cat catalogue) template.FuncMap {
	return template.FuncMap{
		// reveal returns the raw value, for form inputs and custom attributes.
		"reveal": func(s fidelis.Secret) string { return s.Reveal() },
		// attrLines renders custom attributes as the form's "key = value" lines.
		"attrLines": func(m map[string]fidelis.Secret) string {
			var b strings.Builder
			for _, k := range slices.Sorted(maps.Keys(m)) {
				b.WriteString(k + " = " + m[k].Reveal() + "\n")
			}
			return b.String()
		},
		// fullName returns "given family" as far as the purpose shows them.
		"fullName": func(c *customer.Customer) string {
			return strings.TrimSpace(c.Get(fidelis.FieldGivenName).Reveal() + " " + c.Get(fidelis.FieldFamilyName).Reveal())
		},
		// display formats a value for reading, in the page's language.
		"display": func(lang string, f fidelis.Field, s fidelis.Secret) string {
			v := s.Reveal()
			switch f {
			case fidelis.FieldBirthDate:
				if d, err := time.Parse(time.DateOnly, v); err == nil {
					return webform.Date(lang, d)
				}
			case fidelis.FieldLocale:
				if v == "fr" || v == "en" {
					return cat.t(lang, "locale."+v)
				}
			case fidelis.FieldAttributes:
				// History keeps previous attributes as a JSON object.
				var m map[string]string
				if json.Unmarshal([]byte(v), &m) == nil {
					var parts []string
					for _, k := range slices.Sorted(maps.Keys(m)) {
						parts = append(parts, k+" = "+m[k])
					}
					return strings.Join(parts, " ; ")
				}
			}
			return v
		},
	}
}
