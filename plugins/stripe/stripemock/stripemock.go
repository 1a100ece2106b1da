package stripemock

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// RequireEnv, set to 1, turns a missing stripe-mock into a test failure.
const RequireEnv = "SWITCHYARD_REQUIRE_STRIPE_MOCK"

// Binary is the executable looked up on PATH.
const Binary = "stripe-mock"

const startTimeout = 30 * time.Second

// Start runs stripe-mock for the duration of t and returns its HTTP base
// URL (http://127.0.0.1:PORT), usable as the plugin's api_base setting.
func Start(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath(Binary)
	if err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("stripe-mock not found on PATH and %s=1: run `make tools` (it installs bin/tools/stripe-mock)", RequireEnv)
		}
		t.Skipf("stripe-mock not on PATH (run `make tools` and `make test`, or set %s=1 to fail instead)", RequireEnv)
	}
	ctx, cancel := context.WithCancel(context.Background())
	// Both listeners on loopback with system-chosen ports: parallel test
	// binaries never collide, and the HTTPS listener stripe-mock opens by
	// default does not grab a fixed port.
	cmd := exec.CommandContext(ctx, bin, "-http-addr", "127.0.0.1:", "-https-addr", "127.0.0.1:")
	out, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatalf("stripe-mock: %v", err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start stripe-mock: %v", err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		cancel()
		<-done
	})

	addr := make(chan string, 1)
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		const prefix = "Listening for HTTP at address: "
		for sc.Scan() {
			if a, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), prefix); ok {
				addr <- a
				break
			}
		}
		_, _ = io.Copy(io.Discard, out)
		_ = cmd.Wait()
	}()

	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case <-done:
		t.Fatal("stripe-mock exited before listening")
	case <-time.After(startTimeout):
		t.Fatal("stripe-mock did not report its HTTP address in time")
	}
	waitReady(t, base)
	return base
}

// waitReady polls until stripe-mock answers an authenticated request.
func waitReady(t testing.TB, base string) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequest(http.MethodGet, base+"/v1/balance", nil)
		req.SetBasicAuth("sk_test_ready", "")
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("stripe-mock at %s not ready: %v", base, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
