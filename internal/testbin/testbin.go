// Package testbin gives integration tests the real Switchyard binaries: the
// ones `make` built (SWITCHYARD_BIN_DIR, set by `make test`) when present,
// otherwise a fresh `go build` into a per-process temporary directory, done
// once per binary however many tests ask.
package testbin

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// Builder builds binaries at most once each. Tests share one through a
// package-level variable in their own test package (test state, not
// program state).
type Builder struct {
	mu    sync.Mutex
	dir   string
	built map[string]string
}

// Switchyard returns the path of the switchyard command.
func (b *Builder) Switchyard(t testing.TB) string {
	t.Helper()
	return b.binary(t, "switchyard", "./cmd/switchyard")
}

// Plugin returns the path of plugins/<name> built as a binary named name.
func (b *Builder) Plugin(t testing.TB, name string) string {
	t.Helper()
	return b.binary(t, filepath.Join("plugins", name), "./plugins/"+name)
}

func (b *Builder) binary(t testing.TB, rel, pkg string) string {
	t.Helper()
	if dir := os.Getenv("SWITCHYARD_BIN_DIR"); dir != "" {
		p := filepath.Join(dir, rel)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if p, ok := b.built[pkg]; ok {
		return p
	}
	if b.dir == "" {
		dir, err := os.MkdirTemp("", "switchyard-testbin-")
		if err != nil {
			t.Fatalf("testbin: %v", err)
		}
		b.dir = dir
		b.built = map[string]string{}
	}
	out := filepath.Join(b.dir, rel)
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = RepoRoot(t)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("testbin: go build %s: %v\n%s", pkg, err, msg)
	}
	b.built[pkg] = out
	return out
}

// RepoRoot is the module root, found from this source file's location.
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("testbin: cannot locate source")
	}
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}
