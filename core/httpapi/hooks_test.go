package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/switchyard/switchyard/core/payments"
	"github.com/switchyard/switchyard/core/payments/paymentstest"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/core/telemetry/telemetrytest"
	"github.com/switchyard/switchyard/plugins/sandbox/sandbox"
)

// TestProviderHooksRateLimit: each source address has one bucket across
// every hook route; over it a request is answered 429 with Retry-After,
// counted, and neither stored nor handed to the plugin. IPv6 sources count
// by their /64; X-Forwarded-For counts only from a trusted proxy.
func TestProviderHooksRateLimit(t *testing.T) {
	storetest.ForEachDB(t, func(t *testing.T, st *store.Store) {
		m := telemetrytest.New(t)
		env := paymentstest.New(t, st, paymentstest.Options{
			Instances: []paymentstest.Instance{{ID: "sbx", Impl: sandbox.New(),
				Settings: map[string]string{sandbox.SettingSigningSecret: testSandboxSecret}}},
			Meter: m.Meter(),
		})
		now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
		e := New(Options{BodyLimit: testBodyLimit}, ProviderHooks(env.Service, ProviderHooksOptions{
			Aliases:           map[string]string{webhookAlias: "sbx"},
			RequestsPerSecond: 1, Burst: 2,
			TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")},
			Now:            func() time.Time { return now },
		}))
		post := func(path, remote, xff string) *httptest.ResponseRecorder {
			t.Helper()
			r := httptest.NewRequest(http.MethodPost, path, strings.NewReader("choice=succeed&sig=forged"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.RemoteAddr = remote
			if xff != "" {
				r.Header.Set("X-Forwarded-For", xff)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, r)
			return rec
		}
		stored := func() int {
			t.Helper()
			var n int
			if err := st.DB().NewRaw("SELECT count(*) FROM webhook_requests").Scan(context.Background(), &n); err != nil {
				t.Fatal(err)
			}
			return n
		}

		steps := []struct {
			name, path, remote, xff string
			want                    int
		}{
			{"first", "/hooks/sandbox/sbx", "198.51.100.7:4000", "", 400},
			{"second, other path", webhookAlias, "198.51.100.7:4001", "", 400},
			{"third from the same source", "/hooks/sandbox/sbx", "198.51.100.7:4002", "", 429},
			{"the alias shares the bucket", webhookAlias, "198.51.100.7:4003", "", 429},
			{"another source", "/hooks/sandbox/sbx", "198.51.100.8:4000", "", 400},
			{"forwarded-for from an untrusted peer is ignored", "/hooks/sandbox/sbx", "198.51.100.8:4001", "203.0.113.50", 400},
			{"… so it counts against the peer", "/hooks/sandbox/sbx", "198.51.100.8:4002", "203.0.113.51", 429},
			{"trusted proxy: the forwarded source", "/hooks/sandbox/sbx", "10.0.0.1:5000", "203.0.113.9", 400},
			{"trusted proxy: same source", "/hooks/sandbox/sbx", "10.0.0.1:5001", "192.0.2.1, 203.0.113.9", 400},
			{"trusted proxy: source over its limit", "/hooks/sandbox/sbx", "10.0.0.1:5002", "203.0.113.9", 429},
			{"trusted proxy: another source", "/hooks/sandbox/sbx", "10.0.0.1:5003", "203.0.113.10", 400},
			{"ipv6 host", "/hooks/sandbox/sbx", "[2001:db8:1:2::1]:4000", "", 400},
			{"ipv6 same /64", "/hooks/sandbox/sbx", "[2001:db8:1:2::ffff]:4000", "", 400},
			{"ipv6 same /64 over the limit", "/hooks/sandbox/sbx", "[2001:db8:1:2:aaaa::1]:4000", "", 429},
			{"ipv6 next /64", "/hooks/sandbox/sbx", "[2001:db8:1:3::1]:4000", "", 400},
		}
		want429, wantStored := 0, 0
		for _, s := range steps {
			rec := post(s.path, s.remote, s.xff)
			if rec.Code != s.want {
				t.Fatalf("%s: %d %s, want %d", s.name, rec.Code, rec.Body, s.want)
			}
			if s.want == http.StatusTooManyRequests {
				want429++
				if rec.Header().Get("Retry-After") != "1" || !strings.Contains(rec.Body.String(), `"code":"rate_limited"`) {
					t.Fatalf("%s: Retry-After %q body %s", s.name, rec.Header().Get("Retry-After"), rec.Body)
				}
			} else {
				wantStored++
			}
		}
		if n := stored(); n != wantStored {
			t.Fatalf("%d requests stored, want %d (rate-limited ones are not)", n, wantStored)
		}
		if got := m.Int("switchyard.webhook.intake.rejected", attribute.String("provider", "sbx"), attribute.String("reason", payments.RejectRateLimited)); got != int64(want429) {
			t.Fatalf("rejected{sbx,rate_limited} = %d, want %d", got, want429)
		}
		// A token comes back after a second.
		now = now.Add(time.Second)
		if rec := post("/hooks/sandbox/sbx", "198.51.100.7:4004", ""); rec.Code != http.StatusBadRequest {
			t.Fatalf("after refill: %d", rec.Code)
		}
	})
}
