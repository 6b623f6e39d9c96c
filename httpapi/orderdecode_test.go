package httpapi

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/fidelis/fidelis"
)

// jsonMember is one member of a generated JSON object: its name as written (possibly escaped)
// and its raw value.
type jsonMember struct{ name, value string }

// genSpace is JSON whitespace, usually none.
var genSpace = rapid.SampledFrom([]string{"", "", "", " ", "\n\t", "\r\n  "})

// object writes members as a JSON object with random whitespace between tokens.
func object(t *rapid.T, ms []jsonMember) string {
	var b strings.Builder
	b.WriteString(genSpace.Draw(t, "ws") + "{" + genSpace.Draw(t, "ws"))
	for i, m := range ms {
		if i > 0 {
			b.WriteString("," + genSpace.Draw(t, "ws"))
		}
		b.WriteString(`"` + m.name + `"` + genSpace.Draw(t, "ws") + ":" + genSpace.Draw(t, "ws") + m.value + genSpace.Draw(t, "ws"))
	}
	b.WriteString("}" + genSpace.Draw(t, "ws"))
	return b.String()
}

// genMembers draws an object's members from valid ones: each may be left out, doubled,
// renamed (case, escape, unknown name) or given a null or mistyped value.
func genMembers(t *rapid.T, valid []jsonMember, label string) []jsonMember {
	var ms []jsonMember
	pristine := rapid.Bool().Draw(t, label+" pristine") // half the objects keep every member as it is
	for _, m := range valid {
		change := -1
		if !pristine {
			change = rapid.IntRange(0, 4*len(valid)).Draw(t, label+" "+m.name)
		}
		switch change {
		case 0: // left out
		case 1:
			ms = append(ms, m, jsonMember{m.name, m.value})
		case 2:
			ms = append(ms, jsonMember{strings.ToUpper(m.name[:1]) + m.name[1:], m.value})
		case 3:
			ms = append(ms, jsonMember{`\u00` + strings.ToLower(string("0123456789abcdef"[m.name[0]>>4])+string("0123456789abcdef"[m.name[0]&15])) + m.name[1:], m.value})
		case 4:
			ms = append(ms, jsonMember{m.name, "null"})
		case 5:
			ms = append(ms, jsonMember{m.name, rapid.SampledFrom([]string{"5", `"5"`, "true", "[]", "{}", `"a\"}]b"`}).Draw(t, "mistyped")})
		case 6:
			ms = append(ms, m, jsonMember{"extra", `{"a":["}",1]}`})
		default:
			ms = append(ms, m)
		}
	}
	// Members in any order.
	return rapid.Permutation(ms).Draw(t, label+" order")
}

// genOrder draws an order of a batch (with its idempotency_key member) or, withKey
// false, an order placed alone.
func genOrder(t *rapid.T, withKey bool) string {
	str := func(label string, vals ...string) string {
		return rapid.SampledFrom(vals).Draw(t, label)
	}
	var lines []string
	for range rapid.IntRange(0, 2).Draw(t, "lines") {
		lines = append(lines, object(t, genMembers(t, []jsonMember{
			{"gtin", str("gtin", `"4006381333931"`, `"40063813339\u0033"`, `"x"`)},
			{"category", str("category", `"grocery"`, `"é\u00e9"`, `""`)},
			{"quantity", str("quantity", "2", "0", "-1", "1.5", "1e2", "3")},
			{"unit_price_cents", str("price", "1250", "99999999999")},
			{"promotion_cents", str("promo", "100", "0")},
		}, "line")))
	}
	valid := []jsonMember{
		{"idempotency_key", str("key", `"k-1"`, `"k\"2"`, `""`)},
		{"programme_id", str("prog", `"lpg_x"`, `"\u006cpg"`)},
		{"customer_id", str("customer", `"`+fidelis.NewID("cus", time.Unix(1e9, 0))+`"`, `"`+fidelis.NewID("cus", time.Unix(2e9, 0))+`"`, `"cus_bad"`)},
		{"ordered_at", str("at", `"2026-11-22T10:00:00Z"`, `"2026-11-22T10:00:00.123456+01:00"`, `"2026-11-22T10:00:00+01:00"`, `"yesterday"`)},
		{"channel", str("channel", `"store"`, `"web"`)},
		{"store", str("store", `"paris-01"`, `"\u2028"`)},
		{"currency", str("currency", `"EUR"`, `"eur"`)},
		{"lines", "[" + genSpace.Draw(t, "ws") + strings.Join(lines, ",") + "]"},
	}
	if !withKey {
		valid = valid[1:]
	}
	return object(t, genMembers(t, valid, "order"))
}

