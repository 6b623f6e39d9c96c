package loyalty

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/fidelis/fidelis"
)

// Ledger accounts and transaction kinds of reservations (L-6, L-7).
const (
	// AccountReserved holds, per member, the points of open reservations: taken from the
	// member's lots, not yet redeemed nor given back.
	AccountReserved Account = "reserved"
	// KindReserve moves points from the member to their reserved account.
	KindReserve Kind = "reserve"
	// KindRelease gives reserved points back to the lots they came from (cancellation or
	// expiry of a reservation).
	KindRelease Kind = "release"
)

// Audit actions of the rewards capability.
const (
	ActReserve    = "loyalty.reserve"
	ActConfirm    = "loyalty.confirm_reservation"
	ActCancel     = "loyalty.cancel_reservation"
	ActVoucherUse = "loyalty.use_voucher"
)

// RewardKind says what a reward gives.
type RewardKind string

// Reward kinds.
const (
	RewardVoucher  RewardKind = "voucher"  // a voucher code, checked and used once at a till
	RewardProduct  RewardKind = "product"  // a product handed over at the till
	RewardDiscount RewardKind = "discount" // a discount applied to the basket at the till
)

// Reward is an entry of a programme's rewards catalogue. Stock nil means unlimited.
type Reward struct {
	ID          string
	Programme   string
	Kind        RewardKind
	Name        Text
	CostPoints  int64
	Stock       *int64
	ValueCents  int64 // face value of a voucher or discount; 0 for a product
	GTIN        string
	ValidFrom   *time.Time
	ValidUntil  *time.Time
	VoucherDays int // a voucher is valid this many days after confirmation
	Active      bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Version     int64
}

// Available reports whether the reward may be reserved at t (stock aside).
func (r *Reward) Available(t time.Time) bool {
	return r.Active && (r.ValidFrom == nil || !t.Before(*r.ValidFrom)) && (r.ValidUntil == nil || t.Before(*r.ValidUntil))
}

// ReservationStatus is the state of a reservation.
type ReservationStatus string

// Reservation states: reserved, then exactly one of the others.
const (
	ReservationReserved  ReservationStatus = "reserved"
	ReservationConfirmed ReservationStatus = "confirmed"
	ReservationCancelled ReservationStatus = "cancelled"
	ReservationExpired   ReservationStatus = "expired"
)

// Reservation holds a member's points and one unit of a reward's stock until a till
// confirms it (the points are redeemed, a voucher is issued) or cancels it, or it expires
// (both are given back).
type Reservation struct {
	ID        string
	Programme string
	Customer  fidelis.CustomerID
	Reward    string
	Points    int64
	Status    ReservationStatus
	Reference string
	// ReservedAt and ExpiresAt bound the hold.
	ReservedAt time.Time
	ExpiresAt  time.Time
	SettledAt  *time.Time
	HoldTx     string // the reserve transaction
	SettleTx   string // the redeem or release transaction, "" while reserved
	// Voucher: set on confirmation of a voucher reward.
	VoucherCode      string
	VoucherExpiresAt *time.Time
	VoucherUsedAt    *time.Time
	VoucherUsedRef   string
}

// DefaultReservationTTL is how long a reservation holds points and stock.
const DefaultReservationTTL = 15 * time.Minute

// Default and bounds of a voucher's validity.
const (
	DefaultVoucherDays = 90
	maxVoucherDays     = 3650
)

// RewardInput creates a reward.
type RewardInput struct {
	Kind        RewardKind
	Name        Text
	CostPoints  int64
	Stock       *int64
	ValueCents  int64
	GTIN        string
	ValidFrom   *time.Time
	ValidUntil  *time.Time
	VoucherDays int
	Active      *bool
}

// Opt is an optional patch member: Set says it was sent, Value nil means null.
type Opt[T any] struct {
	Set   bool
	Value *T
}

// RewardPatch changes a reward; absent members stay as they are. Version, when not 0, must
// be the stored version (optimistic concurrency).
type RewardPatch struct {
	Name        *Text
	CostPoints  *int64
	ValueCents  *int64
	GTIN        *string
	VoucherDays *int
	Active      *bool
	Stock       Opt[int64]
	ValidFrom   Opt[time.Time]
	ValidUntil  Opt[time.Time]
	Version     int64
}

