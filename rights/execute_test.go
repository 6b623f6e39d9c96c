package rights_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/fidelistest"
	"github.com/fidelis/fidelis/rights"
)

// ready creates a case of kind for id, starts it and records that no identity check was
// needed.
func ready(t *testing.T, a *app.App, id fidelis.CustomerID, kind rights.Kind, purposes ...fidelis.Purpose) *rights.Case {
	t.Helper()
	c := mustCase(t, a, rights.NewCase{CustomerID: id, Kind: kind, Channel: rights.ChannelEmail, Purposes: purposes})
	if _, err := a.Rights.Start(dpo, dp, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Rights.VerifyIdentity(dpo, dp, c.ID, rights.IdentityInput{Method: rights.IdentityEmailConfirmation, Result: rights.IdentityVerified}); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestAccess_ReadableHTMLInCustomerLanguage_R6(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a, _ := newApp(t, b, time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC))
		// Another part of Fidelis's data, as a section with a title for people.
		a.Rights.Sections = append(a.Rights.Sections, func(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID) (*rights.Table, error) {
			return &rights.Table{Name: "orders", Title: fidelis.Text{FR: "Achats", EN: "Purchases"}, Columns: []string{"order_id", "gtin", "promotion_amount"},
				Rows: [][]string{{"ord_1", "3017620422003", "1.20"}}}, nil
		})
		for _, tt := range []struct {
			locale string
			want   []string
		}{
			{"fr", []string{`lang="fr"`, "Vos données personnelles", "Adresse e-mail", "camille@example.fr", "Base légale", "Durée de conservation", "Destinataires",
				"Gestion du programme de fidélité", "Origine des données", "Qui a accédé à vos données", "customer.create", "CNIL",
				"Autres données vous concernant", "<h3>Achats</h3>", "<th>gtin</th>", "<td>3017620422003</td>", "<td>1.20</td>"}},
			{"en", []string{`lang="en"`, "Your personal data", "E-mail address", "camille@example.fr", "Lawful basis", "Retention period", "Recipients",
				"Running the loyalty programme", "Source of the data", "Who accessed your data", "customer.create", "CNIL",
				"Other data about you", "<h3>Purchases</h3>", "<th>gtin</th>", "<td>3017620422003</td>", "<td>1.20</td>"}},
		} {
			id := mustCustomer(t, a, "given_name", "Camille", "email", "camille@example.fr", "locale", tt.locale)
			c := ready(t, a, id, rights.KindAccess)
			ex, got, err := a.Rights.Export(dpo, dp, c.ID)
			if err != nil {
				t.Fatalf("Export = %v", err)
			}
			tables, err := a.Rights.Tables(dpo, dp, id)
			if err != nil || len(tables) != 1 {
				t.Fatalf("Tables = %d, %v; want the orders section", len(tables), err)
			}
			var buf bytes.Buffer
			if err := rights.WriteAccessHTML(&buf, ex, got, tables, nil); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(buf.String(), w) {
					t.Errorf("access page (%s) does not contain %q", tt.locale, w)
				}
			}
			done, err := a.Rights.Complete(dpo, dp, c.ID, rights.CompleteInput{})
			if err != nil || done.Answer.Outcome != rights.OutcomeDataProvided {
				t.Errorf("Complete(access) = %+v, %v", done, err)
			}
		}
		// Only access and portability cases export.
		id := mustCustomer(t, a, "given_name", "Bob")
		c := ready(t, a, id, rights.KindErasure)
		_, _, err := a.Rights.Export(dpo, dp, c.ID)
		checkCode(t, "Export(erasure case)", err, fidelis.EPRECONDITION, "wrong_kind")
	})
}

