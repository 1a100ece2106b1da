package wire

import (
	"net/http"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchyard/switchyard/sdk/meta"
	commonv1 "github.com/switchyard/switchyard/sdk/proto/common/v1"
)

// InfoToProto converts plugin metadata; kind is what is being served, which
// wins over whatever the implementation filled in.
func InfoToProto(i meta.Info, kind meta.Kind) *commonv1.PluginInfo {
	return &commonv1.PluginInfo{
		Name:         i.Name,
		Version:      i.Version,
		Kind:         string(kind),
		Capabilities: i.Capabilities,
	}
}

// InfoFromProto converts plugin metadata.
func InfoFromProto(p *commonv1.PluginInfo) meta.Info {
	return meta.Info{
		Name:         p.GetName(),
		Version:      p.GetVersion(),
		Kind:         meta.Kind(p.GetKind()),
		Capabilities: p.GetCapabilities(),
	}
}

// HealthToProto converts a health report.
func HealthToProto(h meta.Health) *commonv1.CheckHealthResponse {
	return &commonv1.CheckHealthResponse{Status: string(h.Status), Message: h.Message}
}

// HealthFromProto converts a health report; an empty status from a foreign
// plugin reads as down rather than healthy.
func HealthFromProto(p *commonv1.CheckHealthResponse) meta.Health {
	s := meta.HealthStatus(p.GetStatus())
	if s == "" {
		s = meta.HealthDown
	}
	return meta.Health{Status: s, Message: p.GetMessage()}
}

// TestResultToProto converts a connection test result.
func TestResultToProto(r meta.TestResult) *commonv1.TestConnectionResponse {
	return &commonv1.TestConnectionResponse{Message: r.Message, Details: r.Details}
}

// TestResultFromProto converts a connection test result.
func TestResultFromProto(p *commonv1.TestConnectionResponse) meta.TestResult {
	return meta.TestResult{Message: p.GetMessage(), Details: p.GetDetails()}
}

// timeToProto keeps the zero time as "unset" rather than year 1.
func timeToProto(t time.Time) *timestamppb.Timestamp {
	if t.IsZero() {
		return nil
	}
	return timestamppb.New(t)
}

func timeFromProto(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime()
}

// headerValues abstracts the per-package HeaderValues message.
type headerValues interface{ GetValues() []string }

func headerFromProto[V headerValues](m map[string]V) http.Header {
	if len(m) == 0 {
		return nil
	}
	h := make(http.Header, len(m))
	for k, v := range m {
		h[k] = append([]string(nil), v.GetValues()...)
	}
	return h
}

func headerToProto[V any](h http.Header, mk func([]string) V) map[string]V {
	if len(h) == 0 {
		return nil
	}
	m := make(map[string]V, len(h))
	for k, v := range h {
		m[k] = mk(v)
	}
	return m
}
