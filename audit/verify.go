package audit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"slices"

	"github.com/fidelis/fidelis/audit/merkle"
)

// VerifyStore reads the whole log for verification.
type VerifyStore interface {
	// ScanEntries calls fn for every entry: sealed entries in leaf order, then pending ones
	// by id. Rows are read as stored: a duplicated or missing leaf index is passed as is.
	ScanEntries(ctx context.Context, fn func(*Entry) error) error
	// Checkpoints returns every checkpoint by ascending size.
	Checkpoints(ctx context.Context) ([]Checkpoint, error)
}

// PartialStore is a VerifyStore that holds the log from a signed checkpoint on rather than
// from its first leaf: a proof export made with a start date (P-4). Start returns that
// checkpoint with its Frontier (the compact range of the tree at its size), or nil when the
// store holds the whole log. Verify checks that the frontier's root is the signed root at
// that size, then recomputes every later checkpoint from it; earlier checkpoints are
// checked for their signature only.
type PartialStore interface {
	VerifyStore
	Start(ctx context.Context) (*Checkpoint, error)
}

// Problem is one finding of Verify. EntryID is 0 when the problem is not one stored row
// (a removed entry, a checkpoint).
type Problem struct {
	EntryID   int64
	LeafIndex int64
	Kind      string // changed, removed, inserted, reordered, checkpoint
	Detail    string
}

func (p Problem) String() string {
	if p.EntryID != 0 {
		return fmt.Sprintf("entry %d (leaf %d): %s: %s", p.EntryID, p.LeafIndex, p.Kind, p.Detail)
	}
	return fmt.Sprintf("leaf %d: %s: %s", p.LeafIndex, p.Kind, p.Detail)
}

// Report is the result of Verify. The log is intact when Problems is empty.
type Report struct {
	Entries     int64
	Sealed      int64
	Pending     int64
	Checkpoints int
	Size        int64
	Root        merkle.Hash
	Problems    []Problem
}

// OK reports whether no problem was found.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// maxProblems bounds the report: the first problem is what an operator needs, a few more
// show the extent.
const maxProblems = 100

