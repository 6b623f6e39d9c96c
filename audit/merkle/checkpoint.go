package merkle

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxOriginLen bounds Checkpoint.Origin in bytes, so that a checkpoint body stays small
// and a hostile body cannot make the parser do unbounded work.
const MaxOriginLen = 255

// checkpointTimeLayout is RFC 3339 in UTC with exactly six fractional digits: fixed width,
// so that the body has one canonical form, and microseconds because that is what
// PostgreSQL timestamps hold.
const checkpointTimeLayout = "2006-01-02T15:04:05.000000Z"

// checkpointLines is the number of newline-terminated lines in a checkpoint body.
const checkpointLines = 4

// Checkpoint is a signed statement by the log that, at Time, the tree of the first Size
// leaves had root Root. Publishing signed checkpoints turns the Merkle root into evidence:
// the log operator cannot later present a different history for the same size without
// the two signed roots contradicting each other (see VerifyConsistency).
type Checkpoint struct {
	// Origin names the log, e.g. "fidelis.example.com/audit". Signing it prevents a
	// checkpoint of one log from being replayed as a checkpoint of another log that uses
	// the same key.
	Origin string
	// Size is the number of leaves in the tree, the n of MTH(D[n]) (RFC 6962 §2.1). The
	// root alone does not fix the size, so it must be signed with it.
	Size uint64
	// Root is MTH(D[Size]) (RFC 6962 §2.1).
	Root Hash
	// Time is when the checkpoint was made. Body keeps microseconds in UTC; finer detail
	// and the location are not signed.
	Time time.Time
}

// Validate reports whether the checkpoint can be written as a body that ParseCheckpoint
// accepts: Origin is 1..MaxOriginLen bytes of printable UTF-8 without spaces (so it fits
// on one line and cannot hide look-alike invisible characters), and Time is set and within the years
// 1..9999 that RFC 3339 can express.
func (c Checkpoint) Validate() error {
	if err := validateOrigin(c.Origin); err != nil {
		return err
	}
	if c.Time.IsZero() {
		return fmt.Errorf("merkle: checkpoint: time is not set")
	}
	if y := c.Time.UTC().Year(); y < 1 || y > 9999 {
		return fmt.Errorf("merkle: checkpoint: year %d outside 1..9999", y)
	}
	return nil
}

func validateOrigin(origin string) error {
	if origin == "" {
		return fmt.Errorf("merkle: checkpoint: origin is empty")
	}
	if len(origin) > MaxOriginLen {
		return fmt.Errorf("merkle: checkpoint: origin is %d bytes; want at most %d", len(origin), MaxOriginLen)
	}
	if !utf8.ValidString(origin) {
		return fmt.Errorf("merkle: checkpoint: origin is not valid UTF-8")
	}
	for i, r := range origin {
		if r == ' ' || !unicode.IsPrint(r) {
			return fmt.Errorf("merkle: checkpoint: origin has non-printable or space character %U at byte %d", r, i)
		}
	}
	return nil
}

// Body returns the canonical text that is signed, one field per line, each ending in
// "\n":
//
//	<origin>
//	<size in decimal>
//	<root in standard base64>
//	<time, RFC 3339 UTC with microseconds>
//
// A text body keeps checkpoints human-readable in tickets and lets outside auditors verify
// them with ordinary Ed25519 tools. It is only meaningful when Validate returns nil.
func (c Checkpoint) Body() []byte {
	var b bytes.Buffer
	b.WriteString(c.Origin)
	b.WriteByte('\n')
	b.WriteString(strconv.FormatUint(c.Size, 10))
	b.WriteByte('\n')
	b.WriteString(base64.StdEncoding.EncodeToString(c.Root[:]))
	b.WriteByte('\n')
	b.WriteString(c.Time.UTC().Format(checkpointTimeLayout))
	b.WriteByte('\n')
	return b.Bytes()
}

// Sign returns the Ed25519 signature of Body under priv.
//
// Sign panics if the checkpoint fails Validate or priv is not an Ed25519 private key (as
// ed25519.Sign does): both are programming or configuration errors, and signing a body
// that no verifier can parse must not happen silently.
func (c Checkpoint) Sign(priv ed25519.PrivateKey) (sig []byte) {
	if err := c.Validate(); err != nil {
		panic(fmt.Sprintf("merkle: sign checkpoint: %v", err))
	}
	if len(priv) != ed25519.PrivateKeySize {
		panic(fmt.Sprintf("merkle: sign checkpoint: private key is %d bytes; want %d", len(priv), ed25519.PrivateKeySize))
	}
	return ed25519.Sign(priv, c.Body())
}

