package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/spf13/cobra"

	"github.com/switchyard/switchyard/plugins/paypro/ipn"
	"github.com/switchyard/switchyard/plugins/paypro/payproprovider"
	"github.com/switchyard/switchyard/sdk/provider"
)

const (
	simValidationKey = "vk_sim_4c1d9e2f"
	simSecretKey     = "sk_sim_77aa"
)

// simulate runs `switchyard simulate …` in-process.
func simulate(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	root := &cobra.Command{Use: "switchyard", SilenceUsage: true, SilenceErrors: true}
	root.SetOut(&out)
	root.SetErr(&errb)
	root.AddCommand(simulateCmd())
	root.SetArgs(append([]string{"simulate"}, args...))
	err := root.ExecuteContext(context.Background())
	if err == nil {
		return out.String(), errb.String(), 0
	}
	errb.WriteString(err.Error())
	var ee *exitError
	if errors.As(err, &ee) {
		return out.String(), errb.String(), ee.code
	}
	return out.String(), errb.String(), 1
}

// verifyingServer answers 200 "OK" to IPNs that verify with ipn.Verify and
// 403 otherwise, and remembers what it received.
type verifyingServer struct {
	*httptest.Server
	mu   sync.Mutex
	got  []url.Values
	ctyp []string
}

func newVerifyingServer(t *testing.T) *verifyingServer {
	t.Helper()
	s := &verifyingServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		v, err := url.ParseQuery(string(body))
		s.mu.Lock()
		s.got = append(s.got, v)
		s.ctyp = append(s.ctyp, r.Header.Get("Content-Type"))
		s.mu.Unlock()
		if err != nil || r.Method != http.MethodPost || ipn.Verify(v, ipn.Keys{ValidationKey: simValidationKey, SecretKey: simSecretKey}) != nil {
			http.Error(w, "bad signature", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "OK")
	}))
	t.Cleanup(s.Close)
	return s
}

func TestSimulatePayProEveryType(t *testing.T) {
	srv := newVerifyingServer(t)
	for _, ty := range ipn.Types() {
		for _, name := range []string{ty.String(), strconv.Itoa(int(ty))} {
			out, errOut, code := simulate(t, "paypro", "--type", name, "--url", srv.URL,
				"--validation-key", simValidationKey, "--secret-key", simSecretKey)
			if code != 0 || !strings.Contains(out, ty.String()+" ") || !strings.Contains(out, "→ 200 OK\nOK") {
				t.Errorf("--type %s: code %d out %q err %q", name, code, out, errOut)
			}
		}
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for i, v := range srv.got {
		if srv.ctyp[i] != "application/x-www-form-urlencoded" {
			t.Errorf("content type %q", srv.ctyp[i])
		}
		n, err := ipn.FromValues(v)
		if err != nil {
			t.Errorf("sent IPN does not parse: %v", err)
			continue
		}
		if n.CustomerEmail == "" || n.OrderID == 0 || !n.OrderTotalAmount.Set {
			t.Errorf("%s: defaults missing: %+v", n.TypeID, n)
		}
	}
}

func TestSimulatePayProOptions(t *testing.T) {
	srv := newVerifyingServer(t)
	t.Setenv(envPayProValidationKey, simValidationKey)
	t.Setenv(envPayProSecretKey, simSecretKey)
	out, _, code := simulate(t, "paypro", "--type", "2", "--url", srv.URL, "--field", "ORDER_ID=991", "--field", "ORDER_TOTAL_AMOUNT=10.00", "--resent")
	if code != 0 || !strings.Contains(out, "OrderRefunded 991 → 200") {
		t.Fatalf("code %d out %q", code, out)
	}
	srv.mu.Lock()
	last := srv.got[len(srv.got)-1]
	srv.mu.Unlock()
	if last.Get("ORDER_ID") != "991" || last.Get("ORDER_TOTAL_AMOUNT") != "10.00" || last.Get("IS_RESENT") != "1" || last.Get("IPN_TYPE_NAME") != "OrderRefunded" {
		t.Errorf("sent %v", last)
	}

	// A wrong key is refused by the verifying endpoint: exit 1, answer shown.
	out, _, code = simulate(t, "paypro", "--url", srv.URL, "--validation-key", "wrong")
	if code != 1 || !strings.Contains(out, "403") || !strings.Contains(out, "bad signature") {
		t.Errorf("wrong key: code %d out %q", code, out)
	}

	// Dry run prints the signed body.
	out, _, code = simulate(t, "paypro", "--type", "LicenseRequested", "--dry-run", "--test-order")
	v, err := url.ParseQuery(strings.TrimSpace(out))
	if code != 0 || err != nil || v.Get("IPN_TYPE_ID") != "12" || v.Get("TEST_MODE") != "1" || ipn.Verify(v, ipn.Keys{ValidationKey: simValidationKey, SecretKey: simSecretKey}) != nil {
		t.Errorf("dry run: code %d out %q", code, out)
	}

	for name, args := range map[string][]string{
		"unknown type": {"paypro", "--type", "OrderPaid", "--url", srv.URL},
		"no url":       {"paypro"},
		"bad url":      {"paypro", "--url", "ftp://x"},
		"bad field":    {"paypro", "--url", srv.URL, "--field", "=1"},
	} {
		if _, _, code := simulate(t, args...); code != 2 {
			t.Errorf("%s: exit %d, want 2", name, code)
		}
	}
	t.Setenv(envPayProValidationKey, "")
	if _, errOut, code := simulate(t, "paypro", "--url", srv.URL); code != 2 || !strings.Contains(errOut, envPayProValidationKey) {
		t.Errorf("no key: exit %d %q", code, errOut)
	}
}

// TestSimulatePayProAgainstPlugin answers a real checkout URL from the
// plugin and feeds the simulated IPN to the plugin's own verification.
func TestSimulatePayProAgainstPlugin(t *testing.T) {
	p := payproprovider.New()
	if err := p.Configure(context.Background(), map[string]string{
		payproprovider.SettingValidationKey: simValidationKey, payproprovider.SettingSecretKey: simSecretKey,
		payproprovider.SettingDefaultProduct: "68452", payproprovider.SettingIPAllowlist: "127.0.0.1, ::1",
	}); err != nil {
		t.Fatal(err)
	}
	pay, err := p.CreatePayment(context.Background(), provider.CreatePaymentRequest{
		SessionID: "cs_sim", AttemptID: "att_sim", IdempotencyKey: "att_sim", Amount: 1999, Currency: "EUR", Method: "card",
		CustomerEmail: "sim@example.com",
	})
	if err != nil {
		t.Fatal(err)
	}
	var events []provider.Event
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		resp, err := p.HandleWebhook(r.Context(), provider.WebhookRequest{Method: r.Method, Path: r.URL.Path, Headers: r.Header, Body: body, RemoteAddr: r.RemoteAddr})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		mu.Lock()
		events = append(events, resp.Events...)
		mu.Unlock()
		for k, v := range resp.Response.Headers {
			w.Header()[k] = v
		}
		w.WriteHeader(max(resp.Response.Status, http.StatusOK))
		w.Write(resp.Response.Body)
	}))
	t.Cleanup(srv.Close)
	out, _, code := simulate(t, "paypro", "--type", "OrderCharged", "--url", srv.URL, "--checkout-url", pay.NextAction.URL,
		"--validation-key", simValidationKey, "--secret-key", simSecretKey)
	if code != 0 || !strings.HasSuffix(out, "OK\n") {
		t.Fatalf("code %d out %q", code, out)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 1 {
		t.Fatalf("events %+v", events)
	}
	ev := events[0]
	if ev.Type != provider.PaymentSucceeded || ev.SessionID != "cs_sim" || ev.ProviderRef != "att_sim" || ev.Amount != 1999 || ev.Currency != "EUR" {
		t.Errorf("event %+v", ev)
	}
}