func (r *Reward) validate() error {
	var errs []fidelis.FieldError
	bad := func(f, rule, msg string) { errs = append(errs, fidelis.FieldError{Field: f, Rule: rule, Message: msg}) }
	if !slices.Contains([]RewardKind{RewardVoucher, RewardProduct, RewardDiscount}, r.Kind) {
		bad("kind", "invalid", "must be voucher, product or discount")
	}
	if strings.TrimSpace(r.Name.FR) == "" || strings.TrimSpace(r.Name.EN) == "" || !cleanText(r.Name.FR, 200) || !cleanText(r.Name.EN, 200) {
		bad("name", "required", "needs a French and an English name of at most 200 bytes")
	}
	if r.CostPoints < 1 || r.CostPoints > maxPoints {
		bad("cost_points", "out_of_range", fmt.Sprintf("must be from 1 to %d", maxPoints))
	}
	if r.Stock != nil && (*r.Stock < 0 || *r.Stock > 100_000_000) {
		bad("stock", "out_of_range", "must be from 0 to 100000000, or null for unlimited")
	}
	if r.ValueCents < 0 || r.ValueCents > 100_000_000 {
		bad("value_cents", "out_of_range", "must be from 0 to 100000000")
	}
	if r.GTIN != "" && !ValidGTIN(r.GTIN) {
		bad("gtin", "invalid_gtin", "is not a GTIN-8, -12, -13 or -14 with a valid check digit")
	}
	if r.Kind == RewardProduct && r.GTIN == "" {
		bad("gtin", "required", "a product reward names the product's GTIN")
	}
	if r.ValidFrom != nil && r.ValidUntil != nil && !r.ValidUntil.After(*r.ValidFrom) {
		bad("valid_until", "before_start", "must be after valid_from")
	}
	if r.VoucherDays < 1 || r.VoucherDays > maxVoucherDays {
		bad("voucher_days", "out_of_range", fmt.Sprintf("must be from 1 to %d", maxVoucherDays))
	}
	if len(errs) > 0 {
		slices.SortFunc(errs, func(a, b fidelis.FieldError) int { return strings.Compare(a.Field, b.Field) })
		return fidelis.Invalid(errs...)
	}
	return nil
}

func rewardNotFound() error {
	return &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "reward_not_found", Message: "no reward with this id in this programme"}
}

func utcOpt(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := fidelis.UTC(*t)
	return &u
}

// CreateReward adds a reward to a programme's catalogue (administrative action).
func (s *Service) CreateReward(ctx context.Context, programme string, in RewardInput) (*Reward, error) {
	if err := s.CheckManage(ctx); err != nil {
		return nil, err
	}
	if !fidelis.ValidID("lpg", programme) {
		return nil, programmeNotFound()
	}
	now := s.now()
	r := &Reward{ID: fidelis.NewID("lrw", now), Programme: programme, Kind: in.Kind, Name: in.Name, CostPoints: in.CostPoints, Stock: in.Stock,
		ValueCents: in.ValueCents, GTIN: in.GTIN, ValidFrom: utcOpt(in.ValidFrom), ValidUntil: utcOpt(in.ValidUntil), VoucherDays: in.VoucherDays,
		Active: in.Active == nil || *in.Active, CreatedAt: now, UpdatedAt: now, Version: 1}
	if r.VoucherDays == 0 {
		r.VoucherDays = DefaultVoucherDays
	}
	if err := r.validate(); err != nil {
		return nil, err
	}
	err := s.Store.Write(ctx, func(tx Tx) error {
		if _, err := tx.GetProgramme(ctx, programme); err != nil {
			return programmeErr(err)
		}
		if err := tx.InsertReward(ctx, r); err != nil {
			return err
		}
		return tx.AppendLoyaltyEvent(ctx, s.event("loyalty.reward_created", programme, map[string]any{"programme_id": programme, "reward_id": r.ID}))
	})
	if err != nil {
		return nil, fmt.Errorf("loyalty.CreateReward: %w", err)
	}
	return r, nil
}

// UpdateReward changes a reward (administrative action). Reservations already made keep
// the points they hold; a change of cost applies to later reservations.
func (s *Service) UpdateReward(ctx context.Context, programme, id string, in RewardPatch) (*Reward, error) {
	if err := s.CheckManage(ctx); err != nil {
		return nil, err
	}
	if !fidelis.ValidID("lpg", programme) {
		return nil, programmeNotFound()
	}
	if !fidelis.ValidID("lrw", id) {
		return nil, rewardNotFound()
	}
	var r *Reward
	err := s.Store.Write(ctx, func(tx Tx) (err error) {
		if r, err = tx.GetReward(ctx, id); err != nil || r.Programme != programme {
			return rewardNotFound()
		}
		if in.Version != 0 && in.Version != r.Version {
			return &fidelis.Error{Code: fidelis.EPRECONDITION, Reason: "version_mismatch", Message: fmt.Sprintf("the reward is at version %d; reload it and apply the change again", r.Version)}
		}
		if in.Name != nil {
			r.Name = *in.Name
		}
		if in.CostPoints != nil {
			r.CostPoints = *in.CostPoints
		}
		if in.ValueCents != nil {
			r.ValueCents = *in.ValueCents
		}
		if in.GTIN != nil {
			r.GTIN = *in.GTIN
		}
		if in.VoucherDays != nil {
			r.VoucherDays = *in.VoucherDays
		}
		if in.Active != nil {
			r.Active = *in.Active
		}
		if in.Stock.Set {
			r.Stock = in.Stock.Value
		}
		if in.ValidFrom.Set {
			r.ValidFrom = utcOpt(in.ValidFrom.Value)
		}
		if in.ValidUntil.Set {
			r.ValidUntil = utcOpt(in.ValidUntil.Value)
		}
		if err := r.validate(); err != nil {
			return err
		}
		r.UpdatedAt, r.Version = s.now(), r.Version+1
		if err := tx.UpdateReward(ctx, r); err != nil {
			return err
		}
		return tx.AppendLoyaltyEvent(ctx, s.event("loyalty.reward_updated", programme, map[string]any{"programme_id": programme, "reward_id": r.ID, "version": r.Version}))
	})
	if err != nil {
		return nil, fmt.Errorf("loyalty.UpdateReward: %w", err)
	}
	return r, nil
}

