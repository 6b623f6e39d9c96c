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

// Nested implements loyalty.RewardsTx with a savepoint. The name may repeat: both engines
// release or roll back to the innermost savepoint of that name.
func (t *Tx) Nested(ctx context.Context, fn func() error) error {
	if _, err := t.exec(ctx, `SAVEPOINT loyalty_nested`); err != nil {
		return err
	}
	if err := fn(); err != nil {
		if _, rerr := t.exec(ctx, `ROLLBACK TO SAVEPOINT loyalty_nested`); rerr != nil {
			return errors.Join(err, rerr)
		}
		if _, rerr := t.exec(ctx, `RELEASE SAVEPOINT loyalty_nested`); rerr != nil {
			return errors.Join(err, rerr)
		}
		return translate(err)
	}
	_, err := t.exec(ctx, `RELEASE SAVEPOINT loyalty_nested`)
	return err
}

// Policy kinds in loyalty_policies.
const (
	policyTiers    = "tiers"
	policyReferral = "referral"
)

type tierDocument struct {
	Metric       loyalty.TierMetric `json:"metric"`
	PeriodMonths int                `json:"period_months"`
	Tiers        []loyalty.Tier     `json:"tiers"`
}

type referralDocument struct {
	ReferrerPoints int64 `json:"referrer_points"`
	RefereePoints  int64 `json:"referee_points"`
}

func (t *Tx) insertPolicy(ctx context.Context, programme, kind string, version, terms int, doc any, at time.Time) error {
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO loyalty_policies (programme_id, kind, version, terms_version, definition, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		programme, kind, version, terms, string(b), micros(at))
	return err
}

// policies calls fn for each stored policy of kind, oldest first.
func (t *Tx) policies(ctx context.Context, programme, kind string, fn func(version, terms int, def string, at time.Time) error) error {
	rows, err := t.query(ctx, `SELECT version, terms_version, definition, created_at FROM loyalty_policies WHERE programme_id = ? AND kind = ? ORDER BY version`, programme, kind)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var v, tv int
		var def string
		var at int64
		if err := rows.Scan(&v, &tv, &def, &at); err != nil {
			return err
		}
		if err := fn(v, tv, def, fromMicros(at)); err != nil {
			return err
		}
	}
	return rows.Err()
}

// InsertTierSchedule implements loyalty.RewardsTx.
func (t *Tx) InsertTierSchedule(ctx context.Context, s *loyalty.TierSchedule) error {
	return t.insertPolicy(ctx, s.Programme, policyTiers, s.Version, s.TermsVersion, tierDocument{Metric: s.Metric, PeriodMonths: s.PeriodMonths, Tiers: s.Tiers}, s.CreatedAt)
}

// TierSchedules implements loyalty.RewardsTx.
func (t *Tx) TierSchedules(ctx context.Context, programme string) ([]*loyalty.TierSchedule, error) {
	var out []*loyalty.TierSchedule
	err := t.policies(ctx, programme, policyTiers, func(v, tv int, def string, at time.Time) error {
		var d tierDocument
		if err := json.Unmarshal([]byte(def), &d); err != nil {
			return fmt.Errorf("tier schedule v%d: %w", v, err)
		}
		out = append(out, &loyalty.TierSchedule{Programme: programme, Version: v, TermsVersion: tv, Metric: d.Metric, PeriodMonths: d.PeriodMonths, Tiers: d.Tiers, CreatedAt: at})
		return nil
	})
	return out, err
}

// InsertReferralPolicy implements loyalty.RewardsTx.
func (t *Tx) InsertReferralPolicy(ctx context.Context, p *loyalty.ReferralPolicy) error {
	return t.insertPolicy(ctx, p.Programme, policyReferral, p.Version, p.TermsVersion, referralDocument{ReferrerPoints: p.ReferrerPoints, RefereePoints: p.RefereePoints}, p.CreatedAt)
}

// ReferralPolicies implements loyalty.RewardsTx.
func (t *Tx) ReferralPolicies(ctx context.Context, programme string) ([]*loyalty.ReferralPolicy, error) {
	var out []*loyalty.ReferralPolicy
	err := t.policies(ctx, programme, policyReferral, func(v, tv int, def string, at time.Time) error {
		var d referralDocument
		if err := json.Unmarshal([]byte(def), &d); err != nil {
			return fmt.Errorf("referral policy v%d: %w", v, err)
		}
		out = append(out, &loyalty.ReferralPolicy{Programme: programme, Version: v, TermsVersion: tv, ReferrerPoints: d.ReferrerPoints, RefereePoints: d.RefereePoints, CreatedAt: at})
		return nil
	})
	return out, err
}

