package privacy_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/privacy"
)

func TestDefaultRegistry_Valid(t *testing.T) {
	reg, err := privacy.NewRegistry(privacy.DefaultPurposes(), privacy.DefaultGrants())
	if err != nil {
		t.Fatalf("NewRegistry(defaults) = %v; want nil", err)
	}
	if got := len(reg.Purposes()); got != 10 {
		t.Errorf("len(Purposes()) = %d; want 10", got)
	}
	for _, p := range reg.Purposes() {
		if p.Description.FR == "" || p.Description.EN == "" || p.Retention.FR == "" || p.Retention.EN == "" {
			t.Errorf("purpose %s: description %+v, retention %+v; want both in French and English (P-2)", p.Name, p.Description, p.Retention)
		}
		if len(p.Actions) == 0 {
			t.Errorf("purpose %s covers no action", p.Name)
		}
		if (p.Covers(fidelis.ActionCreate) || p.Covers(fidelis.ActionUpdate)) && len(p.Fields) == 0 {
			t.Errorf("purpose %s writes but declares no field", p.Name)
		}
	}
	for _, r := range []fidelis.Role{fidelis.RoleAdmin, fidelis.RoleDPO, fidelis.RoleSales, fidelis.RoleMarketing, fidelis.RoleSupport, fidelis.RoleLoyaltyManager, fidelis.RoleAuditor} {
		if !reg.ValidRole(r) {
			t.Errorf("ValidRole(%s) = false; want every default role granted", r)
		}
	}
	// DefaultRegistry builds the same registry (and does not panic).
	def := privacy.DefaultRegistry()
	if got, want := names(def.Purposes()), names(reg.Purposes()); !slices.Equal(got, want) {
		t.Errorf("DefaultRegistry purposes = %v; want %v", got, want)
	}
}

func names(ps []*privacy.Purpose) []fidelis.Purpose {
	var out []fidelis.Purpose
	for _, p := range ps {
		out = append(out, p.Name)
	}
	return out
}

func TestRegistry_OneLawfulBasis_P3(t *testing.T) {
	want := map[fidelis.Purpose]fidelis.LawfulBasis{
		fidelis.PurposeCustomerService: fidelis.BasisContract,
		fidelis.PurposeSales:           fidelis.BasisLegitimateInterest,
		fidelis.PurposeLoyalty:         fidelis.BasisContract,
		fidelis.PurposeMarketingEmail:  fidelis.BasisConsent,
		fidelis.PurposeMarketingSMS:    fidelis.BasisConsent,
		fidelis.PurposeAnalytics:       fidelis.BasisLegitimateInterest,
		fidelis.PurposeAccounting:      fidelis.BasisLegalObligation,
		fidelis.PurposeLegalClaims:     fidelis.BasisLegitimateInterest,
		fidelis.PurposeDataProtection:  fidelis.BasisLegalObligation,
		fidelis.PurposeAudit:           fidelis.BasisLegalObligation,
	}
	reg := privacy.DefaultRegistry()
	for _, p := range reg.Purposes() {
		t.Run(string(p.Name), func(t *testing.T) {
			if !p.LawfulBasis.Valid() {
				t.Errorf("purpose %s lawful basis %q; want one of the four valid bases", p.Name, p.LawfulBasis)
			}
			if p.LawfulBasis != want[p.Name] {
				t.Errorf("purpose %s lawful basis = %q; want %q", p.Name, p.LawfulBasis, want[p.Name])
			}
		})
	}
	// A purpose has a single basis by construction: a stored declaration with two does not
	// even decode.
	var p privacy.Purpose
	if err := json.Unmarshal([]byte(`{"name":"x","lawful_basis":["consent","legitimate_interest"]}`), &p); err == nil {
		t.Errorf("decoding a purpose with two lawful bases = %q; want an error", p.LawfulBasis)
	}
	// No basis, or one Fidelis does not support, is refused.
	for _, b := range []fidelis.LawfulBasis{"", "vital_interest", "public_task", "Consent", "consent,contract"} {
		t.Run("basis "+string(b), func(t *testing.T) {
			if b.Valid() {
				t.Errorf("LawfulBasis(%q).Valid() = true; want false", b)
			}
			_, err := privacy.NewRegistry([]privacy.Purpose{{Name: "x", LawfulBasis: b, Actions: []fidelis.Action{fidelis.ActionRead}}}, nil)
			if err == nil {
				t.Errorf("NewRegistry(purpose with basis %q) = nil error; want a refusal", b)
			}
		})
	}
}

