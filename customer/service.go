package customer

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/privacy"
	"github.com/fidelis/fidelis/vault"
)

// Audit actions recorded by this package.
const (
	ActCreate    = "customer.create"
	ActRead      = "customer.read"
	ActUpdate    = "customer.update"
	ActHistory   = "customer.history"
	ActAccessLog = "customer.access_log"
	ActExport    = "customer.export"
	ActErase     = "customer.erase"
)

// Service is the customer capability. It is safe for concurrent use.
type Service struct {
	Store    Store
	Vault    *vault.Vault
	Registry *privacy.Registry
	Audit    *audit.Log
	Now      func() time.Time
	// BackupRetention is how long backups are kept: the erasure receipt's effective date
	// is the erasure time plus this. Zero means DefaultBackupRetention (35 days).
	BackupRetention time.Duration
	// SuppressionPeriod is how long a suppression entry is kept. Zero means
	// DefaultSuppressionYears (3 years).
	SuppressionPeriod time.Duration
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

// authorize runs the access decision and audits a refusal (P-1: refusals are audited).
func (s *Service) authorize(ctx context.Context, p fidelis.Purpose, a fidelis.Action, action, subject string) (*privacy.Purpose, error) {
	actor, ok := fidelis.ActorFrom(ctx)
	if !ok {
		return nil, &fidelis.Error{Code: fidelis.EUNAUTHORIZED, Reason: "no_actor", Message: "authentication required"}
	}
	if subject != "" && !fidelis.ValidID("cus", subject) {
		// Not an ID Fidelis issued: nothing to authorise, and caller text stays out of the
		// audit log (D-5).
		return nil, &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "bad_id", Message: "no customer with this id"}
	}
	decl, err := s.Registry.Authorize(actor, p, a)
	if err != nil {
		if fidelis.AsError(err).Reason == "purpose_unknown" {
			p = "" // caller-chosen text never enters the audit log (D-5)
		}
		s.recordRefusal(ctx, action, subject, p, nil, err)
		return nil, err
	}
	if subject == "" {
		return decl, nil
	}
	// The lawfulness decision for this subject, now (P-3): consents, restriction,
	// objections and retention as stored at this instant, so that a withdrawal or a
	// restriction applies to the very next request (C-2, R-10).
	var st *privacy.SubjectState
	if err := s.Store.Read(ctx, func(tx Tx) (err error) { st, err = tx.SubjectState(ctx, fidelis.CustomerID(subject)); return err }); err != nil {
		return nil, fmt.Errorf("customer: subject state: %w", err)
	}
	if err := decl.Lawful(st); err != nil {
		s.recordRefusal(ctx, action, subject, p, nil, err)
		return nil, err
	}
	return decl, nil
}

// Check runs the access decision for an operation without performing it, auditing a
// refusal. Transports call it before parsing a request, so that a refusal (P-1) comes before
// any complaint about the request's content.
func (s *Service) Check(ctx context.Context, p fidelis.Purpose, a fidelis.Action, subject fidelis.CustomerID) error {
	_, err := s.authorize(ctx, p, a, "customer."+string(a), string(subject))
	return err
}

func (s *Service) recordRefusal(ctx context.Context, action, subject string, p fidelis.Purpose, fields []fidelis.Field, err error) {
	reason := "refused"
	if e := fidelis.AsError(err); e != nil && e.Reason != "" {
		reason = e.Reason
	}
	// The refusal stands even if recording it fails; the store logs its own failure.
	_ = s.Store.RecordAudit(ctx, s.Audit.Entry(ctx, audit.Event{
		Action: action, Subject: subject, Purpose: p, Fields: fields, Outcome: audit.OutcomeDenied, Reason: reason,
	}))
}

// knownFields keeps the customer fields among fs; unknown names are normalize's to report.
func knownFields(fs []fidelis.Field) []fidelis.Field {
	known := fidelis.CustomerFields()
	out := fs[:0:0]
	for _, f := range fs {
		if slices.Contains(known, f) {
			out = append(out, f)
		}
	}
	return out
}