// GetMemberTier implements loyalty.RewardsTx.
func (t *Tx) GetMemberTier(ctx context.Context, programme string, customer fidelis.CustomerID) (*loyalty.MemberTier, error) {
	mt := &loyalty.MemberTier{Programme: programme, Customer: customer}
	var since int64
	err := t.queryRow(ctx, `SELECT tier_id, schedule_version, since FROM loyalty_member_tiers WHERE programme_id = ? AND customer_id = ?`, programme, customer).
		Scan(&mt.Tier, &mt.ScheduleVersion, &since)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("member tier")
	}
	mt.Since = fromMicros(since)
	return mt, err
}

// PutMemberTier implements loyalty.RewardsTx.
func (t *Tx) PutMemberTier(ctx context.Context, mt *loyalty.MemberTier) error {
	_, err := t.exec(ctx, `INSERT INTO loyalty_member_tiers (programme_id, customer_id, tier_id, schedule_version, since) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (programme_id, customer_id) DO UPDATE SET tier_id = excluded.tier_id, schedule_version = excluded.schedule_version, since = excluded.since`,
		mt.Programme, mt.Customer, mt.Tier, mt.ScheduleVersion, micros(mt.Since))
	return err
}

// MemberTiers implements loyalty.RewardsTx.
func (t *Tx) MemberTiers(ctx context.Context, programme string) ([]*loyalty.MemberTier, error) {
	rows, err := t.query(ctx, `SELECT customer_id, tier_id, schedule_version, since FROM loyalty_member_tiers WHERE programme_id = ? ORDER BY customer_id`, programme)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*loyalty.MemberTier
	for rows.Next() {
		mt := &loyalty.MemberTier{Programme: programme}
		var since int64
		if err := rows.Scan(&mt.Customer, &mt.Tier, &mt.ScheduleVersion, &since); err != nil {
			return nil, err
		}
		mt.Since = fromMicros(since)
		out = append(out, mt)
	}
	return out, rows.Err()
}

