package customer_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/fidelistest"
)

// clock is a test clock that moves 1ms forward at every reading, so that IDs and audit
// entries made one after the other sort in that order.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2026, time.March, 14, 15, 9, 26, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func newApp(t *testing.T, b fidelistest.Backend) *app.App {
	t.Helper()
	return fidelistest.MustApp(t, b, fidelistest.Options{Now: newClock().Now})
}

// as returns a context acting as a system actor named job with role.
func as(job string, role fidelis.Role) context.Context {
	return app.SystemContext(context.Background(), job, role)
}

// set builds a customer input from field/value pairs.
func set(kv ...string) customer.Input {
	in := customer.Input{Set: map[fidelis.Field]fidelis.Secret{}}
	for i := 0; i+1 < len(kv); i += 2 {
		in.Set[fidelis.Field(kv[i])] = fidelis.NewSecret(kv[i+1])
	}
	return in
}

func attrs(kv ...string) map[string]fidelis.Secret {
	m := map[string]fidelis.Secret{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = fidelis.NewSecret(kv[i+1])
	}
	return m
}

func reveal(m map[fidelis.Field]fidelis.Secret) map[fidelis.Field]string {
	out := map[fidelis.Field]string{}
	for f, v := range m {
		out[f] = v.Reveal()
	}
	return out
}

func revealAttrs(m map[string]fidelis.Secret) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v.Reveal()
	}
	return out
}

func mustCreate(t *testing.T, a *app.App, ctx context.Context, p fidelis.Purpose, in customer.Input) *customer.Customer {
	t.Helper()
	c, err := a.Customers.Create(ctx, p, in)
	if err != nil {
		t.Fatalf("Create(%s) = %v; want nil error", p, err)
	}
	return c
}

func mustGet(t *testing.T, a *app.App, ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID) *customer.Customer {
	t.Helper()
	c, err := a.Customers.Get(ctx, p, id)
	if err != nil {
		t.Fatalf("Get(%s, %s) = %v; want nil error", p, id, err)
	}
	return c
}

// entries returns every audit entry, sealed or pending, in log order.
func entries(t *testing.T, a *app.App) []audit.Entry {
	t.Helper()
	var out []audit.Entry
	if err := a.DB.ScanEntries(context.Background(), func(e *audit.Entry) error { out = append(out, *e); return nil }); err != nil {
		t.Fatalf("ScanEntries = %v", err)
	}
	return out
}

func checkCode(t *testing.T, what string, err error, want fidelis.Code) {
	t.Helper()
	if got := fidelis.ErrorCode(err); got != want {
		t.Fatalf("%s: ErrorCode(%v) = %q; want %q", what, err, got, want)
	}
}

func checkReason(t *testing.T, what string, err error, code fidelis.Code, reason string) {
	t.Helper()
	e := fidelis.AsError(err)
	if e == nil || e.Code != code || e.Reason != reason {
		t.Fatalf("%s = %v; want %s with reason %q", what, err, code, reason)
	}
}

// aliceInput is a customer with every field set, as the back-office would create one.
func aliceInput() customer.Input {
	in := set(
		"given_name", "Alice", "family_name", "Martin", "email", "alice.martin@example.com", "phone", "06 12 34 56 78",
		"birth_date", "1985-07-14", "street", "12 rue de la Paix", "postal_code", "75002", "city", "Paris",
		"country", "FR", "locale", "fr")
	in.Attributes = attrs("tier", "gold", "newsletter", "weekly")
	return in
}

func TestCreate_Validation(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := newApp(t, b)
		ctx := as("validation", fidelis.RoleSupport)
		with := func(in customer.Input, kv ...string) customer.Input {
			for i := 0; i+1 < len(kv); i += 2 {
				in.Set[fidelis.Field(kv[i])] = fidelis.NewSecret(kv[i+1])
			}
			return in
		}
		named := func(kv ...string) customer.Input { return with(set("given_name", "Ann"), kv...) }
		withAttrs := func(m map[string]fidelis.Secret) customer.Input { in := named(); in.Attributes = m; return in }
		many := map[string]fidelis.Secret{}
		for i := range 51 {
			many[fmt.Sprintf("k%d", i)] = fidelis.NewSecret("v")
		}
		for _, tt := range []struct {
			name  string
			in    customer.Input
			field string
			rule  string
		}{
			{"email without @", named("email", "ann.example.com"), "email", "invalid_email"},
			{"email without a dot in the domain", named("email", "ann@example"), "email", "invalid_email"},
			{"email with a display name", named("email", "Ann <ann@example.com>"), "email", "invalid_email"},
			{"email with two @", named("email", "ann@b@example.com"), "email", "invalid_email"},
			{"email too long", named("email", "a@"+strings.Repeat("b", 249)+".com"), "email", "too_long"},
			{"phone too short", named("phone", "12345"), "phone", "invalid_phone"},
			{"phone with letters", named("phone", "06 12 34 56 AB"), "phone", "invalid_phone"},
			{"phone too long", named("phone", "+1234567890123456"), "phone", "invalid_phone"},
			{"phone without digits", named("phone", "+ ( ) -"), "phone", "invalid_phone"},
			{"birth date not ISO", named("birth_date", "14/03/1990"), "birth_date", "invalid_date"},
			{"birth date impossible", named("birth_date", "1990-02-30"), "birth_date", "invalid_date"},
			{"birth date in the future", named("birth_date", "2026-03-15"), "birth_date", "in_future"},
			{"birth date over 130 years ago", named("birth_date", "1896-03-13"), "birth_date", "too_old"},
			{"given name too long", named("given_name", strings.Repeat("é", 101)), "given_name", "too_long"},
			{"family name too long", named("family_name", strings.Repeat("x", 101)), "family_name", "too_long"},
			{"street too long", named("street", strings.Repeat("x", 201)), "street", "too_long"},
			{"postal code too long", named("postal_code", strings.Repeat("9", 17)), "postal_code", "too_long"},
			{"city too long", named("city", strings.Repeat("x", 101)), "city", "too_long"},
			{"country of three letters", named("country", "FRA"), "country", "invalid_country"},
			{"country with a digit", named("country", "F1"), "country", "invalid_country"},
			{"locale not supported", named("locale", "de"), "locale", "invalid_locale"},
			{"control character", named("family_name", "Mar\atin"), "family_name", "invalid_characters"},
			{"line break inside", named("street", "12 rue\nde la Paix"), "street", "invalid_characters"},
			{"invalid UTF-8", named("city", "Par\xffis"), "city", "invalid_characters"},
			{"unknown field", named("shoe_size", "42"), "shoe_size", "unknown"},
			{"attributes are not a plain field", named("attributes", "x"), "attributes", "unknown"},
			// An invalid key is free text: the error names the attributes, not the key.
			{"attribute key in upper case", withAttrs(attrs("Tier", "gold")), "attributes", "invalid_key"},
			{"attribute key starting with a digit", withAttrs(attrs("1tier", "gold")), "attributes", "invalid_key"},
			{"attribute key with a dash", withAttrs(attrs("shoe-size", "42")), "attributes", "invalid_key"},
			{"attribute key too long", withAttrs(attrs(strings.Repeat("k", 41), "v")), "attributes", "invalid_key"},
			{"attribute key holding personal data", withAttrs(attrs("Jean Dupont", "vip")), "attributes", "invalid_key"},
			{"attribute value too long", withAttrs(attrs("tier", strings.Repeat("v", 501))), "attributes.tier", "too_long"},
			{"attribute value with a control character", withAttrs(attrs("tier", "go\x00ld")), "attributes.tier", "invalid_characters"},
			{"too many attributes", withAttrs(many), "attributes", "too_many"},
			{"not identifiable", set("city", "Paris", "country", "FR"), "family_name", "required"},
			{"blank names are not identifying", set("given_name", "   ", "family_name", "\t", "city", "Paris"), "family_name", "required"},
			{"attributes alone are not identifying", customer.Input{Attributes: attrs("tier", "gold")}, "family_name", "required"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				var values []string
				for _, v := range tt.in.Set {
					values = append(values, v.Reveal())
				}
				for k, v := range tt.in.Attributes {
					values = append(values, k, v.Reveal())
				}
				_, err := a.Customers.Create(ctx, fidelis.PurposeCustomerService, tt.in)
				e := fidelis.AsError(err)
				if e == nil || e.Code != fidelis.EINVALID {
					t.Fatalf("Create(%s) = %v; want EINVALID", tt.name, err)
				}
				if !slices.ContainsFunc(e.Fields, func(f fidelis.FieldError) bool { return f.Field == tt.field && f.Rule == tt.rule }) {
					t.Errorf("Create(%s) field errors = %+v; want {%s %s}", tt.name, e.Fields, tt.field, tt.rule)
				}
				for _, v := range values {
					detail := err.Error()
					for _, f := range e.Fields {
						detail += " " + f.Field + " " + f.Message
					}
					if len(v) > 4 && strings.Contains(detail, v) {
						t.Errorf("Create(%s) error %q repeats the submitted value %q; want it never to (D-5)", tt.name, err, v)
					}
				}
			})
		}
		for _, tt := range []struct {
			name string
			in   customer.Input
		}{
			{"name of 100 characters", named("family_name", strings.Repeat("é", 100))},
			{"email of 254 characters", named("email", "a@"+strings.Repeat("b", 248)+".com")},
			{"phone of 6 digits", named("phone", "123456")},
			{"phone of 15 digits", named("phone", "+123456789012345")},
			{"phone with separators", named("phone", "+33 (6) 12-34.56/78")},
			{"born today", named("birth_date", "2026-03-14")},
			{"born 130 years ago", named("birth_date", "1896-03-15")},
			{"attribute key of 40 characters", withAttrs(attrs(strings.Repeat("k", 40), strings.Repeat("v", 500)))},
			{"50 attributes", withAttrs(maps.Collect(func(yield func(string, fidelis.Secret) bool) {
				for i := range 50 {
					if !yield(fmt.Sprintf("k%d", i), fidelis.NewSecret("v")) {
						return
					}
				}
			}))},
			{"phone alone", set("phone", "06 12 34 56 78")},
			{"email alone", set("email", "x@example.com")},
		} {
			t.Run("valid/"+tt.name, func(t *testing.T) {
				if _, err := a.Customers.Create(ctx, fidelis.PurposeCustomerService, tt.in); err != nil {
					t.Errorf("Create(%s) = %v; want nil", tt.name, err)
				}
			})
		}
		page, err := a.Customers.List(ctx, fidelis.PurposeCustomerService, "", customer.MaxPageSize)
		if err != nil {
			t.Fatalf("List = %v", err)
		}
		if len(page.Items) != 11 {
			t.Errorf("customers stored = %d; want 11 (only the valid inputs)", len(page.Items))
		}
	})
}