func TestPortability_ZipJSONandCSV_R11(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a, _ := newApp(t, b, time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC))
		// Another part of Fidelis adds a section with one function (the loyalty ledger,
		// orders with GTIN and promotion amounts).
		a.Rights.Sections = append(a.Rights.Sections, func(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID) (*rights.Table, error) {
			return &rights.Table{Name: "orders", Columns: []string{"order_id", "gtin", "amount", "promotion_amount"},
				Rows: [][]string{{"ord_1", "3017620422003", "12.40", "1.20"}}}, nil
		})
		id := mustCustomer(t, a, "given_name", "Zoé", "family_name", "Dupont, \"la grande\"", "email", "zoe@example.fr", "city", "Lyon")
		if _, err := a.Customers.Update(as("support", fidelis.RoleSupport), fidelis.PurposeCustomerService, id,
			customer.Input{Attributes: map[string]fidelis.Secret{"tier": fidelis.NewSecret("gold")}}, 0); err != nil {
			t.Fatal(err)
		}
		c := ready(t, a, id, rights.KindPortability)
		ex, got, err := a.Rights.Export(dpo, dp, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := a.Rights.WritePortability(dpo, dp, &buf, ex, got); err != nil {
			t.Fatal(err)
		}
		zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		if err != nil {
			t.Fatalf("not a zip: %v", err)
		}
		files := map[string][]byte{}
		for _, f := range zr.File {
			rc, _ := f.Open()
			files[f.Name], _ = io.ReadAll(rc)
			rc.Close()
		}
		var names []string
		for n := range files {
			names = append(names, n)
		}
		slices.Sort(names)
		if want := []string{"README.txt", "customer.csv", "customer.json", "orders.csv", "orders.json"}; !slices.Equal(names, want) {
			t.Fatalf("zip holds %v; want %v", names, want)
		}
		var objs []map[string]string
		if err := json.Unmarshal(files["customer.json"], &objs); err != nil || len(objs) != 1 {
			t.Fatalf("customer.json = %s, %v", files["customer.json"], err)
		}
		if o := objs[0]; o["id"] != string(id) || o["given_name"] != "Zoé" || o["family_name"] != `Dupont, "la grande"` || o["email"] != "zoe@example.fr" || o["attributes.tier"] != "gold" {
			t.Errorf("customer.json = %v", o)
		}
		recs, err := csv.NewReader(bytes.NewReader(files["customer.csv"])).ReadAll()
		if err != nil || len(recs) != 2 {
			t.Fatalf("customer.csv = %q, %v; want a header and one row", files["customer.csv"], err)
		}
		for i, col := range recs[0] {
			if objs[0][col] != recs[1][i] {
				t.Errorf("customer.csv %s = %q; JSON has %q", col, recs[1][i], objs[0][col])
			}
		}
		orders, _ := csv.NewReader(bytes.NewReader(files["orders.csv"])).ReadAll()
		if len(orders) != 2 || orders[0][1] != "gtin" || orders[1][1] != "3017620422003" || orders[1][3] != "1.20" {
			t.Errorf("orders.csv = %v", orders)
		}
		done, err := a.Rights.Complete(dpo, dp, c.ID, rights.CompleteInput{})
		if err != nil || done.Answer.Outcome != rights.OutcomePortableProvided {
			t.Errorf("Complete(portability) = %+v, %v", done, err)
		}
	})
}

func TestRectification_ThroughUpdateKeepsHistory_R7(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a, _ := newApp(t, b, time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC))
		id := mustCustomer(t, a, "given_name", "Alice", "city", "Lyon")
		c := ready(t, a, id, rights.KindRectification)
		_, err := a.Rights.Complete(dpo, dp, c.ID, rights.CompleteInput{})
		checkCode(t, "Complete(rectification without changes)", err, fidelis.EINVALID, "")
		_, err = a.Rights.Complete(dpo, dp, c.ID, rights.CompleteInput{Changes: &customer.Input{Set: map[fidelis.Field]fidelis.Secret{fidelis.FieldCity: fidelis.NewSecret("Nice")}}, ExpectVersion: 7})
		checkCode(t, "Complete(stale version)", err, fidelis.EPRECONDITION, "version_mismatch")
		done, err := a.Rights.Complete(dpo, dp, c.ID, rights.CompleteInput{Changes: &customer.Input{Set: map[fidelis.Field]fidelis.Secret{fidelis.FieldCity: fidelis.NewSecret("Nice")}}, ExpectVersion: 1})
		if err != nil {
			t.Fatalf("Complete(rectification) = %v", err)
		}
		if done.Answer.Outcome != rights.OutcomeRectified || done.Answer.Ref != "customer_version:2" {
			t.Errorf("answer = %+v; want rectified, linked to customer_version:2", done.Answer)
		}
		hist, err := a.Customers.History(dpo, dp, id)
		if err != nil || len(hist) != 1 || hist[0].Version != 2 || hist[0].Previous[fidelis.FieldCity].Reveal() != "Lyon" || hist[0].Purpose != dp {
			t.Errorf("History = %+v, %v; want version 2 with the previous city", hist, err)
		}
		got, _ := a.Customers.Get(dpo, dp, id)
		if got.Get(fidelis.FieldCity).Reveal() != "Nice" {
			t.Errorf("city = %q; want Nice", got.Get(fidelis.FieldCity).Reveal())
		}
		other := ready(t, a, id, rights.KindAccess)
		_, err = a.Rights.Complete(dpo, dp, other.ID, rights.CompleteInput{Changes: &customer.Input{Set: map[fidelis.Field]fidelis.Secret{fidelis.FieldCity: fidelis.NewSecret("Nice")}}})
		checkCode(t, "Complete(access with changes)", err, fidelis.EINVALID, "")
	})
}

