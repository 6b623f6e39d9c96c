package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/loyalty"
)

// Loyalty adapts DB to loyalty.Store.
type Loyalty struct{ Adapter[loyalty.Tx] }

// NewLoyalty returns the loyalty store on db.
func NewLoyalty(db *DB) Loyalty { return Loyalty{Adapter[loyalty.Tx]{DB: db}} }

var _ loyalty.Store = Loyalty{}
var _ loyalty.Tx = (*Tx)(nil)

// Snapshot implements loyalty.Store: one consistent snapshot for every statement (a
// repeatable-read transaction on PostgreSQL, a read transaction on SQLite's WAL).
func (l Loyalty) Snapshot(ctx context.Context, fn func(loyalty.Tx) error) error {
	opts := &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead}
	if l.DB.Dialect == SQLite {
		opts = nil // the read pool is query-only; BEGIN on it pins a WAL snapshot at the first read
	}
	return l.DB.run(ctx, l.DB.read, nil, opts, func(tx *Tx) error { return fn(tx) })
}

func optMicros(t *time.Time) any {
	if t == nil {
		return nil
	}
	return micros(*t)
}

// InsertProgramme implements loyalty.Tx.
func (t *Tx) InsertProgramme(ctx context.Context, p *loyalty.Programme) error {
	_, err := t.exec(ctx, `INSERT INTO loyalty_programmes (id, name, currency, point_value_cents, notice_days, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		p.ID, p.Name, p.Currency, p.PointValueCents, p.NoticeDays, micros(p.CreatedAt))
	return err
}

const programmeColumns = `id, name, currency, point_value_cents, notice_days, created_at`

func scanProgramme(sc interface{ Scan(...any) error }) (*loyalty.Programme, error) {
	p := &loyalty.Programme{}
	var created int64
	if err := sc.Scan(&p.ID, &p.Name, &p.Currency, &p.PointValueCents, &p.NoticeDays, &created); err != nil {
		return nil, err
	}
	p.CreatedAt = fromMicros(created)
	return p, nil
}

// GetProgramme implements loyalty.Tx.
func (t *Tx) GetProgramme(ctx context.Context, id string) (*loyalty.Programme, error) {
	p, err := scanProgramme(t.queryRow(ctx, `SELECT `+programmeColumns+` FROM loyalty_programmes WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("loyalty programme")
	}
	return p, err
}

