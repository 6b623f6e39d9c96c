package register_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/privacy"
	"github.com/fidelis/fidelis/register"
)

var formats = []string{register.OutJSON, register.OutMarkdown, register.OutHTML}
var langs = []string{register.LangFR, register.LangEN}

func input() register.Input {
	return register.Input{
		Registry: privacy.DefaultRegistry(),
		Controller: register.Controller{Name: "Boulangeries Dupont SAS", Address: "12 rue des Lilas\n69003 Lyon", Email: "privacy@dupont.example",
			DPOName: "Claire Martin", DPOContact: "dpo@dupont.example"},
		Recipients: []register.Recipient{
			{Name: "Routeur Mail SARL", Kind: register.KindProcessor, Purposes: []fidelis.Purpose{fidelis.PurposeMarketingEmail}, Country: "FR"},
			{Name: "SMS Cloud Inc", Kind: register.KindProcessor, Purposes: []fidelis.Purpose{fidelis.PurposeMarketingSMS}, Country: "US", Safeguard: register.SafeguardSCC},
			{Name: "Analytics Ltd", Kind: register.KindThirdParty, Purposes: []fidelis.Purpose{fidelis.PurposeAnalytics}, Country: "IN"},
		},
		RegistryDate: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC),
	}
}

func render(t *testing.T, doc register.Document, format string) string {
	t.Helper()
	b, err := register.Render(doc, format)
	if err != nil {
		t.Fatalf("Render(%s): %v", format, err)
	}
	return string(b)
}

func mustRegister(t *testing.T, in register.Input, lang string) *register.Register {
	t.Helper()
	r, err := register.BuildRegister(in, lang)
	if err != nil {
		t.Fatalf("BuildRegister(%s): %v", lang, err)
	}
	return r
}

func mustNotice(t *testing.T, in register.Input, lang string) *register.Notice {
	t.Helper()
	n, err := register.BuildNotice(in, lang)
	if err != nil {
		t.Fatalf("BuildNotice(%s): %v", lang, err)
	}
	return n
}

// basisWords are words of each lawful basis label that every rendering must show.
var basisWords = map[string]map[fidelis.LawfulBasis]string{
	"fr": {fidelis.BasisConsent: "Consentement", fidelis.BasisContract: "contrat", fidelis.BasisLegalObligation: "Obligation légale", fidelis.BasisLegitimateInterest: "Intérêt légitime"},
	"en": {fidelis.BasisConsent: "Consent", fidelis.BasisContract: "contract", fidelis.BasisLegalObligation: "Legal obligation", fidelis.BasisLegitimateInterest: "Legitimate interest"},
}

