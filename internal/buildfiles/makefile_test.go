package buildfiles

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/testbin"
)

func makefile(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	return filepath.Join(testbin.RepoRoot(t), "Makefile")
}

// TestVarIsPrivate: the var/ the Makefile makes (for make run's SQLite
// database, test logs and scan results) is 0700, including a var/ an older
// Makefile left 0755.
func TestVarIsPrivate(t *testing.T) {
	mk := makefile(t)
	for _, existing := range []bool{false, true} {
		dir := t.TempDir()
		v := filepath.Join(dir, "var")
		if existing {
			if err := os.Mkdir(v, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(v, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if out, err := exec.Command("make", "-s", "-f", mk, "-C", dir, "private-var").CombinedOutput(); err != nil {
			t.Fatalf("make private-var: %v\n%s", err, out)
		}
		st, err := os.Stat(v)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o700 {
			t.Errorf("var/ (existing before: %v) is %v, want drwx------", existing, st.Mode().Perm())
		}
	}
}

// TestTargetsWritingVarMakeItPrivate: every target that writes under var/
// goes through private-var first.
func TestTargetsWritingVarMakeItPrivate(t *testing.T) {
	mk := makefile(t)
	for _, target := range []string{"run", "test", "vuln"} {
		out, err := exec.Command("make", "-n", "-f", mk, "-C", filepath.Dir(mk), target).CombinedOutput()
		if err != nil {
			t.Fatalf("make -n %s: %v\n%s", target, err, out)
		}
		if !strings.Contains(string(out), "chmod 0700 var") {
			t.Errorf("make %s does not make var/ private first:\n%s", target, out)
		}
	}
}