func TestNewRegistry_Rejects(t *testing.T) {
	ok := privacy.Purpose{Name: "shop", LawfulBasis: fidelis.BasisContract, Fields: []fidelis.Field{fidelis.FieldEmail}, Actions: []fidelis.Action{fidelis.ActionRead}}
	with := func(f func(p *privacy.Purpose)) privacy.Purpose {
		p := ok
		f(&p)
		return p
	}
	for _, tt := range []struct {
		name     string
		purposes []privacy.Purpose
		grants   []privacy.RoleGrant
		msg      string
	}{
		{"duplicate purpose", []privacy.Purpose{ok, ok}, nil, "declared twice"},
		{"purpose without a name", []privacy.Purpose{with(func(p *privacy.Purpose) { p.Name = "" })}, nil, "no name"},
		{"unknown field", []privacy.Purpose{with(func(p *privacy.Purpose) { p.Fields = []fidelis.Field{fidelis.FieldEmail, "shoe_size"} })}, nil, "unknown field"},
		{"invalid basis", []privacy.Purpose{with(func(p *privacy.Purpose) { p.LawfulBasis = "vital_interest" })}, nil, "lawful basis"},
		{"missing basis", []privacy.Purpose{with(func(p *privacy.Purpose) { p.LawfulBasis = "" })}, nil, "lawful basis"},
		{"grant of an undeclared purpose", []privacy.Purpose{ok}, []privacy.RoleGrant{{Role: "clerk", Purposes: []fidelis.Purpose{"shop", "marketing_fax"}}}, "undeclared purpose"},
		{"grant of a purpose declared elsewhere only", []privacy.Purpose{ok}, []privacy.RoleGrant{{Role: "clerk", Purposes: []fidelis.Purpose{fidelis.PurposeSales}}}, "undeclared purpose"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			reg, err := privacy.NewRegistry(tt.purposes, tt.grants)
			if err == nil || reg != nil {
				t.Fatalf("NewRegistry(%s) = %v, %v; want nil and an error", tt.name, reg, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("NewRegistry(%s) error = %q; want it to mention %q", tt.name, err, tt.msg)
			}
		})
	}
	if _, err := privacy.NewRegistry([]privacy.Purpose{ok}, []privacy.RoleGrant{{Role: "clerk", Purposes: []fidelis.Purpose{"shop"}}}); err != nil {
		t.Errorf("NewRegistry(valid) = %v; want nil", err)
	}
	if _, err := privacy.NewRegistry(nil, nil); err != nil {
		t.Errorf("NewRegistry(empty) = %v; want nil (an empty registry refuses everything)", err)
	}
}

