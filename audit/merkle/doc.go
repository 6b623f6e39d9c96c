// Package merkle is the storage-agnostic cryptographic core of the Fidelis audit log: an
// append-only Merkle tree hashed exactly as RFC 6962 §2.1 prescribes, its compact right
// edge (so the sealer keeps O(log n) state instead of every leaf), inclusion and
// consistency proofs (§2.1.1, §2.1.2), and Ed25519-signed checkpoints that commit to a
// (size, root) pair.
//
// Using RFC 6962 hashing rather than a home-grown scheme means any auditor can check our
// log with an independent Certificate Transparency implementation, and the published CT
// test vectors pin our arithmetic down.
//
// The package does no I/O and keeps no state beyond the values the caller holds, so that
// the same code runs in the background sealer, in the API that serves proofs and in an
// offline verifier.
package merkle
