package loyalty

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
	"unicode"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/privacy"
)

// Audit actions recorded by this package (member operations; values are never recorded).
const (
	ActJoin   = "loyalty.join"
	ActAccept = "loyalty.accept_terms"
	ActLeave  = "loyalty.leave"
	ActRedeem = "loyalty.redeem"
	ActAdjust = "loyalty.adjust"
	ActOrder  = "loyalty.order"
	ActRefund = "loyalty.refund"
	ActExpire = "loyalty.expire"
	ActRead   = "loyalty.read"
)

// ProfileSource returns what eligibility conditions need about a customer (country, birth
// date), read under the loyalty purpose. It is called only for rules with conditions.
type ProfileSource func(ctx context.Context, id fidelis.CustomerID) (Profile, error)

// Service is the loyalty capability. It is safe for concurrent use.
type Service struct {
	Store    Store
	Registry *privacy.Registry
	Audit    *audit.Log
	Now      func() time.Time
	Profiles ProfileSource
	// Lawfulness decides, for a member, whether the loyalty purpose may process them now
	// (restriction R-10, retention T-7); nil means the role check only.
	Lawfulness privacy.Lawfulness
	// NoticeDays is how long before expiry members get notice (L-4); 0 means 30.
	NoticeDays int
	// ReservationTTL is how long a reward reservation holds points and stock; 0 means
	// DefaultReservationTTL (15 minutes).
	ReservationTTL time.Duration
	// ReferralBaseURL is the join page referral links point to ("https://shop.example/join");
	// "" gives the relative "/join".
	ReferralBaseURL string
	// BatchChunk is how many orders of a till batch one transaction records; 0 means
	// DefaultBatchChunk (the whole batch).
	BatchChunk int

	// OrderWriters is how many groups of single orders (group.go) may be written at the
	// same time; 0 means 1. SQLite has one writer: 1. PostgreSQL writes several
	// transactions at once, and a few groups keep it busy while each waits on round trips.
	OrderWriters int

	group orderGroup // concurrent PlaceOrder calls written together (group.go)
	envs  envCache   // what placing orders reads of each programme (orderEnv)
}

func (s *Service) now() time.Time { return fidelis.UTC(s.Now()) }

// authorize checks the actor's right to act on a member's data under purpose p (P-1) and
// audits a refusal.
func (s *Service) authorize(ctx context.Context, p fidelis.Purpose, a fidelis.Action, action string, subject fidelis.CustomerID) error {
	return s.permit(ctx, p, a, action, subject, true)
}

// permit is authorize, with the lawfulness decision for subject only when lawful is set
// (PlaceOrder leaves it to the group that writes the order, which decides it for all of
// the group's members in one read).
func (s *Service) permit(ctx context.Context, p fidelis.Purpose, a fidelis.Action, action string, subject fidelis.CustomerID, lawful bool) error {
	actor, ok := fidelis.ActorFrom(ctx)
	if !ok {
		return &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "no_actor", Message: "authentication required"}
	}
	if subject != "" && !fidelis.ValidID("cus", string(subject)) {
		return &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "bad_id", Message: "no customer with this id"}
	}
	_, err := s.Registry.Authorize(actor, p, a)
	if err == nil && p != fidelis.PurposeLoyalty {
		// P-1: the loyalty ledger and memberships are processed for the loyalty purpose only,
		// whatever else another purpose covers.
		err = fidelis.Refusal("action_not_covered", fmt.Sprintf("purpose %q does not cover loyalty operations; use purpose %q", p, fidelis.PurposeLoyalty))
	}
	if err == nil && lawful && subject != "" && s.Lawfulness != nil {
		// P-3, R-10: the lawfulness of processing this member now (restriction, retention).
		err = s.Lawfulness.Lawful(ctx, p, subject)
	}
	if err != nil {
		if fidelis.AsError(err).Reason == "purpose_unknown" {
			p = "" // caller-chosen text stays out of the audit log (D-5)
		}
		reason := fidelis.AsError(err).Reason
		_ = s.Store.RecordAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: action, Subject: string(subject), Purpose: p, Outcome: audit.OutcomeDenied, Reason: reason}))
		return err
	}
	return nil
}