// checkFields refuses writing fields the purpose does not declare (P-2).
func (s *Service) checkFields(ctx context.Context, decl *privacy.Purpose, action, subject string, fields []fidelis.Field) error {
	var bad []fidelis.FieldError
	for _, f := range fields {
		if !decl.Allows(f) {
			bad = append(bad, fidelis.FieldError{Field: string(f), Rule: "not_allowed_for_purpose",
				Message: fmt.Sprintf("purpose %q may not use this field", decl.Name)})
		}
	}
	if len(bad) == 0 {
		return nil
	}
	err := &fidelis.Error{Code: fidelis.EFORBIDDEN, Reason: "field_not_allowed", Fields: bad,
		Message: fmt.Sprintf("purpose %q does not need some of the submitted fields; collecting them is refused", decl.Name)}
	s.recordRefusal(ctx, action, subject, decl.Name, fields, err)
	return err
}

// Create stores a new customer under purpose p and returns it as p sees it.
func (s *Service) Create(ctx context.Context, p fidelis.Purpose, in Input) (*Customer, error) {
	decl, err := s.authorize(ctx, p, fidelis.ActionCreate, ActCreate, "")
	if err != nil {
		return nil, err
	}
	if in.Set == nil {
		in.Set = map[fidelis.Field]fidelis.Secret{}
	}
	now := s.now()
	// P-2: a field the purpose does not need is refused before its value is even looked at.
	if err := s.checkFields(ctx, decl, ActCreate, "", knownFields(in.Fields())); err != nil {
		return nil, err
	}
	if errs := in.normalize(now); len(errs) > 0 {
		return nil, fidelis.Invalid(errs...)
	}
	if !identifiable(in.Set) {
		return nil, fidelis.Invalid(fidelis.FieldError{Field: string(fidelis.FieldFamilyName), Rule: "required",
			Message: "a customer needs a name, an e-mail address or a telephone number"})
	}
	id := fidelis.NewCustomerID(now)
	dek, wrapped, err := s.Vault.NewDEK(id)
	if err != nil {
		return nil, fmt.Errorf("customer.Create: %w", err)
	}
	rec := &Record{ID: id, Version: 1, CreatedAt: now, UpdatedAt: now, Key: wrapped}
	s.seal(rec, dek, in.Set, in.Attributes)
	written := in.Fields()
	err = s.Store.Write(ctx, func(tx Tx) error {
		if err := s.checkSuppressed(ctx, tx, rec, "", now); err != nil {
			return err
		}
		if err := tx.InsertCustomer(ctx, rec); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActCreate, Subject: string(id), Purpose: p, Fields: written})); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, s.event("customer.created", id, written))
	})
	if err != nil {
		if e := fidelis.AsError(err); e != nil && e.Reason == "suppressed" {
			s.recordRefusal(ctx, ActCreate, "", p, written, err)
		}
		return nil, fmt.Errorf("customer.Create: %w", err)
	}
	return s.view(rec, decl, in.Set, in.Attributes), nil
}

// seal encrypts values into rec and computes its blind indexes.
func (s *Service) seal(rec *Record, dek *vault.DEK, values map[fidelis.Field]fidelis.Secret, attrs map[string]fidelis.Secret) {
	rec.Sealed = make(map[fidelis.Field][]byte, len(values)+1)
	for f, v := range values {
		if !v.IsZero() {
			rec.Sealed[f] = dek.Seal(string(f), v)
		}
	}
	if b := encodeAttributes(attrs); b != nil {
		rec.Sealed[fidelis.FieldAttributes] = dek.SealBytes(string(fidelis.FieldAttributes), b)
	}
	rec.EmailIndex = s.Vault.BlindIndex("email", vault.NormalizeEmail(values[fidelis.FieldEmail].Reveal()))
	rec.PhoneIndex = s.Vault.BlindIndex("phone", phoneIndexValue(values[fidelis.FieldPhone].Reveal(), values[fidelis.FieldCountry].Reveal()))
}