func TestCreate_Normalises(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := newApp(t, b)
		ctx := as("normalise", fidelis.RoleSupport)
		in := set("given_name", "  Ann ", "email", "Ann.Smith@Example.COM", "country", "fr", "locale", "EN", "city", "")
		in.Attributes = attrs("tier", " gold ", "empty", "  ")
		c := mustCreate(t, a, ctx, fidelis.PurposeCustomerService, in)
		want := map[fidelis.Field]string{"given_name": "Ann", "email": "Ann.Smith@Example.COM", "country": "FR", "locale": "en"}
		for _, got := range []*customer.Customer{c, mustGet(t, a, ctx, fidelis.PurposeCustomerService, c.ID)} {
			if g := reveal(got.Values); !maps.Equal(g, want) {
				t.Errorf("Values = %v; want %v", g, want)
			}
			if g := revealAttrs(got.Attributes); !maps.Equal(g, map[string]string{"tier": "gold"}) {
				t.Errorf("Attributes = %v; want map[tier:gold]", g)
			}
			if got.Version != 1 {
				t.Errorf("Version = %d; want 1", got.Version)
			}
		}
	})
}

func TestCreate_FieldNotAllowed_P2(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := newApp(t, b)
		for _, tt := range []struct {
			name    string
			role    fidelis.Role
			purpose fidelis.Purpose
			in      customer.Input
			refused []string
		}{
			{"sales may not collect a birth date", fidelis.RoleSales, fidelis.PurposeSales, set("given_name", "Ann", "birth_date", "1990-01-01"), []string{"birth_date"}},
			{"sales may not collect an address", fidelis.RoleSales, fidelis.PurposeSales, set("given_name", "Ann", "street", "1 rue X", "postal_code", "75001"), []string{"postal_code", "street"}},
			{"loyalty may not collect custom attributes", fidelis.RoleLoyaltyManager, fidelis.PurposeLoyalty, customer.Input{Set: set("given_name", "Ann").Set, Attributes: attrs("tier", "gold")}, []string{"attributes"}},
			{"loyalty may not collect a street", fidelis.RoleLoyaltyManager, fidelis.PurposeLoyalty, set("given_name", "Ann", "street", "1 rue X"), []string{"street"}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				job := "p2-" + strings.ReplaceAll(tt.name, " ", "-")
				_, err := a.Customers.Create(as(job, tt.role), tt.purpose, tt.in)
				checkReason(t, "Create", err, fidelis.EFORBIDDEN, "field_not_allowed")
				var got []string
				for _, f := range fidelis.AsError(err).Fields {
					got = append(got, f.Field)
					if f.Rule != "not_allowed_for_purpose" {
						t.Errorf("field error %+v; want rule not_allowed_for_purpose", f)
					}
				}
				slices.Sort(got)
				if !slices.Equal(got, tt.refused) {
					t.Errorf("refused fields = %v; want %v", got, tt.refused)
				}
				// The refusal is audited with the field names, and nothing was stored.
				var denied []audit.Entry
				for _, e := range entries(t, a) {
					if e.Actor == "system:"+job {
						denied = append(denied, e)
					}
				}
				if len(denied) != 1 || denied[0].Outcome != audit.OutcomeDenied || denied[0].Reason != "field_not_allowed" ||
					denied[0].Action != customer.ActCreate || denied[0].Purpose != tt.purpose {
					t.Errorf("audit entries of %s = %+v; want one denied customer.create with reason field_not_allowed", job, denied)
				}
			})
		}
		ctx := as("p2-list", fidelis.RoleAdmin)
		if page, err := a.Customers.List(ctx, fidelis.PurposeCustomerService, "", 10); err != nil || len(page.Items) != 0 {
			t.Errorf("List after refused creates = %d customers, %v; want none", len(page.Items), err)
		}

		// Updating under a purpose that does not declare the field is refused the same way.
		c := mustCreate(t, a, ctx, fidelis.PurposeCustomerService, aliceInput())
		_, err := a.Customers.Update(as("p2-update", fidelis.RoleSales), fidelis.PurposeSales, c.ID, set("birth_date", "1990-01-01"), 0)
		checkReason(t, "Update(sales, birth_date)", err, fidelis.EFORBIDDEN, "field_not_allowed")
		_, err = a.Customers.Update(as("p2-update", fidelis.RoleSales), fidelis.PurposeSales, c.ID, customer.Input{Clear: []fidelis.Field{fidelis.FieldStreet}}, 0)
		checkReason(t, "Update(sales, clear street)", err, fidelis.EFORBIDDEN, "field_not_allowed")
		if got := mustGet(t, a, ctx, fidelis.PurposeCustomerService, c.ID); got.Version != 1 || got.Get(fidelis.FieldBirthDate).Reveal() != "1985-07-14" || got.Get(fidelis.FieldStreet).IsZero() {
			t.Errorf("customer after refused updates = v%d; want v1 unchanged", got.Version)
		}
	})
}

