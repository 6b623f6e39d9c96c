// Package consent keeps the consent ledger (C-1..C-5): append-only records of what each
// customer decided, per purpose and channel, with the exact notice text they were shown,
// how and by whom it was collected, and when. The current state folded from the ledger is
// what the lawfulness decision (privacy.Purpose.Lawful) reads at processing time.
package consent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strconv"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/audit"
	"github.com/fidelis/fidelis/privacy"
)

// Method is how a consent decision was collected (C-1).
type Method string

// Collection methods.
const (
	MethodBackOffice Method = "back_office"
	MethodPortal     Method = "portal"
	MethodAPI        Method = "api"
	MethodImport     Method = "import"
	MethodPaper      Method = "paper"
)

// Methods lists the collection methods in a stable order.
func Methods() []Method {
	return []Method{MethodBackOffice, MethodPortal, MethodAPI, MethodImport, MethodPaper}
}

// Valid reports whether m is a known method.
func (m Method) Valid() bool {
	for _, k := range Methods() {
		if m == k {
			return true
		}
	}
	return false
}

// Notice is one version of the consent text shown to customers for a purpose, in French and
// English. Its hash pins the exact wording a consent record refers to (C-1).
type Notice struct {
	Purpose     fidelis.Purpose `json:"purpose"`
	Version     int             `json:"version"`
	Text        privacy.Text    `json:"text"`
	Hash        string          `json:"hash"`
	PublishedAt time.Time       `json:"published_at"`
	PublishedBy string          `json:"published_by"`
}

// NoticeHash returns the SHA-256 of a notice's canonical form: purpose, version and both
// texts, length-prefixed so that no two notices share a form.
func NoticeHash(p fidelis.Purpose, version int, t privacy.Text) string {
	h := sha256.New()
	for _, part := range []string{"fidelis-consent-notice/v1", string(p), strconv.Itoa(version), t.FR, t.EN} {
		h.Write([]byte(strconv.Itoa(len(part)) + ":" + part + "\n"))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Record is one entry of the consent ledger. It holds IDs, codes and times only.
type Record struct {
	ID            string                  `json:"id"`
	CustomerID    fidelis.CustomerID      `json:"customer_id"`
	Purpose       fidelis.Purpose         `json:"purpose"`
	Channel       privacy.Channel         `json:"channel"`
	Decision      privacy.ConsentDecision `json:"decision"`
	NoticeVersion int                     `json:"notice_version,omitempty"`
	NoticeHash    string                  `json:"notice_hash,omitempty"`
	Method        Method                  `json:"method"`
	// Parental marks a decision by a holder of parental responsibility (C-4).
	Parental bool `json:"parental"`
	// Minor is set when the customer was under the age of digital consent when deciding.
	Minor       bool      `json:"minor"`
	Reference   string    `json:"reference,omitempty"` // e.g. the paper form's number
	CollectedAt time.Time `json:"collected_at"`
	RecordedAt  time.Time `json:"recorded_at"`
	RecordedBy  string    `json:"recorded_by"`
}

// Input is a consent decision to record. Decision has no default: consent is never
// pre-ticked (C-5), so a missing decision is an error, not a grant.
type Input struct {
	Purpose       fidelis.Purpose
	Channel       privacy.Channel
	Decision      privacy.ConsentDecision
	NoticeVersion int
	NoticeHash    string // optional: when given it must match the stored notice
	Method        Method
	Parental      bool
	Reference     string
	CollectedAt   time.Time // zero: now
}

var referencePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,63}$`)

// validReference reports whether s is a case or form reference: a short code, never free
// text (free text could carry personal data into an unsealed column, D-5).
func validReference(s string) bool { return referencePattern.MatchString(s) }

// Fold applies record r to the current state st (C-2: the latest decision in time wins, so a
// withdrawal takes effect for every later processing). A record collected before the
// current decision of its kind changes nothing: the ledger keeps it, the state does not.
func Fold(st *privacy.SubjectState, r *Record) {
	if st.Consents == nil {
		st.Consents = map[string]privacy.ConsentStatus{}
	}
	key := privacy.ConsentKey(r.Purpose, r.Channel)
	cur := st.Consents[key]
	if r.Parental {
		if cur.ParentalAt.After(r.CollectedAt) {
			return
		}
		cur.Parental, cur.ParentalAt = r.Decision, r.CollectedAt
		st.Consents[key] = cur
		return
	}
	if cur.Decision != "" && cur.At.After(r.CollectedAt) {
		return
	}
	cur.Decision, cur.At, cur.NoticeVersion, cur.RecordID, cur.Minor = r.Decision, r.CollectedAt, r.NoticeVersion, r.ID, r.Minor
	st.Consents[key] = cur
}

// Tx is the storage the consent ledger needs inside one transaction.
type Tx interface {
	audit.Appender
	// CustomerExists returns ENOTFOUND if the customer never existed or was erased.
	CustomerExists(ctx context.Context, id fidelis.CustomerID) error
	// InsertNotice stores a notice version; ECONFLICT if that version exists.
	InsertNotice(ctx context.Context, n *Notice) error
	// Notice returns one version; ENOTFOUND if none. LatestNotice returns the newest.
	Notice(ctx context.Context, p fidelis.Purpose, version int) (*Notice, error)
	LatestNotice(ctx context.Context, p fidelis.Purpose) (*Notice, error)
	// Notices lists the versions of a purpose's notice ("" for all purposes), newest first.
	Notices(ctx context.Context, p fidelis.Purpose) ([]*Notice, error)
	// InsertConsent appends a record to the ledger (there is no update or delete).
	InsertConsent(ctx context.Context, r *Record) error
	// Consents returns a customer's records with IDs below before ("" for the newest),
	// newest first.
	Consents(ctx context.Context, id fidelis.CustomerID, before string, limit int) ([]*Record, error)
	// LockSubjectState returns the subject's state for update (empty if none) and
	// PutSubjectState stores it, in the same transaction.
	LockSubjectState(ctx context.Context, id fidelis.CustomerID) (*privacy.SubjectState, error)
	PutSubjectState(ctx context.Context, id fidelis.CustomerID, st *privacy.SubjectState) error
	// SubjectState returns the subject's state (empty if none).
	SubjectState(ctx context.Context, id fidelis.CustomerID) (*privacy.SubjectState, error)
	// AppendEvent writes an event to the outbox.
	AppendEvent(ctx context.Context, e *fidelis.Event) error
}

// Store runs consent transactions.
type Store interface {
	audit.Recorder
	// Write runs fn in a read-write transaction; an error from fn rolls it back.
	Write(ctx context.Context, fn func(Tx) error) error
	// Read runs fn in a read-only transaction.
	Read(ctx context.Context, fn func(Tx) error) error
}
