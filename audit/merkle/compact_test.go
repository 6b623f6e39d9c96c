package merkle_test

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/bits"
	"testing"

	"github.com/fidelis/fidelis/audit/merkle"
)

func TestCompactRangeKnownAnswers(t *testing.T) {
	r := merkle.NewCompactRange()
	if got := r.Root().String(); got != ctRoots[0] {
		t.Errorf("NewCompactRange().Root() = %s; want %s", got, ctRoots[0])
	}
	for n, leaf := range ctLeafHashes() {
		r.Append(leaf)
		if got, want := r.Root().String(), ctRoots[n+1]; got != want {
			t.Errorf("Root() after %d CT leaves = %s; want %s", n+1, got, want)
		}
	}
}

func TestCompactRangeZeroValue(t *testing.T) {
	var r merkle.CompactRange
	if r.Size() != 0 || r.Root() != merkle.EmptyRoot() {
		t.Errorf("zero CompactRange: Size() = %d, Root() = %s; want 0, %s", r.Size(), r.Root(), merkle.EmptyRoot())
	}
	r.Append(merkle.LeafHash(nil))
	if got, want := r.Root().String(), ctRoots[1]; got != want {
		t.Errorf("zero CompactRange after one Append: Root() = %s; want %s", got, want)
	}
}

func TestCompactRangeMatchesRootFromLeaves(t *testing.T) {
	const maxSize = 300
	leaves := randomLeaves(1, maxSize)
	r := merkle.NewCompactRange()
	for n := 0; n <= maxSize; n++ {
		if n > 0 {
			r.Append(leaves[n-1])
		}
		if got := r.Size(); got != uint64(n) {
			t.Fatalf("Size() after %d appends = %d; want %d", n, got, n)
		}
		want := merkle.RootFromLeaves(leaves[:n])
		if got := r.Root(); got != want {
			t.Fatalf("CompactRange.Root() at size %d = %s; want RootFromLeaves = %s", n, got, want)
		}

		// Round trip through the binary form, and keep appending to the copy.
		b, err := r.MarshalBinary()
		if err != nil {
			t.Fatalf("MarshalBinary() at size %d error: %v", n, err)
		}
		if got, want := len(b), 9+32*bits.OnesCount(uint(n)); got != want {
			t.Errorf("len(MarshalBinary()) at size %d = %d; want %d", n, got, want)
		}
		var c merkle.CompactRange
		if err := c.UnmarshalBinary(b); err != nil {
			t.Fatalf("UnmarshalBinary(MarshalBinary()) at size %d error: %v", n, err)
		}
		if c.Size() != r.Size() || c.Root() != r.Root() {
			t.Fatalf("UnmarshalBinary(MarshalBinary()) at size %d = size %d root %s; want size %d root %s",
				n, c.Size(), c.Root(), r.Size(), r.Root())
		}
		if n < maxSize {
			c.Append(leaves[n])
			if got, want := c.Root(), merkle.RootFromLeaves(leaves[:n+1]); got != want {
				t.Fatalf("decoded range at size %d after Append: Root() = %s; want %s", n, got, want)
			}
		}
	}
}

func TestCompactRangeMarshalFormat(t *testing.T) {
	r := merkle.NewCompactRange()
	leaves := ctLeafHashes()
	for _, l := range leaves[:3] {
		r.Append(l)
	}
	got, err := r.MarshalBinary()
	if err != nil {
		t.Fatalf("MarshalBinary() error: %v", err)
	}
	// Size 3 = 0b11: the root of leaves 0..1, then leaf 2.
	want := []byte{1, 0, 0, 0, 0, 0, 0, 0, 3}
	root2 := mustHash(t, ctRoots[2])
	want = append(want, root2[:]...)
	want = append(want, leaves[2][:]...)
	if !bytes.Equal(got, want) {
		t.Errorf("MarshalBinary() at size 3 = %x; want %x", got, want)
	}
}

func TestCompactRangeUnmarshalRejects(t *testing.T) {
	valid := func(n int) []byte {
		r := merkle.NewCompactRange()
		for _, l := range randomLeaves(2, n) {
			r.Append(l)
		}
		b, err := r.MarshalBinary()
		if err != nil {
			t.Fatalf("MarshalBinary() at size %d error: %v", n, err)
		}
		return b
	}
	header := func(version byte, size uint64) []byte {
		b := []byte{version, 0, 0, 0, 0, 0, 0, 0, 0}
		binary.BigEndian.PutUint64(b[1:], size)
		return b
	}
	five := valid(5)
	tests := []struct {
		name string
		in   []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"version only", []byte{1}},
		{"short header", header(1, 0)[:8]},
		{"version 0", header(0, 0)},
		{"version 2", header(2, 0)},
		{"version 0xff", append(header(0xff, 5), five[9:]...)},
		{"size 0 with a hash", append(header(1, 0), make([]byte, 32)...)},
		{"size 1 without hash", header(1, 1)},
		{"size 5 with one hash", five[:9+32]},
		{"size 5 with three hashes", append(bytes.Clone(five), make([]byte, 32)...)},
		{"size 5 truncated by one byte", five[:len(five)-1]},
		{"size 5 with trailing byte", append(bytes.Clone(five), 0)},
		{"size field changed 5 to 4", append(header(1, 4), five[9:]...)},
		{"size above MaxTreeSize", append(header(1, 1<<63), make([]byte, 32)...)},
		{"size MaxUint64", append(header(1, math.MaxUint64), make([]byte, 64*32)...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A range that already holds state must come out of a failed decode unchanged.
			var r merkle.CompactRange
			if err := r.UnmarshalBinary(valid(7)); err != nil {
				t.Fatalf("UnmarshalBinary(valid size 7) error: %v", err)
			}
			before := r.Root()
			if err := r.UnmarshalBinary(tt.in); err == nil {
				t.Fatalf("UnmarshalBinary(%x) = nil; want error", tt.in)
			}
			if r.Size() != 7 || r.Root() != before {
				t.Errorf("after failed UnmarshalBinary: Size() = %d, Root() = %s; want 7, %s", r.Size(), r.Root(), before)
			}
		})
	}
}

func TestCompactRangeUnmarshalAcceptsMaxTreeSize(t *testing.T) {
	b := []byte{1, 0, 0, 0, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint64(b[1:], merkle.MaxTreeSize)
	b = append(b, make([]byte, 63*32)...)
	var r merkle.CompactRange
	if err := r.UnmarshalBinary(b); err != nil {
		t.Fatalf("UnmarshalBinary(size MaxTreeSize) error: %v; want nil", err)
	}
	if got := r.Size(); got != merkle.MaxTreeSize {
		t.Errorf("Size() = %d; want %d", got, uint64(merkle.MaxTreeSize))
	}
	out, err := r.MarshalBinary()
	if err != nil || !bytes.Equal(out, b) {
		t.Errorf("MarshalBinary() = %x, %v; want input back, nil", out, err)
	}
	r.Append(merkle.LeafHash(nil)) // must not panic: headroom below 2^64-1
	if _, err := r.MarshalBinary(); err == nil {
		t.Errorf("MarshalBinary() at size MaxTreeSize+1 = nil error; want error")
	}
}

func BenchmarkCompactRangeAppend(b *testing.B) {
	leaf := merkle.LeafHash([]byte("benchmark"))
	r := merkle.NewCompactRange()
	for b.Loop() {
		r.Append(leaf)
	}
}