func TestGet_PurposeLimitsFields_P2(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := newApp(t, b)
		c := mustCreate(t, a, as("creator", fidelis.RoleSupport), fidelis.PurposeCustomerService, aliceInput())
		fidelistest.MustConsent(t, a, c.ID, fidelis.PurposeMarketingEmail, fidelis.PurposeMarketingSMS)
		full := reveal(aliceInput().Set)
		F := func(fs ...fidelis.Field) []fidelis.Field { return fs }
		all := fidelis.CustomerFields()
		for _, tt := range []struct {
			role    fidelis.Role
			purpose fidelis.Purpose
			visible []fidelis.Field
		}{
			{fidelis.RoleMarketing, fidelis.PurposeMarketingSMS, F("given_name", "phone", "locale")},
			{fidelis.RoleMarketing, fidelis.PurposeMarketingEmail, F("given_name", "family_name", "email", "locale")},
			{fidelis.RoleMarketing, fidelis.PurposeAnalytics, F("birth_date", "postal_code", "city", "country", "locale")},
			{fidelis.RoleSales, fidelis.PurposeSales, F("given_name", "family_name", "email", "phone", "city", "country", "locale", "attributes")},
			{fidelis.RoleLoyaltyManager, fidelis.PurposeLoyalty, F("given_name", "family_name", "email", "phone", "birth_date", "postal_code", "city", "country", "locale")},
			{fidelis.RoleSupport, fidelis.PurposeCustomerService, all},
			{fidelis.RoleDPO, fidelis.PurposeLegalClaims, all},
			{fidelis.RoleAdmin, fidelis.PurposeDataProtection, all},
		} {
			t.Run(string(tt.purpose), func(t *testing.T) {
				job := "reader-" + string(tt.purpose)
				got := mustGet(t, a, as(job, tt.role), tt.purpose, c.ID)
				if !slices.Equal(got.Visible, tt.visible) {
					t.Errorf("Get(%s).Visible = %v; want %v", tt.purpose, got.Visible, tt.visible)
				}
				want := map[fidelis.Field]string{}
				for _, f := range tt.visible {
					if v, ok := full[f]; ok {
						want[f] = v
					}
				}
				if g := reveal(got.Values); !maps.Equal(g, want) {
					t.Errorf("Get(%s).Values = %v; want %v", tt.purpose, slices.Sorted(maps.Keys(g)), slices.Sorted(maps.Keys(want)))
				}
				if slices.Contains(tt.visible, fidelis.FieldAttributes) {
					if g := revealAttrs(got.Attributes); !maps.Equal(g, revealAttrs(aliceInput().Attributes)) {
						t.Errorf("Get(%s).Attributes = %v; want %v", tt.purpose, g, revealAttrs(aliceInput().Attributes))
					}
				} else if got.Attributes != nil {
					t.Errorf("Get(%s).Attributes = %v; want nil (not visible)", tt.purpose, slices.Collect(maps.Keys(got.Attributes)))
				}
				// The read is audited with exactly the disclosed field names.
				var reads []audit.Entry
				for _, e := range entries(t, a) {
					if e.Actor == "system:"+job {
						reads = append(reads, e)
					}
				}
				wantFields := slices.Sorted(slices.Values(tt.visible))
				if len(reads) != 1 || reads[0].Action != customer.ActRead || reads[0].Subject != string(c.ID) || reads[0].Purpose != tt.purpose ||
					!slices.Equal(reads[0].Fields, wantFields) || reads[0].Outcome != audit.OutcomeOK {
					t.Errorf("audit of the read = %+v; want one customer.read of %s under %s disclosing %v", reads, c.ID, tt.purpose, wantFields)
				}
			})
		}
	})
}

// op is one operation on personal data, for refusal tables.
type op func(ctx context.Context, a *app.App, p fidelis.Purpose, id fidelis.CustomerID) error

func opsByName() map[string]op {
	return map[string]op{
		"get": func(ctx context.Context, a *app.App, p fidelis.Purpose, id fidelis.CustomerID) error {
			_, err := a.Customers.Get(ctx, p, id)
			return err
		},
		"create": func(ctx context.Context, a *app.App, p fidelis.Purpose, _ fidelis.CustomerID) error {
			_, err := a.Customers.Create(ctx, p, set("given_name", "Eve"))
			return err
		},
		"update": func(ctx context.Context, a *app.App, p fidelis.Purpose, id fidelis.CustomerID) error {
			_, err := a.Customers.Update(ctx, p, id, set("given_name", "Eve"), 0)
			return err
		},
		"erase": func(ctx context.Context, a *app.App, p fidelis.Purpose, id fidelis.CustomerID) error {
			_, err := a.Customers.Erase(ctx, p, id)
			return err
		},
		"export": func(ctx context.Context, a *app.App, p fidelis.Purpose, id fidelis.CustomerID) error {
			_, err := a.Customers.Export(ctx, p, id)
			return err
		},
		"access_log": func(ctx context.Context, a *app.App, p fidelis.Purpose, id fidelis.CustomerID) error {
			_, err := a.Customers.AccessLog(ctx, p, id, 0, 10)
			return err
		},
		"history": func(ctx context.Context, a *app.App, p fidelis.Purpose, id fidelis.CustomerID) error {
			_, err := a.Customers.History(ctx, p, id)
			return err
		},
		"list": func(ctx context.Context, a *app.App, p fidelis.Purpose, _ fidelis.CustomerID) error {
			_, err := a.Customers.List(ctx, p, "", 10)
			return err
		},
		"search": func(ctx context.Context, a *app.App, p fidelis.Purpose, _ fidelis.CustomerID) error {
			_, err := a.Customers.Search(ctx, p, customer.Query{Email: fidelis.NewSecret("alice.martin@example.com")})
			return err
		},
		"create_many": func(ctx context.Context, a *app.App, p fidelis.Purpose, _ fidelis.CustomerID) error {
			_, err := a.Customers.CreateMany(ctx, p, []customer.Input{set("given_name", "Eve")})
			return err
		},
	}
}

func TestRefusals_Audited_P1(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := newApp(t, b)
		admin := as("setup", fidelis.RoleAdmin)
		c := mustCreate(t, a, admin, fidelis.PurposeCustomerService, aliceInput())
		ops := opsByName()
		for i, tt := range []struct {
			name    string
			role    fidelis.Role
			purpose fidelis.Purpose
			op      string
			action  string
			subject bool
			reason  string
		}{
			{"no purpose", fidelis.RoleSupport, "", "get", customer.ActRead, true, "purpose_missing"},
			{"no purpose on create", fidelis.RoleSupport, "", "create", customer.ActCreate, false, "purpose_missing"},
			{"no purpose on list", fidelis.RoleAdmin, "", "list", customer.ActRead, false, "purpose_missing"},
			{"unknown purpose", fidelis.RoleSupport, "marketing_fax", "get", customer.ActRead, true, "purpose_unknown"},
			{"purpose in the wrong case", fidelis.RoleSupport, "Customer_Service", "update", customer.ActUpdate, true, "purpose_unknown"},
			{"purpose not granted to the role", fidelis.RoleSupport, fidelis.PurposeMarketingEmail, "get", customer.ActRead, true, "purpose_not_granted"},
			{"purpose not granted for search", fidelis.RoleMarketing, fidelis.PurposeCustomerService, "search", customer.ActRead, false, "purpose_not_granted"},
			{"auditor reads", fidelis.RoleAuditor, fidelis.PurposeAudit, "get", customer.ActRead, true, "action_not_covered"},
			{"marketing creates", fidelis.RoleMarketing, fidelis.PurposeMarketingEmail, "create", customer.ActCreate, false, "action_not_covered"},
			{"support exports", fidelis.RoleSupport, fidelis.PurposeCustomerService, "export", customer.ActExport, true, "action_not_covered"},
			{"sales erases", fidelis.RoleSales, fidelis.PurposeSales, "erase", customer.ActErase, true, "action_not_covered"},
			{"support reads the access log", fidelis.RoleSupport, fidelis.PurposeCustomerService, "access_log", customer.ActAccessLog, true, "action_not_covered"},
			{"dpo creates", fidelis.RoleDPO, fidelis.PurposeCustomerService, "create", customer.ActCreate, false, "action_not_permitted"},
			{"dpo imports", fidelis.RoleDPO, fidelis.PurposeCustomerService, "create_many", customer.ActCreate, false, "action_not_permitted"},
			{"unknown role", "intern", fidelis.PurposeCustomerService, "history", customer.ActHistory, true, "role_unknown"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				job := fmt.Sprintf("p1-%d", i)
				err := ops[tt.op](as(job, tt.role), a, tt.purpose, c.ID)
				checkReason(t, tt.op, err, fidelis.EFORBIDDEN, tt.reason)
				if e := fidelis.AsError(err); e.Message == "" {
					t.Errorf("%s refusal has no message; want a clear one", tt.op)
				}
				var got []audit.Entry
				for _, e := range entries(t, a) {
					if e.Actor == "system:"+job {
						got = append(got, e)
					}
				}
				subject := ""
				if tt.subject {
					subject = string(c.ID)
				}
				purpose := tt.purpose
				if tt.reason == "purpose_unknown" {
					purpose = "" // caller-chosen text never enters the audit log (D-5)
				}
				if len(got) != 1 || got[0].Outcome != audit.OutcomeDenied || got[0].Reason != tt.reason || got[0].Action != tt.action ||
					got[0].Subject != subject || got[0].Purpose != purpose || len(got[0].Fields) != 0 {
					t.Errorf("audit entries of the refusal = %+v; want one denied %s of %q under %q with reason %s", got, tt.action, subject, purpose, tt.reason)
				}
			})
		}
		t.Run("no actor", func(t *testing.T) {
			for name, f := range ops {
				checkReason(t, name, f(context.Background(), a, fidelis.PurposeCustomerService, c.ID), fidelis.EUNAUTHORIZED, "no_actor")
			}
		})
		if got := mustGet(t, a, admin, fidelis.PurposeCustomerService, c.ID); got.Version != 1 || got.Get(fidelis.FieldGivenName).Reveal() != "Alice" {
			t.Errorf("customer after refusals = v%d %q; want v1 Alice", got.Version, got.Get(fidelis.FieldGivenName).Reveal())
		}
	})
}

