package merkle

import "fmt"

// InclusionProof returns the audit path PATH(index, D[n]) of RFC 6962 §2.1.1 for the leaf
// at index in the tree formed by leafHashes (n = len(leafHashes)): the sibling subtree
// roots from the leaf up to the root, bottom first. A client holding the leaf and a
// trusted root checks it with VerifyInclusion.
func InclusionProof(leafHashes []Hash, index uint64) ([]Hash, error) {
	n := uint64(len(leafHashes))
	if index >= n {
		return nil, fmt.Errorf("merkle: inclusion proof: index %d out of range for tree size %d", index, n)
	}
	return path(index, leafHashes), nil
}

// path transcribes PATH(m, D[n]) from RFC 6962 §2.1.1:
//
//	PATH(0, {d0}) = {}
//	PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])    for m < k
//	PATH(m, D[n]) = PATH(m - k, D[k:n]) : MTH(D[0:k]) for m >= k
func path(m uint64, leaves []Hash) []Hash {
	n := uint64(len(leaves))
	if n == 1 {
		return []Hash{}
	}
	k := split(n)
	if m < k {
		return append(path(m, leaves[:k]), RootFromLeaves(leaves[k:]))
	}
	return append(path(m-k, leaves[k:]), RootFromLeaves(leaves[:k]))
}

// VerifyInclusion checks that leaf is the leaf hash at index in the tree of the given size
// whose root is root, using an audit path from InclusionProof (RFC 6962 §2.1.1). It
// returns nil only if the path recomputes exactly that root.
//
// The hashes do not encode the tree size, so the size (like the root) must come from a
// trusted source such as a verified Checkpoint.
func VerifyInclusion(index, size uint64, leaf Hash, proof []Hash, root Hash) error {
	if index >= size {
		return fmt.Errorf("merkle: verify inclusion: index %d out of range for tree size %d", index, size)
	}
	if want := inclusionProofLen(index, size); len(proof) != want {
		return fmt.Errorf("merkle: verify inclusion: proof for index %d in tree size %d has %d hashes; want %d",
			index, size, len(proof), want)
	}
	if got := rootFromPath(index, size, leaf, proof); got != root {
		return fmt.Errorf("merkle: verify inclusion: index %d in tree size %d: computed root %s does not match %s",
			index, size, got, root)
	}
	return nil
}

// inclusionProofLen is the length of PATH(index, D[size]): one hash per split on the way
// from the root down to the leaf. At most 64 iterations, since each step at least halves
// the remaining subtree (rounding up).
func inclusionProofLen(index, size uint64) int {
	length := 0
	for size > 1 {
		k := split(size)
		if index < k {
			size = k
		} else {
			index, size = index-k, size-k
		}
		length++
	}
	return length
}

// rootFromPath runs the PATH recursion of RFC 6962 §2.1.1 backwards: the last proof hash is
// the sibling at the top split, and it goes on the right when the leaf is in the left
// subtree and vice versa. proof must have exactly inclusionProofLen(index, size) hashes,
// which bounds the recursion depth at 64.
func rootFromPath(index, size uint64, leaf Hash, proof []Hash) Hash {
	if size == 1 {
		return leaf
	}
	k := split(size)
	last, rest := proof[len(proof)-1], proof[:len(proof)-1]
	if index < k {
		return NodeHash(rootFromPath(index, k, leaf, rest), last)
	}
	return NodeHash(last, rootFromPath(index-k, size-k, leaf, rest))
}

// ConsistencyProof returns PROOF(m, D[n]) of RFC 6962 §2.1.2 between the tree of the first
// m leaves and the tree of all n = len(leafHashes) leaves: the minimal set of subtree roots
// that lets a verifier holding only the two roots confirm that the larger tree extends the
// smaller one without rewriting history. For m == 0 and m == n the proof is empty, since
// every tree extends the empty tree and itself.
func ConsistencyProof(leafHashes []Hash, m uint64) ([]Hash, error) {
	n := uint64(len(leafHashes))
	if m > n {
		return nil, fmt.Errorf("merkle: consistency proof: old size %d exceeds tree size %d", m, n)
	}
	if m == 0 || m == n {
		return []Hash{}, nil
	}
	return subproof(m, leafHashes, true), nil
}

