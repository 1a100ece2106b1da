package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/plugins/smtp/smtptest"
	"github.com/switchyard/switchyard/plugins/whm/whmfake"
	"github.com/switchyard/switchyard/plugins/whm/whmprovisioner"
)

// pluginConfig writes a config with one instance of the given plugin
// binary and settings (JSON is YAML, so multi-line PEM values survive).
func pluginConfig(t *testing.T, binary, kind string, settings map[string]string, extra string) string {
	t.Helper()
	plugin := bins.Plugin(t, binary)
	s, err := json.Marshal(settings)
	if err != nil {
		t.Fatal(err)
	}
	return writeConfig(t, `plugins:
  dir: "`+filepath.Dir(plugin)+`"
  instances:
    - id: it
      kind: `+kind+`
      binary: `+binary+`
      settings: `+string(s)+`
`+extra)
}

type testReport struct {
	ID       string            `json:"id"`
	Kind     string            `json:"kind"`
	Name     string            `json:"name"`
	OK       bool              `json:"ok"`
	Method   string            `json:"method"`
	Message  string            `json:"message"`
	Details  map[string]string `json:"details"`
	Packages []string          `json:"packages"`
	Checked  []struct {
		Name  string `json:"name"`
		Found bool   `json:"found"`
	} `json:"checked_packages"`
	Error *struct {
		Category string `json:"category"`
		Code     string `json:"code"`
		Message  string `json:"message"`
	} `json:"error"`
}

func runTest(t *testing.T, args ...string) (testReport, string, int) {
	t.Helper()
	stdout, stderr, code := cli(t, append([]string{"plugins", "test"}, args...)...)
	var r testReport
	if strings.Contains(strings.Join(args, " "), "--json") && stdout != "" {
		if err := json.Unmarshal([]byte(stdout), &r); err != nil {
			t.Fatalf("not JSON: %v\n%s\nstderr: %s", err, stdout, stderr)
		}
	}
	return r, stdout + stderr, code
}

func TestPluginsTestWHM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the whm plugin")
	}
	fake := whmfake.New(t, whmfake.Options{})
	cfg := pluginConfig(t, "whm", "provisioner", fake.Settings(), "")

	r, out, code := runTest(t, "it", "--config", cfg, "--json", "--package", "basic", "--package", "reseller_gold")
	if code != 0 || !r.OK || r.Method != "test_connection" || r.Details["whm_version"] != whmfake.Version || r.Name != "whm" {
		t.Fatalf("code %d report %+v\n%s", code, r, out)
	}
	if strings.Join(r.Packages, ",") != "default,basic,root_premium,reseller_gold" || len(r.Checked) != 2 || !r.Checked[0].Found || !r.Checked[1].Found {
		t.Errorf("packages %v checked %+v", r.Packages, r.Checked)
	}

	// A package named in another case is not the package.
	_, out, code = runTest(t, "it", "--config", cfg, "--package", "Reseller_Gold")
	if code != 1 || !strings.Contains(out, `package "Reseller_Gold": NOT FOUND`) || !strings.Contains(out, "package(s) not found: Reseller_Gold") {
		t.Errorf("wrong-case package: code %d\n%s", code, out)
	}

	// The packages of the file's products on the instance are checked too,
	// and a missing one names its product.
	withProducts := pluginConfig(t, "whm", "provisioner", fake.Settings(), `products:
  - sku: host-basic
    name: Basic
    fulfillment: {kind: provision, provisioner: it, package: basic}
  - sku: host-gold
    name: Gold
    fulfillment: {kind: provision, provisioner: it, package: Gold}
`)
	_, out, code = runTest(t, "it", "--config", withProducts)
	if code != 1 || !strings.Contains(out, `package "basic": found`) || !strings.Contains(out, `package "Gold": NOT FOUND`) ||
		!strings.Contains(out, `package(s) not found: Gold; products (sku host-gold) uses package "Gold"`) {
		t.Errorf("a product's unknown package: code %d\n%s", code, out)
	}

	// A refused token fails the test with the category, and the token is
	// not printed.
	bad := fake.Settings()
	bad[whmprovisioner.SettingAPIToken] = "WRONGTOKEN0123456789ABCDEFGHIJKL"
	r, out, code = runTest(t, "it", "--config", pluginConfig(t, "whm", "provisioner", bad, ""), "--json")
	if code != 1 || r.OK || r.Error == nil || r.Error.Category != "unauthorized" || strings.Contains(out, "WRONGTOKEN") {
		t.Errorf("wrong token: code %d report %+v\n%s", code, r, out)
	}
	if len(fake.Calls("createacct", "suspendacct", "removeacct", "passwd", "changepackage")) != 0 {
		t.Error("plugins test changed something on the server")
	}
}

func TestPluginsTestSMTP(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the smtp plugin")
	}
	srv := smtptest.New(t, smtptest.Options{})
	r, out, code := runTest(t, "it", "--config", pluginConfig(t, "smtp", "mailer", srv.Settings("Shop"), ""), "--json")
	if code != 0 || !r.OK || r.Details["username"] != srv.Username() || r.Details["tls_version"] == "" {
		t.Fatalf("code %d report %+v\n%s", code, r, out)
	}
	if len(srv.Messages()) != 0 {
		t.Error("plugins test sent mail")
	}

	bad := srv.Settings("Shop")
	bad["password"] = "not-the-password"
	_, out, code = runTest(t, "it", "--config", pluginConfig(t, "smtp", "mailer", bad, ""))
	if code != 1 || !strings.Contains(out, "connection test FAILED") || !strings.Contains(out, "error (unauthorized, auth_failed)") || strings.Contains(out, "not-the-password") {
		t.Errorf("wrong password: code %d\n%s", code, out)
	}
}

func TestPluginsTestProviderFallsBackToHealth(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the sandbox plugin")
	}
	cfg := pluginConfig(t, "sandbox", "provider", map[string]string{"signing_secret": "cli-test-signing-secret"}, "")
	r, out, code := runTest(t, "it", "--config", cfg, "--json")
	if code != 0 || !r.OK || r.Method != "health" || !strings.Contains(r.Message, "no connection test") {
		t.Fatalf("code %d report %+v\n%s", code, r, out)
	}
	if _, out, code := runTest(t, "it", "--config", cfg, "--package", "basic"); code != 2 || !strings.Contains(out, "--package applies to provisioners") {
		t.Errorf("--package on a provider: code %d\n%s", code, out)
	}
}

func TestPluginsTestRefusals(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the sandbox plugin")
	}
	cfg := pluginConfig(t, "sandbox", "provider", map[string]string{"signing_secret": "cli-test-signing-secret"}, "")
	if _, out, code := runTest(t, "nosuch", "--config", cfg); code != 2 || !strings.Contains(out, `no plugin instance "nosuch"`) {
		t.Errorf("unknown id: code %d\n%s", code, out)
	}
	off := writeConfig(t, `plugins:
  dir: "`+filepath.Dir(bins.Plugin(t, "sandbox"))+`"
  instances:
    - id: off
      kind: provider
      binary: sandbox
      enabled: false
`)
	if _, out, code := runTest(t, "off", "--config", off); code != 1 || !strings.Contains(out, "disabled") {
		t.Errorf("disabled instance: code %d\n%s", code, out)
	}
	// Settings the plugin refuses stop it before any test.
	bad := pluginConfig(t, "sandbox", "provider", map[string]string{"signing_secret": "short"}, "")
	if _, out, code := runTest(t, "it", "--config", bad); code != 1 || !strings.Contains(out, "signing_secret") {
		t.Errorf("refused settings: code %d\n%s", code, out)
	}
}
