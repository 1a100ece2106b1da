package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/internal/servetest"
	"github.com/switchyard/switchyard/internal/testbin"
)

var bins testbin.Builder

func TestPluginsHash(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bin")
	content := []byte("not really a plugin")
	if err := os.WriteFile(path, content, 0o700); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(content)
	stdout, stderr, code := cli(t, "plugins", "hash", path)
	if code != 0 || !strings.Contains(stdout, hex.EncodeToString(sum[:])) {
		t.Fatalf("code %d stdout %q stderr %q", code, stdout, stderr)
	}
	if _, _, code := cli(t, "plugins", "hash", filepath.Join(t.TempDir(), "missing")); code == 0 {
		t.Fatal("hash of a missing file exited 0")
	}
}

func TestPluginsListJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the sandbox plugin")
	}
	plugin := bins.Plugin(t, "sandbox")
	cfg := writeConfig(t, `plugins:
  dir: "`+filepath.Dir(plugin)+`"
  instances:
    - id: sandbox
      kind: provider
      binary: sandbox
      settings: {signing_secret: cli-test-signing-secret}
    - id: off
      kind: provider
      binary: sandbox
      enabled: false
`)
	stdout, stderr, code := cli(t, "plugins", "list", "--config", cfg, "--json")
	if code != 0 {
		t.Fatalf("plugins list: code %d stderr %s", code, stderr)
	}
	var got []struct {
		ID      string `json:"id"`
		Version string `json:"version"`
		Methods []struct {
			Method string `json:"method"`
		} `json:"methods"`
		Health struct {
			State string `json:"state"`
		} `json:"health"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	states := map[string]string{}
	for _, in := range got {
		states[in.ID] = in.Health.State
		if in.ID == "sandbox" && (in.Version == "" || len(in.Methods) != 3) {
			t.Errorf("sandbox described as %+v", in)
		}
	}
	if states["sandbox"] != "healthy" || states["off"] != "disabled" {
		t.Fatalf("states %v, want sandbox healthy and off disabled", states)
	}
}

// TestPluginsListUnmigrated: against a database never migrated, plugins
// list says the database needs `switchyard migrate` where the breakers
// would be, not the driver's missing-table error, and still lists the
// plugins.
func TestPluginsListUnmigrated(t *testing.T) {
	servetest.Stores(t, func(t *testing.T, dsn string) {
		stdout, stderr, code := cli(t, "plugins", "list", "--config", writeConfigDSN(t, dsn, ""))
		if code != 0 || !strings.Contains(stdout, "BREAKER") {
			t.Fatalf("plugins list: code %d stdout %q stderr %q", code, stdout, stderr)
		}
		if !strings.Contains(stderr, "circuit breakers unknown: the database needs `switchyard migrate`") ||
			strings.Contains(stderr, "breaker_states") {
			t.Errorf("stderr %q, want the database to need switchyard migrate, without the SQL error", stderr)
		}
	})
}

// TestTestOnlyProviderRefusedAsLive: the sandbox declares itself test only,
// so an instance of it with mode: live never starts (a live key routed to it
// would be "paid" with no money behind it), while the same binary in test
// mode runs; plugins list shows each provider's mode.
func TestTestOnlyProviderRefusedAsLive(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the sandbox plugin")
	}
	plugin := bins.Plugin(t, "sandbox")
	cfg := writeConfig(t, `plugins:
  dir: "`+filepath.Dir(plugin)+`"
  instances:
    - id: sbtest
      kind: provider
      binary: sandbox
      settings: {signing_secret: cli-test-signing-secret}
    - id: sblive
      kind: provider
      binary: sandbox
      mode: live
      settings: {signing_secret: cli-test-signing-secret}
`)
	stdout, stderr, code := cli(t, "plugins", "list", "--config", cfg, "--json")
	if code != 1 || !strings.Contains(stderr, "1 plugin instance(s) not healthy") {
		t.Fatalf("plugins list: code %d, stderr %s; want 1 and one unhealthy instance", code, stderr)
	}
	var got []struct {
		ID        string `json:"id"`
		Mode      string `json:"mode"`
		LastError string `json:"last_error"`
		Health    struct {
			State string `json:"state"`
		} `json:"health"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, stdout)
	}
	byID := map[string]int{}
	for i, in := range got {
		byID[in.ID] = i
	}
	tst, live := got[byID["sbtest"]], got[byID["sblive"]]
	if tst.Mode != "test" || tst.Health.State != "healthy" {
		t.Errorf("test instance = %+v, want mode test and healthy", tst)
	}
	if live.Mode != "live" || live.Health.State == "healthy" || !strings.Contains(live.LastError, "test only") {
		t.Errorf("live instance = %+v, want mode live, not healthy, refused as test only", live)
	}

	stdout, _, _ = cli(t, "plugins", "list", "--config", cfg)
	if !strings.Contains(stdout, "MODE") || !regexp.MustCompile(`(?m)^sblive\s+provider\s+live\s`).MatchString(stdout) {
		t.Errorf("table does not show the live mode:\n%s", stdout)
	}
}
