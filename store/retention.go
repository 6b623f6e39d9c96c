package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/retention"
)

// Retention adapts DB to retention.Store.
type Retention = Adapter[retention.Tx]

var (
	_ retention.Store  = Retention{}
	_ retention.Tx     = (*Tx)(nil)
	_ retention.Locker = (*DB)(nil)
)

// placeholders returns "?, ?, ..." for n values (hand-written IN lists: placeholders only).
func placeholders(n int) string {
	return "?" + strings.Repeat(", ?", n-1)
}

// PutRetentionActivity implements retention.Tx: the later time wins.
func (t *Tx) PutRetentionActivity(ctx context.Context, id fidelis.CustomerID, kind retention.Kind, at time.Time) error {
	_, err := t.exec(ctx, `INSERT INTO retention_activity (customer_id, kind, last_at) VALUES (?, ?, ?)
ON CONFLICT (customer_id, kind) DO UPDATE SET last_at = CASE WHEN excluded.last_at > retention_activity.last_at THEN excluded.last_at ELSE retention_activity.last_at END`,
		string(id), string(kind), micros(at))
	return err
}

// RetentionActivity implements retention.Tx.
func (t *Tx) RetentionActivity(ctx context.Context, id fidelis.CustomerID) (map[retention.Kind]time.Time, error) {
	rows, err := t.query(ctx, `SELECT kind, last_at FROM retention_activity WHERE customer_id = ?`, string(id))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[retention.Kind]time.Time{}
	for rows.Next() {
		var k string
		var at int64
		if err := rows.Scan(&k, &at); err != nil {
			return nil, err
		}
		out[retention.Kind(k)] = fromMicros(at)
	}
	return out, rows.Err()
}