// DeleteReward removes a reward that was never reserved (administrative action); one that
// was is part of the ledger's history and can only be deactivated.
func (s *Service) DeleteReward(ctx context.Context, programme, id string) error {
	if err := s.CheckManage(ctx); err != nil {
		return err
	}
	if !fidelis.ValidID("lpg", programme) {
		return programmeNotFound()
	}
	if !fidelis.ValidID("lrw", id) {
		return rewardNotFound()
	}
	err := s.Store.Write(ctx, func(tx Tx) error {
		r, err := tx.GetReward(ctx, id)
		if err != nil || r.Programme != programme {
			return rewardNotFound()
		}
		used, err := tx.RewardReserved(ctx, id)
		if err != nil {
			return err
		}
		if used {
			return &fidelis.Error{Code: fidelis.ECONFLICT, Reason: "reward_in_use", Message: "the reward was reserved at least once: its reservations cite it; deactivate it instead (active: false)"}
		}
		if err := tx.DeleteReward(ctx, id); err != nil {
			return err
		}
		return tx.AppendLoyaltyEvent(ctx, s.event("loyalty.reward_deleted", programme, map[string]any{"programme_id": programme, "reward_id": id}))
	})
	if err != nil {
		return fmt.Errorf("loyalty.DeleteReward: %w", err)
	}
	return nil
}

// GetReward returns one reward (no personal data: any authenticated caller).
func (s *Service) GetReward(ctx context.Context, programme, id string) (*Reward, error) {
	if _, ok := fidelis.ActorFrom(ctx); !ok {
		return nil, &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "no_actor", Message: "authentication required"}
	}
	if !fidelis.ValidID("lpg", programme) {
		return nil, programmeNotFound()
	}
	if !fidelis.ValidID("lrw", id) {
		return nil, rewardNotFound()
	}
	var r *Reward
	err := s.Store.Read(ctx, func(tx Tx) (err error) {
		if r, err = tx.GetReward(ctx, id); err != nil || r.Programme != programme {
			return rewardNotFound()
		}
		return nil
	})
	return r, err
}

// RewardQuery selects a page of a catalogue.
type RewardQuery struct {
	Programme string
	Cursor    string
	Limit     int
	// Available keeps only the rewards a member may reserve now (active, within their
	// window, in stock).
	Available bool
}

// Rewards lists a programme's catalogue by ID, a page at a time (no personal data: any
// authenticated caller).
func (s *Service) Rewards(ctx context.Context, q RewardQuery) (*Page[*Reward], error) {
	if _, ok := fidelis.ActorFrom(ctx); !ok {
		return nil, &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "no_actor", Message: "authentication required"}
	}
	if !fidelis.ValidID("lpg", q.Programme) {
		return nil, programmeNotFound()
	}
	if q.Cursor != "" && !fidelis.ValidID("lrw", q.Cursor) {
		return nil, invalid("cursor", "invalid_cursor", "is not a cursor returned by a previous page")
	}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	q.Limit = min(q.Limit, MaxPageSize)
	now := s.now()
	out := &Page[*Reward]{Items: []*Reward{}}
	err := s.Store.Read(ctx, func(tx Tx) error {
		if _, err := tx.GetProgramme(ctx, q.Programme); err != nil {
			return programmeErr(err)
		}
		// Read until one more item than the page matches, or the catalogue ends.
		for after := q.Cursor; len(out.Items) <= q.Limit; {
			rs, err := tx.ListRewards(ctx, q.Programme, after, q.Limit+1)
			if err != nil {
				return err
			}
			for _, r := range rs {
				if !q.Available || r.Available(now) && (r.Stock == nil || *r.Stock > 0) {
					out.Items = append(out.Items, r)
				}
			}
			if len(rs) < q.Limit+1 {
				break
			}
			after = rs[len(rs)-1].ID
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("loyalty.Rewards: %w", err)
	}
	if len(out.Items) > q.Limit {
		out.Items = out.Items[:q.Limit]
		out.Next = out.Items[q.Limit-1].ID
	}
	return out, nil
}

// ReserveInput reserves a reward for a member at a till.
type ReserveInput struct {
	Programme string             `json:"programme_id"`
	Customer  fidelis.CustomerID `json:"customer_id"`
	Reward    string             `json:"reward_id"`
	Reference string             `json:"reference"`
	Key       string             `json:"-"`
}

// ReservationResult is a reservation with its reward and the transactions it produced
// (hold, then redeem or release); Replayed is true for the first result of an
// Idempotency-Key (L-7).
type ReservationResult struct {
	Reservation  *Reservation
	Reward       *Reward
	Transactions []*Transaction
	Replayed     bool
}

func (s *Service) reservationTTL() time.Duration {
	if s.ReservationTTL > 0 {
		return s.ReservationTTL
	}
	return DefaultReservationTTL
}

func reservationNotFound() error {
	return &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "reservation_not_found", Message: "no reservation with this id"}
}

