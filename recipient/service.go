package recipient

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/privacy"
	"github.com/fidelis/fidelis/vault"
	"github.com/fidelis/fidelis/webhook"
)

// Audit actions recorded by this package.
const (
	ActCreate       = "recipient.create"
	ActUpdate       = "recipient.update"
	ActDelete       = "recipient.delete"
	ActRotateSecret = "recipient.rotate_secret"
	ActRedeliver    = "recipient.redeliver"
	ActManage       = "recipient.manage" // a refused administrative operation
	ActCustomerRead = "customer.recipients"
	ActDelivered    = "webhook.delivered"
	ActDead         = "webhook.dead"
)

// secretKind names webhook secrets in the vault.
const secretKind = "webhook"

// Service is the recipients registry. It is safe for concurrent use.
type Service struct {
	Store    Store
	Vault    *vault.Vault
	Registry *privacy.Registry
	Audit    *audit.Log
	Now      func() time.Time
}

// Page is one page of a cursor-paginated list. Next is "" on the last page.
type Page[T any] struct {
	Items []T
	Next  string
}

// Limits of list pages.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

func pageSize(n int) int {
	switch {
	case n <= 0:
		return DefaultPageSize
	case n > MaxPageSize:
		return MaxPageSize
	}
	return n
}

func (s *Service) now() time.Time { return fidelis.UTC(s.Now()) }

func notFound() error {
	return &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "recipient_not_found", Message: "no recipient with this id"}
}

// Check refuses an actor whose role does not hold manage_recipients, and audits the
// refusal. Transports call it before parsing a request.
func (s *Service) Check(ctx context.Context) error {
	actor, ok := fidelis.ActorFrom(ctx)
	if !ok {
		return &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "no_actor", Message: "authentication required"}
	}
	if s.Registry.Can(actor.Role, fidelis.ActionManageRecipients) {
		return nil
	}
	err := fidelis.Refusal("action_not_permitted", fmt.Sprintf("role %q may not manage recipients (manage_recipients)", actor.Role))
	_ = s.Store.RecordAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActManage, Outcome: audit.OutcomeDenied, Reason: "action_not_permitted"}))
	return err
}

func changedFields(names []string) []fidelis.Field {
	out := make([]fidelis.Field, len(names))
	for i, n := range names {
		out[i] = fidelis.Field(n)
	}
	return out
}

// Create registers a recipient and returns it with its webhook signing secret, which is
// shown this once: Fidelis keeps it sealed under the keyring.
func (s *Service) Create(ctx context.Context, in Input) (*Recipient, string, error) {
	if err := s.Check(ctx); err != nil {
		return nil, "", err
	}
	now := s.now()
	r := &Recipient{ID: fidelis.NewID("rcp", now), Version: 1, Active: true, CreatedAt: now, UpdatedAt: now}
	written := in.apply(r)
	if errs := validate(r, s.Registry); len(errs) > 0 {
		return nil, "", fidelis.Invalid(errs...)
	}
	secret := webhook.NewSecret()
	sealed, err := s.Vault.SealSecret(secretKind, r.ID, []byte(secret))
	if err != nil {
		return nil, "", fmt.Errorf("recipient.Create: %w", err)
	}
	r.Secret = sealed
	err = s.Store.Write(ctx, func(tx Tx) error {
		if err := tx.InsertRecipient(ctx, r); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActCreate, Subject: r.ID, Fields: changedFields(written)}))
	})
	if fidelis.ErrorCode(err) == fidelis.ECONFLICT {
		return nil, "", fidelis.Invalid(fidelis.FieldError{Field: "name", Rule: "taken", Message: "another recipient has this name"})
	}
	if err != nil {
		return nil, "", fmt.Errorf("recipient.Create: %w", err)
	}
	return r, secret, nil
}

