package merkle

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// HashSize is the length in bytes of every hash in the tree. RFC 6962 §2.1 fixes the hash
// algorithm to SHA-256, so it is a constant rather than a parameter.
const HashSize = sha256.Size

// Domain-separation prefixes from RFC 6962 §2.1. They make a leaf hash and an interior node
// hash different functions, so that an attacker cannot present an interior node as a leaf
// (the second-preimage attack on naive Merkle trees).
const (
	leafPrefix = 0x00
	nodePrefix = 0x01
)

// Hash is a SHA-256 digest: a leaf hash, an interior node hash or a tree root. It is an
// array, not a slice, so that hashes compare with == and can be map keys, and so that a
// hash of the wrong length cannot exist.
type Hash [HashSize]byte

// String returns the hash as lower-case hex, the form used in logs, test vectors and
// operator tooling.
func (h Hash) String() string {
	return hex.EncodeToString(h[:])
}

// MarshalText encodes the hash as lower-case hex, so that a Hash inside a JSON document or
// a text config reads the same as String.
func (h Hash) MarshalText() ([]byte, error) {
	out := make([]byte, hex.EncodedLen(HashSize))
	hex.Encode(out, h[:])
	return out, nil
}

// UnmarshalText is the inverse of MarshalText; it accepts exactly the inputs ParseHash
// accepts and leaves h unchanged on error.
func (h *Hash) UnmarshalText(text []byte) error {
	parsed, err := ParseHash(string(text))
	if err != nil {
		return err
	}
	*h = parsed
	return nil
}

// ParseHash parses 64 hex digits (either case) into a Hash. It exists so that roots
// published out of band (in a ticket, on a web page) can be fed back into the verifiers.
func ParseHash(s string) (Hash, error) {
	var h Hash
	if len(s) != hex.EncodedLen(HashSize) {
		return h, fmt.Errorf("merkle: parse hash: got %d hex digits; want %d", len(s), hex.EncodedLen(HashSize))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return Hash{}, fmt.Errorf("merkle: parse hash: %w", err)
	}
	return h, nil
}

// HashFromBytes copies a 32-byte slice (as read from a database column or a wire message)
// into a Hash, rejecting any other length instead of silently truncating or zero-padding.
func HashFromBytes(b []byte) (Hash, error) {
	var h Hash
	if len(b) != HashSize {
		return h, fmt.Errorf("merkle: hash from bytes: got %d bytes; want %d", len(b), HashSize)
	}
	copy(h[:], b)
	return h, nil
}

// LeafHash returns SHA-256(0x00 || data), the hash of a leaf entry per RFC 6962 §2.1. The
// 0x00 prefix separates leaves from interior nodes (see NodeHash).
func LeafHash(data []byte) Hash {
	d := sha256.New()
	d.Write([]byte{leafPrefix})
	d.Write(data)
	var h Hash
	d.Sum(h[:0])
	return h
}

// NodeHash returns SHA-256(0x01 || left || right), the hash of an interior node per
// RFC 6962 §2.1. Order matters: left is the subtree holding the older entries.
func NodeHash(left, right Hash) Hash {
	var buf [1 + 2*HashSize]byte
	buf[0] = nodePrefix
	copy(buf[1:], left[:])
	copy(buf[1+HashSize:], right[:])
	return sha256.Sum256(buf[:])
}

// EmptyRoot returns the root of the tree with no leaves, SHA-256 of the empty string
// (RFC 6962 §2.1: MTH({}) = SHA-256()). It is a function rather than a variable so that no
// caller can overwrite it.
func EmptyRoot() Hash {
	return sha256.Sum256(nil)
}