func TestErasureReceipt_EffectiveDate_R8(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		for _, tt := range []struct {
			retention time.Duration
			days      int
		}{{0, 35}, {10 * 24 * time.Hour, 10}} {
			a, _ := newApp(t, b, time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC), func(c *app.Config) { c.BackupRetention = tt.retention })
			id := mustCustomer(t, a, "given_name", "Alice", "email", "alice@example.com", "phone", "06 12 34 56 78")
			c := ready(t, a, id, rights.KindErasure)
			done, err := a.Rights.Complete(dpo, dp, c.ID, rights.CompleteInput{})
			if err != nil {
				t.Fatalf("Complete(erasure) = %v", err)
			}
			ans := done.Answer
			if ans.Outcome != rights.OutcomeErased || !fidelis.ValidID("era", ans.Ref) || ans.ErasureEffectiveAt == nil {
				t.Fatalf("answer = %+v; want erased, linked to the receipt, with its effective date", ans)
			}
			// The receipt itself, as the customer service stores it.
			var raw string
			if err := fidelistest.MustRawDB(t, a).QueryRow(`SELECT receipt FROM erasures WHERE id = '` + ans.Ref + `'`).Scan(&raw); err != nil {
				t.Fatal(err)
			}
			var rec customer.Erasure
			if err := json.Unmarshal([]byte(raw), &rec); err != nil {
				t.Fatal(err)
			}
			if got := rec.EffectiveAt.Sub(rec.ErasedAt); got != time.Duration(tt.days)*24*time.Hour || rec.BackupRetentionDays != tt.days {
				t.Errorf("receipt effective - erased = %v (%d days); want %d days", got, rec.BackupRetentionDays, tt.days)
			}
			if !rec.EffectiveAt.Equal(*ans.ErasureEffectiveAt) {
				t.Errorf("case effective %v; receipt %v", ans.ErasureEffectiveAt, rec.EffectiveAt)
			}
			if !slices.Contains(rec.KeptRecords, customer.KeptAuditLog) || !slices.Contains(rec.KeptRecords, customer.KeptSuppression) ||
				!slices.Equal(rec.Suppressed, []string{"email", "phone"}) || !strings.Contains(rec.Notice, "pseudonymised") || !strings.Contains(rec.NoticeFR, "pseudonymisée") {
				t.Errorf("receipt = %+v; want kept records named, e-mail and phone suppressed, notices in both languages", rec)
			}
			if _, err := a.Customers.Get(dpo, dp, id); fidelis.ErrorCode(err) != fidelis.ENOTFOUND {
				t.Errorf("Get(erased) = %v; want ENOTFOUND", err)
			}
		}
	})
}

