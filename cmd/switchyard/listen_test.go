package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/httpapi"
	"github.com/switchyard/switchyard/core/jobs"
	"github.com/switchyard/switchyard/core/merchants"
	"github.com/switchyard/switchyard/core/secrets"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/core/webhooks"
)

// syncBuffer is written by listen's handler goroutines and read by the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

const listenToken = "listen-test-token-0123456789"

// listenFixture is a store with one merchant (id 1 in a fresh database), the
// webhook service and an admin API server taking listenToken.
func listenFixture(t *testing.T) (*webhooks.Service, *store.Merchant, *httptest.Server) {
	t.Helper()
	st := storetest.SQLite(t)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	kr, _ := secrets.NewKeyring([]secrets.Key{{ID: "k1", Key: key}})
	ins, err := jobs.New(st, jobs.Options{InsertOnly: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := webhooks.New(webhooks.Deps{Store: st, Keyring: kr, Jobs: ins, AllowPrivateTargets: true})
	if err != nil {
		t.Fatal(err)
	}
	m, err := merchants.New(st).CreateMerchant(context.Background(), merchants.NewMerchant{Name: "S", Plan: "pro", ContactEmail: "s@s.test", Domains: []string{"s.test"}})
	if err != nil {
		t.Fatal(err)
	}
	admin := httptest.NewServer(httpapi.New(httpapi.Options{}, httpapi.AdminWebhooks(svc, []string{listenToken})))
	t.Cleanup(admin.Close)
	return svc, m, admin
}

func TestListenVerifiesPrintsForwardsAndCleansUp(t *testing.T) {
	svc, m, admin := listenFixture(t)
	const token = listenToken

	var fwdMu sync.Mutex
	var forwarded []http.Header
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		fwdMu.Lock()
		forwarded = append(forwarded, r.Header.Clone())
		fwdMu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer app.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		_, code := whCLI(ctx, t, out, "listen", "--admin", admin.URL, "--token", token,
			"--merchant", itoaCLI(m.ID), "--forward-to", app.URL+"/webhook")
		done <- code
	}()
	ready := regexp.MustCompile(`endpoint (ep_\w+) \(standard\) for merchant \d+ → (http://\S+)`)
	var match []string
	for deadline := time.Now().Add(10 * time.Second); match == nil; {
		if time.Now().After(deadline) {
			t.Fatalf("listen never got ready: %s", out)
		}
		match = ready.FindStringSubmatch(out.String())
		time.Sleep(10 * time.Millisecond)
	}
	epID, listenURL := match[1], match[2]

	// A signed delivery is verified, printed and relayed; Switchyard sees
	// the app's answer.
	res, err := svc.TestEndpoint(context.Background(), epID)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Succeeded || res.StatusCode != http.StatusAccepted {
		t.Fatalf("test delivery through listen: %+v", res)
	}
	fwdMu.Lock()
	if len(forwarded) != 1 || forwarded[0].Get("webhook-id") != res.EventID || forwarded[0].Get("webhook-signature") == "" {
		t.Fatalf("forwarded %v", forwarded)
	}
	fwdMu.Unlock()
	if s := out.String(); !strings.Contains(s, "webhook.test  "+res.EventID) || !strings.Contains(s, "[verified]") ||
		!strings.Contains(s, `"message": "test event from Switchyard"`) || !strings.Contains(s, "answered 202") {
		t.Fatalf("listen output:\n%s", s)
	}

	// A forged request is refused and not relayed.
	resp, err := http.Post(listenURL, "application/json", strings.NewReader(`{"id":"evt_forged","event":"session.paid"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("forged request answered %d", resp.StatusCode)
	}
	fwdMu.Lock()
	if len(forwarded) != 1 {
		t.Fatal("forged request was relayed")
	}
	fwdMu.Unlock()
	if !strings.Contains(out.String(), "SIGNATURE INVALID") {
		t.Fatalf("forgery not reported:\n%s", out)
	}

	// Ctrl-C: the temporary endpoint is deleted.
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("listen exit %d:\n%s", code, out)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("listen did not stop")
	}
	if _, err := svc.GetEndpoint(context.Background(), epID); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("temporary endpoint survives: %v", err)
	}
	if !strings.Contains(out.String(), "temporary endpoint "+epID+" deleted") {
		t.Fatalf("output:\n%s", out)
	}
}
