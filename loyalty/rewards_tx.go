package loyalty

import (
	"context"
	"time"

	"github.com/fidelis/fidelis"
)

// RewardsTx is the storage tiers, rewards, reservations, referral and the batch need inside
// one transaction (part of Tx). Methods return ENOTFOUND for a missing row and ECONFLICT
// for a duplicate key.
type RewardsTx interface {
	// Nested runs fn inside a savepoint: if fn returns an error, what it wrote is undone and
	// the error returned, and the enclosing transaction goes on. One order of a batch fails
	// alone this way.
	Nested(ctx context.Context, fn func() error) error
	// AppendLoyaltyEvents writes events to the outbox (a batch's, together).
	AppendLoyaltyEvents(ctx context.Context, es []*Event) error

	InsertTierSchedule(ctx context.Context, s *TierSchedule) error
	// TierSchedules returns a programme's tier schedules, oldest first.
	TierSchedules(ctx context.Context, programme string) ([]*TierSchedule, error)
	InsertReferralPolicy(ctx context.Context, p *ReferralPolicy) error
	// ReferralPolicies returns a programme's referral policies, oldest first.
	ReferralPolicies(ctx context.Context, programme string) ([]*ReferralPolicy, error)

	GetMemberTier(ctx context.Context, programme string, customer fidelis.CustomerID) (*MemberTier, error)
	// PutMemberTier stores a member's current tier (insert or replace).
	PutMemberTier(ctx context.Context, t *MemberTier) error
	InsertTierChange(ctx context.Context, c *TierChange) error
	// TierChanges returns a member's tier changes, oldest first; with programme "", those
	// of every programme.
	TierChanges(ctx context.Context, programme string, customer fidelis.CustomerID) ([]*TierChange, error)
	// MemberTiers returns a programme's stored member tiers (Verify).
	MemberTiers(ctx context.Context, programme string) ([]*MemberTier, error)
	// ClaimTierReview records that the review of period ran; false if it already had.
	ClaimTierReview(ctx context.Context, programme, period string, at time.Time) (bool, error)
	// EarnedPoints returns the points a member's purchases earned under the earning rules
	// in [from, to], net of their reversals (tier and referral bonuses excluded).
	EarnedPoints(ctx context.Context, programme string, customer fidelis.CustomerID, from, to time.Time) (int64, error)
	// CustomerOrders returns a member's orders placed in [from, to], oldest first.
	CustomerOrders(ctx context.Context, programme string, customer fidelis.CustomerID, from, to time.Time) ([]*Order, error)
	// OrdersOf returns every order of a customer, in every programme, oldest first.
	OrdersOf(ctx context.Context, customer fidelis.CustomerID) ([]*Order, error)

	InsertReward(ctx context.Context, r *Reward) error
	GetReward(ctx context.Context, id string) (*Reward, error)
	// UpdateReward stores r if the stored version is r.Version-1; EPRECONDITION otherwise.
	UpdateReward(ctx context.Context, r *Reward) error
	DeleteReward(ctx context.Context, id string) error
	// ListRewards returns a programme's rewards with IDs above after, in ID order.
	ListRewards(ctx context.Context, programme, after string, limit int) ([]*Reward, error)
	// RewardReserved reports whether any reservation names the reward.
	RewardReserved(ctx context.Context, id string) (bool, error)
	// TakeStock takes one unit of a reward's stock: false when none is left (a reward with
	// unlimited stock always has one). The decrement is conditional, so concurrent
	// reservations never oversell.
	TakeStock(ctx context.Context, id string) (bool, error)
	// ReturnStock gives one unit back (no-op for unlimited stock).
	ReturnStock(ctx context.Context, id string) error

	InsertReservation(ctx context.Context, r *Reservation) error
	GetReservation(ctx context.Context, id string) (*Reservation, error)
	// UpdateReservation stores a reservation's status, settlement and voucher.
	UpdateReservation(ctx context.Context, r *Reservation) error
	ReservationByVoucher(ctx context.Context, code string) (*Reservation, error)
	// DueReservations returns reservations still held whose hold ended at or before until.
	DueReservations(ctx context.Context, until time.Time, limit int) ([]*Reservation, error)
	// Reservations returns a programme's reservations with IDs above after, in ID order.
	Reservations(ctx context.Context, programme, after string, limit int) ([]*Reservation, error)
	// CustomerReservations returns a customer's reservations, oldest first.
	CustomerReservations(ctx context.Context, customer fidelis.CustomerID) ([]*Reservation, error)
	GetLot(ctx context.Context, id string) (*Lot, error)

	InsertReferralCode(ctx context.Context, c *ReferralCode) error
	ReferralCodeOf(ctx context.Context, programme string, customer fidelis.CustomerID) (*ReferralCode, error)
	ReferralCodeByCode(ctx context.Context, code string) (*ReferralCode, error)
	InsertReferral(ctx context.Context, r *Referral) error
	// ReferralOf returns the referral by which a member joined.
	ReferralOf(ctx context.Context, programme string, referee fidelis.CustomerID) (*Referral, error)
	UpdateReferral(ctx context.Context, r *Referral) error
	// CustomerReferrals returns the referrals a customer made or joined by, oldest first.
	CustomerReferrals(ctx context.Context, customer fidelis.CustomerID) ([]*Referral, error)
}
