package pluginhost

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// errRefused marks launch failures that restarting cannot fix: a binary
// outside the plugin directory, a checksum mismatch, a plugin of the wrong
// kind, settings the plugin rejects. The supervisor does not retry them.
var errRefused = errors.New("refused")

// refusedError is a permanent launch failure; it matches errRefused.
type refusedError struct{ err error }

func (e *refusedError) Error() string        { return e.err.Error() }
func (e *refusedError) Unwrap() error        { return e.err }
func (e *refusedError) Is(target error) bool { return target == errRefused }

func refuse(format string, args ...any) error {
	return &refusedError{err: fmt.Errorf(format, args...)}
}

// resolveBinary returns the real path of binary inside dir. Both are
// resolved with EvalSymlinks first, so neither "../x" nor a symlink that
// points out of the directory can make the host execute a file the operator
// did not put there. It is re-run on every launch: a restart must not
// follow a symlink swapped in since the last one.
func resolveBinary(dir, binary string) (string, error) {
	if binary == "" {
		return "", refuse("no binary configured")
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", fmt.Errorf("plugin dir %q: %w", dir, err)
	}
	realDir, err = filepath.Abs(realDir)
	if err != nil {
		return "", fmt.Errorf("plugin dir %q: %w", dir, err)
	}
	candidate := binary
	if !filepath.IsAbs(candidate) {
		candidate = filepath.Join(realDir, candidate)
	}
	realBin, err := filepath.EvalSymlinks(candidate)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("binary %q not found in plugin dir %q", binary, dir)
		}
		return "", fmt.Errorf("binary %q: %w", binary, err)
	}
	realBin, err = filepath.Abs(realBin)
	if err != nil {
		return "", fmt.Errorf("binary %q: %w", binary, err)
	}
	rel, err := filepath.Rel(realDir, realBin)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", refuse("binary %q resolves to %q, outside the plugin dir %q", binary, realBin, realDir)
	}
	st, err := os.Stat(realBin)
	if err != nil {
		return "", fmt.Errorf("binary %q: %w", binary, err)
	}
	if !st.Mode().IsRegular() {
		return "", refuse("binary %q is not a regular file", binary)
	}
	if st.Mode().Perm()&0o111 == 0 {
		return "", refuse("binary %q is not executable", binary)
	}
	return realBin, nil
}

// parseChecksum decodes a configured sha256 (hex, any case, optionally
// prefixed "sha256:"); empty means not pinned.
func parseChecksum(s string) ([]byte, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "sha256:")
	if s == "" {
		return nil, nil
	}
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != sha256.Size {
		return nil, fmt.Errorf("sha256 %q is not 64 hex digits", s)
	}
	return b, nil
}

// HashFile returns the lower-case hex sha256 of the file at path: the value
// to put in a plugin instance's sha256 setting.
func HashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
