package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// cli runs the CLI in-process and returns stdout, stderr and the exit code.
// The buffers are locked: a command that starts plugins has their
// supervisors log to stderr from their own goroutines.
func cli(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb syncBuffer
	code := run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), code
}

// writeConfig writes a minimal valid config with SQLite in a temp dir.
func writeConfig(t *testing.T, extra string) string {
	t.Helper()
	return writeConfigDSN(t, "", extra)
}

// writeConfigDSN is writeConfig on the database dsn ("": SQLite in the
// temp dir).
func writeConfigDSN(t *testing.T, dsn, extra string) string {
	t.Helper()
	dir := t.TempDir()
	if dsn == "" {
		dsn = "sqlite:" + filepath.Join(dir, "sy.db")
	}
	path := filepath.Join(dir, "switchyard.yaml")
	body := "store:\n  dsn: " + strconv.Quote(dsn) + "\n" +
		"secrets:\n  keys:\n    - id: k1\n      key: MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n" + extra
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConfigCheckListsEveryProblem(t *testing.T) {
	path := writeConfig(t, `public:
  adr: 127.0.0.1:9000
log:
  format: xml
plugins:
  instances:
    - id: pay
      kind: gateway
      binary: pay
`)
	_, stderr, code := cli(t, "config", "check", "--config", path)
	if code != 2 {
		t.Fatalf("exit code = %d, want 2; stderr: %s", code, stderr)
	}
	for _, want := range []string{"public.adr", "log.format", "plugins.instances[0].kind"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not name %q:\n%s", want, stderr)
		}
	}
}

func TestConfigCheckValid(t *testing.T) {
	stdout, stderr, code := cli(t, "config", "check", "--config", "../../config/switchyard.example.yaml")
	if code != 0 || !strings.Contains(stdout, "valid") {
		t.Fatalf("code %d stdout %q stderr %q", code, stdout, stderr)
	}
}

func TestBadInputExits(t *testing.T) {
	dir := t.TempDir()
	good := writeConfig(t, "")
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("store: [unclosed\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"missing file", []string{"migrate", "--config", filepath.Join(dir, "nope.yaml")}, "nope.yaml"},
		{"invalid yaml", []string{"migrate", "--config", bad}, "bad.yaml"},
		{"bad dsn scheme", []string{"migrate", "--config", good, "--store-dsn", "mysql://x"}, "store.dsn"},
		{"unreachable postgres", []string{"migrate", "--config", good, "--store-dsn", "postgres://postgres:s3cret@127.0.0.1:1/none?connect_timeout=1"}, "cannot reach"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := cli(t, tc.args...)
			if code == 0 {
				t.Fatal("exit code 0 for bad input")
			}
			if !strings.Contains(stderr, tc.want) {
				t.Fatalf("stderr %q does not mention %q", stderr, tc.want)
			}
			if strings.Contains(stderr, "s3cret") {
				t.Fatal("password leaked into the error")
			}
		})
	}
}