// TestRegister_EveryPurposeBasisAndArt30Item_D2: every purpose of the registry appears in
// the register with its lawful basis, in every language and format, along with the
// controller, DPO, categories, recipients, transfers with their safeguard, retention and
// the real security measures (art. 30(1) a-g).
func TestRegister_EveryPurposeBasisAndArt30Item_D2(t *testing.T) {
	in := input()
	for _, lang := range langs {
		r := mustRegister(t, in, lang)
		if len(r.Activities) != len(in.Registry.Purposes()) {
			t.Fatalf("%s: %d activities; want one per purpose (%d)", lang, len(r.Activities), len(in.Registry.Purposes()))
		}
		for _, a := range r.Activities {
			p, _ := in.Registry.Purpose(a.Purpose)
			if a.LawfulBasis != p.LawfulBasis || !strings.Contains(a.LawfulBasisLabel, basisWords[lang][p.LawfulBasis]) {
				t.Errorf("%s: activity %s basis = %s %q; want %s", lang, a.Purpose, a.LawfulBasis, a.LawfulBasisLabel, p.LawfulBasis)
			}
			if a.Retention != p.Retention.In(lang) || len(a.DataSubjects) == 0 {
				t.Errorf("%s: activity %s retention %q subjects %v", lang, a.Purpose, a.Retention, a.DataSubjects)
			}
			if (p.LawfulBasis == fidelis.BasisLegitimateInterest) != (a.LegitimateInterest != "") {
				t.Errorf("%s: activity %s legitimate interest = %q; want one exactly when the basis is legitimate interest", lang, a.Purpose, a.LegitimateInterest)
			}
			n := 0
			for _, c := range a.DataCategories {
				n += len(c.Fields)
			}
			if n != len(p.Fields) {
				t.Errorf("%s: activity %s categorises %d fields; the purpose has %d", lang, a.Purpose, n, len(p.Fields))
			}
		}
		for _, format := range formats {
			out := render(t, r, format)
			for _, p := range in.Registry.Purposes() {
				for _, want := range []string{string(p.Name), p.Description.In(lang), p.Retention.In(lang), basisWords[lang][p.LawfulBasis]} {
					if format == register.OutHTML {
						want = strings.ReplaceAll(want, "'", "&#39;")
					}
					if !strings.Contains(out, want) {
						t.Errorf("%s/%s register lacks %q (purpose %s)", lang, format, want, p.Name)
					}
				}
			}
			for _, want := range []string{"Boulangeries Dupont SAS", "privacy@dupont.example", "Claire Martin", "dpo@dupont.example",
				"AES-256-GCM", "HMAC", "Merkle", "Argon2id", "SMS Cloud Inc", "US", "Analytics Ltd", "IN", "Routeur Mail SARL"} {
				if !strings.Contains(out, want) {
					t.Errorf("%s/%s register lacks %q", lang, format, want)
				}
			}
		}
	}
	// Categories group fields: customer_service uses every field, in six categories.
	r := mustRegister(t, in, "en")
	for _, a := range r.Activities {
		if a.Purpose != fidelis.PurposeCustomerService {
			continue
		}
		var keys []string
		for _, c := range a.DataCategories {
			keys = append(keys, c.Key)
		}
		if want := []string{"identity", "contact", "address", "birth_date", "preferences", "custom_attributes"}; !reflect.DeepEqual(keys, want) {
			t.Errorf("customer_service categories = %v; want %v", keys, want)
		}
		if want := []string{"Administrators", "Data protection officer", "Loyalty programme managers", "Sales team", "Customer service"}; !reflect.DeepEqual(a.InternalRecipients, want) {
			t.Errorf("customer_service internal recipients = %v; want %v (the roles granted the purpose)", a.InternalRecipients, want)
		}
	}
}

// TestRegister_TransfersAndSafeguards_D2: a recipient outside the EEA is a transfer, shown
// with its safeguard; one without a safeguard is flagged, not hidden.
func TestRegister_TransfersAndSafeguards_D2(t *testing.T) {
	r := mustRegister(t, input(), "en")
	byName := map[string]register.RecipientView{}
	for _, v := range r.Recipients {
		byName[v.Name] = v
	}
	if v := byName["Routeur Mail SARL"]; v.Transfer || v.SafeguardLabel != "" {
		t.Errorf("FR recipient = %+v; want no transfer", v)
	}
	if v := byName["SMS Cloud Inc"]; !v.Transfer || !strings.Contains(v.SafeguardLabel, "standard contractual clauses") {
		t.Errorf("US recipient with SCC = %+v; want a transfer under standard contractual clauses", v)
	}
	if v := byName["Analytics Ltd"]; !v.Transfer || !strings.Contains(v.SafeguardLabel, "NO SAFEGUARD") {
		t.Errorf("IN recipient without safeguard = %+v; want a flagged transfer", v)
	}
	for _, a := range r.Activities {
		switch a.Purpose {
		case fidelis.PurposeMarketingSMS:
			if len(a.Transfers) != 1 || !strings.Contains(a.Transfers[0], "SMS Cloud Inc (US)") {
				t.Errorf("marketing_sms transfers = %v", a.Transfers)
			}
		case fidelis.PurposeMarketingEmail:
			if len(a.Transfers) != 0 || len(a.ExternalRecipients) != 1 {
				t.Errorf("marketing_email recipients %v transfers %v; want one recipient, no transfer", a.ExternalRecipients, a.Transfers)
			}
		}
	}
}