// Reserve holds the reward's cost in points, oldest lots first, on the member's reserved
// account, and one unit of its stock, until the reservation is confirmed, cancelled or
// expires (DefaultReservationTTL). The member row is locked and the stock decremented
// conditionally, so concurrent reservations never overspend points nor oversell stock
// (L-7). A member who left may still spend the points they kept.
func (s *Service) Reserve(ctx context.Context, p fidelis.Purpose, in ReserveInput) (*ReservationResult, error) {
	if err := s.authorize(ctx, p, fidelis.ActionUpdate, ActReserve, in.Customer); err != nil {
		return nil, err
	}
	if !fidelis.ValidID("lpg", in.Programme) {
		return nil, programmeNotFound()
	}
	if !fidelis.ValidID("lrw", in.Reward) {
		return nil, rewardNotFound()
	}
	if !validRef(in.Reference) {
		return nil, invalid("reference", "invalid", "at most 64 characters: letters, digits and - _ . : /")
	}
	if err := ValidKey(in.Key); err != nil {
		return nil, err
	}
	now := s.now()
	res := &Reservation{ID: fidelis.NewID("lrs", now), Programme: in.Programme, Customer: in.Customer, Reward: in.Reward, Status: ReservationReserved,
		Reference: in.Reference, ReservedAt: now, ExpiresAt: now.Add(s.reservationTTL())}
	out := &ReservationResult{Reservation: res}
	var prev string
	err := s.Store.Write(ctx, func(tx Tx) (err error) {
		if prev, err = s.claim(ctx, tx, in.Key, in.Programme, "reserve", in, res.ID); err != nil || prev != "" {
			return err
		}
		mc, err := s.lockMember(ctx, tx, in.Programme, in.Customer)
		if err != nil {
			return err
		}
		rw, err := tx.GetReward(ctx, in.Reward)
		if err != nil || rw.Programme != in.Programme {
			return rewardNotFound()
		}
		out.Reward = rw
		if !rw.Available(now) {
			return &fidelis.Error{Code: fidelis.ECONFLICT, Reason: "reward_unavailable", Message: "the reward is not offered now (inactive or outside its validity window)"}
		}
		if mc.m.Balance < rw.CostPoints {
			return insufficient(mc.m.Balance, rw.CostPoints)
		}
		ok, err := tx.TakeStock(ctx, rw.ID)
		if err != nil {
			return err
		}
		if !ok {
			return &fidelis.Error{Code: fidelis.ECONFLICT, Reason: "out_of_stock", Message: "the reward is out of stock"}
		}
		lots, err := tx.OpenLots(ctx, in.Programme, in.Customer)
		if err != nil {
			return err
		}
		res.Points = rw.CostPoints
		t := &Transaction{ID: fidelis.NewID("ltx", now), Programme: in.Programme, Customer: in.Customer, Kind: KindReserve, At: now, Reference: res.ID}
		debits, touched := consumeFIFO(lots, in.Customer, rw.CostPoints, "")
		t.Postings = append(debits, Posting{Account: AccountReserved, Customer: in.Customer, Amount: rw.CostPoints})
		t.TermsVersion = termsVersion(applicable(mc.terms, mc.m.TermsVersion, now))
		t.RuleID, t.RuleVersion = "terms.redemption", t.TermsVersion
		n := rw.CostPoints
		t.Reason = Text{
			FR: fmt.Sprintf("%d point%s réservé%s pour « %s » jusqu'au %s UTC", n, plural(n), plural(n), rw.Name.FR, res.ExpiresAt.Format("02/01/2006 15:04")),
			EN: fmt.Sprintf("%d point%s reserved for %q until %s UTC", n, plural(n), rw.Name.EN, res.ExpiresAt.Format("2006-01-02 15:04")),
		}
		if err := s.post(ctx, tx, mc.m, t, nil, touched); err != nil {
			return err
		}
		res.HoldTx = t.ID
		if err := tx.InsertReservation(ctx, res); err != nil {
			return err
		}
		out.Transactions = []*Transaction{t}
		if err := s.auditIn(ctx, tx, ActReserve, p, in.Customer); err != nil {
			return err
		}
		return tx.AppendLoyaltyEvent(ctx, s.event("loyalty.reward_reserved", string(in.Customer), map[string]any{
			"programme_id": in.Programme, "customer_id": in.Customer, "reward_id": rw.ID, "reservation_id": res.ID, "points": n, "expires_at": res.ExpiresAt}))
	})
	if err != nil {
		return nil, fmt.Errorf("loyalty.Reserve: %w", err)
	}
	if prev != "" {
		return s.reservationResult(ctx, prev, true)
	}
	return out, nil
}