// subproof transcribes SUBPROOF(m, D[n], b) from RFC 6962 §2.1.2. b records whether the
// subtree D[0:m] is the old tree itself, whose root the verifier already has:
//
//	SUBPROOF(m, D[m], true)  = {}
//	SUBPROOF(m, D[m], false) = {MTH(D[m])}
//	SUBPROOF(m, D[n], b) = SUBPROOF(m, D[0:k], b) : MTH(D[k:n])         for m <= k
//	SUBPROOF(m, D[n], b) = SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k]) for m > k
func subproof(m uint64, leaves []Hash, b bool) []Hash {
	n := uint64(len(leaves))
	if m == n {
		if b {
			return []Hash{}
		}
		return []Hash{RootFromLeaves(leaves)}
	}
	k := split(n)
	if m <= k {
		return append(subproof(m, leaves[:k], b), RootFromLeaves(leaves[k:]))
	}
	return append(subproof(m-k, leaves[k:], false), RootFromLeaves(leaves[:k]))
}

// VerifyConsistency checks a ConsistencyProof: that the tree of size n with root rootN is
// an append-only extension of the tree of size m with root rootM (RFC 6962 §2.1.2). This is
// what makes a silently rewritten audit log detectable by anyone who kept an old
// checkpoint.
//
// For m == 0 the proof must be empty and rootM must be EmptyRoot; for m == n the proof
// must be empty and the roots equal. Otherwise the proof is replayed to recompute both
// roots, and both must match.
func VerifyConsistency(m, n uint64, rootM, rootN Hash, proof []Hash) error {
	switch {
	case m > n:
		return fmt.Errorf("merkle: verify consistency: old size %d exceeds new size %d", m, n)
	case m == 0:
		if len(proof) != 0 {
			return fmt.Errorf("merkle: verify consistency: proof from the empty tree has %d hashes; want 0", len(proof))
		}
		if rootM != EmptyRoot() {
			return fmt.Errorf("merkle: verify consistency: old root %s of size 0 is not the empty-tree root %s", rootM, EmptyRoot())
		}
		return nil
	case m == n:
		if len(proof) != 0 {
			return fmt.Errorf("merkle: verify consistency: proof between equal sizes %d has %d hashes; want 0", m, len(proof))
		}
		if rootM != rootN {
			return fmt.Errorf("merkle: verify consistency: roots of equal size %d differ: %s and %s", m, rootM, rootN)
		}
		return nil
	}
	if want := consistencyProofLen(m, n, true); len(proof) != want {
		return fmt.Errorf("merkle: verify consistency: proof from size %d to %d has %d hashes; want %d",
			m, n, len(proof), want)
	}
	gotM, gotN := rootsFromSubproof(m, n, true, rootM, proof)
	if gotM != rootM {
		return fmt.Errorf("merkle: verify consistency: size %d to %d: computed old root %s does not match %s", m, n, gotM, rootM)
	}
	if gotN != rootN {
		return fmt.Errorf("merkle: verify consistency: size %d to %d: computed new root %s does not match %s", m, n, gotN, rootN)
	}
	return nil
}

// consistencyProofLen is the length of SUBPROOF(m, D[n], b) for 0 < m <= n: one hash per
// split, plus one at the bottom unless the old tree is a left-most complete subtree.
func consistencyProofLen(m, n uint64, b bool) int {
	length := 0
	for m != n {
		k := split(n)
		if m <= k {
			n = k
		} else {
			m, n, b = m-k, n-k, false
		}
		length++
	}
	if !b {
		length++
	}
	return length
}

// rootsFromSubproof runs the SUBPROOF recursion of RFC 6962 §2.1.2 backwards for a subtree
// of n leaves whose first m belong to the old tree, and returns the root of those first m
// leaves and the root of all n. The last proof hash is the sibling at the top split:
//
//   - m <= k: the old leaves all lie in the left subtree, so the old root is the left
//     subtree's old root and the sibling is the new right subtree;
//   - m > k: the left subtree (the sibling) is complete and shared by both trees, and
//     split(m) == k, so both roots are NodeHash(sibling, right subtree's root).
//
// At the bottom (m == n) the subtree is identical in both trees; its root is rootM itself
// when b holds, and otherwise the one remaining proof hash. proof must have exactly
// consistencyProofLen(m, n, b) hashes, which bounds the recursion depth at 64.
func rootsFromSubproof(m, n uint64, b bool, rootM Hash, proof []Hash) (oldRoot, newRoot Hash) {
	if m == n {
		if b {
			return rootM, rootM
		}
		return proof[0], proof[0]
	}
	k := split(n)
	last, rest := proof[len(proof)-1], proof[:len(proof)-1]
	if m <= k {
		oldRoot, newLeft := rootsFromSubproof(m, k, b, rootM, rest)
		return oldRoot, NodeHash(newLeft, last)
	}
	oldRight, newRight := rootsFromSubproof(m-k, n-k, false, rootM, rest)
	return NodeHash(last, oldRight), NodeHash(last, newRight)
}