var rightKeys = []string{"access", "rectification", "erasure", "restriction", "objection", "portability", "withdraw_consent"}

// TestNotice_EveryRightCNILAndPurpose_R5: the notice names every purpose with its basis, every
// right of the data subject (withdrawal without affecting prior lawfulness included), the
// right to complain to the CNIL with its address and website, whether data are required,
// and automated decisions, in both languages and every format.
func TestNotice_EveryRightCNILAndPurpose_R5(t *testing.T) {
	in := input()
	words := map[string][]string{
		"fr": {"accès", "rectification", "effacement", "limitation", "opposition", "portabilité", "Retrait du consentement", "licéité du traitement effectué avant",
			"CNIL", "3 place de Fontenoy", "https://www.cnil.fr/fr/plaintes", "décision", "copie des garanties", "Facultative", "Nécessaire au contrat", "Exigée par la loi", "un mois"},
		"en": {"access", "rectification", "erasure", "restriction", "object", "portability", "Withdrawal of consent", "does not affect the lawfulness",
			"CNIL", "3 place de Fontenoy", "https://www.cnil.fr/en/complaints", "automated", "copy of the safeguards", "Optional", "Needed for the contract", "Required by law", "one month"},
	}
	for _, lang := range langs {
		n := mustNotice(t, in, lang)
		var got []string
		for _, r := range n.Rights {
			got = append(got, r.Right)
		}
		for _, k := range rightKeys {
			if !strings.Contains(strings.Join(got, ","), k) {
				t.Errorf("%s notice rights %v lack %s", lang, got, k)
			}
		}
		if len(n.Purposes) != len(in.Registry.Purposes()) {
			t.Errorf("%s notice has %d purposes; want %d", lang, len(n.Purposes), len(in.Registry.Purposes()))
		}
		for _, format := range formats {
			out := render(t, n, format)
			for _, w := range words[lang] {
				if !strings.Contains(out, w) {
					t.Errorf("%s/%s notice lacks %q", lang, format, w)
				}
			}
			for _, p := range in.Registry.Purposes() {
				for _, want := range []string{p.Description.In(lang), basisWords[lang][p.LawfulBasis]} {
					if format == register.OutHTML {
						want = strings.ReplaceAll(want, "'", "&#39;")
					}
					if !strings.Contains(out, want) {
						t.Errorf("%s/%s notice lacks %q (purpose %s)", lang, format, want, p.Name)
					}
				}
			}
			for _, want := range []string{"Boulangeries Dupont SAS", "dpo@dupont.example", "SMS Cloud Inc"} {
				if !strings.Contains(out, want) {
					t.Errorf("%s/%s notice lacks %q", lang, format, want)
				}
			}
		}
	}
}

// TestDocuments_FrenchAndEnglishDiffer_R5: the two languages are two texts, with their own
// hash, over the same registry version.
func TestDocuments_FrenchAndEnglishDiffer_R5(t *testing.T) {
	in := input()
	fr, en := mustNotice(t, in, "fr"), mustNotice(t, in, "en")
	if fr.Title == en.Title || fr.ContentHash == en.ContentHash || fr.RegistryVersion != en.RegistryVersion {
		t.Errorf("fr %q %s %s / en %q %s %s; want different titles and hashes, one registry version", fr.Title, fr.ContentHash, fr.RegistryVersion, en.Title, en.ContentHash, en.RegistryVersion)
	}
	for _, format := range formats {
		if render(t, fr, format) == render(t, en, format) {
			t.Errorf("%s: French and English notices are identical", format)
		}
		rf, re := render(t, mustRegister(t, in, "fr"), format), render(t, mustRegister(t, in, "en"), format)
		if rf == re || !strings.Contains(rf, "Registre des activités de traitement") || !strings.Contains(re, "Record of processing activities") {
			t.Errorf("%s: registers in French and English are not both there and different", format)
		}
	}
	if _, err := register.BuildNotice(in, "de"); fidelis.ErrorCode(err) != fidelis.EINVALID {
		t.Errorf("BuildNotice(de) = %v; want EINVALID", err)
	}
}