func TestSuppression_BlocksRecreate_R15(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a, clk := newApp(t, b, time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC))
		support := as("support", fidelis.RoleSupport)
		const cs = fidelis.PurposeCustomerService
		id := mustCustomer(t, a, "given_name", "Alice", "email", "Alice.Martin@Example.com", "phone", "06 12 34 56 78")
		if _, err := a.Customers.Erase(dpo, dp, id); err != nil {
			t.Fatal(err)
		}
		in := func(kv ...string) customer.Input {
			m := map[fidelis.Field]fidelis.Secret{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[fidelis.Field(kv[i])] = fidelis.NewSecret(kv[i+1])
			}
			return customer.Input{Set: m}
		}
		for _, tt := range []struct {
			name  string
			in    customer.Input
			field string
		}{
			{"same e-mail, other case", in("given_name", "A", "email", "alice.martin@EXAMPLE.com"), "email"},
			{"same phone, international form", in("given_name", "A", "phone", "+33 6 12 34 56 78"), "phone"},
		} {
			_, err := a.Customers.Create(support, cs, tt.in)
			e := fidelis.AsError(err)
			if e == nil || e.Code != fidelis.ECONFLICT || e.Reason != "suppressed" || len(e.Fields) != 1 || e.Fields[0].Field != tt.field || e.Fields[0].Rule != "suppressed" {
				t.Errorf("Create(%s) = %v; want ECONFLICT suppressed on %s", tt.name, err, tt.field)
			} else if strings.Contains(e.Error(), "alice") || strings.Contains(e.Error(), string(id)) {
				t.Errorf("Create(%s) problem reveals something: %v", tt.name, e)
			}
		}
		_, err := a.Customers.CreateMany(support, cs, []customer.Input{in("given_name", "B", "email", "b@example.com"), in("given_name", "A", "email", "alice.martin@example.com")})
		if e := fidelis.AsError(err); e == nil || e.Reason != "suppressed" || e.Fields[0].Field != "1.email" {
			t.Errorf("CreateMany(import with the erased e-mail) = %v; want suppressed at 1.email", err)
		}
		if n, _ := a.DB.CountCustomers(context.Background()); n != 0 {
			t.Errorf("after a refused import %d customers exist; want 0 (all or none)", n)
		}
		if _, err := a.Customers.Create(support, cs, in("given_name", "C", "email", "someone.else@example.com")); err != nil {
			t.Errorf("Create(another e-mail) = %v", err)
		}
		// No plaintext: the list holds 16-byte keyed hashes only.
		db := fidelistest.MustRawDB(t, a)
		rows, err := db.Query(`SELECT kind, bidx, reason FROM suppressions ORDER BY kind`)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for rows.Next() {
			var kind, reason string
			var idx []byte
			rows.Scan(&kind, &idx, &reason)
			kinds = append(kinds, kind)
			if len(idx) != 16 || bytes.Contains(idx, []byte("alice")) || reason != customer.SuppressErasure {
				t.Errorf("suppression %s = %x (%s); want a 16-byte hash, reason erasure", kind, idx, reason)
			}
		}
		rows.Close()
		if !slices.Equal(kinds, []string{"email", "phone"}) {
			t.Errorf("suppressed kinds = %v; want email, phone", kinds)
		}
		// Purged after 3 years (default), then the person may be recorded again.
		clk.Set(time.Date(2029, time.March, 1, 9, 0, 0, 0, time.UTC))
		if n, err := a.Customers.PurgeSuppressions(context.Background()); err != nil || n != 0 {
			t.Errorf("PurgeSuppressions(before 3 years) = %d, %v; want 0", n, err)
		}
		if _, err := a.Customers.Create(support, cs, in("given_name", "A", "email", "alice.martin@example.com")); fidelis.ErrorCode(err) != fidelis.ECONFLICT {
			t.Errorf("Create(before 3 years) = %v; want still suppressed", err)
		}
		clk.Set(time.Date(2029, time.March, 3, 9, 0, 0, 0, time.UTC))
		if n, err := a.Customers.PurgeSuppressions(context.Background()); err != nil || n != 2 {
			t.Errorf("PurgeSuppressions(after 3 years) = %d, %v; want 2", n, err)
		}
		if _, err := a.Customers.Create(support, cs, in("given_name", "A", "email", "alice.martin@example.com")); err != nil {
			t.Errorf("Create(after the purge) = %v", err)
		}
	})
}

// fakeRestrictions records the calls of the Restrictions hook.
type fakeRestrictions struct{ calls []string }

func (f *fakeRestrictions) Restrict(_ context.Context, _ fidelis.Purpose, id fidelis.CustomerID, caseID string) error {
	f.calls = append(f.calls, "restrict "+string(id)+" "+caseID)
	return nil
}

func (f *fakeRestrictions) Lift(_ context.Context, _ fidelis.Purpose, id fidelis.CustomerID, caseID string) error {
	f.calls = append(f.calls, "lift "+string(id)+" "+caseID)
	return nil
}

func (f *fakeRestrictions) Object(_ context.Context, _ fidelis.Purpose, id fidelis.CustomerID, ps []fidelis.Purpose, caseID string) error {
	f.calls = append(f.calls, "object "+string(id)+" "+caseID+" "+string(ps[0]))
	return nil
}