// ListProgrammes implements loyalty.Tx.
func (t *Tx) ListProgrammes(ctx context.Context) ([]*loyalty.Programme, error) {
	rows, err := t.query(ctx, `SELECT `+programmeColumns+` FROM loyalty_programmes ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*loyalty.Programme
	for rows.Next() {
		p, err := scanProgramme(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// InsertTerms implements loyalty.Tx.
func (t *Tx) InsertTerms(ctx context.Context, v *loyalty.Terms) error {
	_, err := t.exec(ctx, `INSERT INTO loyalty_terms (programme_id, version, text_fr, text_en, changes_fr, changes_en, mediator_name, mediator_website,
		mediator_address, expiry_months, effective_at, published_at, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		v.Programme, v.Version, v.Text.FR, v.Text.EN, v.Changes.FR, v.Changes.EN, v.Mediator.Name, v.Mediator.Website, v.Mediator.Address,
		v.ExpiryMonths, micros(v.EffectiveAt), micros(v.PublishedAt), v.Hash)
	return err
}

// ListTerms implements loyalty.Tx.
func (t *Tx) ListTerms(ctx context.Context, programme string) ([]*loyalty.Terms, error) {
	rows, err := t.query(ctx, `SELECT programme_id, version, text_fr, text_en, changes_fr, changes_en, mediator_name, mediator_website,
		mediator_address, expiry_months, effective_at, published_at, hash FROM loyalty_terms WHERE programme_id = ? ORDER BY version`, programme)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*loyalty.Terms
	for rows.Next() {
		v := &loyalty.Terms{}
		var eff, pub int64
		if err := rows.Scan(&v.Programme, &v.Version, &v.Text.FR, &v.Text.EN, &v.Changes.FR, &v.Changes.EN, &v.Mediator.Name, &v.Mediator.Website,
			&v.Mediator.Address, &v.ExpiryMonths, &eff, &pub, &v.Hash); err != nil {
			return nil, err
		}
		v.EffectiveAt, v.PublishedAt = fromMicros(eff), fromMicros(pub)
		out = append(out, v)
	}
	return out, rows.Err()
}

// LoyaltyCustomerExists implements loyalty.Tx.
func (t *Tx) LoyaltyCustomerExists(ctx context.Context, id fidelis.CustomerID) (bool, error) {
	var n int
	err := t.queryRow(ctx, `SELECT COUNT(*) FROM customers WHERE id = ?`, id).Scan(&n)
	return n > 0, err
}

// InsertMember implements loyalty.Tx.
func (t *Tx) InsertMember(ctx context.Context, m *loyalty.Member) error {
	_, err := t.exec(ctx, `INSERT INTO loyalty_members (programme_id, customer_id, joined_at, left_at, terms_version, balance, debt, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, m.Programme, m.Customer, micros(m.JoinedAt), optMicros(m.LeftAt), m.TermsVersion, m.Balance, m.Debt, m.Version)
	return err
}

const memberColumns = `programme_id, customer_id, joined_at, left_at, terms_version, balance, debt, version`

func scanMember(sc interface{ Scan(...any) error }) (*loyalty.Member, error) {
	m := &loyalty.Member{}
	var joined int64
	var left sql.NullInt64
	if err := sc.Scan(&m.Programme, &m.Customer, &joined, &left, &m.TermsVersion, &m.Balance, &m.Debt, &m.Version); err != nil {
		return nil, err
	}
	m.JoinedAt, m.LeftAt = fromMicros(joined), nullMicros(left)
	return m, nil
}

func (t *Tx) members(ctx context.Context, query string, args ...any) ([]*loyalty.Member, error) {
	return queryAll(ctx, t, func(rows *sql.Rows) (*loyalty.Member, error) {
		m, err := scanMember(rows)
		if err != nil {
			return nil, err
		}
		return m, nil
	}, query, args...)
}

// GetMember implements loyalty.Tx. On PostgreSQL, lock takes a row lock held to the end of
// the transaction, which serialises concurrent operations on one member (L-7); SQLite has a
// single writer, so a write transaction already excludes every other.
func (t *Tx) GetMember(ctx context.Context, programme string, customer fidelis.CustomerID, lock bool) (*loyalty.Member, error) {
	q := `SELECT ` + memberColumns + ` FROM loyalty_members WHERE programme_id = ? AND customer_id = ?`
	if lock && t.db.Dialect == Postgres && t.inTx() {
		q += ` FOR UPDATE`
	}
	m, err := scanMember(t.queryRow(ctx, q, programme, customer))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("member")
	}
	return m, err
}

// UpdateMember implements loyalty.Tx: a conditional update on the version, so that even
// without the lock a lost update is impossible.
func (t *Tx) UpdateMember(ctx context.Context, m *loyalty.Member) error {
	res, err := t.exec(ctx, `UPDATE loyalty_members SET joined_at = ?, left_at = ?, terms_version = ?, balance = ?, debt = ?, version = ?
		WHERE programme_id = ? AND customer_id = ? AND version = ?`,
		micros(m.JoinedAt), optMicros(m.LeftAt), m.TermsVersion, m.Balance, m.Debt, m.Version, m.Programme, m.Customer, m.Version-1)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return &fidelis.Error{Code: fidelis.EPRECONDITION, Reason: "version_mismatch", Message: "the membership was changed meanwhile; try again"}
	}
	return nil
}

// ListMembers implements loyalty.Tx.
func (t *Tx) ListMembers(ctx context.Context, programme string, after fidelis.CustomerID, limit int) ([]*loyalty.Member, error) {
	return t.members(ctx, `SELECT `+memberColumns+` FROM loyalty_members WHERE programme_id = ? AND customer_id > ? ORDER BY customer_id LIMIT ?`, programme, after, limit)
}

// MembershipsOf implements loyalty.Tx.
func (t *Tx) MembershipsOf(ctx context.Context, customer fidelis.CustomerID) ([]*loyalty.Member, error) {
	return t.members(ctx, `SELECT `+memberColumns+` FROM loyalty_members WHERE customer_id = ? ORDER BY programme_id`, customer)
}

// InsertAcceptance implements loyalty.Tx.
func (t *Tx) InsertAcceptance(ctx context.Context, a *loyalty.Acceptance) error {
	_, err := t.exec(ctx, `INSERT INTO loyalty_acceptances (programme_id, customer_id, terms_version, terms_hash, accepted_at, channel) VALUES (?, ?, ?, ?, ?, ?)`,
		a.Programme, a.Customer, a.TermsVersion, a.TermsHash, micros(a.AcceptedAt), a.Channel)
	return err
}

// Acceptances implements loyalty.Tx.
func (t *Tx) Acceptances(ctx context.Context, programme string, customer fidelis.CustomerID) ([]*loyalty.Acceptance, error) {
	rows, err := t.query(ctx, `SELECT programme_id, customer_id, terms_version, terms_hash, accepted_at, channel FROM loyalty_acceptances
		WHERE programme_id = ? AND customer_id = ? ORDER BY accepted_at, terms_version`, programme, customer)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*loyalty.Acceptance
	for rows.Next() {
		a := &loyalty.Acceptance{}
		var at int64
		if err := rows.Scan(&a.Programme, &a.Customer, &a.TermsVersion, &a.TermsHash, &at, &a.Channel); err != nil {
			return nil, err
		}
		a.AcceptedAt = fromMicros(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// InsertLedgerTx implements loyalty.Tx.
func (t *Tx) InsertLedgerTx(ctx context.Context, x *loyalty.Transaction) error {
	return t.InsertLedgerTxs(ctx, []*loyalty.Transaction{x})
}

const ledgerColumns = `id, programme_id, customer_id, kind, at, rule_id, rule_version, terms_version, reason_fr, reason_en, reference`

// ledgerTxs runs query (selecting ledgerColumns) and loads each transaction's postings.
func (t *Tx) ledgerTxs(ctx context.Context, query string, args ...any) ([]*loyalty.Transaction, error) {
	rows, err := t.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	var out []*loyalty.Transaction
	byID := map[string]*loyalty.Transaction{}
	for rows.Next() {
		x := &loyalty.Transaction{}
		var at int64
		var kind string
		if err := rows.Scan(&x.ID, &x.Programme, &x.Customer, &kind, &at, &x.RuleID, &x.RuleVersion, &x.TermsVersion, &x.Reason.FR, &x.Reason.EN, &x.Reference); err != nil {
			rows.Close()
			return nil, err
		}
		x.Kind, x.At = loyalty.Kind(kind), fromMicros(at)
		out = append(out, x)
		byID[x.ID] = x
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	ph := strings.TrimSuffix(strings.Repeat("?, ", len(out)), ", ")
	ids := make([]any, len(out))
	for i, x := range out {
		ids[i] = x.ID
	}
	prows, err := t.query(ctx, `SELECT tx_id, account, customer_id, amount, lot_id FROM loyalty_postings WHERE tx_id IN (`+ph+`) ORDER BY tx_id, seq`, ids...)
	if err != nil {
		return nil, err
	}
	defer prows.Close()
	for prows.Next() {
		var id, account string
		var p loyalty.Posting
		if err := prows.Scan(&id, &account, &p.Customer, &p.Amount, &p.Lot); err != nil {
			return nil, err
		}
		p.Account = loyalty.Account(account)
		byID[id].Postings = append(byID[id].Postings, p)
	}
	return out, prows.Err()
}

// GetLedgerTx implements loyalty.Tx.
func (t *Tx) GetLedgerTx(ctx context.Context, id string) (*loyalty.Transaction, error) {
	txs, err := t.ledgerTxs(ctx, `SELECT `+ledgerColumns+` FROM loyalty_transactions WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(txs) == 0 {
		return nil, notFound("ledger transaction")
	}
	return txs[0], nil
}

// Ledger lookups that must follow an index (loyalty_transactions_programme and
// loyalty_transactions_reference), not read the whole programme: TestLedgerLookups_Indexed.
const (
	ledgerPageSQL     = `SELECT ` + ledgerColumns + ` FROM loyalty_transactions WHERE programme_id = ? AND id > ? ORDER BY id LIMIT ?`
	txsByReferenceSQL = `SELECT ` + ledgerColumns + ` FROM loyalty_transactions WHERE programme_id = ? AND reference = ? ORDER BY id`
)

// LedgerTxs implements loyalty.Tx.
func (t *Tx) LedgerTxs(ctx context.Context, programme, after string, limit int) ([]*loyalty.Transaction, error) {
	return t.ledgerTxs(ctx, ledgerPageSQL, programme, after, limit)
}

// MemberHistory implements loyalty.Tx.
func (t *Tx) MemberHistory(ctx context.Context, customer fidelis.CustomerID, before string, limit int) ([]*loyalty.Transaction, error) {
	if before == "" {
		return t.ledgerTxs(ctx, `SELECT `+ledgerColumns+` FROM loyalty_transactions WHERE customer_id = ? ORDER BY id DESC LIMIT ?`, customer, limit)
	}
	return t.ledgerTxs(ctx, `SELECT `+ledgerColumns+` FROM loyalty_transactions WHERE customer_id = ? AND id < ? ORDER BY id DESC LIMIT ?`, customer, before, limit)
}

// TxsByReference implements loyalty.Tx.
func (t *Tx) TxsByReference(ctx context.Context, programme, reference string) ([]*loyalty.Transaction, error) {
	return t.ledgerTxs(ctx, txsByReferenceSQL, programme, reference)
}

// MemberPoints implements loyalty.Tx.
func (t *Tx) MemberPoints(ctx context.Context, programme string, at time.Time) (int64, error) {
	var n sql.NullInt64
	err := t.queryRow(ctx, `SELECT SUM(p.amount) FROM loyalty_postings p JOIN loyalty_transactions x ON x.id = p.tx_id
		WHERE p.programme_id = ? AND p.account = 'member' AND x.at <= ?`, programme, micros(at)).Scan(&n)
	return n.Int64, err
}

// InsertLot implements loyalty.Tx.
func (t *Tx) InsertLot(ctx context.Context, l *loyalty.Lot) error {
	return t.InsertLots(ctx, []*loyalty.Lot{l})
}

// UpdateLot implements loyalty.Tx.
func (t *Tx) UpdateLot(ctx context.Context, l *loyalty.Lot) error {
	_, err := t.exec(ctx, `UPDATE loyalty_lots SET remaining = ?, notified_at = ? WHERE id = ?`, l.Remaining, optMicros(l.NotifiedAt), l.ID)
	return err
}

const lotColumns = `id, programme_id, customer_id, tx_id, earned_at, expires_at, points, remaining, notified_at`

func (t *Tx) lots(ctx context.Context, query string, args ...any) ([]*loyalty.Lot, error) {
	return queryAll(ctx, t, func(rows *sql.Rows) (*loyalty.Lot, error) {
		l := &loyalty.Lot{}
		var earned int64
		var expires, notified sql.NullInt64
		if err := rows.Scan(&l.ID, &l.Programme, &l.Customer, &l.TxID, &earned, &expires, &l.Points, &l.Remaining, &notified); err != nil {
			return nil, err
		}
		l.EarnedAt, l.ExpiresAt, l.NotifiedAt = fromMicros(earned), nullMicros(expires), nullMicros(notified)
		return l, nil
	}, query, args...)
}

// OpenLots implements loyalty.Tx.
func (t *Tx) OpenLots(ctx context.Context, programme string, customer fidelis.CustomerID) ([]*loyalty.Lot, error) {
	return t.lots(ctx, `SELECT `+lotColumns+` FROM loyalty_lots WHERE programme_id = ? AND customer_id = ? AND remaining > 0 ORDER BY earned_at, id`, programme, customer)
}

// Lots implements loyalty.Tx.
func (t *Tx) Lots(ctx context.Context, programme, after string, limit int) ([]*loyalty.Lot, error) {
	return t.lots(ctx, `SELECT `+lotColumns+` FROM loyalty_lots WHERE programme_id = ? AND id > ? ORDER BY id LIMIT ?`, programme, after, limit)
}

// ExpiringLots implements loyalty.Tx.
func (t *Tx) ExpiringLots(ctx context.Context, until time.Time, limit int) ([]*loyalty.Lot, error) {
	return t.lots(ctx, `SELECT `+lotColumns+` FROM loyalty_lots WHERE remaining > 0 AND expires_at <= ? ORDER BY expires_at, id LIMIT ?`, micros(until), limit)
}

// UnnotifiedLots implements loyalty.Tx.
func (t *Tx) UnnotifiedLots(ctx context.Context, until time.Time, limit int) ([]*loyalty.Lot, error) {
	q := `SELECT ` + lotColumns + ` FROM loyalty_lots WHERE remaining > 0 AND expires_at <= ? AND notified_at IS NULL ORDER BY expires_at, id LIMIT ?`
	if t.db.Dialect == Postgres {
		// Two nodes sending notices at once take different lots: a notice is sent once.
		q += ` FOR UPDATE SKIP LOCKED`
	}
	return t.lots(ctx, q, micros(until), limit)
}

// ClaimLoyaltyKey implements loyalty.Tx. On PostgreSQL, a concurrent transaction holding
// the same key makes the insert wait for it; then the existing row is read.
func (t *Tx) ClaimLoyaltyKey(ctx context.Context, k *loyalty.Idempotency) (*loyalty.Idempotency, error) {
	res, err := t.exec(ctx, `INSERT INTO loyalty_idempotency (scope, idem_key, request_hash, programme_id, result, created_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (scope, idem_key) DO NOTHING`, k.Scope, k.Key, k.RequestHash, k.Programme, k.Result, micros(k.CreatedAt))
	if err != nil {
		return nil, err
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, err
	} else if n == 1 {
		return nil, nil
	}
	return scanKey(t.queryRow(ctx, `SELECT `+keyColumns+` FROM loyalty_idempotency WHERE scope = ? AND idem_key = ?`, k.Scope, k.Key))
}

const keyColumns = `scope, idem_key, request_hash, programme_id, result, created_at`

func scanKey(sc interface{ Scan(...any) error }) (*loyalty.Idempotency, error) {
	k := &loyalty.Idempotency{}
	var at int64
	if err := sc.Scan(&k.Scope, &k.Key, &k.RequestHash, &k.Programme, &k.Result, &at); err != nil {
		return nil, err
	}
	k.CreatedAt = fromMicros(at)
	return k, nil
}

// LoyaltyKeys implements loyalty.Tx.
func (t *Tx) LoyaltyKeys(ctx context.Context, programme string) ([]*loyalty.Idempotency, error) {
	return queryAll(ctx, t, func(rows *sql.Rows) (*loyalty.Idempotency, error) { return scanKey(rows) },
		`SELECT `+keyColumns+` FROM loyalty_idempotency WHERE programme_id = ? ORDER BY scope, idem_key`, programme)
}

// AppendLoyaltyEvent implements loyalty.Tx.
func (t *Tx) AppendLoyaltyEvent(ctx context.Context, e *loyalty.Event) error {
	payload, err := json.Marshal(map[string]any{"id": e.ID, "type": e.Type, "subject": e.Subject, "at": e.At, "data": e.Data})
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO outbox (id, at, type, subject, payload) VALUES (?, ?, ?, ?, ?)`, e.ID, micros(e.At), e.Type, e.Subject, string(payload))
	return err
}

// ruleDocument is the stored definition of a rule version.
type ruleDocument struct {
	Name           loyalty.Text         `json:"name"`
	PointsPerUnit  int64                `json:"points_per_unit"`
	Multipliers    []loyalty.Multiplier `json:"multipliers"`
	MinBasketCents int64                `json:"min_basket_cents"`
	ValidFrom      *time.Time           `json:"valid_from"`
	ValidUntil     *time.Time           `json:"valid_until"`
	Countries      []string             `json:"countries"`
	MinAge         int                  `json:"min_age"`
}

// InsertRule implements loyalty.Tx.
func (t *Tx) InsertRule(ctx context.Context, r *loyalty.Rule) error {
	b, err := json.Marshal(ruleDocument{Name: r.Name, PointsPerUnit: r.PointsPerUnit, Multipliers: r.Multipliers, MinBasketCents: r.MinBasketCents,
		ValidFrom: r.ValidFrom, ValidUntil: r.ValidUntil, Countries: r.Countries, MinAge: r.MinAge})
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO loyalty_rules (programme_id, id, version, definition, created_at) VALUES (?, ?, ?, ?, ?)`,
		r.Programme, r.ID, r.Version, string(b), micros(r.CreatedAt))
	return err
}

func (t *Tx) rules(ctx context.Context, query string, args ...any) ([]*loyalty.Rule, error) {
	return queryAll(ctx, t, func(rows *sql.Rows) (*loyalty.Rule, error) {
		r := &loyalty.Rule{}
		var def string
		var created int64
		if err := rows.Scan(&r.Programme, &r.ID, &r.Version, &def, &created); err != nil {
			return nil, err
		}
		var d ruleDocument
		if err := json.Unmarshal([]byte(def), &d); err != nil {
			return nil, fmt.Errorf("rule %s v%d: %w", r.ID, r.Version, err)
		}
		r.Name, r.PointsPerUnit, r.Multipliers, r.MinBasketCents, r.Countries, r.MinAge = d.Name, d.PointsPerUnit, d.Multipliers, d.MinBasketCents, d.Countries, d.MinAge
		r.ValidFrom, r.ValidUntil, r.CreatedAt = utcPtr(d.ValidFrom), utcPtr(d.ValidUntil), fromMicros(created)
		return r, nil
	}, query, args...)
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := fidelis.UTC(*t)
	return &u
}

// Rules implements loyalty.Tx.
func (t *Tx) Rules(ctx context.Context, programme string) ([]*loyalty.Rule, error) {
	return t.rules(ctx, `SELECT programme_id, id, version, definition, created_at FROM loyalty_rules WHERE programme_id = ? ORDER BY id, version`, programme)
}

// GetRule implements loyalty.Tx.
func (t *Tx) GetRule(ctx context.Context, programme, id string, version int) (*loyalty.Rule, error) {
	rs, err := t.rules(ctx, `SELECT programme_id, id, version, definition, created_at FROM loyalty_rules WHERE programme_id = ? AND id = ? AND version = ?`, programme, id, version)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, notFound("rule")
	}
	return rs[0], nil
}