// TestHTML_EscapesHostileRegistryText_D2: registry and recipient texts are data, never
// markup: HTML escapes them and Markdown cannot turn them into raw HTML or links.
func TestHTML_EscapesHostileRegistryText_D2(t *testing.T) {
	const hostile = `<script>alert("x")</script><img src=x onerror=alert(1)>[click](javascript:alert(1))`
	purposes := privacy.DefaultPurposes()
	purposes[0].Description = privacy.Text{FR: hostile, EN: hostile}
	purposes[0].Recipients = []string{hostile}
	reg, err := privacy.NewRegistry(purposes, privacy.DefaultGrants())
	if err != nil {
		t.Fatal(err)
	}
	in := input()
	in.Registry = reg
	in.Recipients[0].Name = `<b onmouseover=alert(2)>Evil</b>`
	in.Controller.Name = `Dupont <script>x</script>`
	for _, lang := range langs {
		for _, doc := range []register.Document{mustRegister(t, in, lang), mustNotice(t, in, lang)} {
			h := render(t, doc, register.OutHTML)
			for _, bad := range []string{"<script>", "<img", "<b onmouseover"} {
				if strings.Contains(h, bad) {
					t.Errorf("%s HTML contains %q unescaped", lang, bad)
				}
			}
			if !strings.Contains(h, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
				t.Errorf("%s HTML does not show the hostile description escaped", lang)
			}
			m := render(t, doc, register.OutMarkdown)
			unescaped := strings.NewReplacer(`\<`, "", `\[`, "").Replace(m) // what a renderer could take as markup
			for _, bad := range []string{"<script>", "<img", "<b ", "[click](javascript"} {
				if strings.Contains(unescaped, bad) {
					t.Errorf("%s Markdown contains %q unescaped", lang, bad)
				}
			}
			if !strings.Contains(m, `\<script\>`) {
				t.Errorf("%s Markdown does not show the hostile description escaped", lang)
			}
		}
	}
}

// TestJSON_RoundTripsAndVerifies_D2: the JSON rendering decodes to the same document, whose
// hash verifies; any change breaks it.
func TestJSON_RoundTripsAndVerifies_D2(t *testing.T) {
	in := input()
	for _, lang := range langs {
		r := mustRegister(t, in, lang)
		var back register.Register
		if err := json.Unmarshal([]byte(render(t, r, register.OutJSON)), &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&back, r) || !back.Verify() {
			t.Errorf("%s register: JSON round trip differs or does not verify", lang)
		}
		back.Activities[0].Retention = "forever"
		if back.Verify() {
			t.Errorf("%s register: a changed retention still verifies", lang)
		}
		n := mustNotice(t, in, lang)
		var nb register.Notice
		if err := json.Unmarshal([]byte(render(t, n, register.OutJSON)), &nb); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(&nb, n) || !nb.Verify() {
			t.Errorf("%s notice: JSON round trip differs or does not verify", lang)
		}
	}
}

// TestDocuments_Deterministic_D2: the same inputs, in any order, give byte-identical output
// and the same hash; a registry change gives a new registry version and hash.
func TestDocuments_Deterministic_D2(t *testing.T) {
	a := input()
	b := input()
	b.Recipients = []register.Recipient{b.Recipients[2], b.Recipients[0], b.Recipients[1]}
	for _, format := range formats {
		for _, lang := range langs {
			if render(t, mustRegister(t, a, lang), format) != render(t, mustRegister(t, b, lang), format) {
				t.Errorf("%s/%s register depends on the recipients' order", lang, format)
			}
			if render(t, mustNotice(t, a, lang), format) != render(t, mustNotice(t, b, lang), format) {
				t.Errorf("%s/%s notice depends on the recipients' order", lang, format)
			}
		}
	}
	purposes := privacy.DefaultPurposes()
	purposes[3].Retention = privacy.Text{FR: "2 ans", EN: "2 years"}
	reg, err := privacy.NewRegistry(purposes, privacy.DefaultGrants())
	if err != nil {
		t.Fatal(err)
	}
	c := input()
	c.Registry = reg
	r1, r2 := mustRegister(t, a, "fr"), mustRegister(t, c, "fr")
	if r1.RegistryVersion == r2.RegistryVersion || r1.ContentHash == r2.ContentHash {
		t.Errorf("a changed retention kept registry version %s and hash %s", r1.RegistryVersion, r1.ContentHash)
	}
	if r1.RegistryDate != "2026-11-20T10:00:00Z" {
		t.Errorf("registry date = %q", r1.RegistryDate)
	}
}