func TestUpdate_HistoryAndVersion(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := newApp(t, b)
		ctx := as("support", fidelis.RoleSupport)
		const p = fidelis.PurposeCustomerService
		c := mustCreate(t, a, ctx, p, aliceInput())
		fidelistest.MustConsent(t, a, c.ID, fidelis.PurposeMarketingEmail, fidelis.PurposeMarketingSMS)

		u, err := a.Customers.Update(ctx, p, c.ID, set("given_name", "Alicia"), 1)
		if err != nil || u.Version != 2 || u.Get(fidelis.FieldGivenName).Reveal() != "Alicia" {
			t.Fatalf("Update(given_name) = v%d, %v; want v2 Alicia", u.Version, err)
		}
		in := set("email", "alicia@example.org")
		in.Clear = []fidelis.Field{fidelis.FieldPhone, fidelis.FieldStreet}
		in.Attributes = attrs("tier", "silver")
		if u, err = a.Customers.Update(as("dpo", fidelis.RoleDPO), fidelis.PurposeDataProtection, c.ID, in, 0); err != nil || u.Version != 3 {
			t.Fatalf("Update(email, clear phone+street, attributes) = %v, %v; want v3", u, err)
		}
		// No-op updates: same values (after normalisation), clearing an empty field,
		// same attributes. No new version, no history.
		for _, noop := range []customer.Input{
			set("given_name", " Alicia "),
			{Clear: []fidelis.Field{fidelis.FieldPhone}},
			{Attributes: attrs("tier", "silver")},
			set("country", "fr"),
			{},
		} {
			got, err := a.Customers.Update(ctx, p, c.ID, noop, 3)
			if err != nil || got.Version != 3 {
				t.Errorf("no-op Update(%v) = %v, %v; want version 3 unchanged", slices.Collect(maps.Keys(noop.Set)), got, err)
			}
		}
		_, err = a.Customers.Update(ctx, p, c.ID, set("given_name", "Al"), 2)
		checkReason(t, "Update(expect v2 at v3)", err, fidelis.EPRECONDITION, "version_mismatch")
		_, err = a.Customers.Update(ctx, p, c.ID, set("given_name", "Al"), 4)
		checkCode(t, "Update(expect v4 at v3)", err, fidelis.EPRECONDITION)
		_, err = a.Customers.Update(ctx, p, fidelis.NewCustomerID(time.Now()), set("given_name", "Al"), 0)
		checkCode(t, "Update(missing)", err, fidelis.ENOTFOUND)

		got := mustGet(t, a, ctx, p, c.ID)
		want := reveal(aliceInput().Set)
		want["given_name"], want["email"] = "Alicia", "alicia@example.org"
		delete(want, "phone")
		delete(want, "street")
		if g := reveal(got.Values); got.Version != 3 || !maps.Equal(g, want) {
			t.Errorf("Get = v%d %v; want v3 %v", got.Version, g, want)
		}
		if g := revealAttrs(got.Attributes); !maps.Equal(g, map[string]string{"tier": "silver"}) {
			t.Errorf("Attributes = %v; want map[tier:silver]", g)
		}

		hist, err := a.Customers.History(ctx, p, c.ID)
		if err != nil {
			t.Fatalf("History = %v", err)
		}
		if len(hist) != 2 {
			t.Fatalf("len(History) = %d; want 2", len(hist))
		}
		h2, h3 := hist[0], hist[1]
		if h2.Version != 2 || !slices.Equal(h2.Fields, []fidelis.Field{"given_name"}) || h2.Actor != "system:support" || h2.Purpose != p ||
			!maps.Equal(reveal(h2.Previous), map[fidelis.Field]string{"given_name": "Alice"}) {
			t.Errorf("History[0] = %+v %v; want v2 given_name previously Alice by system:support", h2, reveal(h2.Previous))
		}
		wantPrev := map[fidelis.Field]string{"email": "alice.martin@example.com", "phone": "06 12 34 56 78", "street": "12 rue de la Paix",
			"attributes": `{"newsletter":"weekly","tier":"gold"}`}
		if h3.Version != 3 || !slices.Equal(h3.Fields, []fidelis.Field{"attributes", "email", "phone", "street"}) || h3.Actor != "system:dpo" ||
			h3.Purpose != fidelis.PurposeDataProtection || !maps.Equal(reveal(h3.Previous), wantPrev) {
			t.Errorf("History[1] = %+v %v; want v3 by system:dpo with previous %v", h3, reveal(h3.Previous), wantPrev)
		}
		if !h2.At.Before(h3.At) {
			t.Errorf("History times = %v, %v; want increasing", h2.At, h3.At)
		}

		// Under a narrower purpose the previous values of undeclared fields are withheld.
		sms, err := a.Customers.History(as("mkt", fidelis.RoleMarketing), fidelis.PurposeMarketingSMS, c.ID)
		if err != nil || len(sms) != 2 {
			t.Fatalf("History(marketing_sms) = %d, %v; want 2 items", len(sms), err)
		}
		if g := reveal(sms[1].Previous); !maps.Equal(g, map[fidelis.Field]string{"phone": "06 12 34 56 78"}) {
			t.Errorf("History(marketing_sms)[1].Previous = %v; want only phone", g)
		}

		// Making the customer unidentifiable is refused and changes nothing.
		in = customer.Input{Clear: []fidelis.Field{fidelis.FieldGivenName, fidelis.FieldFamilyName, fidelis.FieldEmail}}
		_, err = a.Customers.Update(ctx, p, c.ID, in, 3)
		checkCode(t, "Update(clear every identifier)", err, fidelis.EINVALID)
		if got := mustGet(t, a, ctx, p, c.ID); got.Version != 3 || got.Get(fidelis.FieldEmail).IsZero() {
			t.Errorf("customer after a refused update = v%d; want v3 unchanged", got.Version)
		}
	})
}

// TestUpdate_SetAndClearSameField_History names the same field in Set and in Clear. The
// field ends empty (Clear wins), but the history must record the value it really held
// before, and a field that was already empty is no change at all.
func TestUpdate_SetAndClearSameField_History(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := newApp(t, b)
		ctx := as("support", fidelis.RoleSupport)
		const p = fidelis.PurposeCustomerService
		c := mustCreate(t, a, ctx, p, set("given_name", "Alice", "city", "Lyon"))
		in := set("city", "Paris")
		in.Clear = []fidelis.Field{fidelis.FieldCity}
		u, err := a.Customers.Update(ctx, p, c.ID, in, 1)
		if err != nil {
			t.Fatalf("Update(set and clear city) = %v", err)
		}
		if !u.Get(fidelis.FieldCity).IsZero() || u.Version != 2 {
			t.Fatalf("Update(set and clear city) = v%d city %q; want v2 with no city", u.Version, u.Get(fidelis.FieldCity).Reveal())
		}
		hist, err := a.Customers.History(ctx, p, c.ID)
		if err != nil || len(hist) != 1 {
			t.Fatalf("History = %d items, %v; want 1", len(hist), err)
		}
		if got := hist[0].Previous[fidelis.FieldCity].Reveal(); got != "Lyon" {
			t.Errorf("History[0].Previous[city] = %q; want %q, the value the customer held", got, "Lyon")
		}
		// On a field that is already empty, setting and clearing it changes nothing.
		u, err = a.Customers.Update(ctx, p, c.ID, in, 2)
		if err != nil || u.Version != 2 {
			t.Errorf("Update(set and clear an empty city) = v%d, %v; want version 2 unchanged", u.Version, err)
		}
		// The same with the custom attributes: clearing them and setting them back to what
		// they were is no change.
		d := mustCreate(t, a, ctx, p, customer.Input{Set: set("given_name", "Bob").Set, Attributes: attrs("tier", "gold")})
		u, err = a.Customers.Update(ctx, p, d.ID, customer.Input{Clear: []fidelis.Field{fidelis.FieldAttributes}, Attributes: attrs("tier", "gold")}, 1)
		if err != nil || u.Version != 1 {
			t.Errorf("Update(clear attributes, set them back) = v%d, %v; want version 1 unchanged", u.Version, err)
		}
	})
}