// Each run is a new order unless --order-id names one: two sessions paid
// with the simulator are both paid (a constant ORDER_ID made the second
// OrderCharged a duplicate of the first, silently ignored).
func TestSimulatePayProFreshOrders(t *testing.T) {
	p := payproprovider.New()
	if err := p.Configure(context.Background(), map[string]string{
		payproprovider.SettingValidationKey: simValidationKey, payproprovider.SettingSecretKey: simSecretKey,
		payproprovider.SettingDefaultProduct: "68452", payproprovider.SettingIPAllowlist: "127.0.0.1, ::1",
	}); err != nil {
		t.Fatal(err)
	}
	var (
		mu     sync.Mutex
		events []provider.Event
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		resp, err := p.HandleWebhook(r.Context(), provider.WebhookRequest{Method: r.Method, Path: r.URL.Path, Headers: r.Header, Body: body, RemoteAddr: r.RemoteAddr})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		mu.Lock()
		events = append(events, resp.Events...)
		mu.Unlock()
		w.WriteHeader(max(resp.Response.Status, http.StatusOK))
	}))
	t.Cleanup(srv.Close)
	send := func(checkout string, extra ...string) string {
		t.Helper()
		args := append([]string{"paypro", "--type", "OrderCharged", "--url", srv.URL, "--checkout-url", checkout,
			"--validation-key", simValidationKey, "--secret-key", simSecretKey}, extra...)
		out, errOut, code := simulate(t, args...)
		if code != 0 {
			t.Fatalf("simulate: %d %q %q", code, out, errOut)
		}
		return out
	}
	var links []string
	for _, sid := range []string{"cs_sim_a", "cs_sim_b"} {
		pay, err := p.CreatePayment(context.Background(), provider.CreatePaymentRequest{
			SessionID: sid, AttemptID: "att_" + sid, IdempotencyKey: "att_" + sid, Amount: 1999, Currency: "EUR", Method: "card",
		})
		if err != nil {
			t.Fatal(err)
		}
		links = append(links, pay.NextAction.URL)
	}
	outA, outB := send(links[0]), send(links[1])
	if outA == outB || len(events) != 2 || events[0].ProviderEventID == events[1].ProviderEventID ||
		events[0].SessionID != "cs_sim_a" || events[1].SessionID != "cs_sim_b" {
		t.Fatalf("two runs: %q %q, events %+v", outA, outB, events)
	}
	orderA := strings.Fields(outA)[1]
	if _, err := strconv.ParseInt(orderA, 10, 64); err != nil || !strings.HasPrefix(events[0].ProviderEventID, orderA+":") {
		t.Fatalf("printed order %q, event %s", orderA, events[0].ProviderEventID)
	}
	// --order-id sends further IPNs about the same order.
	send(links[0], "--order-id", orderA)
	if events[2].ProviderEventID != events[0].ProviderEventID {
		t.Fatalf("--order-id: event %s, want %s", events[2].ProviderEventID, events[0].ProviderEventID)
	}
	if _, _, code := simulate(t, "paypro", "--url", srv.URL, "--order-id", "x1", "--validation-key", simValidationKey); code != 2 {
		t.Fatalf("bad --order-id: exit %d", code)
	}
}
