package pluginhost_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/core/pluginhost"
	"github.com/switchyard/switchyard/plugins/sandbox/sandbox"
	"github.com/switchyard/switchyard/sdk/host"
	"github.com/switchyard/switchyard/sdk/provider"
)

// The three benchmarks below are one comparison (docs/benchmarks.md,
// "Plugin round trip"): the same sandbox CreatePayment through a real plugin
// process via the host, the same call in-process, and the floor any
// out-of-process call pays, a bare gRPC unary call over a unix socket.
// Each reports p50/p99 latency next to ns/op; the Parallel variants run
// GOMAXPROCS callers at once to show that concurrent calls scale.

const benchSecret = "bench-signing-secret-0123456789"

// latencies collects per-call durations from many goroutines without a
// shared lock on the hot path: each caller appends to its own slice.
type latencies struct {
	mu  sync.Mutex
	all []time.Duration
}

func (l *latencies) add(d []time.Duration) {
	l.mu.Lock()
	l.all = append(l.all, d...)
	l.mu.Unlock()
}

func (l *latencies) report(b *testing.B) {
	b.Helper()
	if len(l.all) == 0 {
		return
	}
	slices.Sort(l.all)
	pct := func(p float64) float64 { return float64(l.all[int(p*float64(len(l.all)-1))].Nanoseconds()) }
	b.ReportMetric(pct(0.50), "p50-ns")
	b.ReportMetric(pct(0.99), "p99-ns")
}

// runBench times op serially and with RunParallel.
func runBench(b *testing.B, op func(ctx context.Context, i int64) error) {
	b.Run("Serial", func(b *testing.B) {
		var l latencies
		ds := make([]time.Duration, 0, b.N)
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			if err := op(ctx, int64(i)); err != nil {
				b.Fatal(err)
			}
			ds = append(ds, time.Since(t0))
		}
		b.StopTimer()
		l.add(ds)
		l.report(b)
	})
	b.Run("Parallel", func(b *testing.B) {
		var (
			l    latencies
			next atomic.Int64
		)
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			ds := make([]time.Duration, 0, 1024)
			for pb.Next() {
				t0 := time.Now()
				if err := op(ctx, next.Add(1)); err != nil {
					b.Error(err)
					return
				}
				ds = append(ds, time.Since(t0))
			}
			l.add(ds)
		})
		b.StopTimer()
		l.report(b)
	})
}

func benchPayment(i int64) provider.CreatePaymentRequest {
	key := fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i)
	return provider.CreatePaymentRequest{
		SessionID:       "cs_bench_" + key,
		AttemptID:       "att_" + key,
		IdempotencyKey:  key,
		Amount:          4995,
		Currency:        "EUR",
		Method:          "card",
		CustomerEmail:   "shopper@example.test",
		Description:     "Benchmark order",
		ReturnURL:       "http://127.0.0.1:8080/checkout/cs_bench/return",
		CancelURL:       "http://127.0.0.1:8080/checkout/cs_bench/cancel",
		WebhookURL:      "http://127.0.0.1:8080/hooks/sandbox/sandbox",
		ProviderBaseURL: "http://127.0.0.1:8080/p/sandbox",
	}
}

func createPayment(p provider.Provider) func(context.Context, int64) error {
	return func(ctx context.Context, i int64) error {
		resp, err := p.CreatePayment(ctx, benchPayment(i))
		if err == nil && resp.ProviderRef == "" {
			err = fmt.Errorf("no provider ref in %+v", resp)
		}
		return err
	}
}

func BenchmarkCreatePaymentPlugin(b *testing.B) {
	if sandboxErr != nil {
		b.Skipf("no sandbox plugin binary: %v", sandboxErr)
	}
	h, err := pluginhost.New(config.PluginsConfig{
		Dir: pluginsDir, StartTimeout: 20 * time.Second, CallTimeout: 10 * time.Second,
		Instances: []config.PluginInstance{{
			ID: "sandbox", Kind: "provider", Binary: "sandbox",
			Settings: map[string]config.Secret{sandbox.SettingSigningSecret: config.NewSecret(benchSecret)},
		}},
	}, pluginhost.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = h.Close(context.Background()) })
	if err := h.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	p, err := h.Provider("sandbox")
	if err != nil {
		b.Fatal(err)
	}
	runBench(b, createPayment(p))
}