func TestSearch_EmailAndPhone(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := newApp(t, b)
		ctx := as("support", fidelis.RoleSupport)
		const p = fidelis.PurposeCustomerService
		fr := mustCreate(t, a, ctx, p, set("given_name", "Alice", "email", "Alice.Martin@Example.COM", "phone", "06 12 34 56 78", "country", "FR"))
		fidelistest.MustConsent(t, a, fr.ID, fidelis.PurposeMarketingEmail, fidelis.PurposeMarketingSMS)
		noCountry := mustCreate(t, a, ctx, p, set("given_name", "Jean", "phone", "06 98 76 54 32"))
		be := mustCreate(t, a, ctx, p, set("given_name", "Lotte", "phone", "0470 12 34 56", "country", "BE", "email", "lotte@example.be"))
		// Two members of a household share an address.
		twin := mustCreate(t, a, ctx, p, set("given_name", "Bob", "email", "alice.martin@example.com"))
		ids := func(cs []*customer.Customer) []fidelis.CustomerID {
			var out []fidelis.CustomerID
			for _, c := range cs {
				out = append(out, c.ID)
			}
			return out
		}
		none := []fidelis.CustomerID(nil)
		for _, tt := range []struct {
			name  string
			q     customer.Query
			want  []fidelis.CustomerID
			code  fidelis.Code
			field string
		}{
			{"email as stored", customer.Query{Email: fidelis.NewSecret("Alice.Martin@Example.COM")}, []fidelis.CustomerID{twin.ID, fr.ID}, "", ""},
			{"email in lower case", customer.Query{Email: fidelis.NewSecret("alice.martin@example.com")}, []fidelis.CustomerID{twin.ID, fr.ID}, "", ""},
			{"email in upper case with spaces", customer.Query{Email: fidelis.NewSecret("  ALICE.MARTIN@EXAMPLE.COM ")}, []fidelis.CustomerID{twin.ID, fr.ID}, "", ""},
			{"email with a tag is another mailbox", customer.Query{Email: fidelis.NewSecret("alice.martin+shop@example.com")}, none, "", ""},
			{"unknown email", customer.Query{Email: fidelis.NewSecret("nobody@example.com")}, none, "", ""},
			{"FR national", customer.Query{Phone: fidelis.NewSecret("0612345678")}, []fidelis.CustomerID{fr.ID}, "", ""},
			{"FR national with dots", customer.Query{Phone: fidelis.NewSecret("06.12.34.56.78")}, []fidelis.CustomerID{fr.ID}, "", ""},
			{"FR international", customer.Query{Phone: fidelis.NewSecret("+33 6 12 34 56 78")}, []fidelis.CustomerID{fr.ID}, "", ""},
			{"FR with 00 prefix", customer.Query{Phone: fidelis.NewSecret("0033 6 12 34 56 78")}, []fidelis.CustomerID{fr.ID}, "", ""},
			{"no country reads as FR", customer.Query{Phone: fidelis.NewSecret("+33698765432")}, []fidelis.CustomerID{noCountry.ID}, "", ""},
			{"BE international", customer.Query{Phone: fidelis.NewSecret("+32 470 12 34 56")}, []fidelis.CustomerID{be.ID}, "", ""},
			{"BE with 00 prefix", customer.Query{Phone: fidelis.NewSecret("0032470123456")}, []fidelis.CustomerID{be.ID}, "", ""},
			{"BE number written nationally reads as FR", customer.Query{Phone: fidelis.NewSecret("0470 12 34 56")}, none, "", ""},
			{"phone too short", customer.Query{Phone: fidelis.NewSecret("12 34")}, none, fidelis.EINVALID, "phone"},
			{"both email and phone", customer.Query{Email: fidelis.NewSecret("a@example.com"), Phone: fidelis.NewSecret("0612345678")}, none, fidelis.EINVALID, "email"},
			{"neither", customer.Query{}, none, fidelis.EINVALID, "email"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				got, err := a.Customers.Search(ctx, p, tt.q)
				checkCode(t, "Search", err, tt.code)
				if err != nil {
					if e := fidelis.AsError(err); len(e.Fields) == 0 || e.Fields[0].Field != tt.field {
						t.Errorf("Search error fields = %+v; want %s", e.Fields, tt.field)
					}
					return
				}
				if !slices.Equal(ids(got), tt.want) {
					t.Errorf("Search = %v; want %v", ids(got), tt.want)
				}
			})
		}
		// The index follows changes.
		if _, err := a.Customers.Update(ctx, p, fr.ID, set("email", "alice@new.example"), 0); err != nil {
			t.Fatalf("Update = %v", err)
		}
		if got, _ := a.Customers.Search(ctx, p, customer.Query{Email: fidelis.NewSecret("alice.martin@example.com")}); !slices.Equal(ids(got), []fidelis.CustomerID{twin.ID}) {
			t.Errorf("Search(old email) after update = %v; want %v", ids(got), []fidelis.CustomerID{twin.ID})
		}
		if got, _ := a.Customers.Search(ctx, p, customer.Query{Email: fidelis.NewSecret("ALICE@new.example")}); !slices.Equal(ids(got), []fidelis.CustomerID{fr.ID}) {
			t.Errorf("Search(new email) after update = %v; want %v", ids(got), []fidelis.CustomerID{fr.ID})
		}
		// Moving country re-reads the national number.
		if _, err := a.Customers.Update(ctx, p, be.ID, set("country", "FR"), 0); err != nil {
			t.Fatalf("Update = %v", err)
		}
		if got, _ := a.Customers.Search(ctx, p, customer.Query{Phone: fidelis.NewSecret("0470123456")}); !slices.Equal(ids(got), []fidelis.CustomerID{be.ID}) {
			t.Errorf("Search(national) after moving to FR = %v; want %v", ids(got), []fidelis.CustomerID{be.ID})
		}
		// A purpose without the e-mail field may not search by e-mail (P-2).
		_, err := a.Customers.Search(as("mkt", fidelis.RoleMarketing), fidelis.PurposeMarketingSMS, customer.Query{Email: fidelis.NewSecret("lotte@example.be")})
		checkReason(t, "Search(marketing_sms, email)", err, fidelis.EFORBIDDEN, "field_not_allowed")
		sms, err := a.Customers.Search(as("mkt", fidelis.RoleMarketing), fidelis.PurposeMarketingSMS, customer.Query{Phone: fidelis.NewSecret("+33612345678")})
		if err != nil || len(sms) != 1 || !slices.Equal(slices.Sorted(maps.Keys(sms[0].Values)), []fidelis.Field{"given_name", "phone"}) {
			t.Errorf("Search(marketing_sms, phone) = %v, %v; want Alice with given_name and phone only", sms, err)
		}
	})
}

