package merkle_test

import (
	"math/rand/v2"
	"testing"

	"github.com/fidelis/fidelis/audit/merkle"
)

// ctLeaves are the leaf entries of the Certificate Transparency RFC 6962 test vectors.
var ctLeaves = []string{
	"",
	"\x00",
	"\x10",
	"\x20\x21",
	"\x30\x31",
	"\x40\x41\x42\x43",
	"\x50\x51\x52\x53\x54\x55\x56\x57",
	"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
}

// ctRoots[n] is MTH of the first n ctLeaves, from the same published vectors.
var ctRoots = []string{
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}

func mustHash(t testing.TB, s string) merkle.Hash {
	t.Helper()
	h, err := merkle.ParseHash(s)
	if err != nil {
		t.Fatalf("ParseHash(%q) error: %v", s, err)
	}
	return h
}

func mustHashes(t testing.TB, ss ...string) []merkle.Hash {
	t.Helper()
	out := make([]merkle.Hash, len(ss))
	for i, s := range ss {
		out[i] = mustHash(t, s)
	}
	return out
}

func ctLeafHashes() []merkle.Hash {
	out := make([]merkle.Hash, len(ctLeaves))
	for i, l := range ctLeaves {
		out[i] = merkle.LeafHash([]byte(l))
	}
	return out
}

// randomLeaves returns n leaf hashes from a seeded generator, so failures reproduce.
func randomLeaves(seed uint64, n int) []merkle.Hash {
	rng := rand.New(rand.NewPCG(seed, 0x666964656c6973))
	out := make([]merkle.Hash, n)
	for i := range out {
		var data [16]byte
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		out[i] = merkle.LeafHash(data[:])
	}
	return out
}

// flipped returns h with byte i XORed with 1.
func flipped(h merkle.Hash, i int) merkle.Hash {
	h[i] ^= 1
	return h
}

// largestPow2Below is the split point of RFC 6962 §2.1, written independently of the
// package so that the shape helpers below are a separate reference model.
func largestPow2Below(n uint64) uint64 {
	k := uint64(1)
	for k*2 < n {
		k *= 2
	}
	return k
}

// inclusionShape describes, top down, which side the verified leaf's subtree is on at
// each split. RFC 6962 hashes do not commit to the tree size, so two (index, size) pairs
// with the same shape accept exactly the same proofs: only a signed size (a Checkpoint)
// tells them apart. Tests use it to know when a "wrong" index or size must fail.
func inclusionShape(index, size uint64) string {
	var s []byte
	for size > 1 {
		k := largestPow2Below(size)
		if index < k {
			s, size = append(s, 'L'), k
		} else {
			s, index, size = append(s, 'R'), index-k, size-k
		}
	}
	return string(s)
}

// consistencyShape is the analogue of inclusionShape for SUBPROOF(m, D[n], true) of
// RFC 6962 §2.1.2 with 0 < m < n: the side taken at each split, then whether the bottom
// subtree is the old root itself ("b") or a proof hash ("p").
func consistencyShape(m, n uint64) string {
	var s []byte
	b := true
	for m != n {
		k := largestPow2Below(n)
		if m <= k {
			s, n = append(s, 'L'), k
		} else {
			s, m, n, b = append(s, 'R'), m-k, n-k, false
		}
	}
	if b {
		return string(append(s, 'b'))
	}
	return string(append(s, 'p'))
}