func TestAuthorize_P1(t *testing.T) {
	reg := privacy.DefaultRegistry()
	user := func(r fidelis.Role) fidelis.Actor {
		return fidelis.Actor{Kind: fidelis.ActorUser, ID: "usr_x", Role: r}
	}
	for _, tt := range []struct {
		name   string
		role   fidelis.Role
		p      fidelis.Purpose
		a      fidelis.Action
		reason string
	}{
		{"missing purpose", fidelis.RoleAdmin, "", fidelis.ActionRead, "purpose_missing"},
		{"missing purpose and unknown role", "intern", "", fidelis.ActionRead, "purpose_missing"},
		{"unknown purpose", fidelis.RoleAdmin, "marketing_fax", fidelis.ActionRead, "purpose_unknown"},
		{"purpose in upper case", fidelis.RoleAdmin, "CUSTOMER_SERVICE", fidelis.ActionRead, "purpose_unknown"},
		{"unknown role", "intern", fidelis.PurposeCustomerService, fidelis.ActionRead, "role_unknown"},
		{"empty role", "", fidelis.PurposeCustomerService, fidelis.ActionRead, "role_unknown"},
		{"support not granted marketing", fidelis.RoleSupport, fidelis.PurposeMarketingEmail, fidelis.ActionRead, "purpose_not_granted"},
		{"marketing not granted customer service", fidelis.RoleMarketing, fidelis.PurposeCustomerService, fidelis.ActionRead, "purpose_not_granted"},
		{"admin not granted legal claims", fidelis.RoleAdmin, fidelis.PurposeLegalClaims, fidelis.ActionExport, "purpose_not_granted"},
		{"nobody holds accounting yet", fidelis.RoleAdmin, fidelis.PurposeAccounting, fidelis.ActionRead, "purpose_not_granted"},
		{"marketing email covers no create", fidelis.RoleMarketing, fidelis.PurposeMarketingEmail, fidelis.ActionCreate, "action_not_covered"},
		{"customer service covers no erase", fidelis.RoleAdmin, fidelis.PurposeCustomerService, fidelis.ActionErase, "action_not_covered"},
		{"customer service covers no export", fidelis.RoleDPO, fidelis.PurposeCustomerService, fidelis.ActionExport, "action_not_covered"},
		{"audit covers no read", fidelis.RoleAuditor, fidelis.PurposeAudit, fidelis.ActionRead, "action_not_covered"},
		{"legal claims covers no erase", fidelis.RoleDPO, fidelis.PurposeLegalClaims, fidelis.ActionErase, "action_not_covered"},
		{"dpo may not create", fidelis.RoleDPO, fidelis.PurposeCustomerService, fidelis.ActionCreate, "action_not_permitted"},
		{"admin action is no personal-data action", fidelis.RoleAdmin, fidelis.PurposeCustomerService, fidelis.ActionManageUsers, "action_not_covered"},
		{"support reads", fidelis.RoleSupport, fidelis.PurposeCustomerService, fidelis.ActionRead, ""},
		{"support creates", fidelis.RoleSupport, fidelis.PurposeCustomerService, fidelis.ActionCreate, ""},
		{"sales updates under sales", fidelis.RoleSales, fidelis.PurposeSales, fidelis.ActionUpdate, ""},
		{"marketing reads for SMS", fidelis.RoleMarketing, fidelis.PurposeMarketingSMS, fidelis.ActionRead, ""},
		{"dpo erases", fidelis.RoleDPO, fidelis.PurposeDataProtection, fidelis.ActionErase, ""},
		{"dpo exports for legal claims", fidelis.RoleDPO, fidelis.PurposeLegalClaims, fidelis.ActionExport, ""},
		{"admin erases", fidelis.RoleAdmin, fidelis.PurposeDataProtection, fidelis.ActionErase, ""},
		{"auditor reads the access log", fidelis.RoleAuditor, fidelis.PurposeAudit, fidelis.ActionAccessLog, ""},
		{"loyalty manager creates", fidelis.RoleLoyaltyManager, fidelis.PurposeLoyalty, fidelis.ActionCreate, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			decl, err := reg.Authorize(user(tt.role), tt.p, tt.a)
			if tt.reason != "" {
				e := fidelis.AsError(err)
				if e == nil || e.Code != fidelis.EFORBIDDEN || e.Reason != tt.reason || decl != nil {
					t.Fatalf("Authorize(%s, %q, %s) = %v, %v; want EFORBIDDEN %s", tt.role, tt.p, tt.a, decl, err, tt.reason)
				}
				if e.Message == "" {
					t.Errorf("Authorize(%s, %q, %s) refusal has no message", tt.role, tt.p, tt.a)
				}
				if tt.reason == "purpose_unknown" && strings.Contains(e.Message, string(tt.p)) {
					t.Errorf("Authorize(%q) message %q repeats the caller's purpose text; want it not to (D-5)", tt.p, e.Message)
				}
				return
			}
			if err != nil {
				t.Fatalf("Authorize(%s, %s, %s) = %v; want allowed", tt.role, tt.p, tt.a, err)
			}
			want, _ := reg.Purpose(tt.p)
			if decl == nil || decl.Name != tt.p || decl != want {
				t.Errorf("Authorize(%s, %s, %s) = %+v; want the declaration of %s", tt.role, tt.p, tt.a, decl, tt.p)
			}
		})
	}
	// The actor kind does not matter: a token with a role is held to the same rules.
	tok := fidelis.Actor{Kind: fidelis.ActorToken, ID: "tok_x", Role: fidelis.RoleSupport}
	if _, err := reg.Authorize(tok, fidelis.PurposeMarketingSMS, fidelis.ActionRead); fidelis.AsError(err) == nil || fidelis.AsError(err).Reason != "purpose_not_granted" {
		t.Errorf("Authorize(token support, marketing_sms) = %v; want purpose_not_granted", err)
	}
}