func TestList_VisitsEveryCustomerOnce(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := newApp(t, b)
		ctx := as("support", fidelis.RoleSupport)
		const p = fidelis.PurposeCustomerService
		var want []fidelis.CustomerID
		for i := range 9 {
			want = append(want, mustCreate(t, a, ctx, p, set("given_name", fmt.Sprint("single-", i))).ID)
		}
		batch := make([]customer.Input, 14)
		for i := range batch {
			batch[i] = set("given_name", fmt.Sprint("batch-", i))
		}
		more, err := a.Customers.CreateMany(ctx, p, batch)
		if err != nil {
			t.Fatalf("CreateMany = %v", err)
		}
		want = append(want, more...)
		var got []fidelis.CustomerID
		pages := 0
		for cursor := ""; ; {
			page, err := a.Customers.List(ctx, p, cursor, 5)
			if err != nil {
				t.Fatalf("List(%q) = %v", cursor, err)
			}
			if pages++; len(page.Items) > 5 || pages > 10 {
				t.Fatalf("List page %d = %d items; want at most 5 and at most 5 pages", pages, len(page.Items))
			}
			for _, c := range page.Items {
				got = append(got, c.ID)
			}
			if page.Next == "" {
				break
			}
			cursor = page.Next
		}
		if !slices.IsSortedFunc(got, func(x, y fidelis.CustomerID) int { return strings.Compare(string(y), string(x)) }) {
			t.Errorf("List order = %v; want newest (highest ID) first", got)
		}
		// The nine single creates come newest first, before the batch created after them.
		singles := slices.Clone(want[:9])
		slices.Reverse(singles)
		if len(got) == len(want) && !slices.Equal(got[len(got)-9:], singles) {
			t.Errorf("last page items = %v; want the first creates, newest first %v", got[len(got)-9:], singles)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("List visited %d customers; want each of the %d exactly once", len(got), len(want))
		}
		if pages != 5 {
			t.Errorf("List pages = %d; want 5 for 23 customers by 5", pages)
		}
		_, err = a.Customers.List(ctx, p, "not-a-cursor", 5)
		if e := fidelis.AsError(err); e == nil || e.Code != fidelis.EINVALID || e.Fields[0].Rule != "invalid_cursor" {
			t.Errorf("List(bad cursor) = %v; want EINVALID invalid_cursor", err)
		}
		if page, err := a.Customers.List(ctx, p, "", 0); err != nil || len(page.Items) != 23 || page.Next != "" {
			t.Errorf("List(limit 0) = %d items, next %q, %v; want the default page size holding all 23", len(page.Items), page.Next, err)
		}
	})
}

func TestCreateMany_AllOrNothing(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := newApp(t, b)
		ctx := as("import", fidelis.RoleAdmin)
		const p = fidelis.PurposeCustomerService
		count := func() int {
			page, err := a.Customers.List(ctx, p, "", customer.MaxPageSize)
			if err != nil {
				t.Fatalf("List = %v", err)
			}
			return len(page.Items)
		}
		_, err := a.Customers.CreateMany(ctx, p, []customer.Input{
			set("given_name", "One", "email", "one@example.com"),
			set("given_name", "Two"),
			set("given_name", "Three", "email", "not-an-email"),
		})
		if e := fidelis.AsError(err); e == nil || e.Code != fidelis.EINVALID || len(e.Fields) != 1 || e.Fields[0].Field != "2.email" || e.Fields[0].Rule != "invalid_email" {
			t.Errorf("CreateMany(third invalid) = %v; want EINVALID on 2.email", err)
		}
		_, err = a.Customers.CreateMany(ctx, p, []customer.Input{set("given_name", "One"), set("city", "Paris")})
		if e := fidelis.AsError(err); e == nil || e.Code != fidelis.EINVALID || e.Fields[0].Field != "1.family_name" || e.Fields[0].Rule != "required" {
			t.Errorf("CreateMany(second unidentifiable) = %v; want EINVALID on 1.family_name required", err)
		}
		_, err = a.Customers.CreateMany(as("sales", fidelis.RoleSales), fidelis.PurposeSales, []customer.Input{set("given_name", "One"), set("given_name", "Two", "street", "1 rue X")})
		checkReason(t, "CreateMany(field not allowed)", err, fidelis.EFORBIDDEN, "field_not_allowed")
		if n := count(); n != 0 {
			t.Fatalf("customers after failed batches = %d; want 0", n)
		}
		if n := len(entries(t, a)); n != 1 {
			t.Errorf("audit entries after failed batches = %d; want 1 (the refusal)", n)
		}
		created, err := a.Customers.CreateMany(ctx, p, []customer.Input{set("given_name", "One", "email", "one@example.com"), set("given_name", "Two"), set("phone", "0611111111")})
		if err != nil || len(created) != 3 {
			t.Fatalf("CreateMany(valid) = %v, %v; want 3 IDs", created, err)
		}
		if n := count(); n != 3 {
			t.Errorf("customers after a valid batch = %d; want 3", n)
		}
		if got := mustGet(t, a, ctx, p, created[0]); got.Get(fidelis.FieldEmail).Reveal() != "one@example.com" {
			t.Errorf("Get(first of batch) email = %q; want one@example.com", got.Get(fidelis.FieldEmail).Reveal())
		}
	})
}

func TestErase_R8(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := newApp(t, b)
		support := as("support", fidelis.RoleSupport)
		dpo := as("dpo", fidelis.RoleDPO)
		const cs = fidelis.PurposeCustomerService
		c := mustCreate(t, a, support, cs, aliceInput())
		other := mustCreate(t, a, support, cs, set("given_name", "Bob", "email", "bob@example.com"))
		if _, err := a.Customers.Update(support, cs, c.ID, set("city", "Lyon"), 1); err != nil {
			t.Fatalf("Update = %v", err)
		}
		mustGet(t, a, support, cs, c.ID)

		r, err := a.Customers.Erase(dpo, fidelis.PurposeDataProtection, c.ID)
		if err != nil {
			t.Fatalf("Erase = %v", err)
		}
		if r.CustomerID != c.ID || r.DataKey != "destroyed" || r.Fields != 11 || r.HistoryRows != 1 || r.BlindIndexes != 2 ||
			r.Actor != "system:dpo" || r.Purpose != fidelis.PurposeDataProtection || !fidelis.ValidID("era", r.ID) || r.ErasedAt.IsZero() {
			t.Errorf("Erase receipt = %+v; want 11 fields, 1 history row, 2 blind indexes, key destroyed", r)
		}

		_, err = a.Customers.Get(support, cs, c.ID)
		checkCode(t, "Get(erased)", err, fidelis.ENOTFOUND)
		_, err = a.Customers.History(support, cs, c.ID)
		checkCode(t, "History(erased)", err, fidelis.ENOTFOUND)
		_, err = a.Customers.Update(support, cs, c.ID, set("city", "Nice"), 0)
		checkCode(t, "Update(erased)", err, fidelis.ENOTFOUND)
		_, err = a.Customers.Export(dpo, fidelis.PurposeDataProtection, c.ID)
		checkCode(t, "Export(erased)", err, fidelis.ENOTFOUND)
		_, err = a.Customers.Erase(dpo, fidelis.PurposeDataProtection, c.ID)
		checkCode(t, "Erase(twice)", err, fidelis.ENOTFOUND)
		for _, q := range []customer.Query{{Email: fidelis.NewSecret("alice.martin@example.com")}, {Phone: fidelis.NewSecret("06 12 34 56 78")}} {
			if got, err := a.Customers.Search(support, cs, q); err != nil || len(got) != 0 {
				t.Errorf("Search(erased) = %d, %v; want nothing", len(got), err)
			}
		}
		page, err := a.Customers.List(support, cs, "", 10)
		if err != nil || len(page.Items) != 1 || page.Items[0].ID != other.ID {
			t.Errorf("List after erase = %v, %v; want only %s", page, err, other.ID)
		}
		if got := mustGet(t, a, support, cs, other.ID); got.Get(fidelis.FieldEmail).Reveal() != "bob@example.com" {
			t.Errorf("other customer after erase = %v; want intact", got.Values)
		}

		// The access log of the erased customer is still there: it holds only the ID.
		for _, tt := range []struct {
			ctx context.Context
			p   fidelis.Purpose
		}{{dpo, fidelis.PurposeDataProtection}, {as("auditor", fidelis.RoleAuditor), fidelis.PurposeAudit}} {
			log, err := a.Customers.AccessLog(tt.ctx, tt.p, c.ID, 0, 50)
			if err != nil {
				t.Fatalf("AccessLog(%s, erased) = %v", tt.p, err)
			}
			var actions []string
			for _, e := range log.Items {
				actions = append(actions, e.Action)
			}
			for _, want := range []string{customer.ActCreate, customer.ActUpdate, customer.ActRead, customer.ActErase} {
				if !slices.Contains(actions, want) {
					t.Errorf("AccessLog(%s, erased) actions = %v; want %s among them", tt.p, actions, want)
				}
			}
			if actions[0] != customer.ActErase && actions[0] != customer.ActAccessLog {
				t.Errorf("AccessLog newest = %s; want the erasure or a later access-log read", actions[0])
			}
		}
	})
}