// open decrypts every field of rec.
func (s *Service) open(rec *Record) (*vault.DEK, map[fidelis.Field]fidelis.Secret, map[string]fidelis.Secret, error) {
	dek, err := s.Vault.UnwrapDEK(rec.ID, rec.Key)
	if err != nil {
		return nil, nil, nil, err
	}
	values := make(map[fidelis.Field]fidelis.Secret, len(rec.Sealed))
	var attrs map[string]fidelis.Secret
	for f, c := range rec.Sealed {
		if f == fidelis.FieldAttributes {
			b, err := dek.OpenBytes(string(f), c)
			if err != nil {
				return nil, nil, nil, err
			}
			if attrs, err = decodeAttributes(b); err != nil {
				return nil, nil, nil, fmt.Errorf("customer %s attributes: %w", rec.ID, err)
			}
			continue
		}
		v, err := dek.Open(string(f), c)
		if err != nil {
			return nil, nil, nil, err
		}
		values[f] = v
	}
	if attrs == nil {
		attrs = map[string]fidelis.Secret{}
	}
	return dek, values, attrs, nil
}

// view keeps only what decl may see (P-2: fields a purpose may not use are not returned).
func (s *Service) view(rec *Record, decl *privacy.Purpose, values map[fidelis.Field]fidelis.Secret, attrs map[string]fidelis.Secret) *Customer {
	c := &Customer{ID: rec.ID, Version: rec.Version, CreatedAt: rec.CreatedAt, UpdatedAt: rec.UpdatedAt,
		Values: map[fidelis.Field]fidelis.Secret{}}
	for _, f := range fidelis.CustomerFields() {
		if !decl.Allows(f) {
			continue
		}
		c.Visible = append(c.Visible, f)
		if f == fidelis.FieldAttributes {
			c.Attributes = attrs
			if c.Attributes == nil {
				c.Attributes = map[string]fidelis.Secret{}
			}
		} else if v, ok := values[f]; ok {
			c.Values[f] = v
		}
	}
	return c
}

// decrypt opens rec and returns its view under decl.
func (s *Service) decrypt(rec *Record, decl *privacy.Purpose) (*Customer, error) {
	_, values, attrs, err := s.open(rec)
	if err != nil {
		return nil, fmt.Errorf("customer %s: %w", rec.ID, err)
	}
	return s.view(rec, decl, values, attrs), nil
}

// presentFields lists the visible fields that hold a value: what a read disclosed.
func presentFields(c *Customer) []fidelis.Field {
	var out []fidelis.Field
	for _, f := range c.Visible {
		if f == fidelis.FieldAttributes && len(c.Attributes) > 0 || !c.Values[f].IsZero() {
			out = append(out, f)
		}
	}
	return out
}

func (s *Service) event(typ string, id fidelis.CustomerID, fields []fidelis.Field) *Event {
	now := s.now()
	return &Event{ID: fidelis.NewID("evt", now), At: now, Type: typ, Subject: string(id), Fields: fields}
}

// Get returns customer id as purpose p sees it, and audits the read.
func (s *Service) Get(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID) (*Customer, error) {
	decl, err := s.authorize(ctx, p, fidelis.ActionRead, ActRead, string(id))
	if err != nil {
		return nil, err
	}
	var rec *Record
	if err := s.Store.Read(ctx, func(tx Tx) (err error) { rec, err = tx.GetCustomer(ctx, id); return err }); err != nil {
		s.recordFailure(ctx, ActRead, string(id), p, err)
		return nil, err
	}
	c, err := s.decrypt(rec, decl)
	if err != nil {
		return nil, err
	}
	if err := s.Store.RecordAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActRead, Subject: string(id), Purpose: p, Fields: presentFields(c)})); err != nil {
		return nil, fmt.Errorf("customer.Get: audit: %w", err) // no unaudited read
	}
	return c, nil
}

func (s *Service) recordFailure(ctx context.Context, action, subject string, p fidelis.Purpose, err error) {
	reason := string(fidelis.ErrorCode(err))
	_ = s.Store.RecordAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: action, Subject: subject, Purpose: p, Outcome: audit.OutcomeFailed, Reason: reason}))
}

