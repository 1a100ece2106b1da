package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestNoConfigFileIsNamedAsTheProblem: a command run without --config (and
// without SWITCHYARD_CONFIG) says that first, not only which key is missing.
func TestNoConfigFileIsNamedAsTheProblem(t *testing.T) {
	t.Setenv("SWITCHYARD_CONFIG", "")
	for _, args := range [][]string{{"config", "check"}, {"merchants", "list"}, {"migrate"}} {
		_, stderr, code := cli(t, args...)
		if code != 2 || !strings.Contains(stderr, "no configuration file given: pass --config FILE or set SWITCHYARD_CONFIG") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and the missing --config named", args, code, stderr)
		}
	}
}

// TestMigrateSaysWhatItApplied: the first migrate lists what it applied;
// the next one says there was nothing to do.
func TestMigrateSaysWhatItApplied(t *testing.T) {
	path := writeConfig(t, "")
	stdout, stderr, code := cli(t, "migrate", "--config", path)
	if code != 0 {
		t.Fatalf("migrate: exit %d: %s", code, stderr)
	}
	first := regexp.MustCompile(`(?m)^database sqlite:\S+: applied \d+ Switchyard migrations and \d+ job queue \(River\) migrations\n  applied 20261122000001 core_tables\n`)
	if !first.MatchString(stdout) || strings.Contains(stdout, "up to date") {
		t.Errorf("first migrate printed:\n%s", stdout)
	}
	stdout, _, code = cli(t, "migrate", "--config", path)
	if code != 0 || !strings.Contains(stdout, "is up to date (no pending migrations)") || strings.Contains(stdout, "applied") {
		t.Errorf("second migrate: exit %d:\n%s", code, stdout)
	}
}

// TestCommandsLogAtWarnUnlessAsked: management commands do not print the
// job queue's start-up INFO lines; --log-level (or SWITCHYARD_LOG_LEVEL)
// brings them back.
func TestCommandsLogAtWarnUnlessAsked(t *testing.T) {
	t.Setenv("SWITCHYARD_LOG_LEVEL", "") // restored after the test
	os.Unsetenv("SWITCHYARD_LOG_LEVEL")
	path := writeConfig(t, "log:\n  level: info\n")
	if _, stderr, code := cli(t, "migrate", "--config", path); code != 0 {
		t.Fatalf("migrate: %s", stderr)
	}
	const river = "entering poll only mode"
	_, stderr, code := cli(t, "merchants", "list", "--config", path)
	if code != 0 || stderr != "" {
		t.Errorf("merchants list at the default level: exit %d, stderr %q; want nothing on stderr", code, stderr)
	}
	_, stderr, code = cli(t, "merchants", "list", "--config", path, "--log-level", "info")
	if code != 0 || !strings.Contains(stderr, river) {
		t.Errorf("merchants list --log-level info: exit %d, stderr %q; want River's INFO line", code, stderr)
	}
	t.Setenv("SWITCHYARD_LOG_LEVEL", "info")
	if _, stderr, _ = cli(t, "merchants", "list", "--config", path); !strings.Contains(stderr, river) {
		t.Errorf("SWITCHYARD_LOG_LEVEL=info: stderr %q; want River's INFO line", stderr)
	}
}