func TestAccessLog_Paging(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := newApp(t, b)
		ctx := as("support", fidelis.RoleSupport)
		c := mustCreate(t, a, ctx, fidelis.PurposeCustomerService, aliceInput())
		for range 6 {
			mustGet(t, a, ctx, fidelis.PurposeCustomerService, c.ID)
		}
		// 1 create + 6 reads; every page read below adds one access_log entry, newer
		// than the cursor, so the walk is stable.
		dpo := as("dpo", fidelis.RoleDPO)
		var all []int64
		for cursor := int64(0); ; {
			page, err := a.Customers.AccessLog(dpo, fidelis.PurposeDataProtection, c.ID, cursor, 3)
			if err != nil {
				t.Fatalf("AccessLog(%d) = %v", cursor, err)
			}
			for _, e := range page.Items {
				all = append(all, e.ID)
			}
			if page.Next == "" {
				break
			}
			if _, err := fmt.Sscan(page.Next, &cursor); err != nil {
				t.Fatalf("AccessLog Next = %q; want a number", page.Next)
			}
		}
		if len(all) != 7 || !slices.IsSortedFunc(all, func(x, y int64) int { return int(y - x) }) {
			t.Errorf("AccessLog walk = %v; want the 7 entries newest first, each once", all)
		}
	})
}

func TestExport_R6(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := newApp(t, b)
		support := as("support", fidelis.RoleSupport)
		c := mustCreate(t, a, support, fidelis.PurposeCustomerService, aliceInput())
		fidelistest.MustConsent(t, a, c.ID, fidelis.PurposeMarketingEmail, fidelis.PurposeMarketingSMS)
		if _, err := a.Customers.Update(support, fidelis.PurposeCustomerService, c.ID, set("city", "Lyon"), 0); err != nil {
			t.Fatalf("Update = %v", err)
		}
		if _, err := a.Customers.Update(support, fidelis.PurposeCustomerService, c.ID, set("phone", "07 00 00 00 01"), 0); err != nil {
			t.Fatalf("Update = %v", err)
		}
		mustGet(t, a, as("mkt", fidelis.RoleMarketing), fidelis.PurposeMarketingSMS, c.ID)
		_, _ = a.Customers.Get(as("intruder", fidelis.RoleSupport), fidelis.PurposeMarketingEmail, c.ID) // refused, logged

		ex, err := a.Customers.Export(as("dpo", fidelis.RoleDPO), fidelis.PurposeDataProtection, c.ID)
		if err != nil {
			t.Fatalf("Export = %v", err)
		}
		want := reveal(aliceInput().Set)
		want["city"], want["phone"] = "Lyon", "07 00 00 00 01"
		if g := reveal(ex.Customer.Values); !maps.Equal(g, want) {
			t.Errorf("Export.Customer.Values = %v; want every field %v", g, want)
		}
		if g := revealAttrs(ex.Customer.Attributes); !maps.Equal(g, revealAttrs(aliceInput().Attributes)) {
			t.Errorf("Export.Customer.Attributes = %v; want %v", g, revealAttrs(aliceInput().Attributes))
		}
		if len(ex.History) != 2 || ex.History[0].Previous[fidelis.FieldCity].Reveal() != "Paris" || ex.History[1].Previous[fidelis.FieldPhone].Reveal() != "06 12 34 56 78" {
			t.Errorf("Export.History = %+v; want the two changes with previous values", ex.History)
		}
		type seen struct {
			action, actor string
			p             fidelis.Purpose
			o             audit.Outcome
		}
		var log []seen
		for _, e := range ex.AccessLog {
			if e.Subject != string(c.ID) {
				t.Errorf("Export.AccessLog holds an entry about %q; want only %s", e.Subject, c.ID)
			}
			log = append(log, seen{e.Action, e.Actor, e.Purpose, e.Outcome})
		}
		for _, w := range []seen{
			{customer.ActCreate, "system:support", fidelis.PurposeCustomerService, audit.OutcomeOK},
			{customer.ActUpdate, "system:support", fidelis.PurposeCustomerService, audit.OutcomeOK},
			{customer.ActRead, "system:mkt", fidelis.PurposeMarketingSMS, audit.OutcomeOK},
			{customer.ActRead, "system:intruder", fidelis.PurposeMarketingEmail, audit.OutcomeDenied},
		} {
			if !slices.Contains(log, w) {
				t.Errorf("Export.AccessLog = %v; want it to contain %v", log, w)
			}
		}
		if len(ex.Processing) != len(a.Registry.Purposes()) {
			t.Errorf("Export.Processing = %d purposes; want %d", len(ex.Processing), len(a.Registry.Purposes()))
		}
		for _, p := range ex.Processing {
			if !p.LawfulBasis.Valid() || p.Retention.EN == "" || p.Retention.FR == "" {
				t.Errorf("Export.Processing %s = basis %q, retention %+v; want a basis and a retention", p.Name, p.LawfulBasis, p.Retention)
			}
		}
		if !ex.KeyCreated.Equal(c.CreatedAt) || ex.GeneratedAt.Before(c.CreatedAt) {
			t.Errorf("Export times = key %v, generated %v; want key created at %v and generated after", ex.KeyCreated, ex.GeneratedAt, c.CreatedAt)
		}
		// The export itself is audited.
		var exports int
		for _, e := range entries(t, a) {
			if e.Action == customer.ActExport && e.Subject == string(c.ID) && e.Actor == "system:dpo" && e.Outcome == audit.OutcomeOK {
				exports++
			}
		}
		if exports != 1 {
			t.Errorf("export audit entries = %d; want 1", exports)
		}
	})
}

// canaries are personal values that must never appear outside ciphertext (D-5).
func canaries() map[fidelis.Field]string {
	return map[fidelis.Field]string{
		"given_name": "Zephyrine-Canari", "family_name": "Quenouille-Canari", "email": "zephyrine.canari@example.org",
		"phone": "06 99 88 77 66", "birth_date": "1977-11-23", "street": "17 rue du Canari Secret", "postal_code": "CP-CANARI-42",
		"city": "Canariville-sur-Test", "country": "LU", "locale": "en",
	}
}