// TestController_NotConfiguredIsSaid_R5: an unconfigured controller or DPO is shown as
// "not configured", never invented.
func TestController_NotConfiguredIsSaid_R5(t *testing.T) {
	in := input()
	in.Controller = register.Controller{Name: "Dupont SAS"}
	for lang, want := range map[string]string{"fr": "non configuré", "en": "not configured"} {
		n := mustNotice(t, in, lang)
		if n.Controller.Configured || n.DPO.Configured || !reflect.DeepEqual(n.Controller.Missing, []string{"address", "email"}) {
			t.Errorf("%s: controller %+v dpo %+v; want not configured, address and email missing", lang, n.Controller, n.DPO)
		}
		for _, format := range []string{register.OutMarkdown, register.OutHTML} {
			out := render(t, n, format)
			if strings.Count(out, want) < 4 || !strings.Contains(out, "Dupont SAS") {
				t.Errorf("%s/%s: %q appears %d times; want at least 4 (address, e-mail, DPO name and contact)", lang, format, want, strings.Count(out, want))
			}
		}
	}
}

func TestController_Validate(t *testing.T) {
	for _, tt := range []struct {
		name  string
		c     register.Controller
		field string
	}{
		{"empty is valid", register.Controller{}, ""},
		{"complete", register.Controller{Name: "A", Address: "1 rue X\n75001 Paris", Email: "a@b.fr", DPOName: "D", DPOContact: "https://b.fr/dpo"}, ""},
		{"bad email", register.Controller{Email: "not an address"}, "controller-email"},
		{"display name email", register.Controller{Email: "A <a@b.fr>"}, "controller-email"},
		{"dpo contact http", register.Controller{DPOContact: "http://b.fr/dpo"}, "dpo-contact"},
		{"dpo name without contact", register.Controller{DPOName: "D"}, "dpo-contact"},
		{"name two lines", register.Controller{Name: "A\nB"}, "controller-name"},
		{"blank name", register.Controller{Name: "   "}, "controller-name"},
		{"name too long", register.Controller{Name: strings.Repeat("x", 201)}, "controller-name"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.c.Validate()
			e := fidelis.AsError(err)
			switch {
			case tt.field == "" && err != nil:
				t.Fatalf("Validate() = %v; want nil", err)
			case tt.field != "" && (e == nil || e.Code != fidelis.EINVALID || len(e.Fields) == 0 || e.Fields[0].Field != tt.field):
				t.Fatalf("Validate() = %v; want EINVALID on %s", err, tt.field)
			}
		})
	}
}

