package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
