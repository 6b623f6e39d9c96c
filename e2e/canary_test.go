package e2e_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/fidelistest"
)

// canaries are distinctive personal values: none may appear in plaintext anywhere Fidelis
// writes (D-5).
var canaries = map[string]string{
	"given_name":  "Qwyzlvanka",
	"family_name": "Brzęczyszczykiewicz-Canary",
	"email":       "canary.k9mailbox@example.com",
	"phone":       "+33 6 91 82 73 64",
	"birth_date":  "1979-03-14",
	"street":      "17 rue du Canari Jaune",
	"postal_code": "69123",
	"city":        "Canaryville-sur-Saône",
}

const attrCanary = "CanaryAttributeValue7"

// needles are the byte strings searched for: each canary, its lower-case form, and the
// normalised phone number.
func needles() [][]byte {
	var out [][]byte
	for _, v := range canaries {
		out = append(out, []byte(v), []byte(strings.ToLower(v)))
	}
	return append(out, []byte(attrCanary), []byte("+33691827364"), []byte("691827364"))
}

func createCanary(t *testing.T, c *fidelistest.Client) string {
	t.Helper()
	body := map[string]any{"attributes": map[string]string{"note": attrCanary}}
	for k, v := range canaries {
		body[k] = v
	}
	created := c.Do("POST", "/api/v1/customers", fidelis.PurposeCustomerService, body).MustStatus(t, http.StatusCreated).JSON(t)
	return created["id"].(string)
}

// exercise reads, searches, updates and exports the canary customer so that every path
// that handles personal data has run.
func exercise(t *testing.T, c *fidelistest.Client, id string) {
	t.Helper()
	c.Do("GET", "/api/v1/customers/"+id, fidelis.PurposeCustomerService, nil).MustStatus(t, 200)
	found := c.Do("POST", "/api/v1/customers/search", fidelis.PurposeCustomerService, map[string]string{"email": strings.ToUpper(canaries["email"])}).MustStatus(t, 200).JSON(t)
	if n := len(found["items"].([]any)); n != 1 {
		t.Fatalf("search by e-mail found %d customers; want 1", n)
	}
	c.Do("POST", "/api/v1/customers/search", fidelis.PurposeCustomerService, map[string]string{"phone": "06 91 82 73 64"}).MustStatus(t, 200)
	c.Do("PATCH", "/api/v1/customers/"+id, fidelis.PurposeCustomerService, map[string]any{"city": canaries["city"] + " Nord"}).MustStatus(t, 200)
	c.Do("GET", "/api/v1/customers/"+id+"/history", fidelis.PurposeCustomerService, nil).MustStatus(t, 200)
	c.Do("GET", "/api/v1/customers/"+id+"/export", fidelis.PurposeDataProtection, nil).MustStatus(t, 200)
	c.Do("GET", "/api/v1/customers?limit=5", fidelis.PurposeCustomerService, nil).MustStatus(t, 200)
	// A refused request and an invalid one also write logs and audit entries.
	c.Do("GET", "/api/v1/customers/"+id, "marketing_email", nil).MustStatus(t, 403)
	c.Do("POST", "/api/v1/customers", fidelis.PurposeCustomerService, map[string]any{"email": "not-an-email " + canaries["family_name"]}).MustStatus(t, 422)
}

// canaryInstall starts an installation on b, writes the canary customer through the API,
// exercises every path and seals the audit log.
func canaryInstall(t *testing.T, b fidelistest.Backend) (*app.App, *fidelistest.Client, string) {
	t.Helper()
	a := fidelistest.MustApp(t, b)
	c := fidelistest.NewClient(t, fidelistest.MustServe(t, a), fidelistest.MustToken(t, a, fidelis.RoleAdmin))
	id := createCanary(t, c)
	exercise(t, c, id)
	if _, err := a.Sealer.SealAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	return a, c, id
}

// canaryIn returns the length of the first needle found in b, or 0.
func canaryIn(b []byte) int {
	for _, n := range needles() {
		if bytes.Contains(b, n) {
			return len(n)
		}
	}
	return 0
}