// orderDocument is the stored content of an order.
type orderDocument struct {
	Currency string              `json:"currency"`
	Lines    []loyalty.OrderLine `json:"lines"`
}

// InsertOrder implements loyalty.Tx.
func (t *Tx) InsertOrder(ctx context.Context, o *loyalty.Order) error {
	return t.InsertOrders(ctx, []*loyalty.Order{o})
}

// GetOrder implements loyalty.Tx.
func (t *Tx) GetOrder(ctx context.Context, id string) (*loyalty.Order, error) {
	o := &loyalty.Order{}
	var at, created int64
	var doc string
	err := t.queryRow(ctx, `SELECT id, programme_id, customer_id, ordered_at, channel, store, document, created_at FROM loyalty_orders WHERE id = ?`, id).
		Scan(&o.ID, &o.Programme, &o.Customer, &at, &o.Channel, &o.Store, &doc, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("order")
	} else if err != nil {
		return nil, err
	}
	var d orderDocument
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return nil, fmt.Errorf("order %s: %w", id, err)
	}
	o.Currency, o.Lines, o.OrderedAt, o.CreatedAt = d.Currency, d.Lines, fromMicros(at), fromMicros(created)
	return o, nil
}

// UpdateOrder implements loyalty.Tx.
func (t *Tx) UpdateOrder(ctx context.Context, o *loyalty.Order) error {
	b, err := json.Marshal(orderDocument{Currency: o.Currency, Lines: o.Lines})
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `UPDATE loyalty_orders SET document = ? WHERE id = ?`, string(b), o.ID)
	return err
}