func TestReads_AuditFieldNamesNeverValues_D5(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := newApp(t, b)
		in := customer.Input{Set: map[fidelis.Field]fidelis.Secret{}, Attributes: attrs("secret_word", "canari-attribut-confidentiel")}
		for f, v := range canaries() {
			in.Set[f] = fidelis.NewSecret(v)
		}
		support, dpo, mkt := as("support", fidelis.RoleSupport), as("dpo", fidelis.RoleDPO), as("mkt", fidelis.RoleMarketing)
		c := mustCreate(t, a, support, fidelis.PurposeCustomerService, in)
		fidelistest.MustConsent(t, a, c.ID, fidelis.PurposeMarketingEmail, fidelis.PurposeMarketingSMS)
		for _, r := range []struct {
			ctx context.Context
			p   fidelis.Purpose
		}{{support, fidelis.PurposeCustomerService}, {mkt, fidelis.PurposeMarketingSMS}, {mkt, fidelis.PurposeAnalytics}, {dpo, fidelis.PurposeLegalClaims}} {
			mustGet(t, a, r.ctx, r.p, c.ID)
		}
		if _, err := a.Customers.Search(support, fidelis.PurposeCustomerService, customer.Query{Email: fidelis.NewSecret("zephyrine.canari@example.org")}); err != nil {
			t.Fatalf("Search = %v", err)
		}
		if _, err := a.Customers.Search(mkt, fidelis.PurposeMarketingSMS, customer.Query{Phone: fidelis.NewSecret("+352 6 99 88 77 66")}); err != nil {
			t.Fatalf("Search = %v", err)
		}
		if _, err := a.Customers.List(support, fidelis.PurposeCustomerService, "", 10); err != nil {
			t.Fatalf("List = %v", err)
		}
		if _, err := a.Customers.Update(support, fidelis.PurposeCustomerService, c.ID, set("city", "Canariville-la-Neuve"), 0); err != nil {
			t.Fatalf("Update = %v", err)
		}
		if _, err := a.Customers.History(support, fidelis.PurposeCustomerService, c.ID); err != nil {
			t.Fatalf("History = %v", err)
		}
		if _, err := a.Customers.Export(dpo, fidelis.PurposeDataProtection, c.ID); err != nil {
			t.Fatalf("Export = %v", err)
		}
		// Refused reads and writes carrying values are audited too, without them.
		_, _ = a.Customers.Create(as("sales", fidelis.RoleSales), fidelis.PurposeSales, set("given_name", "Zephyrine-Canari", "street", "17 rue du Canari Secret"))
		_, _ = a.Customers.Search(mkt, fidelis.PurposeMarketingSMS, customer.Query{Email: fidelis.NewSecret("zephyrine.canari@example.org")})

		needles := []string{"canari-attribut-confidentiel", "Canariville-la-Neuve", "0699887766", "+352699887766", "699887766"}
		for _, v := range canaries() {
			if len(v) > 3 {
				needles = append(needles, v, strings.ToLower(v))
			}
		}
		all := entries(t, a)
		reads := 0
		for _, e := range all {
			text := strings.Join([]string{e.UID, e.Actor, e.Action, e.Subject, string(e.Purpose), fmt.Sprint(e.Fields), string(e.Outcome), e.Reason, e.RequestID}, "\x00")
			for _, n := range needles {
				if strings.Contains(text, n) {
					t.Errorf("audit entry %d (%s) holds the personal value %q; want field names only", e.ID, e.Action, n)
				}
			}
			for _, f := range e.Fields {
				if !slices.Contains(fidelis.CustomerFields(), f) {
					t.Errorf("audit entry %d names field %q; want customer field names only", e.ID, f)
				}
			}
			if e.Action == customer.ActRead && e.Outcome == audit.OutcomeOK {
				reads++
				if e.Subject == string(c.ID) && len(e.Fields) == 0 {
					t.Errorf("read entry %d names no field; want the disclosed field names", e.ID)
				}
			}
		}
		if reads != 7 {
			t.Errorf("successful read entries = %d; want 7, one per customer read (4 gets, 2 searches, 1 list)", reads)
		}
		// On SQLite the database file, its WAL and the application log are plain files.
		if a.DB.Path() != "" {
			if err := a.DB.Checkpoint(context.Background()); err != nil {
				t.Fatalf("Checkpoint = %v", err)
			}
			for _, p := range []string{a.DB.Path(), a.DB.Path() + "-wal", a.Config.DataDir + "/fidelis.log"} {
				raw, err := os.ReadFile(p)
				if err != nil {
					continue
				}
				for _, n := range needles {
					if bytes.Contains(raw, []byte(n)) {
						t.Errorf("%s holds the personal value %q in plaintext (D-5)", p, n)
					}
				}
			}
		}
	})
}

// model is the expected state of one customer for the property test.
type model struct {
	values  map[fidelis.Field]string
	attrs   map[string]string
	version int
}

func (m model) identifiable() bool {
	for _, f := range []fidelis.Field{"given_name", "family_name", "email", "phone"} {
		if m.values[f] != "" {
			return true
		}
	}
	return false
}

func canonical(f fidelis.Field, v string) string {
	v = strings.TrimSpace(v)
	switch f {
	case fidelis.FieldCountry:
		return strings.ToUpper(v)
	case fidelis.FieldLocale:
		return strings.ToLower(v)
	}
	return v
}

// TestUpdate_MatchesModel drives one customer through random updates (sets, clears,
// attribute replacements, stale versions) and checks after each step that what the
// service returns and stores equals a plain map model, and that the version moves by one
// exactly when something really changed.
func TestUpdate_MatchesModel(t *testing.T) {
	pool := map[fidelis.Field][]string{
		"given_name":  {"Alice", " Alice ", "Bob", " "},
		"family_name": {"Martin", "Durand"},
		"email":       {"a@example.com", "B@Example.org"},
		"phone":       {"06 12 34 56 78", "+32 470 12 34 56"},
		"city":        {"Paris", "Lyon", ""},
		"country":     {"FR", "be"},
		"locale":      {"fr", "EN"},
		"birth_date":  {"1990-01-02"},
	}
	fields := slices.Sorted(maps.Keys(pool))
	clearable := append(slices.Clone(fields), fidelis.FieldAttributes)
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := newApp(t, b)
		ctx := as("model", fidelis.RoleSupport)
		const p = fidelis.PurposeCustomerService
		rapid.Check(t, func(rt *rapid.T) {
			c, err := a.Customers.Create(ctx, p, set("given_name", "Alice"))
			if err != nil {
				rt.Fatalf("Create = %v", err)
			}
			m := model{values: map[fidelis.Field]string{"given_name": "Alice"}, attrs: map[string]string{}, version: 1}
			steps := rapid.IntRange(1, 8).Draw(rt, "steps")
			for i := range steps {
				in := customer.Input{Set: map[fidelis.Field]fidelis.Secret{}}
				next := model{values: maps.Clone(m.values), attrs: maps.Clone(m.attrs), version: m.version}
				for range rapid.IntRange(0, 3).Draw(rt, "sets") {
					f := rapid.SampledFrom(fields).Draw(rt, "set field")
					v := rapid.SampledFrom(pool[f]).Draw(rt, "value")
					in.Set[f] = fidelis.NewSecret(v)
				}
				for f, v := range in.Set {
					if canonical(f, v.Reveal()) == "" {
						delete(next.values, f)
					} else {
						next.values[f] = canonical(f, v.Reveal())
					}
				}
				for range rapid.IntRange(0, 2).Draw(rt, "clears") {
					// Setting and clearing one field at once is left out: see
					// TestUpdate_SetAndClearSameField_History.
					f := rapid.SampledFrom(clearable).Filter(func(f fidelis.Field) bool { _, ok := in.Set[f]; return !ok }).Draw(rt, "clear field")
					in.Clear = append(in.Clear, f)
					if f == fidelis.FieldAttributes {
						next.attrs = map[string]string{}
					}
					delete(next.values, f)
				}
				if !slices.Contains(in.Clear, fidelis.FieldAttributes) && rapid.Bool().Draw(rt, "replace attributes") {
					in.Attributes = map[string]fidelis.Secret{}
					next.attrs = map[string]string{}
					for _, k := range []string{"tier", "club"} {
						if v := rapid.SampledFrom([]string{"", "gold", "silver", " "}).Draw(rt, k); v != "" {
							in.Attributes[k] = fidelis.NewSecret(v)
							if strings.TrimSpace(v) != "" {
								next.attrs[k] = strings.TrimSpace(v)
							}
						}
					}
				}
				expect := 0
				stale := rapid.IntRange(0, 9).Draw(rt, "stale") == 0
				switch {
				case stale:
					expect = m.version + 1
				case rapid.Bool().Draw(rt, "expect version"):
					expect = m.version
				}
				changed := !maps.Equal(next.values, m.values) || !maps.Equal(next.attrs, m.attrs)
				var wantCode fidelis.Code
				switch {
				case stale:
					wantCode = fidelis.EPRECONDITION
				case changed && !next.identifiable():
					wantCode = fidelis.EINVALID
				case changed:
					next.version++
					m = next
				}
				got, err := a.Customers.Update(ctx, p, c.ID, in, expect)
				if code := fidelis.ErrorCode(err); code != wantCode {
					rt.Fatalf("step %d: Update(set %v, clear %v, attrs %v, expect %d) = %v; want code %q",
						i, reveal(in.Set), in.Clear, in.Attributes != nil, expect, err, wantCode)
				}
				if err == nil {
					checkModel(rt, fmt.Sprintf("step %d: Update", i), got, m)
				}
				checkModel(rt, fmt.Sprintf("step %d: Get", i), mustGetR(rt, a, ctx, p, c.ID), m)
			}
		})
	})
}

func mustGetR(rt *rapid.T, a *app.App, ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID) *customer.Customer {
	c, err := a.Customers.Get(ctx, p, id)
	if err != nil {
		rt.Fatalf("Get = %v", err)
	}
	return c
}

func checkModel(rt *rapid.T, what string, got *customer.Customer, m model) {
	if g := reveal(got.Values); !maps.Equal(g, m.values) {
		rt.Fatalf("%s values = %v; want %v", what, g, m.values)
	}
	if g := revealAttrs(got.Attributes); !maps.Equal(g, m.attrs) {
		rt.Fatalf("%s attributes = %v; want %v", what, g, m.attrs)
	}
	if got.Version != m.version {
		rt.Fatalf("%s version = %d; want %d", what, got.Version, m.version)
	}
}
