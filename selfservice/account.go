package selfservice

import (
	"context"
	"io"
	"slices"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/consent"
	"github.com/fidelis/fidelis/customer"
	"github.com/fidelis/fidelis/loyalty"
	"github.com/fidelis/fidelis/privacy"
	"github.com/fidelis/fidelis/register"
	"github.com/fidelis/fidelis/rights"
)

// as returns ctx acting as the signed-in customer: every operation below runs as them,
// under the access decision and in the audit log like any other actor (P-1).
func as(ctx context.Context, sess *Session) context.Context {
	return fidelis.WithActor(ctx, sess.Actor())
}

// Record returns what is held about the customer: their own record, every field (right
// of access, GDPR art. 15), read under data_protection and audited.
func (s *Service) Record(ctx context.Context, sess *Session) (*customer.Customer, error) {
	return s.Customers.Get(as(ctx, sess), purposeDP, sess.CustomerID)
}

// ConsentItem is one consent the customer may give or withdraw: a consent-based purpose on
// one channel, with the notice text that is shown and the current decision.
type ConsentItem struct {
	Purpose     fidelis.Purpose
	Description fidelis.Text
	Channel     privacy.Channel
	// Notice is the latest published text of the purpose, shown with the choice (C-1); nil
	// when none was published (then consent cannot be given, only withdrawn).
	Notice *consent.Notice
	// Current is the last decision recorded; nil when the customer never decided.
	Current *privacy.ConsentStatus
}

// Granted reports whether the consent is given now.
func (i *ConsentItem) Granted() bool {
	return i.Current != nil && i.Current.Decision == privacy.ConsentGranted
}

// MyConsents returns the customer's consents, one per consent-based purpose and channel that
// can be asked (a notice is published) or was decided, in registry order. Reading them is
// audited.
func (s *Service) MyConsents(ctx context.Context, sess *Session) ([]*ConsentItem, error) {
	ctx = as(ctx, sess)
	h, err := s.Consents.History(ctx, purposeDP, sess.CustomerID, "", 1)
	if err != nil {
		return nil, err
	}
	var out []*ConsentItem
	for _, d := range s.Registry.Purposes() {
		if d.LawfulBasis != fidelis.BasisConsent {
			continue
		}
		n, err := s.Consents.LatestNotice(ctx, d.Name)
		if err != nil && fidelis.ErrorCode(err) != fidelis.ENOTFOUND {
			return nil, err
		}
		for _, c := range d.ConsentChannels {
			item := &ConsentItem{Purpose: d.Name, Description: d.Description, Channel: c, Notice: n}
			if st, ok := h.Current[privacy.ConsentKey(d.Name, c)]; ok {
				item.Current = &st
			}
			if item.Notice != nil || item.Current != nil {
				out = append(out, item)
			}
		}
	}
	return out, nil
}

// Decision is what the customer chose on one consent, with the notice version (and its
// hash) shown to them when they chose.
type Decision struct {
	Purpose       fidelis.Purpose
	Channel       privacy.Channel
	Decision      privacy.ConsentDecision
	NoticeVersion int
	NoticeHash    string
}

// Decide records the customer's own decision in the consent ledger, collected by the
// portal (C-1). It takes effect at once for every later processing (C-2): withdrawing is
// one call, as giving is. Errors are those of consent.Service.Record.
func (s *Service) Decide(ctx context.Context, sess *Session, d Decision) (*consent.Record, error) {
	rec, _, err := s.Consents.Record(as(ctx, sess), purposeDP, sess.CustomerID, consent.Input{
		Purpose: d.Purpose, Channel: d.Channel, Decision: d.Decision, NoticeVersion: d.NoticeVersion, NoticeHash: d.NoticeHash,
		Method: consent.MethodPortal,
	})
	return rec, err
}

// maxCases bounds the requests listed for one customer.
const maxCases = 500

// Requests returns the customer's rights requests, the most urgent first, each read
// audited.
func (s *Service) Requests(ctx context.Context, sess *Session) ([]*rights.Case, error) {
	ctx = as(ctx, sess)
	q := rights.Query{Filter: rights.Filter{CustomerID: sess.CustomerID}, Limit: rights.MaxPageSize}
	var out []*rights.Case
	for len(out) < maxCases {
		page, err := s.Rights.List(ctx, purposeDP, q)
		if err != nil {
			return nil, err
		}
		out = append(out, page.Items...)
		if q.Cursor = page.Next; q.Cursor == "" {
			break
		}
	}
	return out, nil
}

// Deadline returns where case c stands against its due date.
func (s *Service) Deadline(c *rights.Case) rights.DeadlineState { return s.Rights.Deadline(c) }

// ObjectablePurposes returns the purposes the customer may object to (GDPR art. 21):
// those resting on legitimate interest, and direct marketing.
func (s *Service) ObjectablePurposes() []*privacy.Purpose {
	var out []*privacy.Purpose
	for _, d := range s.Registry.Purposes() {
		if d.LawfulBasis == fidelis.BasisLegitimateInterest || d.DirectMarketing {
			out = append(out, d)
		}
	}
	return out
}

// NewRequest records a rights request the customer makes in the portal: received
// now, through the portal, and their identity verified by the sign-in link sent to the
// address on record (R-3: e-mail confirmation). The rights service's notifier (Prepare)
// sends the acknowledgement with the due date by e-mail.
func (s *Service) NewRequest(ctx context.Context, sess *Session, kind rights.Kind, purposes []fidelis.Purpose) (*rights.Case, error) {
	return s.openRequest(ctx, sess, kind, purposes)
}