// lawfulOnly keeps the records whose subjects purpose decl may process now (a listing
// under a consent-based purpose shows only the customers who consented, never the others).
func lawfulOnly(ctx context.Context, tx Tx, decl *privacy.Purpose, recs []*Record) ([]*Record, error) {
	if len(recs) == 0 {
		return recs, nil
	}
	ids := make([]fidelis.CustomerID, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	states, err := tx.SubjectStates(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("subject states: %w", err)
	}
	out := recs[:0]
	for _, r := range recs {
		st := states[r.ID]
		if st == nil {
			st = &privacy.SubjectState{}
		}
		if decl.Lawful(st) == nil {
			out = append(out, r)
		}
	}
	return out, nil
}

// readMany decrypts records under decl and audits one read per customer, in one write.
func (s *Service) readMany(ctx context.Context, p fidelis.Purpose, decl *privacy.Purpose, recs []*Record) ([]*Customer, error) {
	out := make([]*Customer, 0, len(recs))
	entries := make([]audit.Entry, 0, len(recs))
	for _, rec := range recs {
		c, err := s.decrypt(rec, decl)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
		entries = append(entries, s.Audit.Entry(ctx, audit.Event{Action: ActRead, Subject: string(c.ID), Purpose: p, Fields: presentFields(c)}))
	}
	if len(entries) > 0 {
		if err := s.Store.RecordAudit(ctx, entries...); err != nil {
			return nil, fmt.Errorf("customer: audit: %w", err)
		}
	}
	return out, nil
}

// List returns customers newest first, a page at a time. cursor is the Next of the previous
// page ("" for the first).
func (s *Service) List(ctx context.Context, p fidelis.Purpose, cursor string, limit int) (*Page[*Customer], error) {
	decl, err := s.authorize(ctx, p, fidelis.ActionRead, ActRead, "")
	if err != nil {
		return nil, err
	}
	before := fidelis.CustomerID(cursor)
	if cursor != "" && !fidelis.ValidID("cus", cursor) {
		return nil, fidelis.Invalid(fidelis.FieldError{Field: "cursor", Rule: "invalid_cursor", Message: "is not a cursor returned by a previous page"})
	}
	n := pageSize(limit)
	var recs []*Record
	if err := s.Store.Read(ctx, func(tx Tx) (err error) { recs, err = tx.ListCustomers(ctx, before, n+1); return err }); err != nil {
		return nil, fmt.Errorf("customer.List: %w", err)
	}
	page := &Page[*Customer]{}
	if len(recs) > n {
		recs = recs[:n]
		page.Next = string(recs[n-1].ID)
	}
	// The page is cut before filtering, so that the cursor stays stable; a page may hold
	// fewer items than asked when some customers may not be processed under p.
	if err := s.Store.Read(ctx, func(tx Tx) (err error) { recs, err = lawfulOnly(ctx, tx, decl, recs); return err }); err != nil {
		return nil, fmt.Errorf("customer.List: %w", err)
	}
	if page.Items, err = s.readMany(ctx, p, decl, recs); err != nil {
		return nil, err
	}
	return page, nil
}

// Query is an exact search. One of Email and Phone is set.
type Query struct {
	Email fidelis.Secret
	Phone fidelis.Secret
}

// maxMatches bounds a search result: an exact e-mail or phone rarely matches more than a
// household.
const maxMatches = 100

// Search finds customers by exact e-mail or phone through blind indexes (D-3): the database
// never sees the searched value.
func (s *Service) Search(ctx context.Context, p fidelis.Purpose, q Query) ([]*Customer, error) {
	decl, err := s.authorize(ctx, p, fidelis.ActionRead, ActRead, "")
	if err != nil {
		return nil, err
	}
	var recs []*Record
	switch {
	case !q.Email.IsZero() && q.Phone.IsZero():
		if !decl.Allows(fidelis.FieldEmail) {
			return nil, s.checkFields(ctx, decl, ActRead, "", []fidelis.Field{fidelis.FieldEmail})
		}
		idx := s.Vault.BlindIndex("email", vault.NormalizeEmail(q.Email.Reveal()))
		err = s.Store.Read(ctx, func(tx Tx) (err error) {
			if recs, err = tx.FindByEmailIndex(ctx, idx, maxMatches); err != nil {
				return err
			}
			recs, err = lawfulOnly(ctx, tx, decl, recs)
			return err
		})
	case !q.Phone.IsZero() && q.Email.IsZero():
		if !decl.Allows(fidelis.FieldPhone) {
			return nil, s.checkFields(ctx, decl, ActRead, "", []fidelis.Field{fidelis.FieldPhone})
		}
		n := phoneIndexValue(q.Phone.Reveal(), "")
		if len(n) < 7 {
			return nil, fidelis.Invalid(fidelis.FieldError{Field: "phone", Rule: "invalid_phone", Message: "is not a valid telephone number"})
		}
		idx := s.Vault.BlindIndex("phone", n)
		err = s.Store.Read(ctx, func(tx Tx) (err error) {
			if recs, err = tx.FindByPhoneIndex(ctx, idx, maxMatches); err != nil {
				return err
			}
			recs, err = lawfulOnly(ctx, tx, decl, recs)
			return err
		})
	default:
		return nil, fidelis.Invalid(fidelis.FieldError{Field: "email", Rule: "one_of", Message: "give exactly one of email or phone"})
	}
	if err != nil {
		return nil, fmt.Errorf("customer.Search: %w", err)
	}
	return s.readMany(ctx, p, decl, recs)
}

// Update changes customer id under purpose p. expectVersion, when not 0, must be the
// current version (optimistic concurrency); the previous values go to the history.
func (s *Service) Update(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID, in Input, expectVersion int) (*Customer, error) {
	decl, err := s.authorize(ctx, p, fidelis.ActionUpdate, ActUpdate, string(id))
	if err != nil {
		return nil, err
	}
	if in.Set == nil {
		in.Set = map[fidelis.Field]fidelis.Secret{}
	}
	now := s.now()
	if err := s.checkFields(ctx, decl, ActUpdate, string(id), knownFields(in.Fields())); err != nil {
		return nil, err
	}
	if errs := in.normalize(now); len(errs) > 0 {
		return nil, fidelis.Invalid(errs...)
	}
	var out *Customer
	err = s.Store.Write(ctx, func(tx Tx) error {
		rec, err := tx.GetCustomer(ctx, id)
		if err != nil {
			return err
		}
		if expectVersion != 0 && rec.Version != expectVersion {
			return &fidelis.Error{Code: fidelis.EPRECONDITION, Reason: "version_mismatch",
				Message: fmt.Sprintf("the customer was changed meanwhile (version %d, expected %d); reload and try again", rec.Version, expectVersion)}
		}
		dek, values, attrs, err := s.open(rec)
		if err != nil {
			return err
		}
		// Work out the final values (Set, then Clear, then Attributes), then compare them
		// with the stored ones: the history records each changed field's real previous
		// value, and a net no-op is no change.
		final := maps.Clone(values)
		maps.Copy(final, in.Set)
		finalAttrs := attrs
		for _, f := range in.Clear {
			if f == fidelis.FieldAttributes {
				finalAttrs = map[string]fidelis.Secret{}
			} else {
				delete(final, f)
			}
		}
		if in.Attributes != nil {
			finalAttrs = in.Attributes
		}
		previous := map[string]string{}
		var changed []fidelis.Field
		for _, f := range fidelis.CustomerFields() {
			if f == fidelis.FieldAttributes {
				if string(encodeAttributes(finalAttrs)) != string(encodeAttributes(attrs)) {
					previous[string(f)] = string(encodeAttributes(attrs))
					changed = append(changed, f)
				}
			} else if final[f].Reveal() != values[f].Reveal() {
				previous[string(f)] = values[f].Reveal()
				changed = append(changed, f)
			}
		}
		values, attrs = final, finalAttrs
		slices.Sort(changed)
		if len(changed) == 0 {
			out = s.view(rec, decl, values, attrs)
			return tx.AppendAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActUpdate, Subject: string(id), Purpose: p, Reason: "no_change"}))
		}
		if !identifiable(values) {
			return fidelis.Invalid(fidelis.FieldError{Field: string(fidelis.FieldFamilyName), Rule: "required",
				Message: "a customer needs a name, an e-mail address or a telephone number"})
		}
		prevJSON, _ := json.Marshal(previous)
		next := &Record{ID: id, Version: rec.Version + 1, CreatedAt: rec.CreatedAt, UpdatedAt: now, Key: rec.Key}
		s.seal(next, dek, values, attrs)
		if err := tx.UpdateCustomer(ctx, next); err != nil {
			return err
		}
		actor, _ := fidelis.ActorFrom(ctx)
		if err := tx.InsertChange(ctx, &Change{CustomerID: id, Version: next.Version, At: now, Actor: actor.String(), Purpose: p,
			Fields: changed, Previous: dek.SealBytes(historyField(next.Version), prevJSON)}); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActUpdate, Subject: string(id), Purpose: p, Fields: changed})); err != nil {
			return err
		}
		out = s.view(next, decl, values, attrs)
		return tx.AppendEvent(ctx, s.event("customer.updated", id, changed))
	})
	if err != nil {
		return nil, fmt.Errorf("customer.Update: %w", err)
	}
	return out, nil
}