// Update changes recipient id. expectVersion, when not 0, must be the current version.
func (s *Service) Update(ctx context.Context, id string, in Input, expectVersion int) (*Recipient, error) {
	if err := s.Check(ctx); err != nil {
		return nil, err
	}
	if !fidelis.ValidID("rcp", id) {
		return nil, notFound()
	}
	var out *Recipient
	err := s.Store.Write(ctx, func(tx Tx) error {
		r, err := tx.GetRecipient(ctx, id)
		if err != nil {
			return err
		}
		if expectVersion != 0 && r.Version != expectVersion {
			return &fidelis.Error{Code: fidelis.EPRECONDITION, Reason: "version_mismatch",
				Message: fmt.Sprintf("the recipient was changed meanwhile (version %d, expected %d); reload and try again", r.Version, expectVersion)}
		}
		changed := in.apply(r)
		if errs := validate(r, s.Registry); len(errs) > 0 {
			return fidelis.Invalid(errs...)
		}
		if len(changed) == 0 {
			out = r
			return tx.AppendAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActUpdate, Subject: id, Reason: "no_change"}))
		}
		r.Version++
		r.UpdatedAt = s.now()
		if err := tx.UpdateRecipient(ctx, r); err != nil {
			return err
		}
		out = r
		return tx.AppendAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActUpdate, Subject: id, Fields: changedFields(changed)}))
	})
	if fidelis.ErrorCode(err) == fidelis.ECONFLICT {
		return nil, fidelis.Invalid(fidelis.FieldError{Field: "name", Rule: "taken", Message: "another recipient has this name"})
	}
	if err != nil {
		return nil, fmt.Errorf("recipient.Update: %w", err)
	}
	return out, nil
}

// RotateSecret replaces recipient id's signing secret and returns the new one, shown this
// once. Deliveries not yet made are signed with the new secret.
func (s *Service) RotateSecret(ctx context.Context, id string) (*Recipient, string, error) {
	if err := s.Check(ctx); err != nil {
		return nil, "", err
	}
	if !fidelis.ValidID("rcp", id) {
		return nil, "", notFound()
	}
	secret := webhook.NewSecret()
	sealed, err := s.Vault.SealSecret(secretKind, id, []byte(secret))
	if err != nil {
		return nil, "", fmt.Errorf("recipient.RotateSecret: %w", err)
	}
	var out *Recipient
	err = s.Store.Write(ctx, func(tx Tx) error {
		r, err := tx.GetRecipient(ctx, id)
		if err != nil {
			return err
		}
		r.Secret, r.Version, r.UpdatedAt = sealed, r.Version+1, s.now()
		if err := tx.UpdateRecipient(ctx, r); err != nil {
			return err
		}
		out = r
		return tx.AppendAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActRotateSecret, Subject: id, Fields: []fidelis.Field{"secret"}}))
	})
	if err != nil {
		return nil, "", fmt.Errorf("recipient.RotateSecret: %w", err)
	}
	return out, secret, nil
}

// Delete removes a recipient that never received a notification. One that did stays in
// the registry as the record of who received what: deactivate it instead.
func (s *Service) Delete(ctx context.Context, id string) error {
	if err := s.Check(ctx); err != nil {
		return err
	}
	if !fidelis.ValidID("rcp", id) {
		return notFound()
	}
	err := s.Store.Write(ctx, func(tx Tx) error {
		if _, err := tx.GetRecipient(ctx, id); err != nil {
			return err
		}
		n, err := tx.CountDeliveries(ctx, id)
		if err != nil {
			return err
		}
		if n > 0 {
			return &fidelis.Error{Code: fidelis.ECONFLICT, Reason: "has_deliveries",
				Message: "the recipient has received notifications and must stay in the registry as their record; deactivate it instead (active: false)"}
		}
		if err := tx.DeleteRecipient(ctx, id); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActDelete, Subject: id}))
	})
	if err != nil {
		return fmt.Errorf("recipient.Delete: %w", err)
	}
	return nil
}

// Get returns recipient id.
func (s *Service) Get(ctx context.Context, id string) (*Recipient, error) {
	if err := s.Check(ctx); err != nil {
		return nil, err
	}
	if !fidelis.ValidID("rcp", id) {
		return nil, notFound()
	}
	var r *Recipient
	err := s.Store.Read(ctx, func(tx Tx) (err error) { r, err = tx.GetRecipient(ctx, id); return err })
	return r, err
}

// List returns recipients newest first, a page at a time.
func (s *Service) List(ctx context.Context, cursor string, limit int) (*Page[*Recipient], error) {
	if err := s.Check(ctx); err != nil {
		return nil, err
	}
	if cursor != "" && !fidelis.ValidID("rcp", cursor) {
		return nil, fidelis.Invalid(fidelis.FieldError{Field: "cursor", Rule: "invalid_cursor", Message: "is not a cursor returned by a previous page"})
	}
	n := pageSize(limit)
	var rs []*Recipient
	if err := s.Store.Read(ctx, func(tx Tx) (err error) { rs, err = tx.ListRecipients(ctx, cursor, n+1); return err }); err != nil {
		return nil, fmt.Errorf("recipient.List: %w", err)
	}
	page := &Page[*Recipient]{Items: rs}
	if len(rs) > n {
		page.Items = rs[:n]
		page.Next = rs[n-1].ID
	}
	return page, nil
}