func (s *Service) reservationResult(ctx context.Context, id string, replayed bool) (*ReservationResult, error) {
	out := &ReservationResult{Replayed: replayed}
	err := s.Store.Read(ctx, func(tx Tx) (err error) {
		if out.Reservation, err = tx.GetReservation(ctx, id); err != nil {
			return err
		}
		if out.Reward, err = tx.GetReward(ctx, out.Reservation.Reward); err != nil {
			return err
		}
		out.Transactions, err = tx.TxsByReference(ctx, out.Reservation.Programme, id)
		return err
	})
	if fidelis.ErrorCode(err) == fidelis.ENOTFOUND {
		return nil, reservationNotFound()
	}
	return out, err
}

// SettleInput confirms or cancels a reservation.
type SettleInput struct {
	Reservation string `json:"reservation_id"`
	Key         string `json:"-"`
}

// settle runs a confirmation or cancellation of a reservation under the member lock.
func (s *Service) settle(ctx context.Context, p fidelis.Purpose, in SettleInput, op, act string, fn func(tx Tx, mc *memberCtx, r *Reservation, rw *Reward, now time.Time) (*Transaction, error)) (*ReservationResult, error) {
	if _, ok := fidelis.ActorFrom(ctx); !ok {
		return nil, &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "no_actor", Message: "authentication required"}
	}
	if !fidelis.ValidID("lrs", in.Reservation) {
		return nil, reservationNotFound()
	}
	var r *Reservation
	if err := s.Store.Read(ctx, func(tx Tx) (err error) { r, err = tx.GetReservation(ctx, in.Reservation); return err }); err != nil {
		if fidelis.ErrorCode(err) == fidelis.ENOTFOUND {
			return nil, reservationNotFound()
		}
		return nil, err
	}
	if err := s.authorize(ctx, p, fidelis.ActionUpdate, act, r.Customer); err != nil {
		return nil, err
	}
	if err := ValidKey(in.Key); err != nil {
		return nil, err
	}
	now := s.now()
	var prev string
	err := s.Store.Write(ctx, func(tx Tx) (err error) {
		if prev, err = s.claim(ctx, tx, in.Key, r.Programme, op, in, r.ID); err != nil || prev != "" {
			return err
		}
		mc, err := s.lockMember(ctx, tx, r.Programme, r.Customer)
		if err != nil {
			return err
		}
		// Re-read under the member lock: settlements of one reservation serialise.
		if r, err = tx.GetReservation(ctx, in.Reservation); err != nil {
			return err
		}
		switch r.Status {
		case ReservationConfirmed:
			return &fidelis.Error{Code: fidelis.ECONFLICT, Reason: "already_confirmed", Message: "the reservation was already confirmed"}
		case ReservationCancelled, ReservationExpired:
			return &fidelis.Error{Code: fidelis.ECONFLICT, Reason: "reservation_closed", Message: fmt.Sprintf("the reservation was %s: its points and stock were given back", r.Status)}
		}
		rw, err := tx.GetReward(ctx, r.Reward)
		if err != nil {
			return err
		}
		t, err := fn(tx, mc, r, rw, now)
		if err != nil {
			return err
		}
		r.SettleTx, r.SettledAt = t.ID, &now
		if err := s.updateReservation(ctx, tx, r, now); err != nil {
			return err
		}
		if err := s.auditIn(ctx, tx, act, p, r.Customer); err != nil {
			return err
		}
		return tx.AppendLoyaltyEvent(ctx, s.event("loyalty.reservation_"+string(r.Status), string(r.Customer), map[string]any{
			"programme_id": r.Programme, "customer_id": r.Customer, "reward_id": r.Reward, "reservation_id": r.ID, "transaction_id": t.ID}))
	})
	if err != nil {
		return nil, fmt.Errorf("loyalty.%s: %w", op, err)
	}
	return s.reservationResult(ctx, r.ID, prev != "")
}

// updateReservation stores r; a new voucher code that collides with an existing one (80
// random bits: practically never) is drawn again.
func (s *Service) updateReservation(ctx context.Context, tx Tx, r *Reservation, now time.Time) error {
	if r.Status != ReservationConfirmed || r.VoucherCode == "" {
		return tx.UpdateReservation(ctx, r)
	}
	var err error
	for range 3 {
		if err = tx.Nested(ctx, func() error { return tx.UpdateReservation(ctx, r) }); fidelis.ErrorCode(err) != fidelis.ECONFLICT {
			return err
		}
		r.VoucherCode = NewVoucherCode()
	}
	return err
}

