package sdk_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
	"go.opentelemetry.io/otel/trace"

	"github.com/switchyard/switchyard/sdk"
	"github.com/switchyard/switchyard/sdk/host"
	"github.com/switchyard/switchyard/sdk/provider"
	"github.com/switchyard/switchyard/sdk/sdktest"
)

// logging logs through sdk.Logger(ctx) in CreatePayment.
type logging struct{ scripted }

func (l *logging) CreatePayment(ctx context.Context, req provider.CreatePaymentRequest) (provider.CreatePaymentResponse, error) {
	sdk.Logger(ctx).Info("creating payment", "session", req.SessionID)
	return l.scripted.CreatePayment(ctx, req)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestLoggerInEveryCall(t *testing.T) {
	var out lockedBuffer
	logger := hclog.New(&hclog.LoggerOptions{Name: "plugin", Output: &out, JSONFormat: true, Level: hclog.Info})
	p, err := host.Provider(sdktest.Serve(t, sdk.ServeOpts{Provider: &logging{}, Logger: logger}))
	if err != nil {
		t.Fatal(err)
	}
	traceID := trace.TraceID{0xab, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: traceID, SpanID: trace.SpanID{1}, TraceFlags: trace.FlagsSampled, Remote: true,
	}))
	if _, err := p.CreatePayment(ctx, provider.CreatePaymentRequest{SessionID: "cs_log", Method: "card"}); err != nil {
		t.Fatal(err)
	}
	var line map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if strings.Contains(l, "creating payment") {
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatalf("log line %q: %v", l, err)
			}
		}
	}
	if line == nil {
		t.Fatalf("sdk.Logger(ctx) wrote nothing to ServeOpts.Logger:\n%s", out.String())
	}
	if line["rpc"] != "CreatePayment" || line["trace_id"] != traceID.String() || line["session"] != "cs_log" {
		t.Errorf("log line %v, want rpc CreatePayment, trace_id %s and the call's own fields", line, traceID)
	}
}

func TestLoggerOutsideACall(t *testing.T) {
	if sdk.Logger(context.Background()) == nil {
		t.Fatal("sdk.Logger without a call is nil")
	}
	sdk.Logger(context.Background()).Info("discarded")
	var out lockedBuffer
	l := hclog.New(&hclog.LoggerOptions{Output: &out})
	sdk.Logger(sdk.WithLogger(context.Background(), l)).Info("kept")
	if !strings.Contains(out.String(), "kept") {
		t.Errorf("WithLogger's logger not used: %q", out.String())
	}
}

func TestServeReturnsErrors(t *testing.T) {
	t.Setenv(sdk.DebugEnv, "")
	t.Setenv(sdk.MagicCookieKey, "")
	if err := sdk.Serve(sdk.ServeOpts{}); err == nil || !strings.Contains(err.Error(), "at least one of Provider") {
		t.Errorf("Serve with nothing to serve: %v", err)
	}
	if err := sdk.Serve(sdk.ServeOpts{Provider: &scripted{}}); !errors.Is(err, sdk.ErrNotLaunchedByHost) {
		t.Errorf("Serve run by hand: %v, want ErrNotLaunchedByHost", err)
	}
	if err := sdk.ServeDebug(context.Background(), "Not An Id", sdk.ServeOpts{Provider: &scripted{}}, &bytes.Buffer{}); err == nil {
		t.Error("ServeDebug with a bad instance id: no error")
	}
}
