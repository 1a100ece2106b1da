//go:build unix

package sandbox

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive advisory lock, shared with every process
// that opened the same ledger file.
func lockFile(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }

func unlockFile(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
