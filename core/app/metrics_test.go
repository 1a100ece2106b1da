package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/switchyard/switchyard/core/merchants"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/webhooks"
)

// envRequirePromtool makes a missing promtool a failure (CI installs it
// from Debian's prometheus package).
const envRequirePromtool = "SWITCHYARD_REQUIRE_PROMTOOL"

// TestMetricsOperatorsPageOn runs a real server with the real sandbox
// plugin binary through a whole payment (create, checkout, the sandbox
// page's own signed form, the merchant's webhook), a partial refund through
// the merchant API, plus a forged webhook,
// then reads /metrics as Prometheus would: promtool's linter finds nothing
// (when installed), every family follows the naming rules, and the series
// an operator pages on are there with the values the run implies.
func TestMetricsOperatorsPageOn(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and launches the sandbox plugin binary")
	}
	a, l, _ := startApp(t, hardenedConfig(t, "", `webhooks: {allow_private_targets: true}`))
	pub, adm := "http://"+l.Public, "http://"+l.Admin
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	defer receiver.Close()
	m, err := a.Merchants.CreateMerchant(ctx, merchants.NewMerchant{Name: "Metrics", Plan: "free",
		ContactEmail: "ops@shop.example", Domains: []string{"shop.example"}})
	if err != nil {
		t.Fatal(err)
	}
	k, err := a.Merchants.CreateKey(ctx, merchants.NewKey{MerchantID: m.ID, Mode: "test", Name: "metrics"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Webhooks.CreateEndpoint(ctx, webhooks.NewEndpoint{MerchantID: m.ID, URL: receiver.URL + "/hooks"}); err != nil {
		t.Fatal(err)
	}

	// The merchant creates a session; the shopper picks card, lands on the
	// sandbox page and presses its "succeed" button.
	resp, body := send(t, http.MethodPost, pub+"/v1/sessions", http.Header{"Authorization": {"Bearer " + k.Secret}, "Content-Type": {"application/json"}},
		`{"domain":"shop.example","amount":"12.50","currency":"USD","order_id":"M-1"}`)
	var sess struct {
		SessionID string `json:"session_id"`
	}
	if err := json.Unmarshal([]byte(body), &sess); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create session: %d %s", resp.StatusCode, body)
	}
	noRedirect := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	pay, err := noRedirect.PostForm(pub+"/checkout/"+sess.SessionID+"/pay", url.Values{"method": {"card"}})
	if err != nil {
		t.Fatal(err)
	}
	pay.Body.Close()
	page := pay.Header.Get("Location")
	if pay.StatusCode != http.StatusSeeOther || !strings.Contains(page, "/p/sandbox/pay/") {
		t.Fatalf("pay = %d to %q", pay.StatusCode, page)
	}
	_, pageHTML := send(t, http.MethodGet, page, nil, "")
	action, fields := sandboxForm(t, pageHTML, "succeed")
	if resp, body := send(t, http.MethodPost, action, http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, fields.Encode()); resp.StatusCode >= 400 {
		t.Fatalf("sandbox callback: %d %s", resp.StatusCode, body)
	}
	waitDelivered(t, a.Webhooks, m.ID)
	// The merchant refunds part of it; the refund job calls the sandbox
	// and settles it (switchyard.refunds: created, then succeeded).
	auth := http.Header{"Authorization": {"Bearer " + k.Secret}, "Content-Type": {"application/json"}}
	resp, body = send(t, http.MethodPost, pub+"/v1/sessions/"+sess.SessionID+"/refunds", auth, `{"amount":"2.50"}`)
	var refund struct {
		RefundID string `json:"refund_id"`
		Status   string `json:"status"`
	}
	if err := json.Unmarshal([]byte(body), &refund); err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("create refund: %d %s", resp.StatusCode, body)
	}
	for deadline := time.Now().Add(30 * time.Second); refund.Status != "succeeded"; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("refund did not succeed: %+v", refund)
		}
		_, body = send(t, http.MethodGet, pub+"/v1/refunds/"+refund.RefundID, auth, "")
		if err := json.Unmarshal([]byte(body), &refund); err != nil {
			t.Fatalf("refund: %s", body)
		}
	}
	// refund.created and refund.succeeded are delivered too.
	delivered := waitDelivered(t, a.Webhooks, m.ID)
	// And a forged callback, which the plugin refuses.
	if resp, _ := send(t, http.MethodPost, pub+"/hooks/sandbox/sandbox", http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, "choice=succeed&sig=forged"); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("forged callback: %d", resp.StatusCode)
	}

	_, text := get(t, adm+"/metrics", "")
	promtoolCheck(t, text)
	families := parseMetrics(t, text)
	for _, p := range namingProblems(families) {
		t.Error(p)
	}

	for _, want := range []struct {
		family string
		labels map[string]string
		check  func(v float64) bool
		says   string
	}{
		{"switchyard_payments_total", map[string]string{"provider": "sandbox", "method": "card", "outcome": "started"}, eq(1), "one payment created at the provider"},
		{"switchyard_payments_total", map[string]string{"provider": "sandbox", "method": "card", "outcome": "succeeded"}, eq(1), "one settled by a verified event"},
		{"switchyard_plugin_call_duration_seconds", map[string]string{"plugin": "sandbox", "kind": "provider", "method": "create_payment", "outcome": "ok"}, eq(1), "provider call latency"},
		{"switchyard_plugin_call_duration_seconds", map[string]string{"plugin": "sandbox", "kind": "provider", "method": "handle_webhook", "outcome": "ok"}, eq(2), "both webhooks reached the plugin"},
		{"switchyard_plugin_restarts_total", map[string]string{"plugin": "sandbox", "kind": "provider"}, eq(0), "plugin restarts"},
		{"switchyard_plugin_up", map[string]string{"plugin": "sandbox", "state": "healthy"}, eq(1), "plugin up"},
		{"switchyard_plugin_up", map[string]string{"plugin": "off", "state": "disabled"}, eq(0), "a disabled plugin is not up"},
		{"switchyard_routing_breaker_state", map[string]string{"provider": "sandbox", "state": "closed"}, eq(1), "breaker closed"},
		{"switchyard_routing_breaker_state", map[string]string{"provider": "sandbox", "state": "open"}, eq(0), "breaker not open"},
		{"switchyard_jobs", map[string]string{"kind": "webhook_delivery", "state": "available"}, eq(0), "the delivery queue drained"},
		{"switchyard_jobs", map[string]string{"kind": "webhook_delivery", "state": "discarded"}, eq(0), "no delivery job gave up"},
		{"switchyard_webhooks_attempts_total", map[string]string{"outcome": "succeeded", "cause": "auto"}, eq(float64(delivered)), "one successful attempt per delivery"},
		{"switchyard_refunds_total", map[string]string{"outcome": "created", "source": "api"}, eq(1), "one refund made through the merchant API"},
		{"switchyard_refunds_total", map[string]string{"outcome": "succeeded", "source": "api"}, eq(1), "the provider made it"},
		{"switchyard_webhook_intake_rejected_total", map[string]string{"provider": "sandbox", "reason": "invalid"}, eq(1), "the forged callback"},
		{"db_client_operation_duration_seconds", map[string]string{"db.system.name": "sqlite", "db.operation.name": "SELECT"}, gt(0), "query latency in seconds"},
		{"http_server_request_duration_seconds", map[string]string{"server": "public", "http.route": "/v1/sessions", "http.response.status_code": "201"}, eq(1), "request latency; its count counts requests"},
	} {
		v, ok := sample(families, want.family, want.labels)
		if !ok || !want.check(v) {
			t.Errorf("%s%v = %v (present %v): want %s", want.family, want.labels, v, ok, want.says)
		}
	}
}

