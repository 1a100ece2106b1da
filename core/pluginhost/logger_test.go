package pluginhost

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"testing"

	"github.com/hashicorp/go-hclog"
)

func TestHCLogAdapter(t *testing.T) {
	tests := []struct {
		name      string
		handler   slog.Level
		log       func(l hclog.Logger)
		wantLevel string // "" means nothing logged
		wantAttrs map[string]any
	}{
		{"info with pairs", slog.LevelInfo, func(l hclog.Logger) {
			l.Info("hello", "count", 3, "err", errors.New("boom"))
		}, "INFO", map[string]any{"count": float64(3), "err": "boom"}},
		{"plugin timestamp dropped, binary renamed", slog.LevelInfo, func(l hclog.Logger) {
			l.Warn("w", "timestamp", "2026-01-01T00:00:00Z", "plugin", "/bin/x")
		}, "WARN", map[string]any{"plugin_path": "/bin/x", "timestamp": nil}},
		{"format value", slog.LevelInfo, func(l hclog.Logger) {
			l.Error("e", "detail", hclog.Fmt("%d beans", 2))
		}, "ERROR", map[string]any{"detail": "2 beans"}},
		{"trace below debug handler", slog.LevelDebug, func(l hclog.Logger) { l.Trace("t") }, "", nil},
		{"trace at trace handler", levelTrace, func(l hclog.Logger) { l.Trace("t") }, "DEBUG-4", nil},
		{"named and with", slog.LevelInfo, func(l hclog.Logger) {
			l.Named("a").Named("b").With("k", "v").Info("m")
		}, "INFO", map[string]any{"logger": "a.b", "k": "v"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			l := newHCLogAdapter(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: tt.handler})))
			tt.log(l)
			if tt.wantLevel == "" {
				if buf.Len() != 0 {
					t.Fatalf("logged %s", buf.String())
				}
				return
			}
			var rec map[string]any
			if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
				t.Fatalf("%v: %q", err, buf.String())
			}
			if rec["level"] != tt.wantLevel {
				t.Errorf("level = %v, want %s", rec["level"], tt.wantLevel)
			}
			for k, want := range tt.wantAttrs {
				if got := rec[k]; got != want {
					t.Errorf("%s = %v, want %v (record %v)", k, got, want, rec)
				}
			}
		})
	}
}

func TestHCLogAdapterLevel(t *testing.T) {
	tests := []struct {
		handler slog.Level
		want    hclog.Level
	}{
		{levelTrace, hclog.Trace},
		{slog.LevelDebug, hclog.Debug},
		{slog.LevelInfo, hclog.Info},
		{slog.LevelWarn, hclog.Warn},
		{slog.LevelError, hclog.Error},
		{slog.LevelError + 4, hclog.Off},
	}
	for _, tt := range tests {
		l := newHCLogAdapter(slog.New(slog.NewJSONHandler(&bytes.Buffer{}, &slog.HandlerOptions{Level: tt.handler})))
		if got := l.GetLevel(); got != tt.want {
			t.Errorf("handler %v: GetLevel = %v, want %v", tt.handler, got, tt.want)
		}
	}
}

func TestParseChecksum(t *testing.T) {
	const hex64 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	tests := []struct {
		in      string
		wantLen int
		wantErr bool
	}{
		{"", 0, false},
		{hex64, 32, false},
		{"sha256:" + hex64, 32, false},
		{" " + hex64 + "\n", 32, false},
		{hex64[:62], 0, true},
		{hex64[:63] + "g", 0, true},
	}
	for _, tt := range tests {
		got, err := parseChecksum(tt.in)
		if (err != nil) != tt.wantErr || len(got) != tt.wantLen {
			t.Errorf("parseChecksum(%q) = %x, %v", tt.in, got, err)
		}
	}
}

func TestLineLogger(t *testing.T) {
	var buf bytes.Buffer
	w := newLineLogger(slog.New(slog.NewJSONHandler(&buf, nil)), "stdout")
	for _, chunk := range []string{"first li", "ne\nsecond\r\n", "\n", "third without newline"} {
		if n, err := w.Write([]byte(chunk)); n != len(chunk) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	var lines []string
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var rec struct{ Msg, Stream, Line string }
		if err := dec.Decode(&rec); err != nil {
			t.Fatal(err)
		}
		if rec.Msg != "plugin output" || rec.Stream != "stdout" {
			t.Errorf("record %+v", rec)
		}
		lines = append(lines, rec.Line)
	}
	if want := []string{"first line", "second"}; !slices.Equal(lines, want) {
		t.Errorf("lines = %q, want %q (the unterminated line waits)", lines, want)
	}

	buf.Reset()
	long := bytes.Repeat([]byte("x"), maxLine+1)
	_, _ = w.Write(long)
	if !bytes.Contains(buf.Bytes(), []byte(`"line":"third without newline`)) {
		t.Errorf("an over-long pending line was not flushed: %.80s", buf.String())
	}
}