// historyField is the associated-data field name of a history entry's previous values.
func historyField(version int) string { return fmt.Sprintf("history/%d", version) }

// HistoryItem is one change as a purpose sees it: previous values of fields the purpose
// may not use are withheld.
type HistoryItem struct {
	Version  int
	At       time.Time
	Actor    string
	Purpose  fidelis.Purpose
	Fields   []fidelis.Field
	Previous map[fidelis.Field]fidelis.Secret
}

// History returns the changes of customer id, oldest first, with previous values.
func (s *Service) History(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID) ([]HistoryItem, error) {
	decl, err := s.authorize(ctx, p, fidelis.ActionRead, ActHistory, string(id))
	if err != nil {
		return nil, err
	}
	items, fields, err := s.history(ctx, id, decl)
	if err != nil {
		return nil, err
	}
	if err := s.Store.RecordAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActHistory, Subject: string(id), Purpose: p, Fields: fields})); err != nil {
		return nil, fmt.Errorf("customer.History: audit: %w", err)
	}
	return items, nil
}

func (s *Service) history(ctx context.Context, id fidelis.CustomerID, decl *privacy.Purpose) ([]HistoryItem, []fidelis.Field, error) {
	var rec *Record
	var changes []*Change
	err := s.Store.Read(ctx, func(tx Tx) (err error) {
		if rec, err = tx.GetCustomer(ctx, id); err != nil {
			return err
		}
		changes, err = tx.Changes(ctx, id)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	dek, err := s.Vault.UnwrapDEK(rec.ID, rec.Key)
	if err != nil {
		return nil, nil, err
	}
	var disclosed []fidelis.Field
	items := make([]HistoryItem, 0, len(changes))
	for _, c := range changes {
		b, err := dek.OpenBytes(historyField(c.Version), c.Previous)
		if err != nil {
			return nil, nil, err
		}
		var prev map[string]string
		if err := json.Unmarshal(b, &prev); err != nil {
			return nil, nil, fmt.Errorf("customer %s history %d: %w", id, c.Version, err)
		}
		it := HistoryItem{Version: c.Version, At: c.At, Actor: c.Actor, Purpose: c.Purpose, Fields: c.Fields, Previous: map[fidelis.Field]fidelis.Secret{}}
		for k, v := range prev {
			if f := fidelis.Field(k); decl.Allows(f) {
				it.Previous[f] = fidelis.NewSecret(v)
				disclosed = append(disclosed, f)
			}
		}
		items = append(items, it)
	}
	return items, disclosed, nil
}

// AccessLog returns who accessed customer id's data, when and why, newest first
// (P-4, R-6). It works for erased customers too: the log holds no personal data.
func (s *Service) AccessLog(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID, cursor int64, limit int) (*Page[audit.Entry], error) {
	if _, err := s.authorize(ctx, p, fidelis.ActionAccessLog, ActAccessLog, string(id)); err != nil {
		return nil, err
	}
	n := pageSize(limit)
	var entries []audit.Entry
	if err := s.Store.Read(ctx, func(tx Tx) (err error) { entries, err = tx.AccessLog(ctx, string(id), cursor, n+1); return err }); err != nil {
		return nil, fmt.Errorf("customer.AccessLog: %w", err)
	}
	page := &Page[audit.Entry]{}
	if len(entries) > n {
		entries = entries[:n]
		page.Next = fmt.Sprint(entries[n-1].ID)
	}
	page.Items = entries
	if err := s.Store.RecordAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActAccessLog, Subject: string(id), Purpose: p})); err != nil {
		return nil, fmt.Errorf("customer.AccessLog: audit: %w", err)
	}
	return page, nil
}