func TestRegistry_Lookups(t *testing.T) {
	reg := privacy.DefaultRegistry()
	if _, err := reg.Purpose("marketing_fax"); fidelis.ErrorCode(err) != fidelis.ENOTFOUND {
		t.Errorf("Purpose(unknown) = %v; want ENOTFOUND", err)
	}
	p, err := reg.Purpose(fidelis.PurposeMarketingSMS)
	if err != nil {
		t.Fatalf("Purpose(marketing_sms) = %v", err)
	}
	for _, tt := range []struct {
		f    fidelis.Field
		want bool
	}{{fidelis.FieldPhone, true}, {fidelis.FieldGivenName, true}, {fidelis.FieldEmail, false}, {fidelis.FieldBirthDate, false}, {fidelis.FieldAttributes, false}} {
		if got := p.Allows(tt.f); got != tt.want {
			t.Errorf("marketing_sms.Allows(%s) = %v; want %v", tt.f, got, tt.want)
		}
	}
	if got, want := names(reg.Purposes()), []fidelis.Purpose{
		fidelis.PurposeCustomerService, fidelis.PurposeSales, fidelis.PurposeLoyalty, fidelis.PurposeMarketingEmail, fidelis.PurposeMarketingSMS,
		fidelis.PurposeAnalytics, fidelis.PurposeAccounting, fidelis.PurposeLegalClaims, fidelis.PurposeDataProtection, fidelis.PurposeAudit,
	}; !slices.Equal(got, want) {
		t.Errorf("Purposes() = %v; want declaration order %v", got, want)
	}
	var roles []fidelis.Role
	for _, g := range reg.Roles() {
		roles = append(roles, g.Role)
	}
	if !slices.IsSorted(roles) || len(roles) != 8 {
		t.Errorf("Roles() = %v; want the 8 roles sorted", roles)
	}
	if got := names(reg.PurposesOf(fidelis.RoleMarketing)); !slices.Equal(got, []fidelis.Purpose{fidelis.PurposeMarketingEmail, fidelis.PurposeMarketingSMS, fidelis.PurposeAnalytics}) {
		t.Errorf("PurposesOf(marketing) = %v; want marketing_email, marketing_sms, analytics", got)
	}
	if got := reg.PurposesOf("intern"); got != nil {
		t.Errorf("PurposesOf(unknown) = %v; want nil", got)
	}
	for _, tt := range []struct {
		role fidelis.Role
		a    fidelis.Action
		want bool
	}{
		{fidelis.RoleAdmin, fidelis.ActionManageUsers, true},
		{fidelis.RoleAdmin, fidelis.ActionManageTokens, true},
		{fidelis.RoleAuditor, fidelis.ActionVerifyAudit, true},
		{fidelis.RoleDPO, fidelis.ActionManageUsers, false},
		{fidelis.RoleSupport, fidelis.ActionVerifyAudit, false},
		{"intern", fidelis.ActionRead, false},
	} {
		if got := reg.Can(tt.role, tt.a); got != tt.want {
			t.Errorf("Can(%s, %s) = %v; want %v", tt.role, tt.a, got, tt.want)
		}
	}
}

