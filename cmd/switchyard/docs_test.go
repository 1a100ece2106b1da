package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/internal/testbin"
)

// TestDocumentedListenCommandsWork runs `switchyard listen` exactly as
// README.md and docs/webhooks.md write it, against a running admin API:
// only the example config's path is swapped for one that names the test's
// admin address and token (the example's fixed ports are not free in tests).
func TestDocumentedListenCommandsWork(t *testing.T) {
	root := testbin.RepoRoot(t)
	cmdLine := regexp.MustCompile("bin/switchyard listen [^`#\\n]*")
	const exampleConfig = "config/switchyard.example.yaml"
	found := 0
	for _, doc := range []string{"README.md", "docs/webhooks.md"} {
		b, err := os.ReadFile(filepath.Join(root, doc))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range cmdLine.FindAllString(string(b), -1) {
			found++
			args := strings.Fields(line)[1:]
			t.Run(doc, func(t *testing.T) {
				_, m, admin := listenFixture(t)
				if m.ID != 1 {
					t.Fatalf("fresh database's first merchant is %d, the docs say 1", m.ID)
				}
				cfg := filepath.Join(t.TempDir(), "switchyard.yaml")
				body := fmt.Sprintf("admin:\n  addr: %s\n  tokens: [%s]\nsecrets:\n  keys:\n    - id: k1\n      key: MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\nstore:\n  dsn: sqlite:%s\n",
					strings.TrimPrefix(admin.URL, "http://"), listenToken, filepath.Join(t.TempDir(), "unused.db"))
				if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
					t.Fatal(err)
				}
				swapped := false
				for i, a := range args {
					if a == exampleConfig {
						args[i], swapped = cfg, true
					}
				}
				if !swapped {
					t.Fatalf("%q does not pass --config %s", line, exampleConfig)
				}
				t.Setenv("SWITCHYARD_ADMIN_TOKEN", "")
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				out := &syncBuffer{}
				done := make(chan string, 1)
				go func() {
					stderr, code := whCLI(ctx, t, out, args...)
					done <- fmt.Sprintf("exit %d %s", code, stderr)
				}()
				for deadline := time.Now().Add(15 * time.Second); !strings.Contains(out.String(), "Ready: endpoint"); {
					select {
					case res := <-done:
						t.Fatalf("%q ended before it was ready: %s\n%s", line, res, out)
					default:
					}
					if time.Now().After(deadline) {
						t.Fatalf("%q never got ready:\n%s", line, out)
					}
					time.Sleep(20 * time.Millisecond)
				}
				cancel()
				if res := <-done; res != "exit 0 " || !strings.Contains(out.String(), "deleted") {
					t.Fatalf("%q: %s\n%s", line, res, out)
				}
			})
		}
	}
	if found < 2 {
		t.Fatalf("found %d documented listen commands, want the README's and docs/webhooks.md's", found)
	}
}

// TestDemoRunsAgainLeaveTheFlowWorking: a second `make run` (demo on the
// same database) prints a new key and a new order id, so the printed curl
// never replays an order an earlier run paid.
func TestDemoRunsAgainLeaveTheFlowWorking(t *testing.T) {
	path := writeConfig(t, "")
	if _, stderr, code := cli(t, "migrate", "--config", path); code != 0 {
		t.Fatal(stderr)
	}
	keyRe := regexp.MustCompile(`(?m)^    (sk_test_\w+)$`)
	orderRe := regexp.MustCompile(`"order_id":"(ORDER-[0-9A-F-]+)"`)
	listenRe := regexp.MustCompile(`(?m)^    bin/switchyard listen --config (\S+) --merchant (\d+)$`)
	var keys, orders []string
	for range 2 {
		out, stderr, code := cli(t, "demo", "--config", path)
		if code != 0 {
			t.Fatalf("demo: %s", stderr)
		}
		k, o, l := keyRe.FindStringSubmatch(out), orderRe.FindStringSubmatch(out), listenRe.FindStringSubmatch(out)
		if k == nil || o == nil || l == nil || l[1] != path || l[2] != "1" {
			t.Fatalf("demo output lacks the key, an order id or the listen command:\n%s", out)
		}
		keys, orders = append(keys, k[1]), append(orders, o[1])
	}
	if keys[0] == keys[1] || orders[0] == orders[1] {
		t.Errorf("two demo runs printed keys %v and order ids %v; want new ones each run", keys, orders)
	}
}

// TestREADMECurlMakesAFreshOrderID runs the README's session-creating curl
// (with bash and curl, as a reader would) against a recording server.
func TestREADMECurlMakesAFreshOrderID(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	b, err := os.ReadFile(filepath.Join(testbin.RepoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	snippet := regexp.MustCompile(`(?s)curl -s http://127\.0\.0\.1:8080/v1/sessions .*?"method":"card"}'`).FindString(string(b))
	if snippet == "" {
		t.Fatal("README has no session-creating curl")
	}
	var mu sync.Mutex
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, r.Header.Get("Authorization")+" "+string(body))
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	script := strings.Replace(snippet, "http://127.0.0.1:8080", srv.URL, 1)
	cmd := exec.Command("bash", "-c", script)
	cmd.Env = append(os.Environ(), "KEY=sk_test_readme")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("README curl: %v\n%s", err, out)
	}
	mu.Lock()
	defer mu.Unlock()
	want := regexp.MustCompile(`^Bearer sk_test_readme \{"domain":"localhost","amount":"49.95","currency":"USD","order_id":"ORDER-(\d{10})","method":"card"\}$`)
	m := want.FindStringSubmatch(strings.Join(bodies, "\n"))
	if m == nil {
		t.Fatalf("server got %q", bodies)
	}
	if sec, _ := strconv.ParseInt(m[1], 10, 64); time.Since(time.Unix(sec, 0)).Abs() > time.Minute {
		t.Errorf("order id ORDER-%s is not made from the clock", m[1])
	}
}