// Export is everything held about one customer.
type Export struct {
	GeneratedAt time.Time
	Customer    *Customer
	History     []HistoryItem
	AccessLog   []audit.Entry
	Processing  []*privacy.Purpose
	KeyCreated  time.Time
}

// Export gathers everything held about customer id: all fields, history of changes, the
// processing purposes with their bases, retention and recipients, and the full access log.
func (s *Service) Export(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID) (*Export, error) {
	decl, err := s.authorize(ctx, p, fidelis.ActionExport, ActExport, string(id))
	if err != nil {
		return nil, err
	}
	var rec *Record
	var log []audit.Entry
	err = s.Store.Read(ctx, func(tx Tx) error {
		var err error
		if rec, err = tx.GetCustomer(ctx, id); err != nil {
			return err
		}
		var before int64
		for {
			page, err := tx.AccessLog(ctx, string(id), before, 1000)
			if err != nil {
				return err
			}
			log = append(log, page...)
			if len(page) < 1000 {
				return nil
			}
			before = page[len(page)-1].ID
		}
	})
	if err != nil {
		s.recordFailure(ctx, ActExport, string(id), p, err)
		return nil, err
	}
	c, err := s.decrypt(rec, decl)
	if err != nil {
		return nil, err
	}
	hist, _, err := s.history(ctx, id, decl)
	if err != nil {
		return nil, err
	}
	ex := &Export{GeneratedAt: s.now(), Customer: c, History: hist, AccessLog: log, Processing: s.Registry.Purposes(), KeyCreated: rec.CreatedAt}
	if err := s.Store.RecordAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActExport, Subject: string(id), Purpose: p, Fields: presentFields(c)})); err != nil {
		return nil, fmt.Errorf("customer.Export: audit: %w", err)
	}
	return ex, nil
}

