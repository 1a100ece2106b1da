package buildfiles

import (
	"net/http"
	"net/http/httptest"
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

// TestVulnScansBothModules runs `make vuln` with a stand-in govulncheck
// (and a database URL that answers) to see what the target scans and how
// it judges: the root module and the sdk module are each scanned from their
// own directory, and a vulnerability reached in the sdk fails the target
// even though the root's scan is clean (the root's accepted echo
// advisories are not accepted for the sdk).
func TestVulnScansBothModules(t *testing.T) {
	if testing.Short() {
		t.Skip("runs make vuln (go run of the gate)")
	}
	mk := makefile(t)
	root := filepath.Dir(mk)
	db := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/index/db.json" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"modified":"2026-11-05T00:00:00Z"}`))
	}))
	defer db.Close()

	tools := t.TempDir()
	scanned := filepath.Join(tools, "scanned")
	// The stand-in records where it ran and reports, for the sdk module
	// only when asked, one called vulnerability.
	stub := `#!/bin/sh
pwd >> "` + scanned + `"
echo '{"config":{"scanner_version":"stub","db":"test","go_version":"go1.26.10","scan_level":"symbol"}}'
case "$(pwd)" in
*/sdk) if [ -n "$STUB_SDK_FINDING" ]; then
  echo '{"osv":{"id":"GO-0000-0001","summary":"stub advisory"}}'
  echo '{"finding":{"osv":"GO-0000-0001","fixed_version":"v1.2.3","trace":[{"module":"example.com/dep","version":"v1.0.0","package":"example.com/dep","function":"Bad"},{"module":"github.com/switchyard/switchyard/sdk","package":"github.com/switchyard/switchyard/sdk","function":"Serve"}]}}'
fi ;;
esac
`
	for _, tool := range []string{"govulncheck", "staticcheck", "stripe-mock"} {
		if err := os.WriteFile(filepath.Join(tools, tool), []byte(stub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	run := func(sdkFinding bool) (string, error) {
		_ = os.Remove(scanned)
		cmd := exec.Command("make", "-s", "-C", root, "vuln", "TOOLS="+tools, "VULNDB_URL="+db.URL)
		cmd.Env = append(os.Environ(), "STUB_SDK_FINDING=")
		if sdkFinding {
			cmd.Env = append(cmd.Env, "STUB_SDK_FINDING=1")
		}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}

	out, err := run(false)
	if err != nil {
		t.Fatalf("make vuln with clean scans: %v\n%s", err, out)
	}
	dirs, err := os.ReadFile(scanned)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(string(dirs)); len(got) != 2 || got[0] != root || got[1] != filepath.Join(root, "sdk") {
		t.Fatalf("govulncheck ran in %q, want the root module then sdk/\n%s", got, out)
	}

	out, err = run(true)
	if err == nil || !strings.Contains(out, "VULNERABLE: GO-0000-0001") {
		t.Fatalf("make vuln with a vulnerability reached in the sdk: err %v\n%s", err, out)
	}
}