// Check runs the access decision for a member operation without performing it; transports
// call it before parsing a request (P-1).
func (s *Service) Check(ctx context.Context, p fidelis.Purpose, a fidelis.Action, subject fidelis.CustomerID) error {
	return s.authorize(ctx, p, a, "loyalty."+string(a), subject)
}

// CheckManage refuses actors whose role may not manage programmes, terms and rules. These
// are administrative actions on no personal data: they need the role, not a purpose.
func (s *Service) CheckManage(ctx context.Context) error {
	actor, ok := fidelis.ActorFrom(ctx)
	if !ok {
		return &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "no_actor", Message: "authentication required"}
	}
	if !s.Registry.Can(actor.Role, fidelis.ActionManageLoyalty) {
		return fidelis.Refusal("action_not_permitted", fmt.Sprintf("role %q may not manage loyalty programmes", actor.Role))
	}
	return nil
}

func (s *Service) event(typ string, subject string, data map[string]any) *Event {
	now := s.now()
	return &Event{ID: fidelis.NewID("evt", now), At: now, Type: typ, Subject: subject, Data: data}
}

// Idempotency-Key limits.
const maxKeyLen = 200

// ValidKey checks an Idempotency-Key: 1 to 200 printable ASCII characters.
func ValidKey(k string) error {
	if k == "" {
		return &fidelis.Error{Code: fidelis.EINVALID, Reason: "idempotency_key_required", Message: "this operation needs an Idempotency-Key header (L-7): a unique value per operation, reused on retries",
			Fields: []fidelis.FieldError{{Field: "Idempotency-Key", Rule: "required", Message: "is required"}}}
	}
	if len(k) > maxKeyLen {
		return fidelis.Invalid(fidelis.FieldError{Field: "Idempotency-Key", Rule: "too_long", Message: fmt.Sprintf("must be at most %d characters", maxKeyLen)})
	}
	for _, r := range k {
		if r < 0x21 || r > 0x7e {
			return fidelis.Invalid(fidelis.FieldError{Field: "Idempotency-Key", Rule: "invalid_characters", Message: "must be printable ASCII without spaces"})
		}
	}
	return nil
}

// requestHash fingerprints an operation and its normalised input.
func requestHash(op string, req any) string {
	b, err := json.Marshal(req)
	if err != nil {
		panic(err) // inputs are plain structs
	}
	h := sha256.Sum256(append([]byte(op+"\x00"), b...))
	return hex.EncodeToString(h[:])
}

// claim records key for the operation inside tx. It returns the first result when the key
// was already used for the same request, and ECONFLICT when it was used for another (L-7).
func (s *Service) claim(ctx context.Context, tx Tx, key, programme, op string, req any, result string) (string, error) {
	k := &Idempotency{Scope: scopeOf(ctx), Key: key, RequestHash: requestHash(op, req), Programme: programme, Result: result, CreatedAt: s.now()}
	prev, err := tx.ClaimLoyaltyKey(ctx, k)
	if err != nil {
		return "", err
	}
	if prev == nil {
		return "", nil
	}
	return replayOf(prev, k.RequestHash)
}

// replayOf answers a request with fingerprint hash whose key was already used, for prev:
// its first result if prev was the same request, ECONFLICT if it was another (L-7).
func replayOf(prev *Idempotency, hash string) (string, error) {
	if prev.RequestHash != hash {
		return "", &fidelis.Error{Code: fidelis.ECONFLICT, Reason: "idempotency_key_reused",
			Message: "this Idempotency-Key was already used for a different request; use a new key for a new operation"}
	}
	return prev.Result, nil
}

func (s *Service) auditIn(ctx context.Context, tx Tx, action string, p fidelis.Purpose, subject fidelis.CustomerID) error {
	return tx.AppendAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: action, Subject: string(subject), Purpose: p}))
}

func invalid(field, rule, msg string) error {
	return fidelis.Invalid(fidelis.FieldError{Field: field, Rule: rule, Message: msg})
}

// cleanText checks a text is valid, without control characters but newlines, and not too long.
func cleanText(s string, max int) bool {
	if len(s) > max {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return false
		}
	}
	return true
}

// validRef checks the references a till sends (its receipt number, its store code).
func validRef(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' || r == ':' || r == '/') {
			return false
		}
	}
	return true
}

func auditEvent(action string, subject fidelis.CustomerID, p fidelis.Purpose) audit.Event {
	return audit.Event{Action: action, Subject: string(subject), Purpose: p}
}