// TestNewRegistry_ImmutableOnceBuilt: the registry is documented as immutable once built
// and validated; a caller reusing its input slices must not change what it authorises.
func TestNewRegistry_ImmutableOnceBuilt(t *testing.T) {
	ps, gs := privacy.DefaultPurposes(), privacy.DefaultGrants()
	reg, err := privacy.NewRegistry(ps, gs)
	if err != nil {
		t.Fatal(err)
	}
	for i := range gs {
		if gs[i].Role == fidelis.RoleSupport {
			gs[i].Purposes[0] = fidelis.PurposeMarketingEmail
		}
	}
	ps[0].Fields[0] = "shoe_size"
	support := fidelis.Actor{Kind: fidelis.ActorUser, ID: "usr_x", Role: fidelis.RoleSupport}
	if _, err := reg.Authorize(support, fidelis.PurposeMarketingEmail, fidelis.ActionRead); err == nil {
		t.Errorf("Authorize(support, marketing_email) after the caller edited its grants = allowed; want purpose_not_granted")
	}
	if cs, _ := reg.Purpose(fidelis.PurposeCustomerService); !cs.Allows(fidelis.FieldGivenName) {
		t.Errorf("customer_service.Allows(given_name) after the caller edited its slice = false; want true")
	}
}

// TestDefaults_LeastData_D1 checks privacy by default in the seeded registry: purposes
// based on consent or legitimate interest use only the fields their job needs, and no
// role but the DPO's and the administrator's may erase or export.
func TestDefaults_LeastData_D1(t *testing.T) {
	reg := privacy.DefaultRegistry()
	never := map[fidelis.Purpose][]fidelis.Field{
		fidelis.PurposeMarketingEmail: {fidelis.FieldPhone, fidelis.FieldBirthDate, fidelis.FieldStreet, fidelis.FieldPostalCode, fidelis.FieldCity, fidelis.FieldAttributes},
		fidelis.PurposeMarketingSMS:   {fidelis.FieldEmail, fidelis.FieldBirthDate, fidelis.FieldStreet, fidelis.FieldPostalCode, fidelis.FieldCity, fidelis.FieldAttributes, fidelis.FieldFamilyName},
		fidelis.PurposeAnalytics:      {fidelis.FieldGivenName, fidelis.FieldFamilyName, fidelis.FieldEmail, fidelis.FieldPhone, fidelis.FieldStreet, fidelis.FieldAttributes},
		fidelis.PurposeAccounting:     {fidelis.FieldEmail, fidelis.FieldPhone, fidelis.FieldBirthDate, fidelis.FieldAttributes},
		fidelis.PurposeAudit:          fidelis.CustomerFields(),
	}
	for p, fields := range never {
		d, err := reg.Purpose(p)
		if err != nil {
			t.Fatalf("Purpose(%s) = %v", p, err)
		}
		for _, f := range fields {
			if d.Allows(f) {
				t.Errorf("default purpose %s allows %s; want least data (D-1)", p, f)
			}
		}
	}
	for _, g := range reg.Roles() {
		for _, a := range []fidelis.Action{fidelis.ActionErase, fidelis.ActionExport} {
			// The subject exports their own data and nothing else: the portal
			// binds the role to one customer.
			allowed := g.Role == fidelis.RoleDPO || g.Role == fidelis.RoleAdmin || g.Role == fidelis.RoleSubject && a == fidelis.ActionExport
			if slices.Contains(g.Actions, a) && !allowed {
				t.Errorf("role %s holds %s by default; want only dpo and admin, and the subject's export of their own data (D-1)", g.Role, a)
			}
		}
	}
}