// Verify recomputes the whole log from the stored entries: every entry's MAC, its leaf
// hash, the Merkle root at every checkpoint, and every checkpoint's signature. Problems are
// listed in log order, so the first one names the first bad entry. Each archived checkpoint
// in archived (already signature-checked, see ParseSignedCheckpoint) must be a prefix of
// the log: that catches a truncated end, which the stored checkpoints alone cannot.
//
// With l nil (an auditor verifying an export offline, without the installation's MAC key)
// the authentication codes are not checked: each entry is then vouched for by its leaf
// alone, so an entry that is not sealed yet cannot be checked and is reported.
func Verify(ctx context.Context, st VerifyStore, l *Log, pub ed25519.PublicKey, archived ...merkle.Checkpoint) (*Report, error) {
	cps, err := st.Checkpoints(ctx)
	if err != nil {
		return nil, err
	}
	r := &Report{Checkpoints: len(cps)}
	add := func(p Problem) {
		if len(r.Problems) < maxProblems {
			r.Problems = append(r.Problems, p)
		}
	}
	keyID := merkle.KeyID(pub)
	var prevSize int64
	for i := range cps {
		cp := &cps[i]
		if cp.Size <= prevSize {
			add(Problem{LeafIndex: cp.Size, Kind: "checkpoint", Detail: fmt.Sprintf("checkpoint sizes are not increasing (%d after %d)", cp.Size, prevSize)})
		}
		prevSize = cp.Size
		st := cp.Statement()
		if cp.KeyID != keyID || st.Verify(pub, cp.Signature) != nil {
			add(Problem{LeafIndex: cp.Size, Kind: "checkpoint", Detail: fmt.Sprintf("signature of the checkpoint at size %d does not verify", cp.Size)})
		}
	}

	cr := merkle.NewCompactRange()
	next := 0 // index into cps of the next checkpoint to reach
	if ps, ok := st.(PartialStore); ok {
		start, err := ps.Start(ctx)
		if err != nil {
			return nil, err
		}
		if start != nil {
			if detail := startFrom(cr, start, cps); detail != "" {
				add(Problem{LeafIndex: start.Size, Kind: "checkpoint", Detail: detail})
				return r, nil // nothing after it can be recomputed
			}
			for next < len(cps) && cps[next].Size <= start.Size {
				next++
			}
		}
	}
	uids := make(map[string]int64)
	var prevID int64
	err = st.ScanEntries(ctx, func(e *Entry) error {
		r.Entries++
		if other, dup := uids[e.UID]; dup {
			add(Problem{EntryID: e.ID, LeafIndex: leafOf(e), Kind: "inserted", Detail: fmt.Sprintf("duplicate of entry %d", other)})
		}
		uids[e.UID] = e.ID
		if l == nil && e.LeafIndex == nil {
			add(Problem{EntryID: e.ID, LeafIndex: -1, Kind: "changed", Detail: "entry is not sealed: without the installation's key it cannot be checked"})
		}
		if l != nil && !l.Authentic(e) {
			add(Problem{EntryID: e.ID, LeafIndex: leafOf(e), Kind: "changed", Detail: "content does not match its authentication code (changed or forged)"})
		}
		if e.LeafIndex == nil {
			r.Pending++
			return nil
		}
		r.Sealed++
		want := int64(cr.Size())
		switch idx := *e.LeafIndex; {
		case idx > want:
			add(Problem{LeafIndex: want, Kind: "removed", Detail: fmt.Sprintf("leaves %d..%d are missing (before entry %d, after entry %d)", want, idx-1, e.ID, prevID)})
			return errStop
		case idx < want:
			add(Problem{EntryID: e.ID, LeafIndex: idx, Kind: "inserted", Detail: fmt.Sprintf("leaf index %d is used twice", idx)})
			return errStop
		}
		h := merkle.LeafHash(e.LeafData(want))
		if !bytes.Equal(h[:], e.LeafHash) {
			add(Problem{EntryID: e.ID, LeafIndex: want, Kind: "changed", Detail: "entry does not hash to its sealed leaf (changed, moved or reordered)"})
		}
		cr.Append(h)
		prevID = e.ID
		for _, a := range archived {
			if a.Size == cr.Size() && cr.Root() != a.Root {
				add(Problem{LeafIndex: int64(a.Size) - 1, Kind: "checkpoint", Detail: fmt.Sprintf("root at size %d differs from the archived checkpoint: the log was rewritten at or before leaf %d", a.Size, a.Size-1)})
			}
		}
		for next < len(cps) && cps[next].Size == int64(cr.Size()) {
			if cr.Root() != cps[next].Root {
				add(Problem{LeafIndex: cps[next].Size - 1, Kind: "checkpoint", Detail: fmt.Sprintf("root at size %d does not match the signed checkpoint: an entry at or before leaf %d was changed, removed, inserted or reordered", cps[next].Size, cps[next].Size-1)})
			}
			next++
		}
		return nil
	})
	if err != nil && err != errStop {
		return nil, err
	}
	r.Size = int64(cr.Size())
	r.Root = cr.Root()
	if err == nil {
		for _, a := range archived {
			if a.Size > uint64(r.Size) {
				add(Problem{LeafIndex: r.Size, Kind: "removed", Detail: fmt.Sprintf("the log holds %d sealed entries, fewer than the %d of the archived checkpoint: its end was removed", r.Size, a.Size)})
			}
		}
		if next < len(cps) {
			add(Problem{LeafIndex: r.Size, Kind: "removed", Detail: fmt.Sprintf("the signed checkpoint at size %d covers more entries than the log holds (%d)", cps[next].Size, r.Size)})
		}
		var last int64
		if len(cps) > 0 {
			last = cps[len(cps)-1].Size
		}
		if r.Size > last {
			add(Problem{LeafIndex: last, Kind: "inserted", Detail: fmt.Sprintf("leaves %d..%d are sealed but covered by no signed checkpoint", last, r.Size-1)})
		}
	}
	return r, nil
}

// startFrom loads start's frontier into cr and checks it against the signed checkpoint of
// the same size in cps; it returns what is wrong, or "".
func startFrom(cr *merkle.CompactRange, start *Checkpoint, cps []Checkpoint) string {
	i := slices.IndexFunc(cps, func(cp Checkpoint) bool { return cp.Size == start.Size })
	if i < 0 {
		return fmt.Sprintf("the log starts at size %d, where there is no signed checkpoint", start.Size)
	}
	if err := cr.UnmarshalBinary(start.Frontier); err != nil || int64(cr.Size()) != start.Size || cr.Root() != cps[i].Root {
		return fmt.Sprintf("the starting frontier at size %d does not hash to the signed root at that size", start.Size)
	}
	return ""
}

type stopError struct{}

func (stopError) Error() string { return "stop" }

var errStop error = stopError{}

func leafOf(e *Entry) int64 {
	if e.LeafIndex == nil {
		return -1
	}
	return *e.LeafIndex
}