// Confirm makes a reservation final: the held points move to the redemption account, and a
// voucher reward gets a random, unguessable voucher code (nothing in it derives from the
// member). An expired reservation cannot be confirmed; the expiry job gives it back.
func (s *Service) Confirm(ctx context.Context, p fidelis.Purpose, in SettleInput) (*ReservationResult, error) {
	return s.settle(ctx, p, in, "confirm", ActConfirm, func(tx Tx, mc *memberCtx, r *Reservation, rw *Reward, now time.Time) (*Transaction, error) {
		if !now.Before(r.ExpiresAt) {
			return nil, &fidelis.Error{Code: fidelis.ECONFLICT, Reason: "reservation_expired", Message: "the reservation expired; its points and stock are given back, reserve again"}
		}
		t := &Transaction{ID: fidelis.NewID("ltx", now), Programme: r.Programme, Customer: r.Customer, Kind: KindRedeem, At: now, Reference: r.ID,
			Postings: []Posting{{Account: AccountReserved, Customer: r.Customer, Amount: -r.Points}, {Account: AccountRedemption, Amount: r.Points}}}
		t.TermsVersion = termsVersion(applicable(mc.terms, mc.m.TermsVersion, now))
		t.RuleID, t.RuleVersion = "terms.redemption", t.TermsVersion
		t.Reason = Text{
			FR: fmt.Sprintf("%d point%s utilisé%s : « %s »", r.Points, plural(r.Points), plural(r.Points), rw.Name.FR),
			EN: fmt.Sprintf("%d point%s redeemed: %q", r.Points, plural(r.Points), rw.Name.EN),
		}
		if err := s.post(ctx, tx, mc.m, t, nil, nil); err != nil {
			return nil, err
		}
		r.Status = ReservationConfirmed
		if rw.Kind == RewardVoucher {
			r.VoucherCode = NewVoucherCode()
			exp := now.AddDate(0, 0, rw.VoucherDays)
			r.VoucherExpiresAt = &exp
		}
		return t, nil
	})
}

// Cancel gives a reservation back: the points return to the lots they came from and the
// unit to the stock.
func (s *Service) Cancel(ctx context.Context, p fidelis.Purpose, in SettleInput) (*ReservationResult, error) {
	return s.settle(ctx, p, in, "cancel", ActCancel, func(tx Tx, mc *memberCtx, r *Reservation, rw *Reward, now time.Time) (*Transaction, error) {
		return s.release(ctx, tx, mc, r, rw, now, ReservationCancelled)
	})
}

// release posts the release of r (cancelled or expired) for the locked member: each lot
// the hold consumed gets its points back (a lot past its date then expires at the next
// run: held points do not expire while held, nor gain time), and the stock its unit.
func (s *Service) release(ctx context.Context, tx Tx, mc *memberCtx, r *Reservation, rw *Reward, now time.Time, status ReservationStatus) (*Transaction, error) {
	hold, err := tx.GetLedgerTx(ctx, r.HoldTx)
	if err != nil {
		return nil, err
	}
	t := &Transaction{ID: fidelis.NewID("ltx", now), Programme: r.Programme, Customer: r.Customer, Kind: KindRelease, At: now, Reference: r.ID}
	var touched []*Lot
	for _, p := range hold.Postings {
		if p.Account != AccountMember || p.Amount >= 0 {
			continue
		}
		l, err := tx.GetLot(ctx, p.Lot)
		if err != nil {
			return nil, err
		}
		l.Remaining -= p.Amount
		touched = append(touched, l)
		t.Postings = append(t.Postings, Posting{Account: AccountMember, Customer: r.Customer, Amount: -p.Amount, Lot: p.Lot})
	}
	t.Postings = append(t.Postings, Posting{Account: AccountReserved, Customer: r.Customer, Amount: -r.Points})
	t.TermsVersion = termsVersion(applicable(mc.terms, mc.m.TermsVersion, now))
	t.RuleID, t.RuleVersion = "terms.redemption", t.TermsVersion
	why := Text{FR: "réservation annulée", EN: "reservation cancelled"}
	if status == ReservationExpired {
		why = Text{FR: "réservation expirée sans confirmation", EN: "reservation expired unconfirmed"}
	}
	t.Reason = Text{
		FR: fmt.Sprintf("%d point%s rendu%s : %s, « %s »", r.Points, plural(r.Points), plural(r.Points), why.FR, rw.Name.FR),
		EN: fmt.Sprintf("%d point%s given back: %s, %q", r.Points, plural(r.Points), why.EN, rw.Name.EN),
	}
	if err := s.post(ctx, tx, mc.m, t, nil, touched); err != nil {
		return nil, err
	}
	if err := tx.ReturnStock(ctx, rw.ID); err != nil {
		return nil, err
	}
	r.Status = status
	return t, nil
}

