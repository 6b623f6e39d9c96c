package bench_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/app"
	"github.com/fidelis/fidelis/audit"
)

// exportRecords is how many records the exported customer holds (issue 3: "an access
// export of a customer with 10,000 records").
const exportRecords = 10_000

// BenchmarkExport measures the access export (R-6: GET /api/v1/customers/{id}/export, the
// customer's fields, history, processing purposes and whole access log) of a customer whose
// access log holds 10,000 entries, one export at a time, beside the bare reference measured
// in the same run: the same rows read by bare queries and encoded as JSON, served by a bare
// net/http handler. Goal: the API takes at most twice the bare time.
func BenchmarkExport(b *testing.B) {
	forBackends(b, func(b *testing.B, f *fixture) {
		id := f.ids[0]
		seedAccessLog(b, f, id, exportRecords)
		api := func() error {
			req, _ := http.NewRequest("GET", f.base+"/api/v1/customers/"+id+"/export", nil)
			req.Header.Set("Authorization", "Bearer "+f.token)
			req.Header.Set("Fidelis-Purpose", string(fidelis.PurposeDataProtection))
			return f.fetch(req, exportRecords)
		}
		b.Run("api", func(b *testing.B) { serial(b, api) })
		url := bareServer(b, func(w http.ResponseWriter, r *http.Request) {
			out, err := f.bareExport(r.URL.Query().Get("id"))
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write(out)
		})
		b.Run("bare_http", func(b *testing.B) {
			serial(b, func() error {
				req, _ := http.NewRequest("GET", url+"/?id="+id, nil)
				return f.fetch(req, exportRecords)
			})
		})
	})
}

// seedAccessLog writes n authenticated audit entries about customer id, as n reads by
// support staff would, and seals them.
func seedAccessLog(b *testing.B, f *fixture, id string, n int) {
	b.Helper()
	ctx := app.SystemContext(b.Context(), "bench", fidelis.RoleSupport)
	fields := []fidelis.Field{fidelis.FieldGivenName, fidelis.FieldFamilyName, fidelis.FieldEmail, fidelis.FieldPhone}
	for done := 0; done < n; {
		batch := make([]audit.Entry, min(500, n-done))
		for i := range batch {
			batch[i] = f.a.AuditLog.Entry(ctx, audit.Event{Action: "customer.read", Subject: id, Purpose: fidelis.PurposeCustomerService, Fields: fields, Outcome: audit.OutcomeOK})
		}
		if err := f.a.DB.RecordAudit(ctx, batch...); err != nil {
			b.Fatal(err)
		}
		done += len(batch)
	}
	if _, err := f.a.Sealer.SealAll(ctx); err != nil {
		b.Fatal(err)
	}
}

// bareAccessEntry is one access-log row as the bare reference encodes it.
type bareAccessEntry struct {
	ID        int64    `json:"id"`
	At        string   `json:"at"`
	Actor     string   `json:"actor"`
	Action    string   `json:"action"`
	Purpose   string   `json:"purpose"`
	Fields    []string `json:"fields"`
	Outcome   string   `json:"outcome"`
	Reason    string   `json:"reason"`
	RequestID string   `json:"request_id"`
}

// bareExport reads the customer's row and access log with bare queries (no decryption,
// authorisation or audit) and encodes them as JSON.
func (f *fixture) bareExport(id string) ([]byte, error) {
	var cid, g, fam, e []byte
	if err := f.raw.QueryRow(f.q(`SELECT id, given_name, family_name, email FROM customers WHERE id = ?`), id).Scan(&cid, &g, &fam, &e); err != nil {
		return nil, err
	}
	rows, err := f.raw.Query(f.q(`SELECT id, at, actor, action, purpose, fields, outcome, reason, request_id FROM audit_entries WHERE subject = ? ORDER BY id DESC`), id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var log []bareAccessEntry
	for rows.Next() {
		var x bareAccessEntry
		var at int64
		var fields string
		if err := rows.Scan(&x.ID, &at, &x.Actor, &x.Action, &x.Purpose, &fields, &x.Outcome, &x.Reason, &x.RequestID); err != nil {
			return nil, err
		}
		x.At, x.Fields = time.UnixMicro(at).UTC().Format(time.RFC3339Nano), strings.Split(fields, ",")
		log = append(log, x)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"customer": map[string][]byte{"id": cid, "given_name": g, "family_name": fam, "email": e}, "access_log": log})
}

// fetch sends req and checks the answer holds at least min access-log entries.
func (f *fixture) fetch(req *http.Request, min int) error {
	resp, err := f.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		body, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	var out struct {
		AccessLog []json.RawMessage `json:"access_log"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return err
	}
	if len(out.AccessLog) < min {
		return fmt.Errorf("export holds %d access-log entries; want at least %d", len(out.AccessLog), min)
	}
	return nil
}

// serial runs fn b.N times, one at a time: an export is one large answer, not a stream of
// small concurrent ones.
func serial(b *testing.B, fn func() error) {
	b.ResetTimer()
	for range b.N {
		if err := fn(); err != nil {
			b.Fatal(err)
		}
	}
}
