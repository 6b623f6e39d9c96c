package merkle

import "math/bits"

// RootFromLeaves computes the Merkle Tree Hash MTH(D[n]) of the given leaf hashes with the
// recursive definition of RFC 6962 §2.1, split at the largest power of two smaller than n.
// It is deliberately the slow, literal transcription of the RFC: verifiers that hold every
// leaf use it as the reference against which faster structures (CompactRange) and stored
// roots are checked. It costs n-1 node hashes and O(log n) stack.
func RootFromLeaves(leafHashes []Hash) Hash {
	switch len(leafHashes) {
	case 0:
		return EmptyRoot()
	case 1:
		return leafHashes[0]
	}
	k := split(uint64(len(leafHashes)))
	return NodeHash(RootFromLeaves(leafHashes[:k]), RootFromLeaves(leafHashes[k:]))
}

// split returns k, the largest power of two strictly smaller than n, which is where
// RFC 6962 §2.1 divides a tree of n leaves into its left and right subtrees. n must be at
// least 2.
func split(n uint64) uint64 {
	return 1 << (bits.Len64(n-1) - 1)
}