// scanDir fails the test if any file under dir contains a needle. It reports the file and
// the canary's field name, never the value.
func scanDir(t *testing.T, dir string) int {
	t.Helper()
	files := 0
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if n := canaryIn(b); n > 0 {
			t.Errorf("%s contains a plaintext canary (%d bytes)", filepath.Base(path), n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestCanary_NoPlaintextInDataDir_D5 writes canary values through the API, exercises every
// path, and scans every file of the data directory (database, WAL, shared memory, key file,
// logs) before and after a WAL checkpoint, then again after erasure.
func TestCanary_NoPlaintextInDataDir_D5(t *testing.T) {
	a, c, id := canaryInstall(t, fidelistest.Backend{Name: "sqlite"})
	dir := a.Config.DataDir
	if _, err := os.Stat(filepath.Join(dir, "fidelis.db-wal")); err != nil {
		t.Fatalf("expected a WAL file before the checkpoint: %v", err)
	}
	if n := scanDir(t, dir); n < 4 {
		t.Fatalf("scanned %d files; want the database, WAL, shared memory, key file and log", n)
	}
	if err := a.DB.Checkpoint(context.Background()); err != nil {
		t.Fatalf("WAL checkpoint: %v", err)
	}
	scanDir(t, dir)

	// Erasure keeps it that way, and the audit log still verifies.
	c.Do("POST", "/api/v1/customers/"+id+"/erase", fidelis.PurposeDataProtection, nil).MustStatus(t, 200)
	c.Do("GET", "/api/v1/customers/"+id, fidelis.PurposeCustomerService, nil).MustStatus(t, 404)
	if err := a.DB.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	scanDir(t, dir)
	if _, err := a.Sealer.SealAll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r, err := a.VerifyAudit(context.Background()); err != nil || !r.OK() {
		t.Fatalf("VerifyAudit after erasure = %+v, %v; want OK", r, err)
	}
}

// TestErase_ShredsKeyAndRows_R8 checks on both backends that erasure removes the data key,
// the record, its blind indexes and history in one transaction, returns a receipt, and that
// a ciphertext copied before erasure (as a backup would hold it) can no longer be opened.
func TestErase_ShredsKeyAndRows_R8(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a := fidelistest.MustApp(t, b)
		base := fidelistest.MustServe(t, a)
		c := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleDPO))
		staff := fidelistest.NewClient(t, base, fidelistest.MustToken(t, a, fidelis.RoleSupport))
		id := createCanary(t, staff)
		staff.Do("PATCH", "/api/v1/customers/"+id, fidelis.PurposeCustomerService, map[string]any{"city": "Lyon"}).MustStatus(t, 200)

		raw := fidelistest.MustRawDB(t, a)
		var backupCipher []byte
		if err := raw.QueryRow(fmt.Sprintf("SELECT email FROM customers WHERE id = '%s'", id)).Scan(&backupCipher); err != nil || len(backupCipher) == 0 {
			t.Fatalf("read ciphertext: %v", err)
		}

		// Support may not erase: wrong role and purpose.
		staff.Do("POST", "/api/v1/customers/"+id+"/erase", fidelis.PurposeCustomerService, nil).MustStatus(t, 403)

		rec := c.Do("POST", "/api/v1/customers/"+id+"/erase", fidelis.PurposeDataProtection, nil).MustStatus(t, 200).JSON(t)
		if rec["data_key"] != "destroyed" || rec["customer_id"] != id || rec["history_rows"].(float64) != 1 || rec["blind_indexes"].(float64) != 2 {
			t.Fatalf("receipt = %v; want data_key destroyed, 1 history row, 2 blind indexes", rec)
		}
		for _, q := range []string{"customers WHERE id", "customer_keys WHERE customer_id", "customer_changes WHERE customer_id"} {
			var n int
			if err := raw.QueryRow(fmt.Sprintf("SELECT COUNT(*) FROM %s = '%s'", q, id)).Scan(&n); err != nil || n != 0 {
				t.Fatalf("rows in %s after erasure = %d, %v; want 0", q, n, err)
			}
		}
		// The backup copy of the ciphertext is useless: no key can open it any more.
		if err := openWithAnyKey(a, raw, id, backupCipher); err == nil {
			t.Fatal("a ciphertext copied before erasure could still be decrypted")
		}
		c.Do("GET", "/api/v1/customers/"+id, fidelis.PurposeDataProtection, nil).MustStatus(t, 404)
		c.Do("POST", "/api/v1/customers/"+id+"/erase", fidelis.PurposeDataProtection, nil).MustStatus(t, 404)
		found := staff.Do("POST", "/api/v1/customers/search", fidelis.PurposeCustomerService, map[string]string{"email": canaries["email"]}).MustStatus(t, 200).JSON(t)
		if n := len(found["items"].([]any)); n != 0 {
			t.Fatalf("search after erasure found %d; want 0", n)
		}
		// The access log survives erasure (no personal data in it) and records the erasure.
		log := c.Do("GET", "/api/v1/customers/"+id+"/access-log", fidelis.PurposeDataProtection, nil).MustStatus(t, 200).JSON(t)
		erased := false
		for _, it := range log["items"].([]any) {
			e := it.(map[string]any)
			erased = erased || e["action"] == "customer.erase" && e["outcome"] == "ok"
		}
		if !erased {
			t.Fatalf("access log after erasure = %v; want the erasure recorded", log["items"])
		}
		if _, err := a.Sealer.SealAll(context.Background()); err != nil {
			t.Fatal(err)
		}
		if r, err := a.VerifyAudit(context.Background()); err != nil || !r.OK() {
			t.Fatalf("VerifyAudit after erasure = %+v, %v; want OK", r, err)
		}
	})
}

