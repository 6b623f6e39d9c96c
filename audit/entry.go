// Package audit records every access to and change of personal data (P-4) as entries that
// hold no personal values, authenticates each entry as it is written (HMAC), and seals them
// in the background into an RFC 6962 Merkle log with signed checkpoints, so that any later
// change, removal, insertion or reordering is detected by Verify.
package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strconv"
	"time"

	"github.com/fidelis/fidelis"
	"github.com/fidelis/fidelis/internal/jsontext"
)

// Outcome says how an audited operation ended.
type Outcome string

// Outcomes.
const (
	OutcomeOK     Outcome = "ok"
	OutcomeDenied Outcome = "denied"
	OutcomeFailed Outcome = "failed"
)

// Entry is one audit record. It names the actor, action, subject and fields, never values
// (D-5), so erasing a customer never breaks the log.
type Entry struct {
	ID        int64 // assigned by the store; not part of the authenticated content
	UID       string
	At        time.Time
	Actor     string
	Action    string
	Subject   string
	Purpose   fidelis.Purpose
	Fields    []fidelis.Field
	Outcome   Outcome
	Reason    string
	RequestID string
	MAC       []byte

	// Set by the sealer.
	LeafIndex *int64
	LeafHash  []byte
}

// Content returns the canonical bytes the MAC covers: every recorded attribute in a fixed
// order, as a JSON array, exactly as encoding/json writes it (see jsontext.AppendString).
func (e *Entry) Content() []byte { return e.appendContent(make([]byte, 0, 256)) }

func (e *Entry) appendContent(b []byte) []byte {
	b = append(b, `["fidelis-audit/v1",`...)
	b = jsontext.AppendString(b, e.UID)
	b = append(b, ',')
	b = jsontext.AppendString(b, e.At.UTC().Format(time.RFC3339Nano))
	for _, s := range [...]string{e.Actor, e.Action, e.Subject, string(e.Purpose)} {
		b = append(b, ',')
		b = jsontext.AppendString(b, s)
	}
	b = append(b, ",["...)
	for i, f := range e.Fields {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsontext.AppendString(b, string(f))
	}
	b = append(b, ']')
	for _, s := range [...]string{string(e.Outcome), e.Reason, e.RequestID} {
		b = append(b, ',')
		b = jsontext.AppendString(b, s)
	}
	return append(b, ']')
}

// LeafData returns the bytes hashed into the Merkle tree for this entry at leaf index i:
// the content, its MAC and its position, so that moving an entry changes its leaf. It is
// the JSON array [i, content, MAC in base64], as encoding/json writes it.
func (e *Entry) LeafData(i int64) []byte {
	b := make([]byte, 0, 320)
	b = append(b, '[')
	b = strconv.AppendInt(b, i, 10)
	b = append(b, ',')
	b = e.appendContent(b)
	b = append(b, ',')
	if e.MAC == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, e.MAC)
		b = append(b, '"')
	}
	return append(b, ']')
}

// Recorder writes audit entries outside a domain transaction (reads, refusals).
type Recorder interface {
	// RecordAudit stores entries durably before it returns.
	RecordAudit(ctx context.Context, entries ...Entry) error
}

// Appender writes audit entries inside a domain transaction, so that a change and its
// audit entry commit together.
type Appender interface {
	AppendAudit(ctx context.Context, entries ...Entry) error
}

// Log makes authenticated entries.
type Log struct {
	macKey []byte
	now    func() time.Time
}

// NewLog returns a Log that authenticates entries with macKey.
func NewLog(macKey []byte, now func() time.Time) *Log { return &Log{macKey: macKey, now: now} }

// Event describes what to audit; Log.Entry turns it into an authenticated Entry.
type Event struct {
	Action  string
	Subject string
	Purpose fidelis.Purpose
	Fields  []fidelis.Field
	Outcome Outcome
	Reason  string
}

// Entry returns the authenticated entry for ev performed by the actor in ctx.
func (l *Log) Entry(ctx context.Context, ev Event) Entry {
	actor, ok := fidelis.ActorFrom(ctx)
	who := "anonymous"
	if ok {
		who = actor.String()
	}
	fields := slices.Clone(ev.Fields)
	slices.Sort(fields)
	now := fidelis.UTC(l.now())
	e := Entry{
		UID:       fidelis.NewID("aud", now),
		At:        now,
		Actor:     who,
		Action:    ev.Action,
		Subject:   ev.Subject,
		Purpose:   ev.Purpose,
		Fields:    slices.Compact(fields),
		Outcome:   ev.Outcome,
		Reason:    ev.Reason,
		RequestID: fidelis.RequestIDFrom(ctx),
	}
	if e.Outcome == "" {
		e.Outcome = OutcomeOK
	}
	e.MAC = l.mac(&e)
	return e
}

func (l *Log) mac(e *Entry) []byte {
	m := hmac.New(sha256.New, l.macKey)
	m.Write(e.Content())
	return m.Sum(nil)
}

// Authentic reports whether e's MAC matches its content.
func (l *Log) Authentic(e *Entry) bool { return hmac.Equal(l.mac(e), e.MAC) }
