package merkle_test

import (
	"slices"
	"testing"

	"github.com/fidelis/fidelis/audit/merkle"
)

// Proof vectors over ctLeaves, from the Certificate Transparency test suite (indices here
// are 0-based) plus two derived by hand from RFC 6962 §2.1.2 and the known subtree roots.
const (
	h96a2 = "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7" // leaf 1
	h0298 = "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7" // leaf 2
	h0750 = "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7" // leaf 3
	hbc1a = "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b" // leaf 4
	h0ebc = "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a" // MTH(D[6:8])
	hfac5 = "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125" // MTH(D[0:2])
	h5f08 = "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e" // MTH(D[2:4])
	hca85 = "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0" // MTH(D[4:6])
	hd37e = "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7" // MTH(D[0:4])
	h6b47 = "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4" // MTH(D[4:8])
	h6e34 = "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d" // leaf 0
)

func TestInclusionProofKnownAnswers(t *testing.T) {
	leaves := ctLeafHashes()
	tests := []struct {
		index, size uint64
		want        []string
	}{
		{0, 1, nil},
		{0, 8, []string{h96a2, h5f08, h6b47}},
		{5, 8, []string{hbc1a, hca85, hd37e}},
		{2, 3, []string{hfac5}},
		{1, 5, []string{h6e34, h5f08, hbc1a}},
	}
	for _, tt := range tests {
		got, err := merkle.InclusionProof(leaves[:tt.size], tt.index)
		want := mustHashes(t, tt.want...)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("InclusionProof(ct[:%d], %d) = %v, %v; want %v, nil", tt.size, tt.index, got, err, want)
			continue
		}
		root := mustHash(t, ctRoots[tt.size])
		if err := merkle.VerifyInclusion(tt.index, tt.size, leaves[tt.index], want, root); err != nil {
			t.Errorf("VerifyInclusion(%d, %d, known proof) = %v; want nil", tt.index, tt.size, err)
		}
	}
}

func TestConsistencyProofKnownAnswers(t *testing.T) {
	leaves := ctLeafHashes()
	tests := []struct {
		m, n uint64
		want []string
	}{
		{1, 1, nil},
		{1, 8, []string{h96a2, h5f08, h6b47}},
		{6, 8, []string{h0ebc, hca85, hd37e}},
		{2, 5, []string{h5f08, hbc1a}},
		{3, 8, []string{h0298, h0750, hfac5, h6b47}}, // derived from §2.1.2
		{4, 8, []string{h6b47}},                      // derived from §2.1.2
	}
	for _, tt := range tests {
		got, err := merkle.ConsistencyProof(leaves[:tt.n], tt.m)
		want := mustHashes(t, tt.want...)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ConsistencyProof(ct[:%d], %d) = %v, %v; want %v, nil", tt.n, tt.m, got, err, want)
			continue
		}
		rootM, rootN := mustHash(t, ctRoots[tt.m]), mustHash(t, ctRoots[tt.n])
		if err := merkle.VerifyConsistency(tt.m, tt.n, rootM, rootN, want); err != nil {
			t.Errorf("VerifyConsistency(%d, %d, known proof) = %v; want nil", tt.m, tt.n, err)
		}
	}
}

func TestInclusionProofErrors(t *testing.T) {
	leaves := randomLeaves(3, 5)
	tests := []struct {
		leaves []merkle.Hash
		index  uint64
	}{
		{nil, 0},
		{leaves, 5},
		{leaves, 1 << 63},
	}
	for _, tt := range tests {
		if got, err := merkle.InclusionProof(tt.leaves, tt.index); err == nil {
			t.Errorf("InclusionProof(%d leaves, %d) = %v, nil; want error", len(tt.leaves), tt.index, got)
		}
	}
}

func TestConsistencyProofErrors(t *testing.T) {
	if got, err := merkle.ConsistencyProof(randomLeaves(4, 5), 6); err == nil {
		t.Errorf("ConsistencyProof(5 leaves, 6) = %v, nil; want error", got)
	}
	if got, err := merkle.ConsistencyProof(nil, 1); err == nil {
		t.Errorf("ConsistencyProof(nil, 1) = %v, nil; want error", got)
	}
}

func TestConsistencyProofTrivialSizes(t *testing.T) {
	leaves := randomLeaves(5, 7)
	for _, m := range []uint64{0, 7} {
		got, err := merkle.ConsistencyProof(leaves, m)
		if err != nil || got == nil || len(got) != 0 {
			t.Errorf("ConsistencyProof(7 leaves, %d) = %#v, %v; want empty non-nil, nil", m, got, err)
		}
	}
}

