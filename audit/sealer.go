package audit

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"time"

	"github.com/fidelis/fidelis/audit/merkle"
)

// Origin names this log in signed checkpoints.
const Origin = "fidelis-audit/v1"

// Checkpoint is a signed statement of the log's size and root hash (RFC 6962 tree head).
// Frontier is the compact range of the tree at Size, so that the next batch extends the
// tree without reading earlier leaves.
type Checkpoint struct {
	Size      int64
	Root      merkle.Hash
	At        time.Time
	KeyID     string
	Signature []byte
	Frontier  []byte
}

// Statement returns the signed form of cp.
func (cp *Checkpoint) Statement() merkle.Checkpoint {
	return merkle.Checkpoint{Origin: Origin, Size: uint64(cp.Size), Root: cp.Root, Time: cp.At}
}

// SealTx is the storage a sealing batch needs, inside one write transaction that holds the
// sealing lock (so that two nodes never seal the same entries).
type SealTx interface {
	// LatestCheckpoint returns the newest checkpoint, or nil for an empty log.
	LatestCheckpoint(ctx context.Context) (*Checkpoint, error)
	// UnsealedEntries returns up to limit entries without a leaf index, oldest first.
	UnsealedEntries(ctx context.Context, limit int) ([]Entry, error)
	// SetLeaves records the position and leaf hash of entries; ECONFLICT if a position is
	// taken already.
	SetLeaves(ctx context.Context, leaves []Leaf) error
	// InsertCheckpoint stores a checkpoint.
	InsertCheckpoint(ctx context.Context, cp *Checkpoint) error
}

// Leaf is the place of one entry in the Merkle log.
type Leaf struct {
	ID    int64  // the entry's storage ID
	Index int64  // its leaf index
	Hash  []byte // its RFC 6962 leaf hash
}

// SealStore runs sealing batches.
type SealStore interface {
	// SealTx runs fn in a write transaction holding the sealing lock.
	SealTx(ctx context.Context, fn func(SealTx) error) error
}

// Sealer appends written entries to the Merkle log in batches, in the background: writers
// never wait on a global chain head (DESIGN invariant 4).
type Sealer struct {
	Store     SealStore
	Key       ed25519.PrivateKey
	Now       func() time.Time
	BatchSize int
	Logger    *slog.Logger
}

// SealOnce seals up to one batch of pending entries and returns how many it sealed.
func (s *Sealer) SealOnce(ctx context.Context) (int, error) {
	batch := s.batchSize()
	n := 0
	err := s.Store.SealTx(ctx, func(tx SealTx) error {
		n = 0
		latest, err := tx.LatestCheckpoint(ctx)
		if err != nil {
			return err
		}
		cr := merkle.NewCompactRange()
		if latest != nil {
			if err := cr.UnmarshalBinary(latest.Frontier); err != nil {
				return fmt.Errorf("audit: checkpoint %d frontier: %w", latest.Size, err)
			}
			if int64(cr.Size()) != latest.Size {
				return fmt.Errorf("audit: checkpoint %d frontier has size %d", latest.Size, cr.Size())
			}
		}
		entries, err := tx.UnsealedEntries(ctx, batch)
		if err != nil || len(entries) == 0 {
			return err
		}
		leaves := make([]Leaf, len(entries))
		for i := range entries {
			idx := int64(cr.Size())
			h := merkle.LeafHash(entries[i].LeafData(idx))
			leaves[i] = Leaf{ID: entries[i].ID, Index: idx, Hash: h[:]}
			cr.Append(h)
		}
		if err := tx.SetLeaves(ctx, leaves); err != nil {
			return err
		}
		frontier, err := cr.MarshalBinary()
		if err != nil {
			return err
		}
		cp := &Checkpoint{Size: int64(cr.Size()), Root: cr.Root(), At: s.now(), Frontier: frontier}
		st := cp.Statement()
		cp.Signature = st.Sign(s.Key)
		cp.KeyID = merkle.KeyID(s.Key.Public().(ed25519.PublicKey))
		n = len(entries)
		return tx.InsertCheckpoint(ctx, cp)
	})
	return n, err
}

func (s *Sealer) batchSize() int {
	if s.BatchSize <= 0 {
		return 512
	}
	return s.BatchSize
}

func (s *Sealer) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC().Truncate(time.Microsecond)
	}
	return s.Now().UTC().Truncate(time.Microsecond)
}

// Syncer is a SealStore that may hold recorded entries back for a moment (the SQLite
// audit journal): SyncAudit makes every entry recorded so far sealable.
type Syncer interface {
	SyncAudit(ctx context.Context) error
}

// SealAll seals until nothing is pending (used by commands and tests), every entry
// recorded before the call included. The background loop (Run) seals what the store has
// taken in, without hurrying it.
func (s *Sealer) SealAll(ctx context.Context) (int, error) {
	if sy, ok := s.Store.(Syncer); ok {
		if err := sy.SyncAudit(ctx); err != nil {
			return 0, err
		}
	}
	total := 0
	for {
		n, err := s.SealOnce(ctx)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// Run seals every interval until ctx ends; a full batch is followed at once by the next.
func (s *Sealer) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := s.SealOnce(ctx)
		if err != nil && ctx.Err() == nil {
			s.logger().Error("audit sealing failed", "err", err)
		}
		if n == s.batchSize() && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Sealer) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.Default()
	}
	return s.Logger
}