func TestMerchantsKeysSitesJSON(t *testing.T) {
	cfg := writeConfig(t, "")
	if _, stderr, code := cli(t, "migrate", "--config", cfg); code != 0 {
		t.Fatalf("migrate: %s", stderr)
	}
	stdout, stderr, code := cli(t, "merchants", "create", "--config", cfg, "--name", "Acme", "--plan", "pro",
		"--domain", "acme.test", "--contact-email", "ops@acme.test", "--json")
	if code != 0 {
		t.Fatalf("merchants create: %s", stderr)
	}
	var m struct {
		ID   int64  `json:"id"`
		Plan string `json:"plan"`
	}
	if err := json.Unmarshal([]byte(stdout), &m); err != nil || m.ID == 0 || m.Plan != "pro" {
		t.Fatalf("merchant JSON %q: %v", stdout, err)
	}
	mid := strings.TrimSpace(strings.Split(strings.Split(stdout, `"id": `)[1], ",")[0])

	stdout, stderr, code = cli(t, "keys", "create", "--config", cfg, "--merchant", mid, "--scope", "sessions:read", "--json")
	if code != 0 {
		t.Fatalf("keys create: %s", stderr)
	}
	var k struct {
		ID     int64    `json:"id"`
		Key    string   `json:"key"`
		Scopes []string `json:"scopes"`
	}
	if err := json.Unmarshal([]byte(stdout), &k); err != nil || !strings.HasPrefix(k.Key, "sk_test_") || len(k.Scopes) != 1 {
		t.Fatalf("key JSON %q: %v", stdout, err)
	}
	stdout, _, _ = cli(t, "keys", "list", "--config", cfg, "--merchant", mid, "--json")
	if strings.Contains(stdout, k.Key) {
		t.Fatal("keys list shows the secret")
	}

	_, stderr, code = cli(t, "sites", "add", "--config", cfg, "--merchant", mid, "--domain", "acme.test")
	if code == 0 || !strings.Contains(stderr, "acme.test") {
		t.Fatalf("duplicate domain: code %d stderr %q", code, stderr)
	}
	stdout, _, _ = cli(t, "sites", "list", "--config", cfg, "--merchant", mid, "--json")
	var sites []map[string]any
	if err := json.Unmarshal([]byte(stdout), &sites); err != nil || len(sites) != 1 {
		t.Fatalf("the duplicate changed the sites: %s", stdout)
	}

	_, stderr, code = cli(t, "merchants", "create", "--config", cfg, "--name", "B", "--plan", "gold",
		"--domain", "b.test", "--contact-email", "ops@b.test")
	if code == 0 || !strings.Contains(stderr, "plan") {
		t.Fatalf("bad plan: code %d stderr %q", code, stderr)
	}

	for _, tc := range []struct{ cmd, want string }{{"suspend", "suspended"}, {"reactivate", "active"}} {
		stdout, stderr, code := cli(t, "merchants", tc.cmd, "--config", cfg, mid, "--json")
		var got struct{ Status string }
		if code != 0 || json.Unmarshal([]byte(stdout), &got) != nil || got.Status != tc.want {
			t.Fatalf("merchants %s: code %d %q %q", tc.cmd, code, stdout, stderr)
		}
	}
	if _, stderr, code := cli(t, "merchants", "suspend", "--config", cfg, "99999"); code == 0 || !strings.Contains(stderr, "no such merchant") {
		t.Fatalf("suspend missing merchant: code %d stderr %q", code, stderr)
	}
	// The other commands on one merchant ID: its record, mail settings and
	// templates; a malformed ID is refused before anything runs.
	for _, c := range []struct{ args, want string }{{"show", `"id": ` + mid}, {"mail show", `"merchant_id": ` + mid}, {"templates list", `"payment_receipt"`}} {
		args := append(append([]string{"merchants"}, strings.Fields(c.args)...), "--config", cfg)
		if stdout, stderr, code := cli(t, append(args, mid, "--json")...); code != 0 || !strings.Contains(stdout, c.want) {
			t.Errorf("merchants %s: code %d %q %q, want %s", c.args, code, stdout, stderr, c.want)
		}
		if _, stderr, code := cli(t, append(args, "x1")...); code != 2 || !strings.Contains(stderr, `merchant id "x1"`) {
			t.Errorf("merchants %s x1: code %d stderr %q", c.args, code, stderr)
		}
	}

	if _, stderr, code := cli(t, "keys", "revoke", "--config", cfg, "nope"); code == 0 || !strings.Contains(stderr, "nope") {
		t.Fatalf("malformed key id: code %d stderr %q", code, stderr)
	}
	if _, stderr, code := cli(t, "keys", "revoke", "--config", cfg, "99999"); code == 0 || !strings.Contains(stderr, "not found") && !strings.Contains(stderr, "no such") {
		t.Fatalf("missing key id: code %d stderr %q", code, stderr)
	}
}