// Erase crypto-shreds customer id: the data key is destroyed, so every copy of the
// ciphertext (backups, replicas, WAL) becomes unreadable, and the record, blind indexes and
// history are deleted, all in one transaction with the audit entry, the event and the
// receipt. The audit log keeps only the pseudonymous ID.
func (s *Service) Erase(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID) (*Erasure, error) {
	return s.erase(ctx, p, id, true, "")
}

// EraseExpired erases customer id because their retention period ended (T-7), by the same
// crypto-shredding as Erase, under purpose p (data_protection). The contact details are not
// put on the suppression list: the person did not ask to be forgotten, and may give them
// again later (R-15 is for erasure on request and objection). The audit entry's reason
// names the rule ("retention:T-1").
func (s *Service) EraseExpired(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID, rule string) (*Erasure, error) {
	return s.erase(ctx, p, id, false, "retention:"+rule)
}

func (s *Service) erase(ctx context.Context, p fidelis.Purpose, id fidelis.CustomerID, suppress bool, why string) (*Erasure, error) {
	if _, err := s.authorize(ctx, p, fidelis.ActionErase, ActErase, string(id)); err != nil {
		return nil, err
	}
	now := s.now()
	actor, _ := fidelis.ActorFrom(ctx)
	var receipt *Erasure
	err := s.Store.Write(ctx, func(tx Tx) error {
		rec, err := tx.GetCustomer(ctx, id)
		if err != nil {
			return err
		}
		// the keyed hashes of the e-mail and phone go on the suppression list before
		// the record and its blind indexes are deleted, in the same transaction.
		var suppressed []string
		if suppress {
			if suppressed, err = s.suppress(ctx, tx, rec, SuppressErasure, now); err != nil {
				return err
			}
		}
		d, err := tx.DeleteCustomer(ctx, id)
		if err != nil {
			return err
		}
		receipt = s.receipt(id, now, actor, p, d, suppressed)
		if err := tx.InsertErasure(ctx, receipt); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActErase, Subject: string(id), Purpose: p, Fields: fidelis.CustomerFields(), Reason: why})); err != nil {
			return err
		}
		return tx.AppendEvent(ctx, s.event("customer.erased", id, nil))
	})
	if err != nil {
		if fidelis.ErrorCode(err) == fidelis.ENOTFOUND {
			s.recordFailure(ctx, ActErase, string(id), p, err)
		}
		return nil, fmt.Errorf("customer.Erase: %w", err)
	}
	return receipt, nil
}