// TestFastOrder_SameAsStrict: on generated orders (members left out, doubled, renamed by
// case or escape, unknown, null or mistyped, in any order, with any whitespace, nested
// strings holding quotes and brackets), the fast path accepts an order only if the strict
// path decodes it without error, and then to the same order; it accepts every order the
// strict path accepts whose member names hold no escape.
func TestFastOrder_SameAsStrict(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		raw := []byte(strings.TrimSpace(genOrder(t, true)))
		if !json.Valid(raw) {
			t.Fatalf("generated invalid JSON: %s", raw)
		}
		fast, ok := fastOrder(raw, orderMembers)
		strict, key, err := strictOrder(raw, 0)
		switch {
		case ok && err != nil:
			t.Fatalf("fast path accepted %s; the strict path refuses it: %v", raw, err)
		case ok && !reflect.DeepEqual(fast, strict):
			t.Fatalf("fast path decoded %s to %+v; the strict path to %+v", raw, fast, strict)
		case ok && key != fast.Key:
			t.Fatalf("strict key %q; want %q", key, fast.Key)
		case !ok && err == nil && !bytes.Contains(raw, []byte(`"\u00`)):
			t.Fatalf("fast path refused %s, which the strict path accepts", raw)
		}
	})
}

// TestFastSingleOrder_SameAsStrict: the same for the body of POST /api/v1/orders, whose
// key is not a member (an idempotency_key member is unknown there), with any whitespace
// around it and sometimes something after it: decodeOrder gives what the strict path
// gives, error or order, and takes the fast path for every order the strict path accepts
// whose member names hold no escape.
func TestFastSingleOrder_SameAsStrict(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		body := []byte(genOrder(t, rapid.IntRange(0, 9).Draw(t, "with key") == 0))
		if rapid.IntRange(0, 9).Draw(t, "trailing") == 0 {
			body = append(body, rapid.SampledFrom([]string{"{}", "x", "]"}).Draw(t, "after")...)
		}
		got, gotErr := decodeOrder(body)
		want, wantErr := strictSingleOrder(body)
		if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gotErr, wantErr) {
			t.Fatalf("decodeOrder(%s) = %+v, %v; the strict path %+v, %v", body, got, gotErr, want, wantErr)
		}
		fast := false
		if json.Valid(body) {
			_, fast = fastOrder(body[skipSpace(body, 0):], singleOrderMembers)
		}
		if wantErr == nil && !fast && !bytes.Contains(body, []byte(`"\u00`)) {
			t.Fatalf("fast path refused %s, which the strict path accepts", body)
		}
		if fast && wantErr != nil {
			t.Fatalf("fast path accepted %s; the strict path refuses it: %v", body, wantErr)
		}
	})
}

// TestFastBatch_SameAsStrict: the fast path splits a batch body into the same orders as
// the strict decoder, and refuses any body the strict decoder would not take as exactly
// {"orders": [...]}.
func TestFastBatch_SameAsStrict(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var orders []string
		for range rapid.IntRange(0, 3).Draw(t, "orders") {
			orders = append(orders, genOrder(t, true))
		}
		arr := "[" + genSpace.Draw(t, "ws") + strings.Join(orders, ",") + "]"
		body := []byte(object(t, genMembers(t, []jsonMember{{"orders", arr}}, "body")))
		if rapid.Bool().Draw(t, "trailing") {
			body = append(body, rapid.SampledFrom([]string{"{}", "x", "]"}).Draw(t, "after")...)
		}
		items, ok := fastBatch(body)
		obj, err := decodeObject(body, "the request body")
		var raws []json.RawMessage
		if err == nil {
			err = decodeMembers(obj, map[string]any{"orders": &raws}, "orders")
		}
		switch {
		case ok && err != nil:
			t.Fatalf("fast path accepted %s; the strict path refuses it: %v", body, err)
		case !ok && err == nil && !bytes.Contains(body, []byte(`"\u00`)):
			t.Fatalf("fast path refused %s, which the strict path accepts", body)
		case ok:
			if len(items) != len(raws) {
				t.Fatalf("fast path found %d orders in %s; the strict path %d", len(items), body, len(raws))
			}
			for i := range items {
				if !bytes.Equal(items[i], bytes.TrimSpace(raws[i])) {
					t.Fatalf("order %d: fast %s; strict %s", i, items[i], raws[i])
				}
			}
		}
	})
}