func eq(n float64) func(float64) bool { return func(v float64) bool { return v == n } }
func gt(n float64) func(float64) bool { return func(v float64) bool { return v > n } }

var (
	formRe   = regexp.MustCompile(`(?s)<form method="post" action="([^"]+)"[^>]*>(.*?)</form>`)
	hiddenRe = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)
)

// sandboxForm finds the sandbox page's form for choice and returns where it
// posts and its fields, as a browser would submit them.
func sandboxForm(t *testing.T, page, choice string) (string, url.Values) {
	t.Helper()
	for _, f := range formRe.FindAllStringSubmatch(page, -1) {
		vals := url.Values{}
		for _, in := range hiddenRe.FindAllStringSubmatch(f[2], -1) {
			vals.Add(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
		}
		if vals.Get("choice") == choice {
			return html.UnescapeString(f[1]), vals
		}
	}
	t.Fatalf("no %q form on the sandbox page:\n%s", choice, page)
	return "", nil
}

// waitDelivered waits until the merchant's session.created and
// session.paid deliveries have both succeeded and returns how many there
// are.
func waitDelivered(t *testing.T, svc *webhooks.Service, merchantID int64) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ds, err := svc.ListDeliveries(context.Background(), store.DeliveryFilter{MerchantID: merchantID})
		if err != nil {
			t.Fatal(err)
		}
		done := len(ds) >= 2
		for _, d := range ds {
			done = done && d.Status == store.DeliverySucceeded
		}
		if done {
			return len(ds)
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries did not all succeed: %+v", ds)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// promtoolCheck runs `promtool check metrics` (Prometheus's own linter)
// when it is installed; SWITCHYARD_REQUIRE_PROMTOOL=1 makes its absence a
// failure.
func promtoolCheck(t *testing.T, text string) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv(envRequirePromtool) == "1" {
			t.Fatalf("promtool is not installed but %s=1 (Debian: apt-get install prometheus)", envRequirePromtool)
		}
		t.Logf("promtool not installed: only the naming rules below checked the metrics (set %s=1 to require it)", envRequirePromtool)
		return
	}
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s", err, out.String())
	}
}

