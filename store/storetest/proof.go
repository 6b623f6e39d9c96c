package storetest

import (
	"cmp"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/consent"
	"github.com/fidelis/fidelis/privacy"
	"github.com/fidelis/fidelis/proof"
	"github.com/fidelis/fidelis/store"
)

// testProofConsentLedgerPages_C1 reads the whole consent ledger across customers in pages
// (proof.Store.ConsentRecordsPage), every record once, in ID order, with a start date.
func testProofConsentLedgerPages_C1(t *testing.T, open Opener) {
	db := open(t)
	ctx := t.Context()
	var ps proof.Store = db
	at := baseTime()
	var want []*consent.Record
	err := store.Consents{DB: db}.Write(ctx, func(tx consent.Tx) error {
		for i := range 7 {
			rec := at.Add(time.Duration(i) * time.Hour)
			r := &consent.Record{ID: fidelis.NewID("cns", rec), CustomerID: fidelis.NewCustomerID(at), Purpose: fidelis.PurposeMarketingEmail,
				Channel: privacy.ChannelEmail, Decision: privacy.ConsentGranted, Method: consent.MethodPaper, Reference: fmt.Sprint("FORM-", i),
				CollectedAt: fidelis.UTC(rec.Add(-time.Minute)), RecordedAt: fidelis.UTC(rec), RecordedBy: "user:usr_x"}
			if i%2 == 0 {
				r.NoticeVersion, r.NoticeHash = 1, "ab"
			}
			if i == 3 {
				r.Decision, r.Parental, r.Minor = privacy.ConsentWithdrawn, true, true
			}
			if err := tx.InsertConsent(ctx, r); err != nil {
				return err
			}
			want = append(want, r)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("InsertConsent = %v", err)
	}
	slices.SortFunc(want, func(a, b *consent.Record) int { return cmp.Compare(a.ID, b.ID) })

	page := func(after string, since time.Time, limit int) []*consent.Record {
		t.Helper()
		got, err := ps.ConsentRecordsPage(ctx, after, since, limit)
		if err != nil {
			t.Fatalf("ConsentRecordsPage(%q, %v, %d) = %v", after, since, limit, err)
		}
		return got
	}
	var got []*consent.Record
	for after := ""; ; {
		p := page(after, time.Time{}, 3)
		got = append(got, p...)
		if len(p) < 3 {
			break
		}
		after = p[len(p)-1].ID
	}
	if len(got) != len(want) {
		t.Fatalf("paged ledger = %d records; want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID || g.CustomerID != w.CustomerID || g.Decision != w.Decision || g.NoticeVersion != w.NoticeVersion || g.NoticeHash != w.NoticeHash ||
			g.Reference != w.Reference || g.Parental != w.Parental || g.Minor != w.Minor || g.RecordedBy != w.RecordedBy || g.Method != w.Method {
			t.Errorf("record %d = %+v; want %+v", i, g, w)
		}
		checkTime(t, "RecordedAt", g.RecordedAt, w.RecordedAt)
		checkTime(t, "CollectedAt", g.CollectedAt, w.CollectedAt)
	}
	// From a start date: the records recorded at or after it only.
	since := want[4].RecordedAt
	var ids []string
	for _, r := range page("", since, 100) {
		ids = append(ids, r.ID)
	}
	if wantIDs := []string{want[4].ID, want[5].ID, want[6].ID}; !slices.Equal(ids, wantIDs) {
		t.Errorf("ConsentRecordsPage(since record 4) = %v; want %v", ids, wantIDs)
	}
	if p := page(want[6].ID, time.Time{}, 10); len(p) != 0 {
		t.Errorf("ConsentRecordsPage(after the last) = %d records; want none", len(p))
	}
}

// testProofAuditPages_P4 reads sealed leaves and checkpoints in bounded pages, and finds
// the checkpoint before a time (proof.Store).
func testProofAuditPages_P4(t *testing.T, open Opener) {
	db := open(t)
	var ps proof.Store = db
	clock := baseTime()
	now := func() time.Time { clock = clock.Add(time.Second); return clock }
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	l := audit.NewLog(randomBytes(32), now)
	ctx := fidelis.WithActor(t.Context(), fidelis.SystemActor("storetest", fidelis.RoleAdmin))
	for i := range 7 {
		if err := db.RecordAudit(ctx, l.Entry(ctx, audit.Event{Action: fmt.Sprint("e", i)})); err != nil {
			t.Fatalf("RecordAudit = %v", err)
		}
	}
	if cp, err := ps.CheckpointBefore(ctx, clock.Add(time.Hour)); err != nil || cp != nil {
		t.Errorf("CheckpointBefore(empty log) = %v, %v; want nil, nil", cp, err)
	}
	s := &audit.Sealer{Store: db, Key: priv, Now: now, BatchSize: 3}
	if n, err := s.SealAll(ctx); err != nil || n != 7 {
		t.Fatalf("SealAll = %d, %v; want 7", n, err)
	}
	if err := db.RecordAudit(ctx, l.Entry(ctx, audit.Event{Action: "pending"})); err != nil {
		t.Fatal(err)
	}
	cps, err := ps.CheckpointsPage(ctx, 0, 1<<40, 100)
	if err != nil || len(cps) != 3 || cps[0].Size != 3 || cps[1].Size != 6 || cps[2].Size != 7 {
		t.Fatalf("CheckpointsPage(all) = %v, %v; want sizes 3, 6, 7", cps, err)
	}
	if p, err := ps.CheckpointsPage(ctx, 3, 7, 1); err != nil || len(p) != 1 || p[0].Size != 6 || p[0].Root != cps[1].Root || !slices.Equal(p[0].Frontier, cps[1].Frontier) {
		t.Errorf("CheckpointsPage(after 3, limit 1) = %v, %v; want the checkpoint of size 6 with its root and frontier", p, err)
	}
	if p, err := ps.CheckpointsPage(ctx, 3, 6, 10); err != nil || len(p) != 1 {
		t.Errorf("CheckpointsPage(3, 6] = %d, %v; want 1", len(p), err)
	}
	// The checkpoint before a time: the newest one made strictly before it.
	for _, tc := range []struct {
		at   time.Time
		want int64
	}{{cps[0].At, 0}, {cps[0].At.Add(time.Microsecond), 3}, {cps[2].At, 6}, {cps[2].At.Add(time.Hour), 7}} {
		cp, err := ps.CheckpointBefore(ctx, tc.at)
		var got int64
		if cp != nil {
			got = cp.Size
		}
		if err != nil || got != tc.want {
			t.Errorf("CheckpointBefore(%v) = size %d, %v; want %d", tc.at, got, err, tc.want)
		}
	}
	leaves, err := ps.LeavesPage(ctx, 2, 6, 3)
	if err != nil || len(leaves) != 3 {
		t.Fatalf("LeavesPage([2, 6), 3) = %d, %v; want 3", len(leaves), err)
	}
	for i, e := range leaves {
		if e.LeafIndex == nil || *e.LeafIndex != int64(2+i) || e.Action != fmt.Sprint("e", 2+i) || len(e.LeafHash) != 32 || len(e.MAC) != 32 || !l.Authentic(&e) {
			t.Errorf("LeavesPage[%d] = %+v; want leaf %d, action e%d, authentic", i, e, 2+i, 2+i)
		}
	}
	if rest, err := ps.LeavesPage(ctx, 5, 100, 100); err != nil || len(rest) != 2 {
		t.Errorf("LeavesPage([5, 100)) = %d, %v; want the 2 sealed leaves, not the pending entry", len(rest), err)
	}
}