// All returns every recipient, newest first (the register of processing and the notices
// list them per purpose, D-4).
func (s *Service) All(ctx context.Context) ([]*Recipient, error) {
	var out []*Recipient
	err := s.Store.Read(ctx, func(tx Tx) error {
		before := ""
		for {
			rs, err := tx.ListRecipients(ctx, before, 500)
			if err != nil {
				return err
			}
			out = append(out, rs...)
			if len(rs) < 500 {
				return nil
			}
			before = rs[len(rs)-1].ID
		}
	})
	return out, err
}

// Deliveries returns the deliveries to recipient id, newest first, optionally in one state.
func (s *Service) Deliveries(ctx context.Context, id string, state State, cursor string, limit int) (*Page[*Delivery], error) {
	if err := s.Check(ctx); err != nil {
		return nil, err
	}
	if !fidelis.ValidID("rcp", id) {
		return nil, notFound()
	}
	var errs []fidelis.FieldError
	if state != "" && !slices.Contains(States(), state) {
		errs = append(errs, fidelis.FieldError{Field: "state", Rule: "invalid_state", Message: "must be one of: pending, delivered, dead"})
	}
	if cursor != "" && !fidelis.ValidID("dlv", cursor) {
		errs = append(errs, fidelis.FieldError{Field: "cursor", Rule: "invalid_cursor", Message: "is not a cursor returned by a previous page"})
	}
	if len(errs) > 0 {
		return nil, fidelis.Invalid(errs...)
	}
	n := pageSize(limit)
	var ds []*Delivery
	err := s.Store.Read(ctx, func(tx Tx) error {
		if _, err := tx.GetRecipient(ctx, id); err != nil {
			return err
		}
		var err error
		ds, err = tx.Deliveries(ctx, id, state, cursor, n+1)
		return err
	})
	if err != nil {
		return nil, err
	}
	page := &Page[*Delivery]{Items: ds}
	if len(ds) > n {
		page.Items = ds[:n]
		page.Next = ds[n-1].ID
	}
	return page, nil
}

// Delivery returns one delivery to recipient id with its attempts.
func (s *Service) Delivery(ctx context.Context, id, deliveryID string) (*Delivery, []Attempt, error) {
	if err := s.Check(ctx); err != nil {
		return nil, nil, err
	}
	var d *Delivery
	var as []Attempt
	err := s.Store.Read(ctx, func(tx Tx) (err error) {
		if d, err = s.delivery(ctx, tx, id, deliveryID); err != nil {
			return err
		}
		as, err = tx.Attempts(ctx, deliveryID)
		return err
	})
	return d, as, err
}

func (s *Service) delivery(ctx context.Context, tx Tx, id, deliveryID string) (*Delivery, error) {
	missing := &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "delivery_not_found", Message: "no delivery with this id to this recipient"}
	if !fidelis.ValidID("rcp", id) || !fidelis.ValidID("dlv", deliveryID) {
		return nil, missing
	}
	d, err := tx.GetDelivery(ctx, deliveryID)
	if fidelis.ErrorCode(err) == fidelis.ENOTFOUND || err == nil && d.RecipientID != id {
		return nil, missing
	}
	return d, err
}

// Redeliver puts a dead delivery back in the queue, due now, with a fresh budget of
// attempts. The recipient must be active with an endpoint.
func (s *Service) Redeliver(ctx context.Context, id, deliveryID string) (*Delivery, error) {
	if err := s.Check(ctx); err != nil {
		return nil, err
	}
	var out *Delivery
	err := s.Store.Write(ctx, func(tx Tx) error {
		d, err := s.delivery(ctx, tx, id, deliveryID)
		if err != nil {
			return err
		}
		if d.State != StateDead {
			return &fidelis.Error{Code: fidelis.ECONFLICT, Reason: "not_dead", Message: fmt.Sprintf("only a dead delivery can be redelivered; this one is %s", d.State)}
		}
		r, err := tx.GetRecipient(ctx, id)
		if err != nil {
			return err
		}
		if !r.Webhook() {
			return &fidelis.Error{Code: fidelis.EPRECONDITION, Reason: "recipient_cannot_receive",
				Message: "the recipient is inactive or has no webhook endpoint; activate it and give an endpoint first"}
		}
		lease := d.Lease
		now := s.now()
		d.State, d.RetryFrom, d.NextAttempt, d.Lease = StatePending, d.Attempts, &now, ""
		ok, err := tx.SaveDelivery(ctx, d, lease)
		if err != nil {
			return err
		}
		if !ok {
			return &fidelis.Error{Code: fidelis.ECONFLICT, Reason: "concurrent_change", Message: "the delivery changed meanwhile; reload and try again"}
		}
		out = d
		return tx.AppendAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActRedeliver, Subject: id, Reason: "delivery=" + d.ID}))
	})
	if err != nil {
		return nil, fmt.Errorf("recipient.Redeliver: %w", err)
	}
	return out, nil
}

