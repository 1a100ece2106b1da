package config_test

import (
	"strings"
	"testing"

	"github.com/switchyard/switchyard/config"
)

// TestAdminTokenForms checks that admin.tokens takes plain tokens (as it
// did before roles) and {name, role, token} mappings side by side, from the
// file, a secret reference and the environment, with the defaults filled
// in by Operators.
func TestAdminTokenForms(t *testing.T) {
	yaml := minimalYAML + `
admin:
  tokens:
    - plain-token-0123456789
    - name: alice
      role: viewer
      token: env:ALICE_TOKEN
    - {name: bob, token: bob-token-0123456789}
`
	cfg := mustLoad(t, yaml, "ALICE_TOKEN=alice-token-0123456789")
	ops := cfg.Admin.Operators()
	want := []struct{ name, role, token string }{
		{"admin.tokens[0]", config.RoleOperator, "plain-token-0123456789"},
		{"alice", config.RoleViewer, "alice-token-0123456789"},
		{"bob", config.RoleOperator, "bob-token-0123456789"},
	}
	if len(ops) != len(want) {
		t.Fatalf("operators = %d, want %d", len(ops), len(want))
	}
	for i, w := range want {
		if ops[i].Name != w.name || ops[i].Role != w.role || ops[i].Value() != w.token {
			t.Errorf("operator %d = %s/%s, want %s/%s (token matches: %v)", i, ops[i].Name, ops[i].Role, w.name, w.role, ops[i].Value() == w.token)
		}
	}
	// The raw entries keep what the file said: defaults are not written back.
	if cfg.Admin.Tokens[0].Name != "" || cfg.Admin.Tokens[2].Role != "" {
		t.Errorf("raw tokens changed: %+v", cfg.Admin.Tokens)
	}

	// The environment still gives plain tokens as a comma-separated list.
	cfg = mustLoad(t, minimalYAML, "SWITCHYARD_ADMIN__TOKENS=env-token-0123456789A,env-token-0123456789B")
	if ops := cfg.Admin.Operators(); len(ops) != 2 || ops[1].Value() != "env-token-0123456789B" || ops[1].Name != "admin.tokens[1]" {
		t.Errorf("tokens from the environment: %+v", ops)
	}
}

func TestAdminTokenProblems(t *testing.T) {
	yaml := minimalYAML + `
admin:
  tokens:
    - {name: alice, role: admin, token: alice-token-0123456789}
    - {name: alice, token: other-token-0123456789}
    - {name: "bad name", token: third-token-0123456789}
    - {name: dave, token: short}
    - {name: erin, role: viewer, token: alice-token-0123456789}
    - {name: frank, rol: viewer, token: frank-token-0123456789}
  console:
    idle_timeout: 2h
    max_age: 1h
    login_rate_limit: {per_minute: 0, burst: 0}
`
	_, err := load(t, yaml, nil, nil)
	ps := problems(t, err)
	want := map[string]string{
		"admin.tokens[0].role":                      "viewer, operator",
		"admin.tokens[1].name":                      "duplicates admin.tokens[0].name",
		"admin.tokens[2].name":                      "letters, digits",
		"admin.tokens[3]":                           "at least 16",
		"admin.tokens[4]":                           "duplicates admin.tokens[0]",
		"admin.tokens[5].rol":                       "unknown key",
		"admin.console.idle_timeout":                "must not exceed",
		"admin.console.login_rate_limit.per_minute": "greater than 0",
		"admin.console.login_rate_limit.burst":      "at least 1",
	}
	got := map[string]string{}
	for _, p := range ps {
		got[p.Path] = p.Message
	}
	for path, msg := range want {
		if !strings.Contains(got[path], msg) {
			t.Errorf("%s: got %q, want a message with %q", path, got[path], msg)
		}
	}
	if len(ps) != len(want) {
		t.Errorf("problems = %v, want exactly %d", ps, len(want))
	}
	for _, p := range ps {
		if strings.Contains(p.Message, "token-0123456789") {
			t.Errorf("%s: message shows a token: %q", p.Path, p.Message)
		}
	}
}
