package merkle

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
)

// MaxTreeSize is the largest tree size a CompactRange will encode or decode: 2^63-1. Sizes
// have to fit a signed 64-bit integer because storage (SQL BIGINT) has no unsigned type,
// and the headroom means a decoded range can never be appended to until it overflows.
const MaxTreeSize = math.MaxInt64

// compactRangeVersion is the first byte of the binary encoding, so that the format can
// change later without old blobs being misread.
const compactRangeVersion = 1

// compactRangeHeaderSize is the version byte plus the big-endian uint64 size.
const compactRangeHeaderSize = 1 + 8

// CompactRange is the right edge (frontier) of a Merkle tree: for a tree of n leaves, the
// roots of the perfect subtrees that RFC 6962 §2.1 builds from the left, one per set bit
// of n, largest (oldest) first. It is all the state an appender needs: Append costs
// amortised O(1) hashes and Root O(log n), without keeping the leaves.
//
// The zero value is an empty tree, ready to use.
type CompactRange struct {
	size   uint64
	hashes []Hash // hashes[i] covers 2^(bit) leaves for the i-th set bit of size, high to low
}

// NewCompactRange returns an empty range. It exists for readability at call sites; the
// zero value is equally valid.
func NewCompactRange() *CompactRange {
	return &CompactRange{}
}

// Size returns the number of leaves appended so far, the n of MTH(D[n]).
func (r *CompactRange) Size() uint64 {
	return r.size
}

// Append adds one leaf hash (see LeafHash) to the right edge of the tree. Each trailing one
// bit of the old size is a perfect subtree that the new leaf completes, so they merge
// pairwise exactly as RFC 6962 §2.1 pairs them.
//
// Append panics if the range already holds 2^64-1 leaves: silently wrapping around would
// corrupt the log. Ranges decoded by UnmarshalBinary are capped at MaxTreeSize, so only
// 2^63 further appends could reach that point.
func (r *CompactRange) Append(leaf Hash) {
	if r.size == math.MaxUint64 {
		panic("merkle: CompactRange.Append: tree size would overflow uint64")
	}
	h := leaf
	for s := r.size; s&1 == 1; s >>= 1 {
		last := len(r.hashes) - 1
		h = NodeHash(r.hashes[last], h)
		r.hashes = r.hashes[:last]
	}
	r.hashes = append(r.hashes, h)
	r.size++
}

// Root returns MTH(D[n]) for the leaves appended so far; it equals RootFromLeaves over the
// same leaves for every n. When n is not a power of two, RFC 6962 §2.1 splits at the
// largest power of two, which is exactly the highest remaining perfect subtree, so folding
// the frontier from the right reproduces the recursive definition.
func (r *CompactRange) Root() Hash {
	if len(r.hashes) == 0 {
		return EmptyRoot()
	}
	root := r.hashes[len(r.hashes)-1]
	for i := len(r.hashes) - 2; i >= 0; i-- {
		root = NodeHash(r.hashes[i], root)
	}
	return root
}

// MarshalBinary encodes the range so that the sealer can persist it between batches:
// a version byte, the size as a big-endian uint64, then popcount(size) hashes, largest
// subtree first. It fails only for sizes above MaxTreeSize.
func (r *CompactRange) MarshalBinary() ([]byte, error) {
	if r.size > MaxTreeSize {
		return nil, fmt.Errorf("merkle: marshal compact range: size %d exceeds maximum %d", r.size, uint64(MaxTreeSize))
	}
	out := make([]byte, compactRangeHeaderSize, compactRangeHeaderSize+len(r.hashes)*HashSize)
	out[0] = compactRangeVersion
	binary.BigEndian.PutUint64(out[1:], r.size)
	for _, h := range r.hashes {
		out = append(out, h[:]...)
	}
	return out, nil
}

// UnmarshalBinary decodes what MarshalBinary produced. It is strict, because a corrupted
// frontier would silently fork the log: the version must be known, the size at most
// MaxTreeSize, and the number of hashes exactly popcount(size), with no trailing bytes.
// On error r is left unchanged.
func (r *CompactRange) UnmarshalBinary(data []byte) error {
	if len(data) < compactRangeHeaderSize {
		return fmt.Errorf("merkle: unmarshal compact range: got %d bytes; want at least %d", len(data), compactRangeHeaderSize)
	}
	if data[0] != compactRangeVersion {
		return fmt.Errorf("merkle: unmarshal compact range: unknown version %d; want %d", data[0], compactRangeVersion)
	}
	size := binary.BigEndian.Uint64(data[1:compactRangeHeaderSize])
	if size > MaxTreeSize {
		return fmt.Errorf("merkle: unmarshal compact range: size %d exceeds maximum %d", size, uint64(MaxTreeSize))
	}
	body := data[compactRangeHeaderSize:]
	count := bits.OnesCount64(size)
	if len(body) != count*HashSize {
		return fmt.Errorf("merkle: unmarshal compact range: size %d needs %d hashes (%d bytes); got %d bytes",
			size, count, count*HashSize, len(body))
	}
	hashes := make([]Hash, count)
	for i := range hashes {
		copy(hashes[i][:], body[i*HashSize:])
	}
	r.size = size
	r.hashes = hashes
	return nil
}