// openWithAnyKey tries to open ciphertext as customer id's e-mail with every wrapped key
// left in the database.
func openWithAnyKey(a *app.App, raw *sql.DB, id string, cipher []byte) error {
	rows, err := raw.Query("SELECT customer_id, kek_id, wrapped_dek FROM customer_keys")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var owner, kek string
		var wrapped []byte
		if err := rows.Scan(&owner, &kek, &wrapped); err != nil {
			return err
		}
		if tryOpen(a, fidelis.CustomerID(owner), kek, wrapped, fidelis.CustomerID(id), cipher) {
			return nil
		}
	}
	return fmt.Errorf("no key opens it")
}

func tryOpen(a *app.App, owner fidelis.CustomerID, kek string, wrapped []byte, id fidelis.CustomerID, cipher []byte) bool {
	dek, err := a.Vault.UnwrapDEK(owner, vaultWrapped(kek, wrapped))
	if err != nil {
		return false
	}
	_, err = dek.Open("email", cipher)
	return err == nil && owner == id
}

// TestNoPlaintextInTables_D5 reads every column of every table back through a plain
// connection, on both backends, and looks for the canaries.
func TestNoPlaintextInTables_D5(t *testing.T) {
	fidelistest.ForEachBackend(t, func(t *testing.T, b fidelistest.Backend) {
		a, _, _ := canaryInstall(t, b)
		raw := fidelistest.MustRawDB(t, a)
		for _, table := range []string{"customers", "customer_keys", "customer_changes", "erasures", "audit_entries", "audit_checkpoints", "outbox", "users", "sessions", "api_tokens", "registry"} {
			rows, err := raw.Query("SELECT * FROM " + table)
			if err != nil {
				t.Fatalf("read %s: %v", table, err)
			}
			cols, _ := rows.Columns()
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				for i, v := range vals {
					var bs []byte
					switch x := v.(type) {
					case []byte:
						bs = x
					case string:
						bs = []byte(x)
					default:
						continue
					}
					if canaryIn(bs) > 0 {
						t.Errorf("%s.%s holds a plaintext canary", table, cols[i])
					}
				}
			}
			rows.Close()
		}
	})
}
