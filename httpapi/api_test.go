package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/httpapi"
)

const (
	customersPath = "/api/v1/customers"
	searchPath    = "/api/v1/customers/search"
	cs            = fidelis.PurposeCustomerService
	dp            = fidelis.PurposeDataProtection
)

// apiEnv is a served installation with a client per role.
type apiEnv struct {
	base                                    string
	admin, dpo, sales, marketing, anonymous *fidelistest.Client
	tokens                                  map[fidelis.Role]string
	app                                     *app.App
}

func mustEnv(t *testing.T, b fidelistest.Backend, opts ...fidelistest.Options) *apiEnv {
	t.Helper()
	a := fidelistest.MustApp(t, b, opts...)
	e := &apiEnv{base: fidelistest.MustServe(t, a), tokens: map[fidelis.Role]string{}, app: a}
	client := func(r fidelis.Role) *fidelistest.Client {
		e.tokens[r] = fidelistest.MustToken(t, a, r)
		return fidelistest.NewClient(t, e.base, e.tokens[r])
	}
	e.admin, e.dpo, e.sales, e.marketing = client(fidelis.RoleAdmin), client(fidelis.RoleDPO), client(fidelis.RoleSales), client(fidelis.RoleMarketing)
	e.anonymous = fidelistest.NewClient(t, e.base, "")
	return e
}

// mustCreate creates a customer under customer_service and returns it.
func (e *apiEnv) mustCreate(t *testing.T, fields map[string]any) map[string]any {
	t.Helper()
	return e.admin.Do("POST", customersPath, cs, fields).MustStatus(t, http.StatusCreated).JSON(t)
}

// tokenActor returns the audit actor of a role's token ("token:tok_...").
func (e *apiEnv) tokenActor(r fidelis.Role) string {
	id, _, _ := strings.Cut(e.tokens[r], ".")
	return "token:" + id
}

