package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/loyalty"
)

// A till batch carries up to 500 orders; decoding each strictly through decodeObject and
// decodeMembers (tokens, a map per order, one reflective decode per member) costs about
// as much as computing the order. The fast path below decodes a well-formed batch in two
// passes over its bytes (json.Valid, then one decode per order into a struct) after
// checking, on the validated text, what encoding/json would let through silently:
// duplicate members, unknown members and members whose names match only case-insensitively.
// Whatever it does not accept goes through the strict path, which gives the exact errors;
// for what it accepts, both paths produce the same orders (TestFastOrder_SameAsStrict).

// orderMembers are the members of an order in a batch, all required; an order placed
// alone (POST /api/v1/orders) has the same but its key, which comes in its
// Idempotency-Key header (singleOrderMembers).
var (
	orderMembers       = []string{"idempotency_key", "programme_id", "customer_id", "ordered_at", "channel", "store", "currency", "lines"}
	singleOrderMembers = orderMembers[1:]
)

// fastBatch returns the raw orders of a batch body that is valid JSON and exactly an object
// with one member, "orders", holding an array; ok is false for anything else.
func fastBatch(body []byte) (items [][]byte, ok bool) {
	if !json.Valid(body) {
		return nil, false
	}
	i := skipSpace(body, 0)
	if body[i] != '{' {
		return nil, false
	}
	var arr []byte
	n := 0
	if !eachMember(body[i:], func(key, val []byte) bool {
		n++
		arr = val
		return n == 1 && string(key) == "orders" && val[0] == '['
	}) || n != 1 {
		return nil, false
	}
	for j := skipSpace(arr, 1); arr[j] != ']'; {
		end := valueEnd(arr, j)
		items = append(items, arr[j:end])
		j = skipSpace(arr, end)
		if arr[j] == ',' {
			j = skipSpace(arr, j+1)
		}
	}
	return items, true
}

// fastOrder decodes one order (raw: valid JSON, starting at its first byte) when it is an
// object whose members are exactly names (orderMembers or singleOrderMembers), each once,
// none null, with a valid customer ID; ok is false otherwise.
func fastOrder(raw []byte, names []string) (in loyalty.OrderInput, ok bool) {
	if raw[0] != '{' {
		return in, false
	}
	var seen [8]bool
	count := 0
	if !eachMember(raw, func(key, val []byte) bool {
		for k, name := range names {
			if string(key) == name && !seen[k] && !bytes.Equal(val, []byte("null")) {
				seen[k] = true
				count++
				return true
			}
		}
		return false
	}) || count != len(names) {
		return in, false
	}
	var v struct {
		Key       string              `json:"idempotency_key"`
		Programme string              `json:"programme_id"`
		Customer  string              `json:"customer_id"`
		OrderedAt time.Time           `json:"ordered_at"`
		Channel   string              `json:"channel"`
		Store     string              `json:"store"`
		Currency  string              `json:"currency"`
		Lines     []loyalty.OrderLine `json:"lines"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if dec.Decode(&v) != nil {
		return in, false
	}
	id, err := fidelis.ParseCustomerID(v.Customer)
	if err != nil {
		return in, false
	}
	return loyalty.OrderInput{Key: v.Key, Programme: v.Programme, Customer: id, OrderedAt: v.OrderedAt, Channel: v.Channel, Store: v.Store,
		Currency: v.Currency, Lines: v.Lines}, true
}

// strictOrder decodes one order of a batch the strict way: the exact error of an order
// fastOrder does not accept. key is its idempotency key when that member is a string.
func strictOrder(raw []byte, i int) (in loyalty.OrderInput, key string, err error) {
	var customer string
	spec := map[string]any{"idempotency_key": &in.Key, "programme_id": &in.Programme, "customer_id": &customer, "ordered_at": &in.OrderedAt, "channel": &in.Channel,
		"store": &in.Store, "currency": &in.Currency, "lines": &in.Lines}
	o, err := decodeObject(raw, fmt.Sprintf("orders.%d", i))
	if err == nil {
		err = decodeMembers(o, spec, orderMembers...)
	}
	if err == nil {
		in.Customer, err = fidelis.ParseCustomerID(customer)
	}
	if json.Unmarshal(o["idempotency_key"], &key) != nil {
		key = ""
	}
	return in, key, err
}

// decodeOrder decodes the body of POST /api/v1/orders (not empty): through fastOrder when
// it takes it, else strictly, with the exact errors. Both give the same order for what
// fastOrder takes (TestFastSingleOrder_SameAsStrict).
func decodeOrder(body []byte) (loyalty.OrderInput, error) {
	if json.Valid(body) {
		if in, ok := fastOrder(body[skipSpace(body, 0):], singleOrderMembers); ok {
			return in, nil
		}
	}
	return strictSingleOrder(body)
}

// strictSingleOrder decodes the body of POST /api/v1/orders the strict way.
func strictSingleOrder(body []byte) (in loyalty.OrderInput, err error) {
	var customer string
	spec := map[string]any{"programme_id": &in.Programme, "customer_id": &customer, "ordered_at": &in.OrderedAt, "channel": &in.Channel,
		"store": &in.Store, "currency": &in.Currency, "lines": &in.Lines}
	obj, err := decodeObject(body, "the request body")
	if err != nil {
		return in, err
	}
	if err := decodeMembers(obj, spec, singleOrderMembers...); err != nil {
		return in, err
	}
	in.Customer, err = fidelis.ParseCustomerID(customer)
	return in, err
}

// The scanners below walk text json.Valid accepted: every string, object and array is
// closed, so they need no bounds checks beyond the ones the grammar implies.

// skipSpace returns the index of the first byte at or after i that is not JSON whitespace.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// valueEnd returns the index just past the JSON value that starts at b[i].
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		for i++; ; {
			switch b[i] {
			case '\\':
				i += 2
			case '"':
				return i + 1
			default:
				i++
			}
		}
	case '{', '[':
		depth := 0
		for {
			switch b[i] {
			case '"':
				i = valueEnd(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
	default: // number, true, false, null
		for i < len(b) && b[i] != ',' && b[i] != ']' && b[i] != '}' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
			i++
		}
		return i
	}
}

// eachMember calls fn with the name (raw, between its quotes) and the raw value of each
// member of the object that starts at b[0], in order, until fn returns false. It returns
// false if fn did, or if a name holds an escape (fn never sees such a name: the caller
// then takes the strict path, which unescapes it).
func eachMember(b []byte, fn func(key, val []byte) bool) bool {
	i := skipSpace(b, 1)
	for b[i] != '}' {
		end := valueEnd(b, i)
		key := b[i+1 : end-1]
		if bytes.IndexByte(key, '\\') >= 0 {
			return false
		}
		i = skipSpace(b, end) // at ':'
		i = skipSpace(b, i+1) // at the value
		vend := valueEnd(b, i)
		if !fn(key, b[i:vend]) {
			return false
		}
		i = skipSpace(b, vend)
		if b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return true
}