// RetentionOverrides implements retention.Tx.
func (t *Tx) RetentionOverrides(ctx context.Context) ([]retention.Override, error) {
	rows, err := t.query(ctx, `SELECT rule_id, months, reason, set_by, set_at FROM retention_overrides ORDER BY rule_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []retention.Override
	for rows.Next() {
		var o retention.Override
		var rule string
		var at int64
		if err := rows.Scan(&rule, &o.Months, &o.Reason, &o.By, &at); err != nil {
			return nil, err
		}
		o.Rule, o.At = retention.RuleID(rule), fromMicros(at)
		out = append(out, o)
	}
	return out, rows.Err()
}

// PutRetentionOverride implements retention.Tx.
func (t *Tx) PutRetentionOverride(ctx context.Context, o *retention.Override) error {
	_, err := t.exec(ctx, `INSERT INTO retention_overrides (rule_id, months, reason, set_by, set_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (rule_id) DO UPDATE SET months = excluded.months, reason = excluded.reason, set_by = excluded.set_by, set_at = excluded.set_at`,
		string(o.Rule), o.Months, o.Reason, o.By, micros(o.At))
	return err
}

const holdColumns = `id, customer_id, case_ref, reason, placed_by, placed_at, lifted_by, lifted_at, lift_reason`

func scanHold(sc interface{ Scan(...any) error }) (*retention.Hold, error) {
	h := &retention.Hold{}
	var placed int64
	var lifted sql.NullInt64
	if err := sc.Scan(&h.ID, &h.CustomerID, &h.Case, &h.Reason, &h.PlacedBy, &placed, &h.LiftedBy, &lifted, &h.LiftReason); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, notFound("legal hold")
		}
		return nil, err
	}
	h.PlacedAt, h.LiftedAt = fromMicros(placed), nullMicros(lifted)
	return h, nil
}

// InsertRetentionHold implements retention.Tx.
func (t *Tx) InsertRetentionHold(ctx context.Context, h *retention.Hold) error {
	_, err := t.exec(ctx, `INSERT INTO retention_holds (`+holdColumns+`) VALUES (?, ?, ?, ?, ?, ?, '', NULL, '')`,
		h.ID, string(h.CustomerID), h.Case, h.Reason, h.PlacedBy, micros(h.PlacedAt))
	return err
}

// LiftRetentionHold implements retention.Tx.
func (t *Tx) LiftRetentionHold(ctx context.Context, h *retention.Hold) error {
	if h.LiftedAt == nil {
		return errors.New("store: LiftRetentionHold without a lift time")
	}
	res, err := t.exec(ctx, `UPDATE retention_holds SET lifted_by = ?, lifted_at = ?, lift_reason = ? WHERE id = ? AND lifted_at IS NULL`,
		h.LiftedBy, micros(*h.LiftedAt), h.LiftReason, h.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := t.RetentionHold(ctx, h.ID); err != nil {
			return err
		}
		return &fidelis.Error{Code: fidelis.EPRECONDITION, Reason: "already_lifted", Message: "the legal hold was lifted already"}
	}
	return nil
}

// RetentionHold implements retention.Tx.
func (t *Tx) RetentionHold(ctx context.Context, id string) (*retention.Hold, error) {
	return scanHold(t.queryRow(ctx, `SELECT `+holdColumns+` FROM retention_holds WHERE id = ?`, id))
}

// RetentionHolds implements retention.Tx.
func (t *Tx) RetentionHolds(ctx context.Context, f retention.HoldFilter, limit int) ([]*retention.Hold, error) {
	var where []string
	var args []any
	if f.CustomerID != "" {
		where, args = append(where, "customer_id = ?"), append(args, string(f.CustomerID))
	}
	if f.ActiveOnly {
		where = append(where, "lifted_at IS NULL")
	}
	q := `SELECT ` + holdColumns + ` FROM retention_holds`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	rows, err := t.query(ctx, q+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*retention.Hold{}
	for rows.Next() {
		h, err := scanHold(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// PutRetentionNotice implements retention.Tx.
func (t *Tx) PutRetentionNotice(ctx context.Context, n *retention.NoticeRecord) error {
	_, err := t.exec(ctx, `INSERT INTO retention_notices (customer_id, rule_id, notice, at, result, message_id) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (customer_id, rule_id) DO UPDATE SET notice = excluded.notice, at = excluded.at, result = excluded.result, message_id = excluded.message_id`,
		string(n.CustomerID), string(n.Rule), string(n.Notice), micros(n.At), string(n.Result), n.MessageID)
	return err
}

// RetentionSubject implements retention.Tx.
func (t *Tx) RetentionSubject(ctx context.Context, id fidelis.CustomerID) (*retention.Subject, error) {
	subs, err := t.retentionSubjects(ctx, `SELECT id, created_at FROM customers WHERE id = ?`, string(id))
	if err != nil {
		return nil, err
	}
	if len(subs) == 0 {
		return nil, notFound("customer")
	}
	return subs[0], nil
}

// RetentionSubjects implements retention.Tx.
func (t *Tx) RetentionSubjects(ctx context.Context, after fidelis.CustomerID, limit int) ([]*retention.Subject, error) {
	return t.retentionSubjects(ctx, `SELECT id, created_at FROM customers WHERE id > ? ORDER BY id LIMIT ?`, string(after), limit)
}

// retentionSubjects reads the customers query selects, then their facts, a hundred
// customers per statement.
func (t *Tx) retentionSubjects(ctx context.Context, query string, args ...any) ([]*retention.Subject, error) {
	rows, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	var subs []*retention.Subject
	byID := map[fidelis.CustomerID]*retention.Subject{}
	for rows.Next() {
		s := &retention.Subject{Activity: map[retention.Kind]time.Time{}, Notices: map[retention.RuleID]*retention.NoticeRecord{}}
		var created int64
		if err := rows.Scan(&s.ID, &created); err != nil {
			rows.Close()
			return nil, err
		}
		s.CollectedAt = fromMicros(created)
		subs = append(subs, s)
		byID[s.ID] = s
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := 0; i < len(subs); i += 100 {
		chunk := subs[i:min(i+100, len(subs))]
		if err := t.retentionFacts(ctx, chunk, byID); err != nil {
			return nil, fmt.Errorf("retention facts: %w", err)
		}
	}
	return subs, nil
}

// retentionFacts fills the activity (recorded, and the loyalty ledger's orders and
// redemptions), memberships, privacy states, active holds and notices of subs.
func (t *Tx) retentionFacts(ctx context.Context, subs []*retention.Subject, byID map[fidelis.CustomerID]*retention.Subject) error {
	ids := make([]fidelis.CustomerID, len(subs))
	args := make([]any, len(subs))
	for i, s := range subs {
		ids[i], args[i] = s.ID, string(s.ID)
	}
	in := `(` + placeholders(len(subs)) + `)`
	each := func(q string, scan func(rows *sql.Rows) error) error {
		rows, err := t.query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	touch := func(id string, k retention.Kind, us int64) {
		if s := byID[fidelis.CustomerID(id)]; s != nil {
			if at := fromMicros(us); at.After(s.Activity[k]) {
				s.Activity[k] = at
			}
		}
	}
	var id string
	var us int64
	if err := each(`SELECT customer_id, kind, last_at FROM retention_activity WHERE customer_id IN `+in, func(r *sql.Rows) error {
		var k string
		if err := r.Scan(&id, &k, &us); err != nil {
			return err
		}
		touch(id, retention.Kind(k), us)
		return nil
	}); err != nil {
		return err
	}
	// A loyalty order is a purchase and a redemption an activity of the member, at the
	// time they happened (late till uploads count at their own date).
	if err := each(`SELECT customer_id, MAX(ordered_at) FROM loyalty_orders WHERE customer_id IN `+in+` GROUP BY customer_id`, func(r *sql.Rows) error {
		if err := r.Scan(&id, &us); err != nil {
			return err
		}
		touch(id, retention.KindPurchase, us)
		return nil
	}); err != nil {
		return err
	}
	if err := each(`SELECT customer_id, MAX(at) FROM loyalty_transactions WHERE kind = 'redeem' AND customer_id IN `+in+` GROUP BY customer_id`, func(r *sql.Rows) error {
		if err := r.Scan(&id, &us); err != nil {
			return err
		}
		touch(id, retention.KindRedemption, us)
		return nil
	}); err != nil {
		return err
	}
	if err := each(`SELECT customer_id, MIN(joined_at), MAX(left_at), SUM(CASE WHEN left_at IS NULL THEN 1 ELSE 0 END) FROM loyalty_members WHERE customer_id IN `+in+` GROUP BY customer_id`, func(r *sql.Rows) error {
		var joined int64
		var left sql.NullInt64
		var active int64
		if err := r.Scan(&id, &joined, &left, &active); err != nil {
			return err
		}
		m := &retention.Membership{JoinedAt: fromMicros(joined)}
		if active == 0 {
			m.LeftAt = nullMicros(left)
		}
		byID[fidelis.CustomerID(id)].Membership = m
		return nil
	}); err != nil {
		return err
	}
	if err := each(`SELECT `+holdColumns+` FROM retention_holds WHERE lifted_at IS NULL AND customer_id IN `+in+` ORDER BY id`, func(r *sql.Rows) error {
		h, err := scanHold(r)
		if err != nil {
			return err
		}
		s := byID[h.CustomerID]
		s.Holds = append(s.Holds, h)
		return nil
	}); err != nil {
		return err
	}
	if err := each(`SELECT customer_id, rule_id, notice, at, result, message_id FROM retention_notices WHERE customer_id IN `+in, func(r *sql.Rows) error {
		n := &retention.NoticeRecord{}
		var rule, notice, result string
		if err := r.Scan(&n.CustomerID, &rule, &notice, &us, &result, &n.MessageID); err != nil {
			return err
		}
		n.Rule, n.Notice, n.At, n.Result = retention.RuleID(rule), retention.Notice(notice), fromMicros(us), retention.NoticeResult(result)
		byID[n.CustomerID].Notices[n.Rule] = n
		return nil
	}); err != nil {
		return err
	}
	states, err := t.SubjectStates(ctx, ids)
	if err != nil {
		return err
	}
	for cid, st := range states {
		byID[cid].State = st
	}
	return nil
}

// runCounts is the JSON document of a run's counts.
type runCounts struct {
	Counts map[retention.Action]int                      `json:"counts"`
	ByRule map[retention.RuleID]map[retention.Action]int `json:"by_rule"`
}

// InsertRetentionRun implements retention.Tx.
func (t *Tx) InsertRetentionRun(ctx context.Context, r *retention.Run) error {
	b, err := json.Marshal(runCounts{Counts: r.Counts, ByRule: r.ByRule})
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO retention_runs (id, at, by_actor, scanned, counts, duration_us) VALUES (?, ?, ?, ?, ?, ?)`,
		r.ID, micros(r.At), r.By, r.Scanned, string(b), r.Duration.Microseconds())
	return err
}

// RetentionRuns implements retention.Tx.
func (t *Tx) RetentionRuns(ctx context.Context, limit int) ([]*retention.Run, error) {
	rows, err := t.query(ctx, `SELECT id, at, by_actor, scanned, counts, duration_us FROM retention_runs ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*retention.Run{}
	for rows.Next() {
		r := &retention.Run{}
		var at, dur int64
		var raw string
		if err := rows.Scan(&r.ID, &at, &r.By, &r.Scanned, &raw, &dur); err != nil {
			return nil, err
		}
		var c runCounts
		if err := json.Unmarshal([]byte(raw), &c); err != nil {
			return nil, fmt.Errorf("retention run %s: %w", r.ID, err)
		}
		r.At, r.Counts, r.ByRule, r.Duration = fromMicros(at), c.Counts, c.ByRule, time.Duration(dur)*time.Microsecond
		out = append(out, r)
	}
	return out, rows.Err()
}

// leaseTime is how long a SQLite job lease lasts if its holder dies without releasing it.
const leaseTime = 6 * time.Hour

// TryLock implements retention.Locker: on PostgreSQL a session advisory lock held on its
// own connection, so that two nodes never run the named job together; on SQLite a lease
// row, which also keeps a command and a server on the same file apart.
func (db *DB) TryLock(ctx context.Context, name string) (func(), bool, error) {
	if db.Dialect == Postgres {
		h := fnv.New64a()
		h.Write([]byte("fidelis-job:" + name))
		key := int64(h.Sum64())
		conn, err := db.write.Conn(ctx)
		if err != nil {
			return nil, false, translate(fmt.Errorf("store: lock %s: %w", name, err))
		}
		var ok bool
		if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil {
			conn.Close()
			return nil, false, translate(fmt.Errorf("store: lock %s: %w", name, err))
		}
		if !ok {
			conn.Close()
			return nil, false, nil
		}
		return func() {
			_, _ = conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, key)
			conn.Close()
		}, true, nil
	}
	holder := fidelis.NewID("lck", time.Now())
	var ok bool
	err := db.WriteTx(ctx, func(tx *Tx) error {
		now := time.Now()
		if _, err := tx.exec(ctx, `DELETE FROM job_leases WHERE name = ? AND until < ?`, name, micros(now)); err != nil {
			return err
		}
		res, err := tx.exec(ctx, `INSERT INTO job_leases (name, holder, until) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`, name, holder, micros(now.Add(leaseTime)))
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		ok = n == 1
		return nil
	})
	if err != nil || !ok {
		return nil, false, err
	}
	return func() {
		_ = db.WriteTx(context.Background(), func(tx *Tx) error {
			_, err := tx.exec(context.Background(), `DELETE FROM job_leases WHERE name = ? AND holder = ?`, name, holder)
			return err
		})
	}, true, nil
}