// ExpireReservations gives back every reservation whose hold ended at or before now (the
// job runs every minute in serve). Safe on several nodes: each one is re-read under the
// member lock and released once.
func (s *Service) ExpireReservations(ctx context.Context, now time.Time) (int, error) {
	if err := s.CheckManage(ctx); err != nil {
		return 0, err
	}
	now = fidelis.UTC(now)
	n := 0
	for {
		var due []*Reservation
		if err := s.Store.Read(ctx, func(tx Tx) (err error) { due, err = tx.DueReservations(ctx, now, 500); return err }); err != nil {
			return n, fmt.Errorf("loyalty.ExpireReservations: %w", err)
		}
		for _, d := range due {
			err := s.Store.Write(ctx, func(tx Tx) error {
				mc, err := s.lockMember(ctx, tx, d.Programme, d.Customer)
				if err != nil {
					return err
				}
				r, err := tx.GetReservation(ctx, d.ID)
				if err != nil || r.Status != ReservationReserved || r.ExpiresAt.After(now) {
					return err
				}
				rw, err := tx.GetReward(ctx, r.Reward)
				if err != nil {
					return err
				}
				t, err := s.release(ctx, tx, mc, r, rw, now, ReservationExpired)
				if err != nil {
					return err
				}
				r.SettleTx, r.SettledAt = t.ID, &now
				if err := tx.UpdateReservation(ctx, r); err != nil {
					return err
				}
				n++
				return tx.AppendLoyaltyEvent(ctx, s.event("loyalty.reservation_expired", string(r.Customer), map[string]any{
					"programme_id": r.Programme, "customer_id": r.Customer, "reward_id": r.Reward, "reservation_id": r.ID, "transaction_id": t.ID}))
			})
			if err != nil {
				return n, fmt.Errorf("loyalty.ExpireReservations: %w", err)
			}
		}
		if len(due) < 500 {
			return n, nil
		}
	}
}

// GetReservation returns a reservation with its reward and transactions, and audits the
// read.
func (s *Service) GetReservation(ctx context.Context, p fidelis.Purpose, id string) (*ReservationResult, error) {
	if _, ok := fidelis.ActorFrom(ctx); !ok {
		return nil, &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "no_actor", Message: "authentication required"}
	}
	if !fidelis.ValidID("lrs", id) {
		return nil, reservationNotFound()
	}
	out, err := s.reservationResult(ctx, id, false)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, fidelis.ActionRead, ActRead, out.Reservation.Customer); err != nil {
		return nil, err
	}
	if err := s.Store.RecordAudit(ctx, s.Audit.Entry(ctx, auditEvent(ActRead, out.Reservation.Customer, p))); err != nil {
		return nil, fmt.Errorf("loyalty.GetReservation: audit: %w", err)
	}
	return out, nil
}

// crockford is the voucher alphabet: digits and capitals without I, L, O and U, so a code
// read aloud or typed at a till is not mistaken.
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// NewVoucherCode returns a random voucher code of 80 bits, as four groups of four
// characters ("7KQ2-M9XD-4TBN-ZP3C"). It is drawn from crypto/rand and derives from
// nothing about the member.
func NewVoucherCode() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	var sb strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(crockford[c&31]) // 16 x 5 bits = 80 bits
	}
	return sb.String()
}

// NormalizeVoucherCode puts a typed code in canonical form: capitals, groups of four,
// common misreadings mapped (O→0, I and L→1). It reports false for anything that cannot be
// a code.
func NormalizeVoucherCode(code string) (string, bool) {
	var raw []byte
	for _, c := range strings.ToUpper(code) {
		switch {
		case c == '-' || c == ' ':
			continue
		case c == 'O':
			c = '0'
		case c == 'I' || c == 'L':
			c = '1'
		}
		if c > 0x7f || strings.IndexByte(crockford, byte(c)) < 0 {
			return "", false
		}
		raw = append(raw, byte(c))
	}
	if len(raw) != 16 {
		return "", false
	}
	return string(raw[0:4]) + "-" + string(raw[4:8]) + "-" + string(raw[8:12]) + "-" + string(raw[12:16]), true
}

func voucherNotFound() error {
	return &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "voucher_not_found", Message: "no voucher with this code"}
}

// VoucherState is what a till learns when it checks a voucher.
type VoucherState string

// Voucher states.
const (
	VoucherValid   VoucherState = "valid"
	VoucherUsed    VoucherState = "used"
	VoucherExpired VoucherState = "expired"
)

// VoucherView is a voucher as a till checks it.
type VoucherView struct {
	Code        string
	State       VoucherState
	Reservation *Reservation
	Reward      *Reward
	Replayed    bool
}

func voucherState(r *Reservation, now time.Time) VoucherState {
	switch {
	case r.VoucherUsedAt != nil:
		return VoucherUsed
	case r.VoucherExpiresAt != nil && !now.Before(*r.VoucherExpiresAt):
		return VoucherExpired
	}
	return VoucherValid
}