// InsertTierChange implements loyalty.RewardsTx.
func (t *Tx) InsertTierChange(ctx context.Context, c *loyalty.TierChange) error {
	_, err := t.exec(ctx, `INSERT INTO loyalty_tier_changes (id, programme_id, customer_id, at, from_tier, to_tier, direction, schedule_version, terms_version,
		metric_value, threshold, period_from, period_to, reason_fr, reason_en) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Programme, c.Customer, micros(c.At), c.From, c.To, c.Direction, c.ScheduleVersion, c.TermsVersion, c.Value, c.Threshold,
		micros(c.PeriodFrom), micros(c.PeriodTo), c.Reason.FR, c.Reason.EN)
	return err
}

// TierChanges implements loyalty.RewardsTx.
func (t *Tx) TierChanges(ctx context.Context, programme string, customer fidelis.CustomerID) ([]*loyalty.TierChange, error) {
	const cols = `SELECT id, programme_id, customer_id, at, from_tier, to_tier, direction, schedule_version, terms_version, metric_value, threshold,
		period_from, period_to, reason_fr, reason_en FROM loyalty_tier_changes`
	var rows *sql.Rows
	var err error
	if programme == "" {
		rows, err = t.query(ctx, cols+` WHERE customer_id = ? ORDER BY id`, customer)
	} else {
		rows, err = t.query(ctx, cols+` WHERE programme_id = ? AND customer_id = ? ORDER BY id`, programme, customer)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*loyalty.TierChange
	for rows.Next() {
		c := &loyalty.TierChange{}
		var at, from, to int64
		if err := rows.Scan(&c.ID, &c.Programme, &c.Customer, &at, &c.From, &c.To, &c.Direction, &c.ScheduleVersion, &c.TermsVersion, &c.Value, &c.Threshold,
			&from, &to, &c.Reason.FR, &c.Reason.EN); err != nil {
			return nil, err
		}
		c.At, c.PeriodFrom, c.PeriodTo = fromMicros(at), fromMicros(from), fromMicros(to)
		out = append(out, c)
	}
	return out, rows.Err()
}

// ClaimTierReview implements loyalty.RewardsTx.
func (t *Tx) ClaimTierReview(ctx context.Context, programme, period string, at time.Time) (bool, error) {
	res, err := t.exec(ctx, `INSERT INTO loyalty_tier_reviews (programme_id, period, at) VALUES (?, ?, ?) ON CONFLICT (programme_id, period) DO NOTHING`,
		programme, period, micros(at))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// EarnedPoints implements loyalty.RewardsTx: the issuance postings of the member's order
// earnings and reversals, tier bonuses excluded.
func (t *Tx) EarnedPoints(ctx context.Context, programme string, customer fidelis.CustomerID, from, to time.Time) (int64, error) {
	var n sql.NullInt64
	err := t.queryRow(ctx, `SELECT SUM(p.amount) FROM loyalty_transactions x JOIN loyalty_postings p ON p.tx_id = x.id
		WHERE x.programme_id = ? AND x.customer_id = ? AND x.at >= ? AND x.at <= ? AND x.kind IN ('earn', 'reverse')
		AND substr(x.reference, 1, 4) = 'lod_' AND x.rule_id NOT LIKE 'tier:%' AND p.account = 'issuance'`,
		programme, customer, micros(from), micros(to)).Scan(&n)
	return -n.Int64, err
}

func (t *Tx) orders(ctx context.Context, query string, args ...any) ([]*loyalty.Order, error) {
	return queryAll(ctx, t, func(rows *sql.Rows) (*loyalty.Order, error) {
		o := &loyalty.Order{}
		var at, created int64
		var doc string
		if err := rows.Scan(&o.ID, &o.Programme, &o.Customer, &at, &o.Channel, &o.Store, &doc, &created); err != nil {
			return nil, err
		}
		var d orderDocument
		if err := json.Unmarshal([]byte(doc), &d); err != nil {
			return nil, fmt.Errorf("order %s: %w", o.ID, err)
		}
		o.Currency, o.Lines, o.OrderedAt, o.CreatedAt = d.Currency, d.Lines, fromMicros(at), fromMicros(created)
		return o, nil
	}, query, args...)
}

const orderColumns = `id, programme_id, customer_id, ordered_at, channel, store, document, created_at`

// CustomerOrders implements loyalty.RewardsTx.
func (t *Tx) CustomerOrders(ctx context.Context, programme string, customer fidelis.CustomerID, from, to time.Time) ([]*loyalty.Order, error) {
	return t.orders(ctx, `SELECT `+orderColumns+` FROM loyalty_orders WHERE customer_id = ? AND programme_id = ? AND ordered_at >= ? AND ordered_at <= ? ORDER BY ordered_at, id`,
		customer, programme, micros(from), micros(to))
}

// OrdersOf implements loyalty.RewardsTx.
func (t *Tx) OrdersOf(ctx context.Context, customer fidelis.CustomerID) ([]*loyalty.Order, error) {
	return t.orders(ctx, `SELECT `+orderColumns+` FROM loyalty_orders WHERE customer_id = ? ORDER BY id`, customer)
}

const rewardColumns = `id, programme_id, kind, name_fr, name_en, cost_points, stock, value_cents, gtin, valid_from, valid_until, voucher_days, active, created_at, updated_at, version`

func scanReward(sc interface{ Scan(...any) error }) (*loyalty.Reward, error) {
	r := &loyalty.Reward{}
	var kind string
	var stock, from, until sql.NullInt64
	var active int
	var created, updated int64
	if err := sc.Scan(&r.ID, &r.Programme, &kind, &r.Name.FR, &r.Name.EN, &r.CostPoints, &stock, &r.ValueCents, &r.GTIN, &from, &until, &r.VoucherDays,
		&active, &created, &updated, &r.Version); err != nil {
		return nil, err
	}
	r.Kind, r.Active = loyalty.RewardKind(kind), active != 0
	if stock.Valid {
		n := stock.Int64
		r.Stock = &n
	}
	r.ValidFrom, r.ValidUntil, r.CreatedAt, r.UpdatedAt = nullMicros(from), nullMicros(until), fromMicros(created), fromMicros(updated)
	return r, nil
}

func optInt(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// InsertReward implements loyalty.RewardsTx.
func (t *Tx) InsertReward(ctx context.Context, r *loyalty.Reward) error {
	_, err := t.exec(ctx, `INSERT INTO loyalty_rewards (`+rewardColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.Programme, string(r.Kind), r.Name.FR, r.Name.EN, r.CostPoints, optInt(r.Stock), r.ValueCents, r.GTIN, optMicros(r.ValidFrom), optMicros(r.ValidUntil),
		r.VoucherDays, boolInt(r.Active), micros(r.CreatedAt), micros(r.UpdatedAt), r.Version)
	return err
}

// GetReward implements loyalty.RewardsTx.
func (t *Tx) GetReward(ctx context.Context, id string) (*loyalty.Reward, error) {
	r, err := scanReward(t.queryRow(ctx, `SELECT `+rewardColumns+` FROM loyalty_rewards WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("reward")
	}
	return r, err
}

// UpdateReward implements loyalty.RewardsTx.
func (t *Tx) UpdateReward(ctx context.Context, r *loyalty.Reward) error {
	res, err := t.exec(ctx, `UPDATE loyalty_rewards SET name_fr = ?, name_en = ?, cost_points = ?, stock = ?, value_cents = ?, gtin = ?, valid_from = ?, valid_until = ?,
		voucher_days = ?, active = ?, updated_at = ?, version = ? WHERE id = ? AND version = ?`,
		r.Name.FR, r.Name.EN, r.CostPoints, optInt(r.Stock), r.ValueCents, r.GTIN, optMicros(r.ValidFrom), optMicros(r.ValidUntil), r.VoucherDays, boolInt(r.Active),
		micros(r.UpdatedAt), r.Version, r.ID, r.Version-1)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n != 1 {
		return &fidelis.Error{Code: fidelis.EPRECONDITION, Reason: "version_mismatch", Message: "the reward was changed meanwhile; try again"}
	}
	return nil
}

// DeleteReward implements loyalty.RewardsTx.
func (t *Tx) DeleteReward(ctx context.Context, id string) error {
	_, err := t.exec(ctx, `DELETE FROM loyalty_rewards WHERE id = ?`, id)
	return err
}

// ListRewards implements loyalty.RewardsTx.
func (t *Tx) ListRewards(ctx context.Context, programme, after string, limit int) ([]*loyalty.Reward, error) {
	rows, err := t.query(ctx, `SELECT `+rewardColumns+` FROM loyalty_rewards WHERE programme_id = ? AND id > ? ORDER BY id LIMIT ?`, programme, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*loyalty.Reward
	for rows.Next() {
		r, err := scanReward(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RewardReserved implements loyalty.RewardsTx.
func (t *Tx) RewardReserved(ctx context.Context, id string) (bool, error) {
	var n int
	err := t.queryRow(ctx, `SELECT COUNT(*) FROM loyalty_reservations WHERE reward_id = ?`, id).Scan(&n)
	return n > 0, err
}

// TakeStock implements loyalty.RewardsTx: one conditional UPDATE. On PostgreSQL a
// concurrent taker waits for the row and re-checks the condition on the new stock.
func (t *Tx) TakeStock(ctx context.Context, id string) (bool, error) {
	res, err := t.exec(ctx, `UPDATE loyalty_rewards SET stock = stock - 1 WHERE id = ? AND (stock IS NULL OR stock > 0)`, id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// ReturnStock implements loyalty.RewardsTx.
func (t *Tx) ReturnStock(ctx context.Context, id string) error {
	_, err := t.exec(ctx, `UPDATE loyalty_rewards SET stock = stock + 1 WHERE id = ? AND stock IS NOT NULL`, id)
	return err
}

const reservationColumns = `id, programme_id, customer_id, reward_id, points, status, reference, reserved_at, expires_at, settled_at, hold_tx, settle_tx,
	voucher_code, voucher_expires_at, voucher_used_at, voucher_used_ref`

func (t *Tx) reservations(ctx context.Context, query string, args ...any) ([]*loyalty.Reservation, error) {
	return queryAll(ctx, t, func(rows *sql.Rows) (*loyalty.Reservation, error) {
		r := &loyalty.Reservation{}
		var status string
		var reserved, expires int64
		var settled, vexp, vused sql.NullInt64
		var code sql.NullString
		if err := rows.Scan(&r.ID, &r.Programme, &r.Customer, &r.Reward, &r.Points, &status, &r.Reference, &reserved, &expires, &settled, &r.HoldTx, &r.SettleTx,
			&code, &vexp, &vused, &r.VoucherUsedRef); err != nil {
			return nil, err
		}
		r.Status, r.VoucherCode = loyalty.ReservationStatus(status), code.String
		r.ReservedAt, r.ExpiresAt, r.SettledAt = fromMicros(reserved), fromMicros(expires), nullMicros(settled)
		r.VoucherExpiresAt, r.VoucherUsedAt = nullMicros(vexp), nullMicros(vused)
		return r, nil
	}, query, args...)
}

func (t *Tx) reservation(ctx context.Context, query string, args ...any) (*loyalty.Reservation, error) {
	rs, err := t.reservations(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, notFound("reservation")
	}
	return rs[0], nil
}

func optString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// InsertReservation implements loyalty.RewardsTx.
func (t *Tx) InsertReservation(ctx context.Context, r *loyalty.Reservation) error {
	_, err := t.exec(ctx, `INSERT INTO loyalty_reservations (`+reservationColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.Programme, r.Customer, r.Reward, r.Points, string(r.Status), r.Reference, micros(r.ReservedAt), micros(r.ExpiresAt), optMicros(r.SettledAt),
		r.HoldTx, r.SettleTx, optString(r.VoucherCode), optMicros(r.VoucherExpiresAt), optMicros(r.VoucherUsedAt), r.VoucherUsedRef)
	return err
}

// GetReservation implements loyalty.RewardsTx.
func (t *Tx) GetReservation(ctx context.Context, id string) (*loyalty.Reservation, error) {
	return t.reservation(ctx, `SELECT `+reservationColumns+` FROM loyalty_reservations WHERE id = ?`, id)
}

// ReservationByVoucher implements loyalty.RewardsTx.
func (t *Tx) ReservationByVoucher(ctx context.Context, code string) (*loyalty.Reservation, error) {
	return t.reservation(ctx, `SELECT `+reservationColumns+` FROM loyalty_reservations WHERE voucher_code = ?`, code)
}

// UpdateReservation implements loyalty.RewardsTx.
func (t *Tx) UpdateReservation(ctx context.Context, r *loyalty.Reservation) error {
	_, err := t.exec(ctx, `UPDATE loyalty_reservations SET status = ?, settled_at = ?, settle_tx = ?, voucher_code = ?, voucher_expires_at = ?, voucher_used_at = ?,
		voucher_used_ref = ? WHERE id = ?`, string(r.Status), optMicros(r.SettledAt), r.SettleTx, optString(r.VoucherCode), optMicros(r.VoucherExpiresAt),
		optMicros(r.VoucherUsedAt), r.VoucherUsedRef, r.ID)
	return err
}

// DueReservations implements loyalty.RewardsTx.
func (t *Tx) DueReservations(ctx context.Context, until time.Time, limit int) ([]*loyalty.Reservation, error) {
	return t.reservations(ctx, `SELECT `+reservationColumns+` FROM loyalty_reservations WHERE status = 'reserved' AND expires_at <= ? ORDER BY expires_at, id LIMIT ?`,
		micros(until), limit)
}

// Reservations implements loyalty.RewardsTx.
func (t *Tx) Reservations(ctx context.Context, programme, after string, limit int) ([]*loyalty.Reservation, error) {
	return t.reservations(ctx, `SELECT `+reservationColumns+` FROM loyalty_reservations WHERE programme_id = ? AND id > ? ORDER BY id LIMIT ?`, programme, after, limit)
}

// CustomerReservations implements loyalty.RewardsTx.
func (t *Tx) CustomerReservations(ctx context.Context, customer fidelis.CustomerID) ([]*loyalty.Reservation, error) {
	return t.reservations(ctx, `SELECT `+reservationColumns+` FROM loyalty_reservations WHERE customer_id = ? ORDER BY id`, customer)
}

// GetLot implements loyalty.RewardsTx.
func (t *Tx) GetLot(ctx context.Context, id string) (*loyalty.Lot, error) {
	ls, err := t.lots(ctx, `SELECT `+lotColumns+` FROM loyalty_lots WHERE id = ?`, id)
	if err != nil {
		return nil, err
	}
	if len(ls) == 0 {
		return nil, notFound("lot")
	}
	return ls[0], nil
}

func (t *Tx) referralCode(ctx context.Context, query string, args ...any) (*loyalty.ReferralCode, error) {
	c := &loyalty.ReferralCode{}
	var at int64
	err := t.queryRow(ctx, query, args...).Scan(&c.Programme, &c.Customer, &c.Code, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("referral code")
	}
	c.CreatedAt = fromMicros(at)
	return c, err
}

// InsertReferralCode implements loyalty.RewardsTx.
func (t *Tx) InsertReferralCode(ctx context.Context, c *loyalty.ReferralCode) error {
	_, err := t.exec(ctx, `INSERT INTO loyalty_referral_codes (programme_id, customer_id, code, created_at) VALUES (?, ?, ?, ?)`, c.Programme, c.Customer, c.Code, micros(c.CreatedAt))
	return err
}

// ReferralCodeOf implements loyalty.RewardsTx.
func (t *Tx) ReferralCodeOf(ctx context.Context, programme string, customer fidelis.CustomerID) (*loyalty.ReferralCode, error) {
	return t.referralCode(ctx, `SELECT programme_id, customer_id, code, created_at FROM loyalty_referral_codes WHERE programme_id = ? AND customer_id = ?`, programme, customer)
}

// ReferralCodeByCode implements loyalty.RewardsTx.
func (t *Tx) ReferralCodeByCode(ctx context.Context, code string) (*loyalty.ReferralCode, error) {
	return t.referralCode(ctx, `SELECT programme_id, customer_id, code, created_at FROM loyalty_referral_codes WHERE code = ?`, code)
}

const referralColumns = `id, programme_id, referrer_id, referee_id, policy_version, joined_at, status, first_order_id, settled_at`

func (t *Tx) referrals(ctx context.Context, query string, args ...any) ([]*loyalty.Referral, error) {
	return queryAll(ctx, t, func(rows *sql.Rows) (*loyalty.Referral, error) {
		r := &loyalty.Referral{}
		var status string
		var joined int64
		var settled sql.NullInt64
		if err := rows.Scan(&r.ID, &r.Programme, &r.Referrer, &r.Referee, &r.PolicyVersion, &joined, &status, &r.FirstOrder, &settled); err != nil {
			return nil, err
		}
		r.Status, r.JoinedAt, r.SettledAt = loyalty.ReferralStatus(status), fromMicros(joined), nullMicros(settled)
		return r, nil
	}, query, args...)
}

// InsertReferral implements loyalty.RewardsTx.
func (t *Tx) InsertReferral(ctx context.Context, r *loyalty.Referral) error {
	_, err := t.exec(ctx, `INSERT INTO loyalty_referrals (`+referralColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.Programme, r.Referrer, r.Referee, r.PolicyVersion, micros(r.JoinedAt), string(r.Status), r.FirstOrder, optMicros(r.SettledAt))
	return err
}

// ReferralOf implements loyalty.RewardsTx.
func (t *Tx) ReferralOf(ctx context.Context, programme string, referee fidelis.CustomerID) (*loyalty.Referral, error) {
	rs, err := t.referrals(ctx, `SELECT `+referralColumns+` FROM loyalty_referrals WHERE programme_id = ? AND referee_id = ?`, programme, referee)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, notFound("referral")
	}
	return rs[0], nil
}

// UpdateReferral implements loyalty.RewardsTx.
func (t *Tx) UpdateReferral(ctx context.Context, r *loyalty.Referral) error {
	_, err := t.exec(ctx, `UPDATE loyalty_referrals SET status = ?, first_order_id = ?, settled_at = ? WHERE id = ?`, string(r.Status), r.FirstOrder, optMicros(r.SettledAt), r.ID)
	return err
}

// CustomerReferrals implements loyalty.RewardsTx.
func (t *Tx) CustomerReferrals(ctx context.Context, customer fidelis.CustomerID) ([]*loyalty.Referral, error) {
	return t.referrals(ctx, `SELECT `+referralColumns+` FROM loyalty_referrals WHERE referrer_id = ? OR referee_id = ? ORDER BY id`, customer, customer)
}

// outboxChunk bounds the rows of one outbox INSERT (5 parameters each).
const outboxChunk = 32

var outboxInserts = func() (qs [outboxChunk + 1]string) {
	for n := 1; n <= outboxChunk; n++ {
		qs[n] = `INSERT INTO outbox (id, at, type, subject, payload) VALUES (?, ?, ?, ?, ?)` + strings.Repeat(`, (?, ?, ?, ?, ?)`, n-1)
	}
	return qs
}()

// AppendLoyaltyEvents implements loyalty.RewardsTx with multi-row INSERTs.
func (t *Tx) AppendLoyaltyEvents(ctx context.Context, es []*loyalty.Event) error {
	for len(es) > 0 {
		n := min(len(es), outboxChunk)
		args := make([]any, 0, 5*n)
		for _, e := range es[:n] {
			var err error
			if args, err = eventArgs(args, e); err != nil {
				return err
			}
		}
		if _, err := t.exec(ctx, outboxInserts[n], args...); err != nil {
			return fmt.Errorf("append outbox events: %w", err)
		}
		es = es[n:]
	}
	return nil
}
