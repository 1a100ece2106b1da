package app_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/app"
	"github.com/switchyard/switchyard/internal/testbin"
)

var bins testbin.Builder

const adminToken = "test-operator-token-0123456789"

// testConfig is a minimal valid configuration on SQLite and random ports.
func testConfig(t *testing.T) *config.Config {
	t.Helper()
	dir := t.TempDir()
	yaml := `
public: {addr: "127.0.0.1:0"}
admin: {addr: "127.0.0.1:0", tokens: ["` + adminToken + `"]}
store: {dsn: "sqlite:` + filepath.Join(dir, "sy.db") + `"}
secrets: {keys: [{id: k1, key: MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=}]}
`
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

func get(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// startApp builds the app from cfg and serves it until the test ends. It
// returns once both listeners accept connections; stop shuts it down
// gracefully and returns Serve's error (also run, and checked, at cleanup).
func startApp(t *testing.T, cfg *config.Config) (*app.App, app.Listening, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg, app.Options{LogOutput: io.Discard})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	listening := make(chan app.Listening, 1)
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, func(l app.Listening) { listening <- l }) }()
	var once sync.Once
	var stopErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(30 * time.Second):
				stopErr = errors.New("serve did not stop within 30s")
			}
		})
		return stopErr
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	select {
	case l := <-listening:
		return a, l, stop
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not start")
	}
	return nil, app.Listening{}, nil
}

func TestServeHealthMetricsAndShutdown(t *testing.T) {
	_, l, stop := startApp(t, testConfig(t))

	cases := []struct {
		name, url, token string
		status           int
		contains         string
	}{
		{"public healthz", "http://" + l.Public + "/healthz", "", 200, `"ok"`},
		{"public readyz", "http://" + l.Public + "/readyz", "", 200, `"ready"`},
		{"admin readyz", "http://" + l.Admin + "/readyz", "", 200, `"ready"`},
		{"metrics", "http://" + l.Admin + "/metrics", "", 200, "http_server_request_duration_seconds_count"},
		{"admin api needs token", "http://" + l.Admin + "/admin/v1/merchants", "", 401, "missing_token"},
		{"admin api", "http://" + l.Admin + "/admin/v1/merchants", adminToken, 200, `"data"`},
		{"unknown route is JSON", "http://" + l.Public + "/nope", "", 404, `"error"`},
		// Browsers ask every origin for it, on checkout and plugin pages alike.
		{"public favicon", "http://" + l.Public + "/favicon.ico", "", 200, "<svg"},
		{"admin favicon", "http://" + l.Admin + "/favicon.ico", "", 200, "<svg"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := get(t, tc.url, tc.token)
			if status != tc.status || !strings.Contains(body, tc.contains) {
				t.Fatalf("%d %s, want %d containing %q", status, body, tc.status, tc.contains)
			}
		})
	}

	if err := stop(); err != nil {
		t.Fatalf("graceful shutdown: %v", err)
	}
}

// TestBinarySIGTERM runs the real binary: it serves, and SIGTERM makes it
// drain and exit 0.
func TestBinarySIGTERM(t *testing.T) {
	bin := bins.Switchyard(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "sy.yaml")
	yaml := `
public: {addr: "127.0.0.1:0"}
admin: {addr: "127.0.0.1:0", tokens: ["` + adminToken + `"]}
store: {dsn: "sqlite:` + filepath.Join(dir, "sy.db") + `"}
secrets: {keys: [{id: k1, key: MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=}]}
`
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--config", cfgPath)
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	sc := bufio.NewScanner(stdout)
	var public string
	for sc.Scan() {
		if addr, ok := strings.CutPrefix(sc.Text(), "public listener: "); ok {
			public = addr
			break
		}
	}
	if public == "" {
		t.Fatal("serve printed no public listener address")
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	if status, _ := get(t, public+"/readyz", ""); status != 200 {
		t.Fatalf("readyz = %d", status)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { errc <- cmd.Wait() }()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
}