// CreateMany stores several new customers in one transaction (imports, demo data): all or
// none. Each input is validated as by Create; the first invalid one fails the batch with its
// index in the field names ("3.email").
func (s *Service) CreateMany(ctx context.Context, p fidelis.Purpose, inputs []Input) ([]fidelis.CustomerID, error) {
	decl, err := s.authorize(ctx, p, fidelis.ActionCreate, ActCreate, "")
	if err != nil {
		return nil, err
	}
	now := s.now()
	recs := make([]*Record, len(inputs))
	written := make([][]fidelis.Field, len(inputs))
	for i := range inputs {
		in := &inputs[i]
		if in.Set == nil {
			in.Set = map[fidelis.Field]fidelis.Secret{}
		}
		if err := s.checkFields(ctx, decl, ActCreate, "", knownFields(in.Fields())); err != nil {
			return nil, err
		}
		errs := in.normalize(now)
		if len(errs) == 0 && !identifiable(in.Set) {
			errs = append(errs, fidelis.FieldError{Field: string(fidelis.FieldFamilyName), Rule: "required", Message: "a customer needs a name, an e-mail address or a telephone number"})
		}
		if len(errs) > 0 {
			for j := range errs {
				errs[j].Field = fmt.Sprintf("%d.%s", i, errs[j].Field)
			}
			return nil, fidelis.Invalid(errs...)
		}
		id := fidelis.NewCustomerID(now)
		dek, wrapped, err := s.Vault.NewDEK(id)
		if err != nil {
			return nil, err
		}
		recs[i] = &Record{ID: id, Version: 1, CreatedAt: now, UpdatedAt: now, Key: wrapped}
		s.seal(recs[i], dek, in.Set, in.Attributes)
		written[i] = in.Fields()
	}
	ids := make([]fidelis.CustomerID, len(recs))
	err = s.Store.Write(ctx, func(tx Tx) error {
		entries := make([]audit.Entry, 0, len(recs))
		for i, rec := range recs {
			if err := s.checkSuppressed(ctx, tx, rec, fmt.Sprintf("%d.", i), now); err != nil {
				return err
			}
			if err := tx.InsertCustomer(ctx, rec); err != nil {
				return err
			}
			if err := tx.AppendEvent(ctx, s.event("customer.created", rec.ID, written[i])); err != nil {
				return err
			}
			entries = append(entries, s.Audit.Entry(ctx, audit.Event{Action: ActCreate, Subject: string(rec.ID), Purpose: p, Fields: written[i]}))
			ids[i] = rec.ID
		}
		return tx.AppendAudit(ctx, entries...)
	})
	if err != nil {
		if e := fidelis.AsError(err); e != nil && e.Reason == "suppressed" {
			s.recordRefusal(ctx, ActCreate, "", p, nil, err)
		}
		return nil, fmt.Errorf("customer.CreateMany: %w", err)
	}
	return ids, nil
}

// ActAgeCheck is the audit action of an age check (C-4).
const ActAgeCheck = "customer.age_check"

// MinorAt reports whether customer id was under the age of digital consent at t (C-4), from
// the sealed birth date; false when none is known. The check is a legal obligation of the
// consent collection itself (GDPR art. 8), so it runs under purpose data_protection without
// a role of its own, and it is audited like any read of the birth date.
func (s *Service) MinorAt(ctx context.Context, id fidelis.CustomerID, t time.Time) (bool, error) {
	var rec *Record
	if err := s.Store.Read(ctx, func(tx Tx) (err error) { rec, err = tx.GetCustomer(ctx, id); return err }); err != nil {
		return false, err
	}
	sealed, ok := rec.Sealed[fidelis.FieldBirthDate]
	if !ok || len(sealed) == 0 {
		return false, nil
	}
	dek, err := s.Vault.UnwrapDEK(rec.ID, rec.Key)
	if err != nil {
		return false, err
	}
	v, err := dek.Open(string(fidelis.FieldBirthDate), sealed)
	if err != nil {
		return false, err
	}
	if err := s.Store.RecordAudit(ctx, s.Audit.Entry(ctx, audit.Event{Action: ActAgeCheck, Subject: string(id), Purpose: fidelis.PurposeDataProtection, Fields: []fidelis.Field{fidelis.FieldBirthDate}})); err != nil {
		return false, fmt.Errorf("customer.MinorAt: audit: %w", err)
	}
	born, err := time.Parse(time.DateOnly, v.Reveal())
	if err != nil {
		return false, nil // stored values are validated; an unreadable one proves nothing
	}
	return born.AddDate(privacy.AgeOfDigitalConsent, 0, 0).After(t), nil
}