// Verify checks that sig is a valid Ed25519 signature of Body under pub. It returns an
// error, never panics, for malformed keys, signatures or checkpoints, because all three
// may come from an untrusted party.
func (c Checkpoint) Verify(pub ed25519.PublicKey, sig []byte) error {
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("merkle: verify checkpoint: public key is %d bytes; want %d", len(pub), ed25519.PublicKeySize)
	}
	if len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("merkle: verify checkpoint: signature is %d bytes; want %d", len(sig), ed25519.SignatureSize)
	}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("merkle: verify checkpoint: %w", err)
	}
	if !ed25519.Verify(pub, c.Body(), sig) {
		return fmt.Errorf("merkle: verify checkpoint: bad signature for %q size %d under key %s", c.Origin, c.Size, KeyID(pub))
	}
	return nil
}

// ParseCheckpoint parses a body produced by Checkpoint.Body. It is strict, accepting only
// the exact bytes Body would produce for the result (no extra whitespace, CRLF, leading
// zeros, unpadded or URL base64, other time zones or precisions), so that one checkpoint
// has exactly one signed encoding. The returned Time is in UTC.
func ParseCheckpoint(body []byte) (Checkpoint, error) {
	var c Checkpoint
	if len(body) == 0 || body[len(body)-1] != '\n' {
		return c, fmt.Errorf("merkle: parse checkpoint: body does not end in a newline")
	}
	lines := bytes.Split(body[:len(body)-1], []byte{'\n'})
	if len(lines) != checkpointLines {
		return c, fmt.Errorf("merkle: parse checkpoint: got %d lines; want %d", len(lines), checkpointLines)
	}

	if err := validateOrigin(string(lines[0])); err != nil {
		return c, fmt.Errorf("merkle: parse checkpoint: %w", err)
	}
	c.Origin = string(lines[0])

	size, err := strconv.ParseUint(string(lines[1]), 10, 64)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("merkle: parse checkpoint: size: %w", err)
	}
	if strconv.FormatUint(size, 10) != string(lines[1]) {
		return Checkpoint{}, fmt.Errorf("merkle: parse checkpoint: size %q is not in canonical decimal form", lines[1])
	}
	c.Size = size

	if want := base64.StdEncoding.EncodedLen(HashSize); len(lines[2]) != want {
		return Checkpoint{}, fmt.Errorf("merkle: parse checkpoint: root is %d base64 characters; want %d", len(lines[2]), want)
	}
	// Decode writes up to DecodedLen bytes (33 for 44 characters), so it cannot decode
	// straight into a 32-byte Hash.
	root := make([]byte, base64.StdEncoding.DecodedLen(len(lines[2])))
	n, err := base64.StdEncoding.Strict().Decode(root, lines[2])
	if err != nil {
		return Checkpoint{}, fmt.Errorf("merkle: parse checkpoint: root: %w", err)
	}
	if n != HashSize {
		return Checkpoint{}, fmt.Errorf("merkle: parse checkpoint: root decodes to %d bytes; want %d", n, HashSize)
	}
	copy(c.Root[:], root[:HashSize])

	t, err := time.Parse(checkpointTimeLayout, string(lines[3]))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("merkle: parse checkpoint: time: %w", err)
	}
	c.Time = t.UTC()

	if err := c.Validate(); err != nil {
		return Checkpoint{}, fmt.Errorf("merkle: parse checkpoint: %w", err)
	}
	// Every field was checked above; this catches any remaining non-canonical spelling
	// (for example in the time) by construction.
	if !bytes.Equal(c.Body(), body) {
		return Checkpoint{}, fmt.Errorf("merkle: parse checkpoint: body is not in canonical form")
	}
	return c, nil
}

// KeyID returns the first 8 bytes of SHA-256(pub) in hex, a short name for a signing key
// that operators can compare by eye and that lets verifiers pick the right key during
// rotation. It identifies, it does not authenticate: always verify against the full key.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}
