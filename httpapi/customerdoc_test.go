package httpapi

import (
	"encoding/json"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/customer"
)

// customerMap is how a customer was first encoded, through a map: customerDoc must give
// the same bytes.
func customerMap(c *customer.Customer) map[string]any {
	m := map[string]any{
		"id": c.ID, "version": c.Version,
		"created_at": c.CreatedAt.Format(time.RFC3339Nano), "updated_at": c.UpdatedAt.Format(time.RFC3339Nano),
		"visible_fields": c.Visible,
	}
	if c.Visible == nil {
		m["visible_fields"] = []fidelis.Field{}
	}
	for _, f := range c.Visible {
		if f == fidelis.FieldAttributes {
			attrs := map[string]string{}
			for k, v := range c.Attributes {
				attrs[k] = v.Reveal()
			}
			m[string(f)] = attrs
			continue
		}
		if v := c.Values[f]; !v.IsZero() {
			m[string(f)] = v.Reveal()
		} else {
			m[string(f)] = nil
		}
	}
	return m
}

func TestCustomerDoc_SameBytesAsTheMap(t *testing.T) {
	text := rapid.SampledFrom([]string{"", "Élodie", "a\"b\\c", "<script>&", "\u2028", "\xff", "x@example.com", "+33 6 12 34 56 78"})
	rapid.Check(t, func(t *rapid.T) {
		c := &customer.Customer{
			ID: fidelis.CustomerID("cus_" + rapid.StringMatching(`[a-z0-9]{4}`).Draw(t, "id")), Version: rapid.IntRange(1, 1000).Draw(t, "v"),
			CreatedAt: time.Unix(rapid.Int64Range(0, 2e9).Draw(t, "c"), rapid.Int64Range(0, 999999999).Draw(t, "cn")).UTC(),
			UpdatedAt: time.Unix(rapid.Int64Range(0, 2e9).Draw(t, "u"), 0).UTC(),
			Values:    map[fidelis.Field]fidelis.Secret{}, Attributes: map[string]fidelis.Secret{},
		}
		for _, f := range fidelis.CustomerFields() {
			if rapid.Bool().Draw(t, "visible "+string(f)) {
				c.Visible = append(c.Visible, f)
			}
			if v := text.Draw(t, "value "+string(f)); v != "" {
				c.Values[f] = fidelis.NewSecret(v)
			}
		}
		for range rapid.IntRange(0, 3).Draw(t, "attrs") {
			c.Attributes[text.Draw(t, "attr name")] = fidelis.NewSecret(text.Draw(t, "attr value"))
		}
		want, _ := json.Marshal(map[string]any{"items": []any{customerMap(c)}})
		got, err := json.Marshal(map[string]any{"items": []customerDoc{customerJSON(c)}})
		if err != nil || string(got) != string(want) {
			t.Fatalf("customerDoc = %s, %v; want %s", got, err, want)
		}
	})
}