// CustomerRecipient is one recipient of a customer's data, and what it was told about them.
type CustomerRecipient struct {
	Recipient     *Recipient
	Notifications []*Delivery // about this customer, newest first
}

// CustomerRecipients answers "who are the recipients of my data" (R-9, GDPR art. 19 and
// 15(1)(c)).
type CustomerRecipients struct {
	CustomerID fidelis.CustomerID
	Erased     bool
	Recipients []CustomerRecipient
	Truncated  bool // more notifications exist than were listed
}

// maxSubjectDeliveries bounds the notifications listed for one customer.
const maxSubjectDeliveries = 1000

// ForCustomer lists the recipients of customer id's data: the active recipients of the
// registry's purposes, and every recipient that was notified about the customer, with
// those notifications. It is a purpose-bound read, audited (P-1); it works after erasure,
// when only the notifications remain (they hold no personal data).
func (s *Service) ForCustomer(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID) (*CustomerRecipients, error) {
	actor, ok := fidelis.ActorFrom(ctx)
	if !ok {
		return nil, &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "no_actor", Message: "authentication required"}
	}
	if !fidelis.ValidID("cus", string(id)) {
		return nil, &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "bad_id", Message: "no customer with this id"}
	}
	if _, err := s.Registry.Authorize(actor, p, fidelis.ActionRead); err != nil {
		if fidelis.AsError(err).Reason == "purpose_unknown" {
			p = "" // caller-chosen text never enters the audit log (D-5)
		}
		_ = s.Store.RecordAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActCustomerRead, Subject: string(id), Purpose: p, Outcome: audit.OutcomeDenied, Reason: fidelis.AsError(err).Reason}))
		return nil, err
	}
	out := &CustomerRecipients{CustomerID: id}
	err := s.Store.Read(ctx, func(tx Tx) error {
		st, err := tx.CustomerState(ctx, id)
		if err != nil {
			return err
		}
		ds, err := tx.SubjectDeliveries(ctx, string(id), maxSubjectDeliveries+1)
		if err != nil {
			return err
		}
		if !st.Exists && !st.Erased && len(ds) == 0 {
			return &fidelis.Error{Code: fidelis.ENOTFOUND, Message: "no customer with this id"}
		}
		out.Erased = st.Erased && !st.Exists
		if len(ds) > maxSubjectDeliveries {
			ds, out.Truncated = ds[:maxSubjectDeliveries], true
		}
		byRecipient := map[string][]*Delivery{}
		for _, d := range ds {
			byRecipient[d.RecipientID] = append(byRecipient[d.RecipientID], d)
		}
		seen := map[string]bool{}
		if st.Exists {
			active, err := tx.ActiveRecipients(ctx)
			if err != nil {
				return err
			}
			for _, r := range active {
				seen[r.ID] = true
				out.Recipients = append(out.Recipients, CustomerRecipient{Recipient: r, Notifications: byRecipient[r.ID]})
			}
		}
		var others []string
		for rid := range byRecipient {
			if !seen[rid] {
				others = append(others, rid)
			}
		}
		slices.Sort(others)
		for _, rid := range others {
			r, err := tx.GetRecipient(ctx, rid)
			if err != nil {
				return err
			}
			out.Recipients = append(out.Recipients, CustomerRecipient{Recipient: r, Notifications: byRecipient[rid]})
		}
		return nil
	})
	if err != nil {
		if fidelis.ErrorCode(err) == fidelis.ENOTFOUND {
			_ = s.Store.RecordAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActCustomerRead, Subject: string(id), Purpose: p, Outcome: audit.OutcomeFailed, Reason: string(fidelis.ENOTFOUND)}))
		}
		return nil, err
	}
	if err := s.Store.RecordAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActCustomerRead, Subject: string(id), Purpose: p})); err != nil {
		return nil, fmt.Errorf("recipient.ForCustomer: audit: %w", err)
	}
	return out, nil
}
