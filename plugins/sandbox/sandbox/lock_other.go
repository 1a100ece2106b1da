//go:build !unix

package sandbox

import "os"

// Without flock a ledger is safe for one sandbox process only (the
// in-process mutex still serializes that one).
func lockFile(*os.File) error { return nil }

func unlockFile(*os.File) error { return nil }