func TestRecipients_Validated_D2(t *testing.T) {
	for _, tt := range []struct {
		name  string
		r     register.Recipient
		field string
	}{
		{"no name", register.Recipient{Kind: register.KindProcessor, Country: "FR", Purposes: []fidelis.Purpose{fidelis.PurposeSales}}, "recipients[0].name"},
		{"bad kind", register.Recipient{Name: "X", Kind: "friend", Country: "FR", Purposes: []fidelis.Purpose{fidelis.PurposeSales}}, "recipients[0].kind"},
		{"lower-case country", register.Recipient{Name: "X", Kind: register.KindProcessor, Country: "fr", Purposes: []fidelis.Purpose{fidelis.PurposeSales}}, "recipients[0].country"},
		{"unknown purpose", register.Recipient{Name: "X", Kind: register.KindProcessor, Country: "FR", Purposes: []fidelis.Purpose{"gossip"}}, "recipients[0].purposes"},
		{"no purpose", register.Recipient{Name: "X", Kind: register.KindProcessor, Country: "FR"}, "recipients[0].purposes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := input()
			in.Recipients = []register.Recipient{tt.r}
			_, err := register.BuildRegister(in, "fr")
			if e := fidelis.AsError(err); e == nil || e.Code != fidelis.EINVALID || e.Fields[0].Field != tt.field {
				t.Fatalf("BuildRegister = %v; want EINVALID on %s", err, tt.field)
			}
		})
	}
}

// TestService_RegisterNeedsReadRegister_P4: the register is an administrative document for
// admin, dpo and auditor; the notice is public.
func TestService_RegisterNeedsReadRegister_P4(t *testing.T) {
	s := &register.Service{Registry: privacy.DefaultRegistry(), Recipients: func(context.Context) ([]register.Recipient, error) {
		return input().Recipients, nil
	}}
	for _, tt := range []struct {
		role fidelis.Role
		code fidelis.Code
	}{
		{fidelis.RoleAdmin, ""}, {fidelis.RoleDPO, ""}, {fidelis.RoleAuditor, ""},
		{fidelis.RoleSupport, fidelis.EFORBIDDEN}, {fidelis.RoleMarketing, fidelis.EFORBIDDEN}, {fidelis.RoleSales, fidelis.EFORBIDDEN},
	} {
		ctx := fidelis.WithActor(context.Background(), fidelis.SystemActor("test", tt.role))
		r, err := s.Register(ctx, "en")
		if fidelis.ErrorCode(err) != tt.code {
			t.Errorf("Register as %s = %v; want code %q", tt.role, err, tt.code)
		}
		if err == nil && len(r.Recipients) != 3 {
			t.Errorf("Register as %s has %d recipients; want the 3 of the source", tt.role, len(r.Recipients))
		}
	}
	if _, err := s.Register(context.Background(), "en"); fidelis.ErrorCode(err) != fidelis.EUNAUTHORIZED {
		t.Errorf("Register without actor = %v; want EUNAUTHORIZED", err)
	}
	if _, err := s.Notice(context.Background(), "fr"); err != nil {
		t.Errorf("Notice without actor = %v; want the public notice", err)
	}
}

// TestStyleSource_MatchesThePageStyle: the CSP hash allows exactly the style the page
// carries, so a strict CSP (no 'unsafe-inline') still styles it.
func TestStyleSource_MatchesThePageStyle(t *testing.T) {
	page := render(t, mustNotice(t, input(), "fr"), register.OutHTML)
	start, end := strings.Index(page, "<style>"), strings.Index(page, "</style>")
	if start < 0 || end < start {
		t.Fatal("the page has no style element")
	}
	sum := sha256.Sum256([]byte(page[start+len("<style>") : end]))
	if want := "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; register.StyleSource() != want {
		t.Errorf("StyleSource() = %s; the page's style hashes to %s", register.StyleSource(), want)
	}
}

// TestNotice_NoRecipientsSaysSo_R5: without external recipients the notice says none is
// declared and promises no transfer safeguards.
func TestNotice_NoRecipientsSaysSo_R5(t *testing.T) {
	in := input()
	in.Recipients = nil
	n := mustNotice(t, in, "en")
	if n.TransfersNote != "" || len(n.Recipients) != 0 {
		t.Errorf("notice without recipients: transfers note %q, %d recipients", n.TransfersNote, len(n.Recipients))
	}
	for _, format := range []string{register.OutMarkdown, register.OutHTML} {
		out := render(t, n, format)
		if !strings.Contains(out, "No external recipient declared.") || !strings.Contains(out, "No transfer outside the EEA declared.") {
			t.Errorf("%s notice without recipients does not say so", format)
		}
	}
}
