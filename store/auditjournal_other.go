//go:build !unix

package store

import (
	"errors"
	"os"
)

// Without flock, a journal cannot tell a live process from a dead one: RecordAudit commits
// entries directly.
const journalSupported = false

func lockFile(*os.File) (bool, error) { return false, errors.ErrUnsupported }