const maxProofSize = 40

func TestInclusionProofsAllSizes(t *testing.T) {
	leaves := randomLeaves(6, maxProofSize)
	for size := uint64(1); size <= maxProofSize; size++ {
		root := merkle.RootFromLeaves(leaves[:size])
		for index := range size {
			proof, err := merkle.InclusionProof(leaves[:size], index)
			if err != nil {
				t.Fatalf("InclusionProof(size %d, %d) error: %v", size, index, err)
			}
			leaf := leaves[index]
			if err := merkle.VerifyInclusion(index, size, leaf, proof, root); err != nil {
				t.Fatalf("VerifyInclusion(%d, %d, valid proof) = %v; want nil", index, size, err)
			}
			checkInclusionTampering(t, index, size, leaf, proof, root)
		}
	}
}

func checkInclusionTampering(t *testing.T, index, size uint64, leaf merkle.Hash, proof []merkle.Hash, root merkle.Hash) {
	t.Helper()
	fail := func(what string, index, size uint64, leaf merkle.Hash, proof []merkle.Hash, root merkle.Hash) {
		t.Helper()
		if err := merkle.VerifyInclusion(index, size, leaf, proof, root); err == nil {
			t.Errorf("VerifyInclusion(%d, %d) with %s = nil; want error", index, size, what)
		}
	}
	for i := range proof {
		for j := range merkle.HashSize {
			p := slices.Clone(proof)
			p[i] = flipped(p[i], j)
			fail("proof[i] byte flipped", index, size, leaf, p, root)
		}
	}
	for j := range merkle.HashSize {
		fail("leaf byte flipped", index, size, flipped(leaf, j), proof, root)
		fail("root byte flipped", index, size, leaf, proof, flipped(root, j))
	}
	fail("extra trailing hash", index, size, leaf, append(slices.Clone(proof), root), root)
	fail("extra leading hash", index, size, leaf, append([]merkle.Hash{leaf}, proof...), root)
	if len(proof) > 0 {
		fail("last hash dropped", index, size, leaf, proof[:len(proof)-1], root)
		fail("first hash dropped", index, size, leaf, proof[1:], root)
	}
	fail("index out of range", size, size, leaf, proof, root)
	fail("size 0", index, 0, leaf, proof, root)

	// Any other (index, size) must fail unless the path has the same shape, in which case
	// RFC 6962 hashing cannot tell them apart (see inclusionShape).
	shape := inclusionShape(index, size)
	for s := uint64(1); s <= maxProofSize+8; s++ {
		for i := range s {
			if i == index && s == size {
				continue
			}
			err := merkle.VerifyInclusion(i, s, leaf, proof, root)
			if same := inclusionShape(i, s) == shape; same != (err == nil) {
				t.Errorf("VerifyInclusion(%d, %d) with proof for (%d, %d) = %v; want nil only if shapes match (%t)",
					i, s, index, size, err, same)
			}
			if s == size && err == nil {
				t.Errorf("VerifyInclusion(%d, %d) with proof for index %d of the same size = nil; want error", i, s, index)
			}
		}
	}
}

func TestConsistencyProofsAllSizes(t *testing.T) {
	leaves := randomLeaves(7, maxProofSize)
	for n := uint64(0); n <= maxProofSize; n++ {
		rootN := merkle.RootFromLeaves(leaves[:n])
		for m := uint64(0); m <= n; m++ {
			rootM := merkle.RootFromLeaves(leaves[:m])
			proof, err := merkle.ConsistencyProof(leaves[:n], m)
			if err != nil {
				t.Fatalf("ConsistencyProof(size %d, %d) error: %v", n, m, err)
			}
			if err := merkle.VerifyConsistency(m, n, rootM, rootN, proof); err != nil {
				t.Fatalf("VerifyConsistency(%d, %d, valid proof) = %v; want nil", m, n, err)
			}
			checkConsistencyTampering(t, m, n, rootM, rootN, proof)
		}
	}
}