func (s *Service) loadVoucher(ctx context.Context, tx Tx, code string) (*VoucherView, error) {
	r, err := tx.ReservationByVoucher(ctx, code)
	if err != nil {
		if fidelis.ErrorCode(err) == fidelis.ENOTFOUND {
			return nil, voucherNotFound()
		}
		return nil, err
	}
	rw, err := tx.GetReward(ctx, r.Reward)
	if err != nil {
		return nil, err
	}
	return &VoucherView{Code: code, State: voucherState(r, s.now()), Reservation: r, Reward: rw}, nil
}

// CheckVoucher returns a voucher's state (valid, used or expired) and its reward, and
// audits the read; it changes nothing.
func (s *Service) CheckVoucher(ctx context.Context, p fidelis.Purpose, code string) (*VoucherView, error) {
	if _, ok := fidelis.ActorFrom(ctx); !ok {
		return nil, &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "no_actor", Message: "authentication required"}
	}
	code, ok := NormalizeVoucherCode(code)
	if !ok {
		return nil, voucherNotFound()
	}
	var v *VoucherView
	if err := s.Store.Read(ctx, func(tx Tx) (err error) { v, err = s.loadVoucher(ctx, tx, code); return err }); err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, fidelis.ActionRead, ActRead, v.Reservation.Customer); err != nil {
		return nil, err
	}
	if err := s.Store.RecordAudit(ctx, s.Audit.Entry(ctx, auditEvent(ActRead, v.Reservation.Customer, p))); err != nil {
		return nil, fmt.Errorf("loyalty.CheckVoucher: audit: %w", err)
	}
	return v, nil
}

// UseVoucherInput uses a voucher at a till.
type UseVoucherInput struct {
	Code      string `json:"code"`
	Reference string `json:"reference"`
	Key       string `json:"-"`
}

// UseVoucher marks a voucher used, once: a second use is refused (409 voucher_used), an
// expired voucher too; a replay with the same Idempotency-Key returns the first result.
func (s *Service) UseVoucher(ctx context.Context, p fidelis.Purpose, in UseVoucherInput) (*VoucherView, error) {
	if _, ok := fidelis.ActorFrom(ctx); !ok {
		return nil, &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "no_actor", Message: "authentication required"}
	}
	code, ok := NormalizeVoucherCode(in.Code)
	if !ok {
		return nil, voucherNotFound()
	}
	in.Code = code
	var v *VoucherView
	if err := s.Store.Read(ctx, func(tx Tx) (err error) { v, err = s.loadVoucher(ctx, tx, code); return err }); err != nil {
		return nil, err
	}
	r := v.Reservation
	if err := s.authorize(ctx, p, fidelis.ActionUpdate, ActVoucherUse, r.Customer); err != nil {
		return nil, err
	}
	if !validRef(in.Reference) {
		return nil, invalid("reference", "invalid", "at most 64 characters: letters, digits and - _ . : /")
	}
	if err := ValidKey(in.Key); err != nil {
		return nil, err
	}
	now := s.now()
	var prev string
	err := s.Store.Write(ctx, func(tx Tx) (err error) {
		if prev, err = s.claim(ctx, tx, in.Key, r.Programme, "use_voucher", in, r.ID); err != nil || prev != "" {
			return err
		}
		// The member lock serialises two tills using one voucher at once.
		if _, err := tx.GetMember(ctx, r.Programme, r.Customer, true); err != nil {
			return err
		}
		if v, err = s.loadVoucher(ctx, tx, code); err != nil {
			return err
		}
		switch v.State {
		case VoucherUsed:
			return &fidelis.Error{Code: fidelis.ECONFLICT, Reason: "voucher_used", Message: "the voucher was already used"}
		case VoucherExpired:
			return &fidelis.Error{Code: fidelis.ECONFLICT, Reason: "voucher_expired", Message: "the voucher has expired"}
		}
		r = v.Reservation
		r.VoucherUsedAt, r.VoucherUsedRef = &now, in.Reference
		if err := tx.UpdateReservation(ctx, r); err != nil {
			return err
		}
		v.State = VoucherUsed
		if err := s.auditIn(ctx, tx, ActVoucherUse, p, r.Customer); err != nil {
			return err
		}
		return tx.AppendLoyaltyEvent(ctx, s.event("loyalty.voucher_used", string(r.Customer), map[string]any{
			"programme_id": r.Programme, "customer_id": r.Customer, "reward_id": r.Reward, "reservation_id": r.ID}))
	})
	if err != nil {
		return nil, fmt.Errorf("loyalty.UseVoucher: %w", err)
	}
	if prev != "" {
		if err := s.Store.Read(ctx, func(tx Tx) (err error) { v, err = s.loadVoucher(ctx, tx, code); return err }); err != nil {
			return nil, err
		}
		v.Replayed = true
	}
	return v, nil
}