func TestRestrictionObjection_HookOrUnavailable_R10_R12(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a, _ := newApp(t, b, time.Date(2026, time.March, 2, 9, 0, 0, 0, time.UTC))
		id := mustCustomer(t, a, "given_name", "Alice", "email", "alice@example.com")
		r := ready(t, a, id, rights.KindRestriction)
		o := ready(t, a, id, rights.KindObjection, fidelis.PurposeMarketingEmail)
		// Without the hook (an installation wired without the lawfulness engine): a clear
		// EUNAVAILABLE, and the case stays open.
		real := a.Rights.Restrictions
		a.Rights.Restrictions = nil
		for _, c := range []*rights.Case{r, o} {
			_, err := a.Rights.Complete(dpo, dp, c.ID, rights.CompleteInput{})
			checkCode(t, "Complete("+string(c.Kind)+", no hook)", err, fidelis.EUNAVAILABLE, "restrictions_unavailable")
			if got, _ := a.Rights.Get(dpo, dp, c.ID); got.Status != rights.StatusInProgress {
				t.Errorf("after EUNAVAILABLE the case is %s; want in_progress", got.Status)
			}
		}
		// An objection names objectable purposes.
		_, err := a.Rights.Create(dpo, dp, rights.NewCase{CustomerID: id, Kind: rights.KindObjection, Channel: rights.ChannelEmail})
		checkCode(t, "Create(objection without purposes)", err, fidelis.EINVALID, "")
		_, err = a.Rights.Create(dpo, dp, rights.NewCase{CustomerID: id, Kind: rights.KindObjection, Channel: rights.ChannelEmail, Purposes: []fidelis.Purpose{fidelis.PurposeAccounting}})
		checkCode(t, "Create(objection to a legal obligation)", err, fidelis.EINVALID, "")
		_, err = a.Rights.Create(dpo, dp, rights.NewCase{CustomerID: id, Kind: rights.KindAccess, Channel: rights.ChannelEmail, Purposes: []fidelis.Purpose{fidelis.PurposeSales}})
		checkCode(t, "Create(access with purposes)", err, fidelis.EINVALID, "")

		hook := &fakeRestrictions{}
		a.Rights.Restrictions = hook
		if done, err := a.Rights.Complete(dpo, dp, r.ID, rights.CompleteInput{}); err != nil || done.Answer.Outcome != rights.OutcomeRestricted {
			t.Errorf("Complete(restriction) = %+v, %v", done, err)
		}
		if done, err := a.Rights.Complete(dpo, dp, o.ID, rights.CompleteInput{}); err != nil || done.Answer.Outcome != rights.OutcomeObjectionUpheld {
			t.Errorf("Complete(objection) = %+v, %v", done, err)
		}
		want := []string{"restrict " + string(id) + " " + r.ID, "object " + string(id) + " " + o.ID + " marketing_email"}
		if !slices.Equal(hook.calls, want) {
			t.Errorf("hook calls = %v; want %v", hook.calls, want)
		}
		// the objection to marketing put the e-mail on the suppression list.
		_, err = a.Customers.Create(as("support", fidelis.RoleSupport), fidelis.PurposeCustomerService,
			customer.Input{Set: map[fidelis.Field]fidelis.Secret{fidelis.FieldEmail: fidelis.NewSecret("alice@example.com")}})
		checkCode(t, "Create(objecting person again)", err, fidelis.ECONFLICT, "suppressed")

		// With the application's own hook, the lawfulness engine: a completed restriction
		// case freezes the customer, a completed objection to marketing stops it for
		// good, and completing again changes nothing.
		a.Rights.Restrictions = real
		carol := mustCustomer(t, a, "given_name", "Carole", "email", "carole@example.com")
		rc := ready(t, a, carol, rights.KindRestriction)
		if _, err := a.Rights.Complete(dpo, dp, rc.ID, rights.CompleteInput{}); err != nil {
			t.Fatalf("Complete(restriction, engine) = %v", err)
		}
		_, err = a.Customers.Get(as("support", fidelis.RoleSupport), fidelis.PurposeCustomerService, carol)
		checkCode(t, "Get(customer_service) after the restriction case", err, fidelis.EFORBIDDEN, "restricted")
		dan := mustCustomer(t, a, "given_name", "Dan", "email", "dan@example.com")
		oc := ready(t, a, dan, rights.KindObjection, fidelis.PurposeMarketingEmail, fidelis.PurposeSales)
		if _, err := a.Rights.Complete(dpo, dp, oc.ID, rights.CompleteInput{}); err != nil {
			t.Fatalf("Complete(objection, engine) = %v", err)
		}
		st, err := a.States.State(dpo, dp, dan)
		if err != nil || st.MarketingObjection == nil || st.Objections[fidelis.PurposeSales].At.IsZero() {
			t.Errorf("state after the objection case = %+v, %v; want the marketing objection and one to sales", st, err)
		}
		_, err = a.Customers.Get(as("sales", fidelis.RoleSales), fidelis.PurposeSales, dan)
		checkCode(t, "Get(sales) after the objection case", err, fidelis.EFORBIDDEN, "objection_upheld")
	})
}