func checkConsistencyTampering(t *testing.T, m, n uint64, rootM, rootN merkle.Hash, proof []merkle.Hash) {
	t.Helper()
	fail := func(what string, m, n uint64, rootM, rootN merkle.Hash, proof []merkle.Hash) {
		t.Helper()
		if err := merkle.VerifyConsistency(m, n, rootM, rootN, proof); err == nil {
			t.Errorf("VerifyConsistency(%d, %d) with %s = nil; want error", m, n, what)
		}
	}
	for i := range proof {
		for j := range merkle.HashSize {
			p := slices.Clone(proof)
			p[i] = flipped(p[i], j)
			fail("proof[i] byte flipped", m, n, rootM, rootN, p)
		}
	}
	for j := range merkle.HashSize {
		fail("old root byte flipped", m, n, flipped(rootM, j), rootN, proof)
		if m > 0 { // every tree extends the empty tree, so rootN is unconstrained for m == 0
			fail("new root byte flipped", m, n, rootM, flipped(rootN, j), proof)
		}
	}
	fail("extra trailing hash", m, n, rootM, rootN, append(slices.Clone(proof), rootN))
	fail("extra leading hash", m, n, rootM, rootN, append([]merkle.Hash{rootM}, proof...))
	if len(proof) > 0 {
		fail("last hash dropped", m, n, rootM, rootN, proof[:len(proof)-1])
		fail("first hash dropped", m, n, rootM, rootN, proof[1:])
	}
	fail("old size above new size", n+1, m, rootM, rootN, proof)
	if rootM != rootN {
		fail("roots swapped", m, n, rootN, rootM, proof)
	}
	if m == 0 || m == n {
		return
	}

	// Any other (m, n) must fail unless the proof has the same shape, in which case
	// RFC 6962 hashing cannot tell them apart (see consistencyShape).
	shape := consistencyShape(m, n)
	for n2 := uint64(0); n2 <= maxProofSize+8; n2++ {
		for m2 := uint64(0); m2 <= n2; m2++ {
			if m2 == m && n2 == n {
				continue
			}
			err := merkle.VerifyConsistency(m2, n2, rootM, rootN, proof)
			same := m2 > 0 && m2 < n2 && consistencyShape(m2, n2) == shape
			if same != (err == nil) {
				t.Errorf("VerifyConsistency(%d, %d) with proof for (%d, %d) = %v; want nil only if shapes match (%t)",
					m2, n2, m, n, err, same)
			}
		}
	}
}

func TestVerifyConsistencyTrivialCases(t *testing.T) {
	empty := merkle.EmptyRoot()
	a, b := merkle.LeafHash([]byte("a")), merkle.LeafHash([]byte("b"))
	tests := []struct {
		name         string
		m, n         uint64
		rootM, rootN merkle.Hash
		proof        []merkle.Hash
		ok           bool
	}{
		{"0 to 0", 0, 0, empty, empty, nil, true},
		{"0 to 5, any new root", 0, 5, empty, a, nil, true},
		{"0 to 5 with wrong old root", 0, 5, a, a, nil, false},
		{"0 to 5 with a proof", 0, 5, empty, a, []merkle.Hash{a}, false},
		{"3 to 3 equal roots", 3, 3, a, a, nil, true},
		{"3 to 3 different roots", 3, 3, a, b, nil, false},
		{"3 to 3 with a proof", 3, 3, a, a, []merkle.Hash{a}, false},
		{"4 to 3", 4, 3, a, b, nil, false},
		{"1 to 2 empty proof", 1, 2, a, b, nil, false},
		{"huge sizes, empty proof", 1<<63 + 1, 1<<64 - 1, a, b, nil, false},
		{"huge sizes, long proof", 1, 1<<64 - 1, a, b, make([]merkle.Hash, 200), false},
	}
	for _, tt := range tests {
		err := merkle.VerifyConsistency(tt.m, tt.n, tt.rootM, tt.rootN, tt.proof)
		if (err == nil) != tt.ok {
			t.Errorf("%s: VerifyConsistency(%d, %d) = %v; want ok=%t", tt.name, tt.m, tt.n, err, tt.ok)
		}
	}
}

func TestVerifyInclusionHugeSizes(t *testing.T) {
	// The path length for the last leaf of a 2^64-1 tree is 63 hashes; a proof of that
	// length must be evaluated (and fail on the root), anything else rejected, never a panic.
	leaf := merkle.LeafHash([]byte("x"))
	const size = 1<<64 - 1
	for _, n := range []int{0, 1, 63, 64, 200} {
		if err := merkle.VerifyInclusion(size-1, size, leaf, make([]merkle.Hash, n), leaf); err == nil {
			t.Errorf("VerifyInclusion(2^64-2, 2^64-1, %d-hash proof) = nil; want error", n)
		}
	}
	if err := merkle.VerifyInclusion(0, 1, leaf, nil, leaf); err != nil {
		t.Errorf("VerifyInclusion(0, 1, leaf, nil, leaf) = %v; want nil", err)
	}
}
