package httpapi

import (
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/domain"
	"github.com/switchyard/switchyard/core/jobs"
	"github.com/switchyard/switchyard/core/payments/paymentstest"
	"github.com/switchyard/switchyard/core/secrets"
	"github.com/switchyard/switchyard/core/store"
	"github.com/switchyard/switchyard/core/store/storetest"
	"github.com/switchyard/switchyard/core/webhooks"
	"github.com/switchyard/switchyard/plugins/sandbox/sandbox"
)

// benchConcurrency is the number of concurrent clients (issue 4 item 10).
const benchConcurrency = 32

// BenchmarkSessionCreate measures POST /v1/sessions through the whole
// stack: echo, body limit, bearer auth (one key lookup), rate limiter,
// strict decoding, validation, and the create transaction (session and
// its event, on the real database). The +webhooks variants add the
// outbound webhooks service as the event sink, as core/app wires it (the
// merchant has no endpoints, so that is its lookups' cost alone). Each
// runs twice: in process (ServeHTTP, no network) and over HTTP (a real
// net/http server on loopback and a keep-alive client with one connection
// per concurrent caller, as a merchant's servers would call it). Compare
// with BenchmarkBareEchoJSON's same transport from the same run; see
// docs/benchmarks.md.
func BenchmarkSessionCreate(b *testing.B) {
	dbs := []struct {
		name string
		open func(testing.TB) *store.Store
	}{{"sqlite", storetest.SQLite}}
	if os.Getenv(storetest.EnvPostgresDSN) != "" {
		dbs = append(dbs, struct {
			name string
			open func(testing.TB) *store.Store
		}{"postgres", storetest.Postgres})
	}
	for _, tr := range transports {
		for _, db := range dbs {
			b.Run(tr.name+"/"+db.name, func(b *testing.B) {
				benchCreate(b, tr, newAPIEnv(b, db.open(b), MerchantAPIOptions{}))
			})
			b.Run(tr.name+"/"+db.name+"+webhooks", func(b *testing.B) {
				benchCreate(b, tr, newWebhooksAPIEnv(b, db.open(b)))
			})
		}
	}
}

// newWebhooksAPIEnv is newAPIEnv with the webhooks service as EventSink.
func newWebhooksAPIEnv(b *testing.B, st *store.Store) *apiEnv {
	b.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	kr, err := secrets.NewKeyring([]secrets.Key{{ID: "k1", Key: key}})
	if err != nil {
		b.Fatal(err)
	}
	ins, err := jobs.New(st, jobs.Options{InsertOnly: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	hooks, err := webhooks.New(webhooks.Deps{Store: st, Keyring: kr, Jobs: ins})
	if err != nil {
		b.Fatal(err)
	}
	env := paymentstest.New(b, st, paymentstest.Options{
		Sessions: config.SessionsConfig{MaxAmount: "1000000"},
		Instances: []paymentstest.Instance{{ID: "sbx", Impl: sandbox.New(),
			Settings: map[string]string{sandbox.SettingSigningSecret: testSandboxSecret}}},
		Events: hooks,
	})
	e := New(Options{BodyLimit: testBodyLimit},
		MerchantAPI(env.Service, env.Merchants, MerchantAPIOptions{RequestsPerSecond: 1e6, Burst: 1e6}))
	return &apiEnv{Env: env, e: e}
}

func benchCreate(b *testing.B, tr transport, a *apiEnv) {
	m := a.Merchant(b, domain.PlanFree, "shop.test")
	key, _ := a.Key(b, m.ID, domain.ModeTest)
	var seq atomic.Int64
	runConcurrent(b, tr, a.e, func() *http.Request {
		body := fmt.Sprintf(`{"domain":"shop.test","amount":"49.95","currency":"USD","order_id":"BENCH-%d","customer_email":"buyer@example.com"}`, seq.Add(1))
		r := httptest.NewRequest(http.MethodPost, "/v1/sessions", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Authorization", "Bearer "+key)
		return r
	}, http.StatusCreated)
}

// BenchmarkBareEchoJSON is the baseline: an echo handler that decodes the
// same JSON body and answers with a JSON object, nothing else, on each
// transport.
func BenchmarkBareEchoJSON(b *testing.B) {
	for _, tr := range transports {
		b.Run(tr.name, func(b *testing.B) {
			e := echo.New()
			e.POST("/v1/sessions", func(c echo.Context) error {
				var req map[string]string
				if err := c.Bind(&req); err != nil {
					return err
				}
				return c.JSON(http.StatusCreated, map[string]string{"session_id": "cs_x", "order_id": req["order_id"]})
			})
			var seq atomic.Int64
			runConcurrent(b, tr, e, func() *http.Request {
				body := fmt.Sprintf(`{"domain":"shop.test","amount":"49.95","currency":"USD","order_id":"BENCH-%d","customer_email":"buyer@example.com"}`, seq.Add(1))
				r := httptest.NewRequest(http.MethodPost, "/v1/sessions", strings.NewReader(body))
				r.Header.Set("Content-Type", "application/json")
				return r
			}, http.StatusCreated)
		})
	}
}

// transport is how a benchmark's requests reach the handler: serve builds
// the function that sends one request and returns its status and body.
type transport struct {
	name  string
	serve func(b *testing.B, h http.Handler) func(r *http.Request) (int, string)
}

var transports = []transport{
	{"inprocess", func(_ *testing.B, h http.Handler) func(r *http.Request) (int, string) {
		return func(r *http.Request) (int, string) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			return rec.Code, rec.Body.String()
		}
	}},
	{"http", func(b *testing.B, h http.Handler) func(r *http.Request) (int, string) {
		srv := httptest.NewServer(h)
		b.Cleanup(srv.Close)
		client := &http.Client{Transport: &http.Transport{
			MaxIdleConns: benchConcurrency, MaxIdleConnsPerHost: benchConcurrency, MaxConnsPerHost: benchConcurrency,
		}}
		b.Cleanup(client.CloseIdleConnections)
		return func(r *http.Request) (int, string) {
			req, err := http.NewRequest(r.Method, srv.URL+r.URL.RequestURI(), r.Body)
			if err != nil {
				return 0, err.Error()
			}
			req.Header = r.Header
			resp, err := client.Do(req)
			if err != nil {
				return 0, err.Error()
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				return 0, err.Error()
			}
			return resp.StatusCode, string(body)
		}
	}},
}

// runConcurrent sends b.N requests from benchConcurrency goroutines over
// tr and reports throughput and latency percentiles next to ns/op.
func runConcurrent(b *testing.B, tr transport, h http.Handler, newReq func() *http.Request, want int) {
	b.Helper()
	send := tr.serve(b, h)
	b.SetParallelism((benchConcurrency + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	var (
		mu        sync.Mutex
		latencies []time.Duration
		failed    atomic.Value
	)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		local := make([]time.Duration, 0, 1024)
		for pb.Next() {
			r := newReq()
			t0 := time.Now()
			code, body := send(r)
			local = append(local, time.Since(t0))
			if code != want {
				failed.Store(fmt.Sprintf("status %d: %s", code, body))
			}
		}
		mu.Lock()
		latencies = append(latencies, local...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if msg, ok := failed.Load().(string); ok {
		b.Fatal(msg)
	}
	if len(latencies) == 0 {
		return
	}
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		i := int(p * float64(len(latencies)-1))
		return float64(latencies[i].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(latencies))/elapsed.Seconds(), "req/s")
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
}