// fieldError is one member of a problem's errors.
type fieldError struct {
	Field   string `json:"field"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// problemBody is an RFC 9457 problem as the API renders it.
type problemBody struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Detail    string       `json:"detail"`
	Instance  string       `json:"instance"`
	Code      fidelis.Code `json:"code"`
	Reason    string       `json:"reason"`
	Errors    []fieldError `json:"errors"`
	RequestID string       `json:"request_id"`
}

// problemOf decodes a problem response and checks what every problem holds: its media
// type, its status, its request ID, no caching and no member beyond RFC 9457 and ours.
func problemOf(t *testing.T, r *fidelistest.Response) problemBody {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q; want application/problem+json (status %d, body %s)", ct, r.Status, r.Body)
	}
	var p problemBody
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("problem body %s: %v", r.Body, err)
	}
	if p.Status != r.Status {
		t.Errorf("problem status = %d; want the HTTP status %d", p.Status, r.Status)
	}
	if got := r.Header.Get("X-Request-Id"); p.RequestID == "" || p.RequestID != got {
		t.Errorf("problem request_id = %q; want the X-Request-Id header %q", p.RequestID, got)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q; want no-store", cc)
	}
	return p
}

func hasFieldError(errs []fieldError, field, rule string) bool {
	return slices.ContainsFunc(errs, func(e fieldError) bool { return e.Field == field && e.Rule == rule })
}

// TestAPI_StrictDecoding checks bodies are read strictly: one JSON object of known members
// with the right types, no duplicates, nothing after it, within the size limit, as JSON;
// each fault has its status, reason and, for member faults, an errors entry per field.
func TestAPI_StrictDecoding(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := mustEnv(t, b)
		id := e.mustCreate(t, map[string]any{"given_name": "Camille"})["id"].(string)
		one := customersPath + "/" + id
		huge := `{"given_name": "` + strings.Repeat("x", httpapi.MaxBodyBytes) + `"}`
		type want struct {
			field, rule string // an errors entry, if any
		}
		for _, tt := range []struct {
			name, method, path string
			body               string
			header             []string
			status             int
			reason             string
			errs               []want
		}{
			{"unknown member", "POST", customersPath, `{"given_name": "A", "nickname": "B"}`, nil, 422, "validation_failed", []want{{"nickname", "unknown_field"}}},
			{"string field as number", "POST", customersPath, `{"given_name": 42}`, nil, 422, "validation_failed", []want{{"given_name", "invalid_type"}}},
			{"string field as object", "POST", customersPath, `{"given_name": "A", "email": {"address": "a@b.fr"}}`, nil, 422, "validation_failed", []want{{"email", "invalid_type"}}},
			{"attributes as array", "POST", customersPath, `{"given_name": "A", "attributes": ["gold"]}`, nil, 422, "validation_failed", []want{{"attributes", "invalid_type"}}},
			{"attribute as number", "POST", customersPath, `{"given_name": "A", "attributes": {"tier": 1}}`, nil, 422, "validation_failed", []want{{"attributes", "invalid_type"}}},
			{"every fault reported", "POST", customersPath, `{"given_name": 1, "email": true, "x": 0}`, nil, 422, "validation_failed",
				[]want{{"given_name", "invalid_type"}, {"email", "invalid_type"}, {"x", "unknown_field"}}},
			{"version on create", "POST", customersPath, `{"given_name": "A", "version": 1}`, nil, 422, "validation_failed", []want{{"version", "unknown_field"}}},
			{"version as string", "PATCH", one, `{"version": "1"}`, nil, 422, "validation_failed", []want{{"version", "invalid_type"}}},
			{"version zero", "PATCH", one, `{"version": 0}`, nil, 422, "validation_failed", []want{{"version", "invalid_type"}}},
			{"version fractional", "PATCH", one, `{"version": 1.5}`, nil, 422, "validation_failed", []want{{"version", "invalid_type"}}},
			{"search null", "POST", searchPath, `{"email": null}`, nil, 422, "validation_failed", []want{{"email", "invalid_type"}}},
			{"search unknown member", "POST", searchPath, `{"name": "Camille"}`, nil, 422, "validation_failed", []want{{"name", "unknown_field"}}},
			{"erase with a member", "POST", one + "/erase", `{"reason": "asked"}`, nil, 422, "validation_failed", []want{{"reason", "unknown_field"}}},
			{"duplicate key", "POST", customersPath, `{"given_name": "A", "given_name": "B"}`, nil, 400, "malformed_body", nil},
			{"duplicate key on patch", "PATCH", one, `{"city": "Lyon", "city": "Nice"}`, nil, 400, "malformed_body", nil},
			{"trailing object", "POST", customersPath, `{"given_name": "A"} {"given_name": "B"}`, nil, 400, "malformed_body", nil},
			{"trailing garbage", "POST", customersPath, `{"given_name": "A"}x`, nil, 400, "malformed_body", nil},
			{"empty body", "POST", customersPath, ``, nil, 400, "malformed_body", nil},
			{"blank body", "PATCH", one, " \n\t", nil, 400, "malformed_body", nil},
			{"array", "POST", customersPath, `[{"given_name": "A"}]`, nil, 400, "malformed_body", nil},
			{"string", "POST", searchPath, `"a@b.fr"`, nil, 400, "malformed_body", nil},
			{"number", "POST", customersPath, `42`, nil, 400, "malformed_body", nil},
			{"null", "PATCH", one, `null`, nil, 400, "malformed_body", nil},
			{"trailing comma", "POST", customersPath, `{"given_name": "A",}`, nil, 400, "malformed_body", nil},
			{"truncated", "POST", one + "/erase", `{"x": `, nil, 400, "malformed_body", nil},
			{"oversized", "POST", customersPath, huge, nil, 413, "body_too_large", nil},
			{"oversized patch", "PATCH", one, huge, nil, 413, "body_too_large", nil},
			{"text/plain", "POST", customersPath, `{"given_name": "A"}`, []string{"Content-Type", "text/plain"}, 415, "unsupported_media_type", nil},
			{"form", "POST", searchPath, `email=a@b.fr`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported_media_type", nil},
			{"JSON with charset", "PATCH", one, `{"city": "Lyon"}`, []string{"Content-Type", "application/json; charset=utf-8"}, 200, "", nil},
			{"no content type", "POST", customersPath, `{"given_name": "A"}`, []string{"Content-Type", ""}, 201, "", nil},
		} {
			t.Run(tt.name, func(t *testing.T) {
				// Creates and searches as support staff would; changes and erasures as the DPO.
				client, purpose := e.dpo, dp
				if tt.path == customersPath || tt.path == searchPath {
					client, purpose = e.admin, cs
				}
				r := client.Do(tt.method, tt.path, purpose, tt.body, tt.header...)
				if r.Status != tt.status {
					t.Fatalf("%s %s %.40q = %d; want %d (body %s)", tt.method, tt.path, tt.body, r.Status, tt.status, r.Body)
				}
				if tt.status < 400 {
					return
				}
				p := problemOf(t, r)
				if p.Reason != tt.reason {
					t.Errorf("reason = %q; want %q", p.Reason, tt.reason)
				}
				if wantType := "urn:fidelis:problem:" + string(p.Code) + ":" + tt.reason; p.Type != wantType {
					t.Errorf("type = %q; want %q", p.Type, wantType)
				}
				if len(p.Errors) != len(tt.errs) {
					t.Errorf("errors = %+v; want %d entries %+v", p.Errors, len(tt.errs), tt.errs)
				}
				for _, w := range tt.errs {
					if !hasFieldError(p.Errors, w.field, w.rule) {
						t.Errorf("errors = %+v; want an entry for field %q, rule %q", p.Errors, w.field, w.rule)
					}
				}
			})
		}
	})
}

// TestAPI_CursorPagination walks 25 customers 10 at a time: each exactly once, newest first.
func TestAPI_CursorPagination(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := mustEnv(t, b)
		const n = 25
		created := map[string]bool{}
		for i := range n {
			c := e.mustCreate(t, map[string]any{"given_name": fmt.Sprintf("Client %02d", i)})
			created[c["id"].(string)] = true
		}
		seen := map[string]bool{}
		var order, sizes []string
		cursor := ""
		for page := 0; ; page++ {
			if page > n {
				t.Fatalf("more than %d pages: the cursor does not advance", n)
			}
			q := url.Values{"limit": {"10"}}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			var body struct {
				Items []struct {
					ID string `json:"id"`
				} `json:"items"`
				NextCursor *string `json:"next_cursor"`
			}
			r := e.admin.Do("GET", customersPath+"?"+q.Encode(), cs, nil).MustStatus(t, http.StatusOK)
			if err := json.Unmarshal(r.Body, &body); err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, fmt.Sprint(len(body.Items)))
			for _, it := range body.Items {
				if seen[it.ID] {
					t.Errorf("customer %s listed twice", it.ID)
				}
				seen[it.ID] = true
				order = append(order, it.ID)
			}
			if body.NextCursor == nil {
				break
			}
			cursor = *body.NextCursor
		}
		if got := strings.Join(sizes, ","); got != "10,10,5" {
			t.Errorf("page sizes = %s; want 10,10,5", got)
		}
		if !maps.Equal(seen, created) {
			t.Errorf("walk saw %d customers; want exactly the %d created", len(seen), len(created))
		}
		if !slices.IsSortedFunc(order, func(a, b string) int { return strings.Compare(b, a) }) {
			t.Errorf("customers are not listed newest first: %v", order)
		}
		// The default page holds them all.
		all := e.admin.Do("GET", customersPath, cs, nil).MustStatus(t, http.StatusOK).JSON(t)
		if items, _ := all["items"].([]any); len(items) != n || all["next_cursor"] != nil {
			t.Errorf("GET %s = %d items, next_cursor %v; want %d items and null", customersPath, len(items), all["next_cursor"], n)
		}
	})
}

// TestAPI_SearchExactEmailAndPhone_D3 checks exact search through blind indexes: e-mail
// addresses case-insensitively, telephone numbers in national and international formats.
func TestAPI_SearchExactEmailAndPhone_D3(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := mustEnv(t, b)
		camille := e.mustCreate(t, map[string]any{"given_name": "Camille", "email": "Camille.Martin@Example.FR", "phone": "06 12 34 56 78"})["id"]
		other := e.mustCreate(t, map[string]any{"given_name": "Claude", "email": "camille.martin@example.com", "phone": "+33 6 98 76 54 32"})["id"]
		belgian := e.mustCreate(t, map[string]any{"given_name": "Lotte", "phone": "0470 12 34 56", "country": "BE"})["id"]
		for _, tt := range []struct {
			query map[string]string
			want  []any
		}{
			{map[string]string{"email": "camille.martin@example.fr"}, []any{camille}},
			{map[string]string{"email": "CAMILLE.MARTIN@EXAMPLE.FR"}, []any{camille}},
			{map[string]string{"email": " Camille.Martin@example.fr "}, []any{camille}},
			{map[string]string{"email": "camille.martin@example.com"}, []any{other}},
			{map[string]string{"email": "camille.martin@example"}, nil},
			{map[string]string{"phone": "+33612345678"}, []any{camille}},
			{map[string]string{"phone": "06 12 34 56 78"}, []any{camille}},
			{map[string]string{"phone": "0612345678"}, []any{camille}},
			{map[string]string{"phone": "06.12.34.56.78"}, []any{camille}},
			{map[string]string{"phone": "0033 6 12 34 56 78"}, []any{camille}},
			{map[string]string{"phone": "0698765432"}, []any{other}},
			{map[string]string{"phone": "06 12 34 56 79"}, nil},
			{map[string]string{"phone": "+32 470 12 34 56"}, []any{belgian}}, // stored national, read in its country
		} {
			r := e.admin.Do("POST", searchPath, cs, tt.query).MustStatus(t, http.StatusOK)
			var got []any
			for _, it := range r.JSON(t)["items"].([]any) {
				got = append(got, it.(map[string]any)["id"])
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("search %v = %v; want %v", tt.query, got, tt.want)
			}
		}
	})
}

// TestAPI_IfMatch checks optimistic concurrency: a current If-Match (or version) applies, a
// stale one is a 412 that changes nothing.
func TestAPI_IfMatch(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := mustEnv(t, b)
		r := e.admin.Do("POST", customersPath, cs, map[string]any{"given_name": "Camille", "city": "Paris"}).MustStatus(t, http.StatusCreated)
		if got := r.Header.Get("ETag"); got != `"v1"` {
			t.Fatalf("ETag on create = %q; want \"v1\"", got)
		}
		one := customersPath + "/" + r.JSON(t)["id"].(string)
		if loc := r.Header.Get("Location"); loc != one {
			t.Errorf("Location = %q; want %q", loc, one)
		}

		r = e.admin.Do("PATCH", one, cs, map[string]any{"city": "Lyon"}, "If-Match", `"v1"`).MustStatus(t, http.StatusOK)
		if got, c := r.Header.Get("ETag"), r.JSON(t); got != `"v2"` || c["version"] != 2.0 || c["city"] != "Lyon" {
			t.Fatalf("PATCH If-Match v1 = ETag %q, version %v, city %v; want \"v2\", 2, Lyon", got, c["version"], c["city"])
		}
		// A writer still holding v1 lost the race: refused, nothing changed.
		r = e.admin.Do("PATCH", one, cs, map[string]any{"city": "Nice"}, "If-Match", `"v1"`).MustStatus(t, http.StatusPreconditionFailed)
		if p := problemOf(t, r); p.Code != fidelis.EPRECONDITION || p.Reason != "version_mismatch" {
			t.Errorf("stale If-Match: code %q, reason %q; want precondition, version_mismatch", p.Code, p.Reason)
		}
		r = e.admin.Do("PATCH", one, cs, map[string]any{"city": "Nice", "version": 1}).MustStatus(t, http.StatusPreconditionFailed)
		if p := problemOf(t, r); p.Reason != "version_mismatch" {
			t.Errorf("stale version member: reason %q; want version_mismatch", p.Reason)
		}
		r = e.admin.Do("GET", one, cs, nil).MustStatus(t, http.StatusOK)
		if got, c := r.Header.Get("ETag"), r.JSON(t); got != `"v2"` || c["city"] != "Lyon" {
			t.Errorf("after refused changes: ETag %q, city %v; want \"v2\", Lyon", got, c["city"])
		}
		// If-Match and version must agree; a tag the API did not issue is refused.
		r = e.admin.Do("PATCH", one, cs, map[string]any{"city": "Nice", "version": 1}, "If-Match", `"v2"`).MustStatus(t, http.StatusUnprocessableEntity)
		if p := problemOf(t, r); !hasFieldError(p.Errors, "version", "mismatch") {
			t.Errorf("If-Match v2 with version 1: errors %+v; want version/mismatch", p.Errors)
		}
		for _, tag := range []string{`W/"v2"`, `"abc"`, `"v0"`} {
			r = e.admin.Do("PATCH", one, cs, map[string]any{"city": "Nice"}, "If-Match", tag).MustStatus(t, http.StatusPreconditionFailed)
			if p := problemOf(t, r); p.Reason != "bad_if_match" {
				t.Errorf("If-Match %s: reason %q; want bad_if_match", tag, p.Reason)
			}
		}
		r = e.admin.Do("PATCH", one, cs, map[string]any{"city": "Nice", "version": 2}, "If-Match", `"v2"`).MustStatus(t, http.StatusOK)
		if got := r.Header.Get("ETag"); got != `"v3"` {
			t.Errorf("PATCH with If-Match and version v2 = ETag %q; want \"v3\"", got)
		}
		// "*" matches whatever the current version is (RFC 9110).
		r = e.admin.Do("PATCH", one, cs, map[string]any{"city": "Nantes"}, "If-Match", `*`).MustStatus(t, http.StatusOK)
		if got := r.Header.Get("ETag"); got != `"v4"` {
			t.Errorf("PATCH with If-Match * = ETag %q; want \"v4\"", got)
		}
	})
}

// TestAPI_FieldsFilteredByPurpose_P2 checks a purpose sees only the fields it declares: the
// others are absent (not null) from reads, lists, searches and history.
func TestAPI_FieldsFilteredByPurpose_P2(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := mustEnv(t, b)
		full := map[string]any{
			"given_name": "Camille", "family_name": "Martin", "email": "camille@example.fr", "phone": "06 12 34 56 78",
			"birth_date": "1990-04-01", "street": "1 rue de la Paix", "postal_code": "75002", "city": "Paris", "country": "FR",
			"locale": "fr", "attributes": map[string]any{"tier": "gold"},
		}
		id := e.mustCreate(t, full)["id"].(string)
		fidelistest.MustConsent(t, e.app, fidelis.CustomerID(id), fidelis.PurposeMarketingEmail, fidelis.PurposeMarketingSMS)
		one := customersPath + "/" + id
		meta := []string{"created_at", "id", "updated_at", "version", "visible_fields"}
		check := func(t *testing.T, what string, c map[string]any, visible []string) {
			t.Helper()
			want := slices.Sorted(slices.Values(append(slices.Clone(meta), visible...)))
			if got := slices.Sorted(maps.Keys(c)); !slices.Equal(got, want) {
				t.Errorf("%s: members %v; want exactly %v", what, got, want)
			}
			var vf []string
			for _, f := range c["visible_fields"].([]any) {
				vf = append(vf, f.(string))
			}
			if !slices.Equal(vf, visible) {
				t.Errorf("%s: visible_fields = %v; want %v", what, vf, visible)
			}
			for _, f := range visible {
				if f != "attributes" && c[f] != full[f] {
					t.Errorf("%s: %s = %v; want %v", what, f, c[f], full[f])
				}
			}
		}

		// The brief's case: a marketing token under marketing_sms sees a name, a number and a language.
		sms := []string{"given_name", "phone", "locale"}
		r := e.marketing.Do("GET", one, fidelis.PurposeMarketingSMS, nil).MustStatus(t, http.StatusOK)
		check(t, "GET marketing_sms", r.JSON(t), sms)
		for _, leak := range []string{"camille@example.fr", "Martin", "1990-04-01", "rue de la Paix", "gold"} {
			if bytes.Contains(r.Body, []byte(leak)) {
				t.Errorf("GET under marketing_sms discloses %q: %s", leak, r.Body)
			}
		}
		list := e.marketing.Do("GET", customersPath, fidelis.PurposeMarketingSMS, nil).MustStatus(t, http.StatusOK).JSON(t)
		check(t, "list marketing_sms", list["items"].([]any)[0].(map[string]any), sms)
		found := e.marketing.Do("POST", searchPath, fidelis.PurposeMarketingSMS, map[string]any{"phone": "+33612345678"}).MustStatus(t, http.StatusOK).JSON(t)
		if items := found["items"].([]any); len(items) != 1 {
			t.Fatalf("search under marketing_sms = %d items; want 1", len(items))
		} else {
			check(t, "search marketing_sms", items[0].(map[string]any), sms)
		}

		for _, tt := range []struct {
			client  *fidelistest.Client
			purpose fidelis.Purpose
			visible []string
		}{
			{e.marketing, fidelis.PurposeMarketingEmail, []string{"given_name", "family_name", "email", "locale"}},
			{e.marketing, fidelis.PurposeAnalytics, []string{"birth_date", "postal_code", "city", "country", "locale"}},
			{e.sales, fidelis.PurposeSales, []string{"given_name", "family_name", "email", "phone", "city", "country", "locale", "attributes"}},
			{e.admin, cs, []string{"given_name", "family_name", "email", "phone", "birth_date", "street", "postal_code", "city", "country", "locale", "attributes"}},
		} {
			c := tt.client.Do("GET", one, tt.purpose, nil).MustStatus(t, http.StatusOK).JSON(t)
			check(t, "GET "+string(tt.purpose), c, tt.visible)
		}

		// The history withholds previous values the purpose may not use; field names stay.
		e.admin.Do("PATCH", one, cs, map[string]any{"email": "c.martin@example.fr", "phone": "07 00 00 00 01"}).MustStatus(t, http.StatusOK)
		h := e.marketing.Do("GET", one+"/history", fidelis.PurposeMarketingSMS, nil).MustStatus(t, http.StatusOK)
		if bytes.Contains(h.Body, []byte("camille@example.fr")) {
			t.Errorf("history under marketing_sms discloses the previous e-mail: %s", h.Body)
		}
		item := h.JSON(t)["items"].([]any)[0].(map[string]any)
		prev := item["previous"].(map[string]any)
		if _, ok := prev["email"]; ok || prev["phone"] != "06 12 34 56 78" {
			t.Errorf("history previous = %v; want the phone only", prev)
		}
		if got := fmt.Sprint(item["fields"]); got != "[email phone]" {
			t.Errorf("history fields = %s; want [email phone]", got)
		}
	})
}

// TestAPI_FieldNotAllowed_P2 checks writing a field the purpose does not declare is refused
// as a whole, and that a read-only purpose cannot create.
func TestAPI_FieldNotAllowed_P2(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := mustEnv(t, b)
		// Sales may not collect a birth date: the whole create is refused, nothing is stored.
		r := e.sales.Do("POST", customersPath, fidelis.PurposeSales, map[string]any{"given_name": "Camille", "birth_date": "1990-04-01"}).MustStatus(t, http.StatusForbidden)
		p := problemOf(t, r)
		if p.Code != fidelis.EFORBIDDEN || p.Reason != "field_not_allowed" || len(p.Errors) != 1 || !hasFieldError(p.Errors, "birth_date", "not_allowed_for_purpose") {
			t.Errorf("sales writing birth_date: %+v; want forbidden, field_not_allowed, errors [birth_date/not_allowed_for_purpose]", p)
		}
		if items := e.sales.Do("GET", customersPath, fidelis.PurposeSales, nil).MustStatus(t, http.StatusOK).JSON(t)["items"].([]any); len(items) != 0 {
			t.Errorf("a refused create stored %d customers", len(items))
		}
		// Marketing only reads: it cannot even create.
		r = e.marketing.Do("POST", customersPath, fidelis.PurposeMarketingEmail, map[string]any{"given_name": "Camille"}).MustStatus(t, http.StatusForbidden)
		if p := problemOf(t, r); p.Reason != "action_not_covered" {
			t.Errorf("marketing creating: reason %q; want action_not_covered", p.Reason)
		}
		// Updates are refused the same way, clearing included, and change nothing.
		one := customersPath + "/" + e.mustCreate(t, map[string]any{"given_name": "Camille", "street": "1 rue de la Paix"})["id"].(string)
		for _, body := range []map[string]any{{"street": "2 rue de Rivoli"}, {"street": nil}, {"city": "Paris", "postal_code": "75001"}} {
			r = e.sales.Do("PATCH", one, fidelis.PurposeSales, body).MustStatus(t, http.StatusForbidden)
			if p := problemOf(t, r); p.Reason != "field_not_allowed" {
				t.Errorf("sales PATCH %v: reason %q; want field_not_allowed", body, p.Reason)
			}
		}
		if c := e.admin.Do("GET", one, cs, nil).MustStatus(t, http.StatusOK).JSON(t); c["version"] != 1.0 || c["street"] != "1 rue de la Paix" {
			t.Errorf("after refused changes: version %v, street %v; want 1, unchanged", c["version"], c["street"])
		}
	})
}

// accessEntry is an entry of a customer's access log.
type accessEntry struct {
	Actor     string   `json:"actor"`
	Action    string   `json:"action"`
	Purpose   string   `json:"purpose"`
	Fields    []string `json:"fields"`
	Outcome   string   `json:"outcome"`
	Reason    string   `json:"reason"`
	RequestID string   `json:"request_id"`
}

// TestAPI_PurposeRequired_P1 checks every operation on personal data names a declared,
// granted purpose covering it, and that refusals are audited in the access log.
func TestAPI_PurposeRequired_P1(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := mustEnv(t, b)
		id := e.mustCreate(t, map[string]any{"given_name": "Camille"})["id"].(string)
		one := customersPath + "/" + id
		requestIDs := map[string]string{}
		for _, tt := range []struct {
			name    string
			client  *fidelistest.Client
			purpose fidelis.Purpose
			method  string
			path    string
			reason  string
		}{
			{"missing", e.admin, "", "GET", one, "purpose_missing"},
			{"blank", e.admin, " ", "GET", one, "purpose_missing"},
			{"unknown", e.admin, "curiosity", "GET", one, "purpose_unknown"},
			{"case matters", e.admin, "Customer_Service", "GET", one, "purpose_unknown"},
			{"not granted", e.marketing, cs, "GET", one, "purpose_not_granted"},
			{"not covered", e.marketing, fidelis.PurposeMarketingSMS, "GET", one + "/export", "action_not_covered"},
			{"purpose does not cover", e.dpo, fidelis.PurposeLegalClaims, "POST", one + "/erase", "action_not_covered"},
			{"role may not", e.dpo, cs, "POST", customersPath, "action_not_permitted"},
			{"missing on list", e.admin, "", "GET", customersPath, "purpose_missing"},
			{"missing on create", e.admin, "", "POST", customersPath, "purpose_missing"},
			{"missing on access log", e.dpo, "", "GET", one + "/access-log", "purpose_missing"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				var body any
				if tt.path == customersPath && tt.method == "POST" {
					body = map[string]any{"given_name": "X"}
				}
				r := tt.client.Do(tt.method, tt.path, tt.purpose, body).MustStatus(t, http.StatusForbidden)
				p := problemOf(t, r)
				if p.Code != fidelis.EFORBIDDEN || p.Reason != tt.reason || p.Type != "urn:fidelis:problem:forbidden:"+tt.reason {
					t.Errorf("code %q, reason %q, type %q; want forbidden, %s", p.Code, p.Reason, p.Type, tt.reason)
				}
				if bytes.Contains(r.Body, []byte("Camille")) {
					t.Errorf("a refusal discloses personal data: %s", r.Body)
				}
				requestIDs[tt.name] = p.RequestID
			})
		}

		// Refusals are audited: the DPO finds them in the customer's access log.
		r := e.dpo.Do("GET", one+"/access-log?limit=200", dp, nil).MustStatus(t, http.StatusOK)
		var log struct {
			Items []accessEntry `json:"items"`
		}
		if err := json.Unmarshal(r.Body, &log); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, it := range log.Items {
			if it.Outcome == "denied" && it.Reason == "purpose_not_granted" {
				found = true
				if it.Actor != e.tokenActor(fidelis.RoleMarketing) || it.Action != "customer.read" || it.Purpose != string(cs) || it.RequestID != requestIDs["not granted"] || len(it.Fields) != 0 {
					t.Errorf("denied entry = %+v; want actor %s, action customer.read, purpose %s, request %s, no fields",
						it, e.tokenActor(fidelis.RoleMarketing), cs, requestIDs["not granted"])
				}
			}
		}
		if !found {
			t.Fatalf("the access log holds no denied entry with reason purpose_not_granted: %s", r.Body)
		}
		for _, reason := range []string{"purpose_missing", "purpose_unknown", "action_not_covered"} {
			if !slices.ContainsFunc(log.Items, func(it accessEntry) bool { return it.Outcome == "denied" && it.Reason == reason }) {
				t.Errorf("the access log holds no denied entry with reason %s", reason)
			}
		}
	})
}

// TestAPI_Erase_R8 checks an erased customer is gone from every read and search, and that
// the access log still shows the erasure.
func TestAPI_Erase_R8(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := mustEnv(t, b)
		c := e.mustCreate(t, map[string]any{"given_name": "Camille", "email": "camille@example.fr"})
		id := c["id"].(string)
		one := customersPath + "/" + id
		e.admin.Do("PATCH", one, cs, map[string]any{"city": "Lyon"}).MustStatus(t, http.StatusOK)
		rec := e.dpo.Do("POST", one+"/erase", dp, nil).MustStatus(t, http.StatusOK).JSON(t)
		if rec["customer_id"] != id || rec["data_key"] != "destroyed" || rec["history_rows"] != 1.0 || rec["fields"] != 3.0 || rec["purpose"] != string(dp) {
			t.Errorf("receipt = %v; want customer %s, key destroyed, 1 history row, 3 fields, purpose %s", rec, id, dp)
		}
		for _, path := range []string{one, one + "/history", one + "/export"} {
			r := e.dpo.Do("GET", path, dp, nil).MustStatus(t, http.StatusNotFound)
			if p := problemOf(t, r); p.Code != fidelis.ENOTFOUND {
				t.Errorf("GET %s after erasure: code %q; want not_found", path, p.Code)
			}
		}
		e.dpo.Do("POST", one+"/erase", dp, nil).MustStatus(t, http.StatusNotFound)
		if items := e.admin.Do("POST", searchPath, cs, map[string]any{"email": "camille@example.fr"}).MustStatus(t, http.StatusOK).JSON(t)["items"].([]any); len(items) != 0 {
			t.Errorf("search finds an erased customer: %v", items)
		}
		r := e.dpo.Do("GET", one+"/access-log", dp, nil).MustStatus(t, http.StatusOK)
		if !bytes.Contains(r.Body, []byte(`"action":"customer.erase"`)) || bytes.Contains(r.Body, []byte("camille")) {
			t.Errorf("access log after erasure: %s; want the erase entry and no personal data", r.Body)
		}
	})
}

// TestAPI_Healthz checks the unauthenticated health check.
func TestAPI_Healthz(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := mustEnv(t, b)
		r := e.anonymous.Do("GET", "/healthz", "", nil).MustStatus(t, http.StatusOK)
		if ct := r.Header.Get("Content-Type"); ct != "application/json" || r.JSON(t)["status"] != "ok" {
			t.Errorf("GET /healthz = %s (%s); want {\"status\":\"ok\"} as application/json", r.Body, ct)
		}
	})
}

// TestAPI_Metrics checks requests are counted by route pattern and status, never by path.
func TestAPI_Metrics(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := mustEnv(t, b)
		id := e.mustCreate(t, map[string]any{"given_name": "Camille"})["id"].(string)
		e.admin.Do("GET", customersPath+"/"+id, cs, nil).MustStatus(t, http.StatusOK)
		e.marketing.Do("GET", customersPath+"/"+id, cs, nil).MustStatus(t, http.StatusForbidden)
		wants := []string{
			"# TYPE fidelis_http_requests_total counter",
			`fidelis_http_requests_total{code="201",route="POST /api/v1/customers"} 1`,
			`fidelis_http_requests_total{code="200",route="GET /api/v1/customers/{id}"} 1`,
			`fidelis_http_requests_total{code="403",route="GET /api/v1/customers/{id}"} 1`,
			"fidelis_http_request_duration_seconds_bucket",
		}
		// A request is counted after its response is written: poll briefly.
		var body string
		var missing []string
		for try := 0; try < 50; try++ {
			body = string(e.anonymous.Do("GET", "/metrics", "", nil).MustStatus(t, http.StatusOK).Body)
			missing = slices.DeleteFunc(slices.Clone(wants), func(w string) bool { return strings.Contains(body, w) })
			if len(missing) == 0 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		for _, w := range missing {
			t.Errorf("/metrics lacks %q", w)
		}
		// Labels are route patterns, never paths (D-5: no identifiers in metrics).
		if strings.Contains(body, id) {
			t.Errorf("/metrics contains the customer ID %s", id)
		}
	})
}

// TestAPI_ProblemsNeverEchoValues_D5 submits invalid values carrying a canary and checks
// neither the problems nor the application logs repeat it.
func TestAPI_ProblemsNeverEchoValues_D5(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		logs := &fidelistest.SyncBuffer{}
		e := mustEnv(t, b, fidelistest.Options{Logs: logs})
		const canary = "zq7canary"
		one := customersPath + "/" + e.mustCreate(t, map[string]any{"given_name": "Camille"})["id"].(string)
		for _, tt := range []struct {
			name   string
			client *fidelistest.Client
			p      fidelis.Purpose
			method string
			path   string
			body   map[string]any
			status int
			field  string
		}{
			{"email", e.admin, cs, "POST", customersPath, map[string]any{"email": canary + "@@example.fr"}, 422, "email"},
			{"email on patch", e.admin, cs, "PATCH", one, map[string]any{"email": "jean." + canary + "@example"}, 422, "email"},
			{"name too long", e.admin, cs, "POST", customersPath, map[string]any{"given_name": canary + strings.Repeat("e", 100)}, 422, "given_name"},
			{"phone", e.admin, cs, "POST", customersPath, map[string]any{"phone": "06 " + canary}, 422, "phone"},
			{"birth date", e.admin, cs, "POST", customersPath, map[string]any{"given_name": "A", "birth_date": canary}, 422, "birth_date"},
			{"country", e.admin, cs, "POST", customersPath, map[string]any{"given_name": "A", "country": canary}, 422, "country"},
			{"locale", e.admin, cs, "PATCH", one, map[string]any{"locale": canary}, 422, "locale"},
			{"attribute", e.admin, cs, "PATCH", one, map[string]any{"attributes": map[string]any{"note": canary + "\u0007"}}, 422, "attributes.note"},
			{"search phone", e.admin, cs, "POST", searchPath, map[string]any{"phone": canary}, 422, "phone"},
			{"refused field", e.sales, fidelis.PurposeSales, "POST", customersPath, map[string]any{"given_name": canary, "birth_date": "1990-04-01"}, 403, "birth_date"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				r := tt.client.Do(tt.method, tt.path, tt.p, tt.body).MustStatus(t, tt.status)
				p := problemOf(t, r)
				if !slices.ContainsFunc(p.Errors, func(e fieldError) bool { return e.Field == tt.field }) {
					t.Errorf("errors = %+v; want an entry for %s", p.Errors, tt.field)
				}
				if bytes.Contains(bytes.ToLower(r.Body), []byte(canary)) {
					t.Errorf("the problem echoes the submitted value: %s", r.Body)
				}
			})
		}
		if bytes.Contains(logs.Bytes(), []byte(canary)) {
			t.Errorf("the application logs contain a submitted value")
		}
	})
}

// TestAPI_UnknownRoute checks unknown API paths get a no_route problem, and known paths
// with another method a 405 naming the allowed ones.
func TestAPI_UnknownRoute(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		e := mustEnv(t, b)
		for _, tt := range []struct{ method, path string }{{"GET", "/api/v1/nope"}, {"GET", "/api/v2/customers"}} {
			r := e.admin.Do(tt.method, tt.path, cs, nil).MustStatus(t, http.StatusNotFound)
			if p := problemOf(t, r); p.Reason != "no_route" {
				t.Errorf("%s %s: reason %q; want no_route", tt.method, tt.path, p.Reason)
			}
		}
		for _, tt := range []struct{ method, path, allow string }{
			{"POST", "/api/v1/purposes", "GET"},
			{"DELETE", "/api/v1/customers", "GET, POST"},
			{"PUT", "/api/v1/customers/cus_06h0a13sp3ms3mpmq582ywf31g", "GET, PATCH"},
		} {
			r := e.admin.Do(tt.method, tt.path, cs, nil).MustStatus(t, http.StatusMethodNotAllowed)
			if p := problemOf(t, r); p.Reason != "method_not_allowed" || r.Header.Get("Allow") != tt.allow {
				t.Errorf("%s %s: reason %q, Allow %q; want method_not_allowed, %q", tt.method, tt.path, p.Reason, r.Header.Get("Allow"), tt.allow)
			}
		}
	})
}