func BenchmarkCreatePaymentInProcess(b *testing.B) {
	p := sandbox.New()
	if err := p.Configure(context.Background(), map[string]string{sandbox.SettingSigningSecret: benchSecret}); err != nil {
		b.Fatal(err)
	}
	runBench(b, createPayment(p))
}

func BenchmarkGRPCEchoUnix(b *testing.B) {
	sock := filepath.Join(b.TempDir(), "echo.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		b.Fatal(err)
	}
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(srv.Stop)
	runBench(b, echoOp(b, sock))
}

// BenchmarkGRPCEchoUnixProcess is BenchmarkGRPCEchoUnix with the server in
// another process (this test binary re-executed), plain gRPC: the cost of
// the process boundary alone.
func BenchmarkGRPCEchoUnixProcess(b *testing.B) {
	sock := filepath.Join(b.TempDir(), "echo.sock")
	cmd := exec.Command(os.Args[0])
	cmd.Env = []string{echoSocketEnv + "=" + sock}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	for i := 0; ; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if i > 2000 {
			b.Fatal("echo server did not create its socket")
		}
		time.Sleep(5 * time.Millisecond)
	}
	runBench(b, echoOp(b, sock))
}

// serveEcho runs the echo server for BenchmarkGRPCEchoUnixProcess until
// killed.
func serveEcho(sock string) int {
	ln, err := net.Listen("unix", sock)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	srv := grpc.NewServer()
	healthpb.RegisterHealthServer(srv, health.NewServer())
	if err := srv.Serve(ln); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// echoOp dials sock and returns one health-check round trip.
func echoOp(b *testing.B, sock string) func(context.Context, int64) error {
	b.Helper()
	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = conn.Close() })
	client := healthpb.NewHealthClient(conn)
	return func(ctx context.Context, _ int64) error {
		resp, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
		if err == nil && resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			err = fmt.Errorf("echo status %v", resp.GetStatus())
		}
		return err
	}
}

// BenchmarkGRPCEchoPluginProcess splits the plugin round trip: the same
// bare health-check echo, but sent to the sandbox plugin process over the
// connection go-plugin set up (separate process, AutoMTLS, otelgrpc on both
// ends). The gap to BenchmarkGRPCEchoUnix is the process boundary and
// transport security; the gap from here to BenchmarkCreatePaymentPlugin is
// the SDK adapters, protobuf conversion and the sandbox's own work.
func BenchmarkGRPCEchoPluginProcess(b *testing.B) {
	if sandboxErr != nil {
		b.Skipf("no sandbox plugin binary: %v", sandboxErr)
	}
	cmd := exec.Command(filepath.Join(pluginsDir, "sandbox"))
	cmd.Env = []string{}
	client := plugin.NewClient(host.ClientConfig(cmd, host.Options{
		StartTimeout: 20 * time.Second,
		Logger:       hclog.NewNullLogger(),
	}))
	b.Cleanup(client.Kill)
	rpc, err := client.Client()
	if err != nil {
		b.Fatal(err)
	}
	gc, ok := rpc.(*plugin.GRPCClient)
	if !ok {
		b.Fatalf("plugin speaks %T, not gRPC", rpc)
	}
	echo := healthpb.NewHealthClient(gc.Conn)
	runBench(b, func(ctx context.Context, _ int64) error {
		resp, err := echo.Check(ctx, &healthpb.HealthCheckRequest{Service: plugin.GRPCServiceName})
		if err == nil && resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			err = fmt.Errorf("plugin health status %v", resp.GetStatus())
		}
		return err
	})
}