// openRequest creates the case as the customer and records, as the portal, how their
// identity was verified.
func (s *Service) openRequest(ctx context.Context, sess *Session, kind rights.Kind, purposes []fidelis.Purpose) (*rights.Case, error) {
	c, err := s.Rights.Create(as(ctx, sess), purposeDP, rights.NewCase{CustomerID: sess.CustomerID, Kind: kind, Channel: rights.ChannelPortal, Purposes: purposes})
	if err != nil {
		return nil, err
	}
	return s.Rights.VerifyIdentity(system(ctx), purposeDP, c.ID, rights.IdentityInput{Method: rights.IdentityEmailConfirmation, Result: rights.IdentityVerified})
}

// contact reads the customer's address and language, as the portal, to write to them.
func (s *Service) contact(ctx context.Context, id fidelis.CustomerID) (fidelis.Secret, string, error) {
	cu, err := s.Customers.Get(system(ctx), purposeDP, id)
	if err != nil {
		return fidelis.Secret{}, "", err
	}
	to := cu.Get(fidelis.FieldEmail)
	if to.IsZero() {
		return to, "", &fidelis.Error{Code: fidelis.EPRECONDITION, Reason: "no_email", Message: "the customer has no e-mail address on record"}
	}
	return to, language(cu), nil
}

// ExportNow answers at once an access or portability request the customer
// makes in the portal: the case is recorded, their identity verified by the sign-in
// link, and answered through the portal by the portal itself. The file is then
// downloaded with Download.
func (s *Service) ExportNow(ctx context.Context, sess *Session, kind rights.Kind) (*rights.Case, error) {
	if kind != rights.KindAccess && kind != rights.KindPortability {
		return nil, fidelis.Invalid(fidelis.FieldError{Field: "kind", Rule: "invalid_kind", Message: "must be access or portability"})
	}
	ctx = quiet(ctx) // answered on the spot: the download is the answer, no letter follows
	c, err := s.openRequest(ctx, sess, kind, nil)
	if err != nil {
		return nil, err
	}
	sys := system(ctx)
	if _, err := s.Rights.Start(sys, purposeDP, c.ID); err != nil {
		return nil, err
	}
	return s.Rights.Complete(sys, purposeDP, c.ID, rights.CompleteInput{Channel: rights.ChannelPortal})
}

// Download returns the export of one of the customer's own access or portability
// requests; ENOTFOUND for any other case ID, whoever it belongs to.
func (s *Service) Download(ctx context.Context, sess *Session, caseID string) (*customer.Export, *rights.Case, error) {
	cases, err := s.Requests(ctx, sess)
	if err != nil {
		return nil, nil, err
	}
	if !slices.ContainsFunc(cases, func(c *rights.Case) bool { return c.ID == caseID }) {
		return nil, nil, &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "no_case", Message: "you have no request with this reference"}
	}
	return s.Rights.Export(as(ctx, sess), purposeDP, caseID)
}

// Tables returns the other parts of Fidelis's data about the signed-in customer (the
// loyalty ledger, orders, ...) for the access answer of a case Download returned.
func (s *Service) Tables(ctx context.Context, sess *Session, c *rights.Case) ([]*rights.Table, error) {
	if c.CustomerID != sess.CustomerID {
		return nil, &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "no_case", Message: "you have no request with this reference"}
	}
	return s.Rights.Tables(as(ctx, sess), purposeDP, c.CustomerID)
}

// WritePortability writes the portability archive of an export Download returned.
func (s *Service) WritePortability(ctx context.Context, sess *Session, w io.Writer, ex *customer.Export, c *rights.Case) error {
	if c.CustomerID != sess.CustomerID {
		return &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "no_case", Message: "you have no request with this reference"}
	}
	return s.Rights.WritePortability(as(ctx, sess), purposeDP, w, ex, c)
}

// PointsPage is the size of a page of loyalty history in the portal.
const PointsPage = 20

// Points returns the customer's loyalty memberships (balance, lots, next expiry, the terms
// and their mediator, X-2) and a page of history with reasons (L-3, L-4), under purpose
// loyalty. ENOTFOUND (reason not_a_member) when they belong to no programme.
func (s *Service) Points(ctx context.Context, sess *Session, cursor string) (*loyalty.CustomerLoyalty, error) {
	if s.Loyalty == nil {
		return nil, &fidelis.Error{Code: fidelis.ENOTFOUND, Reason: "not_a_member", Message: "there is no loyalty programme"}
	}
	return s.Loyalty.Member(as(ctx, sess), fidelis.PurposeLoyalty, sess.CustomerID, cursor, PointsPage)
}

// Notice returns the privacy notice in lang.
func (s *Service) Notice(ctx context.Context, lang string) (*register.Notice, error) {
	if s.Register == nil {
		return nil, &fidelis.Error{Code: fidelis.EUNAVAILABLE, Reason: "no_register", Message: "the privacy notice is not available"}
	}
	return s.Register.Notice(ctx, lang)
}

// PurposeLabel returns the description of purpose p in lang, or its name.
func (s *Service) PurposeLabel(p fidelis.Purpose, lang string) string {
	if d, err := s.Registry.Purpose(p); err == nil {
		return d.Description.In(lang)
	}
	return string(p)
}
