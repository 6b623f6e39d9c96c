package audit

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/fidelis/fidelis/audit/merkle"
)

// Truncating the end of the log together with its newest checkpoints leaves a shorter log
// that verifies on its own: nothing inside the database can prove entries are missing. A
// signed checkpoint archived elsewhere (a ticket, the DPO's mailbox) can: Verify checks that
// the log still holds the archived checkpoint's tree as its prefix.

// signaturePrefix starts the signature line of an exported checkpoint.
const signaturePrefix = "— "

// FormatCheckpoint renders cp as a signed note: the checkpoint body, a blank line, and
// "— <key id> <base64 signature>".
func FormatCheckpoint(cp *Checkpoint) []byte {
	var b bytes.Buffer
	st := cp.Statement()
	b.Write(st.Body())
	b.WriteString("\n" + signaturePrefix + cp.KeyID + " " + base64.StdEncoding.EncodeToString(cp.Signature) + "\n")
	return b.Bytes()
}

// ParseSignedCheckpoint reads a note written by FormatCheckpoint and checks its signature
// with pub.
func ParseSignedCheckpoint(note []byte, pub ed25519.PublicKey) (merkle.Checkpoint, error) {
	body, sigLine, ok := bytes.Cut(note, []byte("\n\n"))
	if !ok {
		return merkle.Checkpoint{}, fmt.Errorf("audit: checkpoint note has no signature line")
	}
	cp, err := merkle.ParseCheckpoint(append(body, '\n'))
	if err != nil {
		return merkle.Checkpoint{}, fmt.Errorf("audit: checkpoint note: %w", err)
	}
	if cp.Origin != Origin {
		return merkle.Checkpoint{}, fmt.Errorf("audit: checkpoint note is for log %q, not %q", cp.Origin, Origin)
	}
	line := strings.TrimSpace(string(sigLine))
	rest, ok := strings.CutPrefix(line, signaturePrefix)
	keyID, sig64, ok2 := strings.Cut(rest, " ")
	if !ok || !ok2 {
		return merkle.Checkpoint{}, fmt.Errorf("audit: checkpoint note has a malformed signature line")
	}
	if keyID != merkle.KeyID(pub) {
		return merkle.Checkpoint{}, fmt.Errorf("audit: checkpoint note was signed by key %s, not by this installation's key %s", keyID, merkle.KeyID(pub))
	}
	sig, err := base64.StdEncoding.DecodeString(sig64)
	if err != nil {
		return merkle.Checkpoint{}, fmt.Errorf("audit: checkpoint note signature: %w", err)
	}
	if err := cp.Verify(pub, sig); err != nil {
		return merkle.Checkpoint{}, fmt.Errorf("audit: checkpoint note signature does not verify: %w", err)
	}
	return cp, nil
}