func parseMetrics(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("/metrics is not Prometheus text: %v", err)
	}
	return fams
}

// nonBaseUnits are unit suffixes Prometheus names must not use: times are
// seconds, sizes bytes.
var nonBaseUnits = []string{"_milliseconds", "_microseconds", "_nanoseconds", "_ms", "_minutes", "_hours", "_days",
	"_kilobytes", "_megabytes", "_gigabytes", "_bits"}

// namingProblems applies Prometheus's naming rules to every family: counters
// end in _total and nothing else does, units are base units, and no counter
// repeats a histogram's count (a request counter beside a request duration
// histogram with the same labels).
func namingProblems(fams map[string]*dto.MetricFamily) []string {
	var problems []string
	names := make([]string, 0, len(fams))
	for n := range fams {
		names = append(names, n)
	}
	sort.Strings(names)
	labelSet := func(f *dto.MetricFamily) string {
		if len(f.Metric) == 0 {
			return ""
		}
		var ls []string
		for _, l := range f.Metric[0].Label {
			ls = append(ls, l.GetName())
		}
		sort.Strings(ls)
		return strings.Join(ls, ",")
	}
	for _, n := range names {
		f := fams[n]
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			if !strings.HasSuffix(n, "_total") {
				problems = append(problems, fmt.Sprintf("counter %s does not end in _total", n))
			}
		default:
			if strings.HasSuffix(n, "_total") {
				problems = append(problems, fmt.Sprintf("%s %s ends in _total but is not a counter", f.GetType(), n))
			}
		}
		for _, u := range nonBaseUnits {
			if strings.HasSuffix(n, u) || strings.Contains(n, u+"_") {
				problems = append(problems, fmt.Sprintf("%s uses %s; Prometheus wants base units (seconds, bytes)", n, strings.TrimPrefix(u, "_")))
			}
		}
		if f.GetType() != dto.MetricType_HISTOGRAM || !strings.HasSuffix(n, "_duration_seconds") {
			continue
		}
		stem := strings.TrimSuffix(n, "_duration_seconds")
		for _, c := range names {
			cf := fams[c]
			if cf.GetType() == dto.MetricType_COUNTER && strings.HasPrefix(c, stem) && labelSet(cf) == labelSet(f) {
				problems = append(problems, fmt.Sprintf("counter %s repeats the count of histogram %s", c, n))
			}
		}
	}
	return problems
}

// sample returns the value of the series of family whose labels include
// want: a counter's or gauge's value, a histogram's count.
func sample(fams map[string]*dto.MetricFamily, family string, want map[string]string) (float64, bool) {
	f, ok := fams[family]
	if !ok {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[strings.ReplaceAll(k, ".", "_")] != v {
				continue next
			}
		}
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue(), true
		case dto.MetricType_GAUGE:
			return m.GetGauge().GetValue(), true
		case dto.MetricType_HISTOGRAM:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}
