//go:build unix

package store

import (
	"errors"
	"os"
	"syscall"
)

const journalSupported = true

// lockFile takes an exclusive lock on f without waiting; false if another process holds it.
func lockFile(f *os.File) (bool, error) {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return false, nil
	}
	return err == nil, err
}
