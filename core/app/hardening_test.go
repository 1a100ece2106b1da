package app_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/config"
)

// hardenedConfig serves the real sandbox plugin as instance "sandbox" and a
// switched-off one as "off", behind public.base_url baseURL, with a webhook
// intake limit of burst requests per source.
func hardenedConfig(t *testing.T, baseURL, extra string) *config.Config {
	t.Helper()
	pluginDir := filepath.Dir(bins.Plugin(t, "sandbox"))
	dir := t.TempDir()
	yaml := fmt.Sprintf(`
public: {addr: "127.0.0.1:0", base_url: %q}
admin: {addr: "127.0.0.1:0", tokens: [%q]}
store: {dsn: %q}
secrets: {keys: [{id: k1, key: MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=}]}
plugins:
  dir: %q
  instances:
    - {id: sandbox, kind: provider, binary: sandbox, settings: {signing_secret: hardening-test-signing-secret}}
    - {id: "off", kind: provider, binary: sandbox, enabled: false, settings: {signing_secret: hardening-test-signing-secret}}
routing:
  rules:
    - method: card
      providers: [{id: sandbox}]
%s
`, baseURL, adminToken, "sqlite:"+filepath.Join(dir, "sy.db"), pluginDir, extra)
	path := filepath.Join(dir, "sy.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(config.LoadOptions{Path: path, Environ: func() []string { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func send(t *testing.T, method, url string, hdr http.Header, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = hdr
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestServeHardening drives a real server and the real sandbox plugin
// binary from outside: HSTS on public responses when public.base_url is
// https (none on the admin listener, none behind an http base URL), two
// Authorization headers refused, a switched-off provider instance saying
// it is disabled, and the per-source webhook limit answering 429 and
// showing in /metrics.
func TestServeHardening(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and launches the sandbox plugin binary")
	}
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}

	t.Run("https base url", func(t *testing.T) {
		_, l, _ := startApp(t, hardenedConfig(t, "https://pay.example.test", `
hooks: {rate_limit: {requests_per_second: 0.001, burst: 2}}`))
		pub, adm := "http://"+l.Public, "http://"+l.Admin

		for _, path := range []string{"/healthz", "/v1/me", "/nope"} {
			resp, _ := send(t, http.MethodGet, pub+path, nil, "")
			if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
				t.Errorf("public %s: Strict-Transport-Security = %q", path, got)
			}
		}
		if resp, _ := send(t, http.MethodGet, adm+"/healthz", nil, ""); resp.Header.Get("Strict-Transport-Security") != "" {
			t.Error("the admin listener sent HSTS")
		}

		resp, body := send(t, http.MethodGet, pub+"/v1/me", http.Header{"Authorization": {"Bearer sk_test_a", "Bearer sk_test_b"}}, "")
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"duplicate_header"`) {
			t.Fatalf("two Authorization headers: %d %s", resp.StatusCode, body)
		}
		resp, body = send(t, http.MethodGet, adm+"/admin/v1/merchants", http.Header{"Authorization": {"Bearer " + adminToken, "Bearer " + adminToken}}, "")
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"duplicate_header"`) {
			t.Fatalf("admin, two Authorization headers: %d %s", resp.StatusCode, body)
		}

		resp, body = send(t, http.MethodPost, pub+"/hooks/sandbox/off", form, "x=1")
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, `"provider_disabled"`) || !strings.Contains(body, "is disabled") {
			t.Fatalf("disabled instance: %d %s", resp.StatusCode, body)
		}
		resp, body = send(t, http.MethodPost, pub+"/hooks/sandbox/sandbox", form, "x=1")
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("unsigned post within the limit: %d %s", resp.StatusCode, body)
		}
		resp, body = send(t, http.MethodPost, pub+"/hooks/sandbox/sandbox", form, "x=1")
		if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, `"rate_limited"`) {
			t.Fatalf("over the limit: %d %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
		_, metrics := get(t, adm+"/metrics", "")
		for _, labels := range [][]string{
			{`provider="sandbox"`, `reason="rate_limited"`},
			{`provider="sandbox"`, `reason="invalid"`},
			{`provider="off"`, `reason="unavailable"`},
		} {
			if v, ok := metricValue(metrics, "switchyard_webhook_intake_rejected_total", labels...); !ok || v != "1" {
				t.Errorf("switchyard_webhook_intake_rejected_total%v = %q, %v; want 1", labels, v, ok)
			}
		}
	})

	t.Run("http base url", func(t *testing.T) {
		_, l, _ := startApp(t, hardenedConfig(t, "", ""))
		resp, _ := send(t, http.MethodGet, "http://"+l.Public+"/healthz", nil, "")
		if got := resp.Header.Get("Strict-Transport-Security"); got != "" {
			t.Fatalf("Strict-Transport-Security = %q behind an http base URL", got)
		}
	})
}

// metricValue finds the sample of metric name whose labels include every
// one given (name="value" pairs) in Prometheus text output.
func metricValue(text, name string, labels ...string) (string, bool) {
	for _, line := range strings.Split(text, "\n") {
		rest, ok := strings.CutPrefix(line, name+"{")
		if !ok {
			continue
		}
		set, value, ok := strings.Cut(rest, "} ")
		if !ok {
			continue
		}
		have := strings.Split(set, ",")
		all := true
		for _, l := range labels {
			if !slices.Contains(have, l) {
				all = false
				break
			}
		}
		if all {
			return value, true
		}
	}
	return "", false
}
