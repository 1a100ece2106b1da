package pluginhost

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// levelTrace is below slog's Debug, where hclog's Trace belongs.
const levelTrace = slog.LevelDebug - 4

// hclogAdapter is an hclog.Logger that writes into the host's slog handler.
// go-plugin parses each hclog JSON line a plugin writes to stderr and
// re-logs it through this logger, so plugin logs arrive as structured slog
// records carrying the plugin instance id instead of as raw text.
type hclogAdapter struct {
	// base carries the With attributes, logger adds the name to base.
	base   *slog.Logger
	logger *slog.Logger
	name   string
	// implied are the args given to With, kept because hclog exposes them.
	implied []any
}

var _ hclog.Logger = (*hclogAdapter)(nil)

// newHCLogAdapter returns an hclog.Logger writing to logger.
func newHCLogAdapter(logger *slog.Logger) *hclogAdapter {
	return &hclogAdapter{base: logger, logger: logger}
}

func slogLevel(l hclog.Level) slog.Level {
	switch l {
	case hclog.Trace:
		return levelTrace
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// Log records msg. hclog arguments are key/value pairs like slog's; the
// hclog.Format convenience value is rendered with fmt.Sprintf.
func (a *hclogAdapter) Log(level hclog.Level, msg string, args ...any) {
	if level == hclog.Off {
		return
	}
	sl := slogLevel(level)
	ctx := context.Background()
	if !a.logger.Enabled(ctx, sl) {
		return
	}
	var pcs [1]uintptr
	runtime.Callers(3, pcs[:]) // skip Callers, Log and the level method
	r := slog.NewRecord(time.Now(), sl, msg, pcs[0])
	r.Add(convertArgs(args)...)
	_ = a.logger.Handler().Handle(ctx, r)
}

// convertArgs turns hclog arguments into slog arguments.
func convertArgs(args []any) []any {
	out := make([]any, 0, len(args))
	for i := 0; i < len(args); i++ {
		switch v := args[i].(type) {
		case hclog.Format:
			if len(v) > 0 {
				format, _ := v[0].(string)
				out = append(out, slog.String("msg_detail", fmt.Sprintf(format, v[1:]...)))
			}
			continue
		case string:
			if i+1 < len(args) {
				// The plugin's own timestamp is redundant with the record
				// time and would shadow nothing useful.
				if v == "timestamp" {
					i++
					continue
				}
				// go-plugin names the binary "plugin", which would clash
				// with the instance id the host attaches under that key.
				if v == "plugin" {
					v = "plugin_path"
				}
				out = append(out, slog.Any(v, attrValue(args[i+1])))
				i++
				continue
			}
		}
		out = append(out, args[i])
	}
	return out
}

// attrValue renders values slog would otherwise print as opaque structs.
func attrValue(v any) any {
	switch t := v.(type) {
	case error:
		return t.Error()
	case hclog.Format:
		if len(t) == 0 {
			return ""
		}
		format, _ := t[0].(string)
		return fmt.Sprintf(format, t[1:]...)
	}
	return v
}

func (a *hclogAdapter) Trace(msg string, args ...any) { a.Log(hclog.Trace, msg, args...) }
func (a *hclogAdapter) Debug(msg string, args ...any) { a.Log(hclog.Debug, msg, args...) }
func (a *hclogAdapter) Info(msg string, args ...any)  { a.Log(hclog.Info, msg, args...) }
func (a *hclogAdapter) Warn(msg string, args ...any)  { a.Log(hclog.Warn, msg, args...) }
func (a *hclogAdapter) Error(msg string, args ...any) { a.Log(hclog.Error, msg, args...) }

func (a *hclogAdapter) enabled(l hclog.Level) bool {
	return a.logger.Enabled(context.Background(), slogLevel(l))
}

func (a *hclogAdapter) IsTrace() bool { return a.enabled(hclog.Trace) }
func (a *hclogAdapter) IsDebug() bool { return a.enabled(hclog.Debug) }
func (a *hclogAdapter) IsInfo() bool  { return a.enabled(hclog.Info) }
func (a *hclogAdapter) IsWarn() bool  { return a.enabled(hclog.Warn) }
func (a *hclogAdapter) IsError() bool { return a.enabled(hclog.Error) }

func (a *hclogAdapter) ImpliedArgs() []any { return a.implied }

func (a *hclogAdapter) With(args ...any) hclog.Logger {
	c := *a
	c.implied = append(append([]any(nil), a.implied...), args...)
	c.base = a.base.With(convertArgs(args)...)
	c.logger = c.base
	if c.name != "" {
		c.logger = c.base.With(slog.String("logger", c.name))
	}
	return &c
}

func (a *hclogAdapter) Name() string { return a.name }

// Named extends the logger name; go-plugin names the stderr logger after
// the binary, which is kept in the "logger" attribute.
func (a *hclogAdapter) Named(name string) hclog.Logger {
	if a.name != "" {
		name = a.name + "." + name
	}
	return a.ResetNamed(name)
}

func (a *hclogAdapter) ResetNamed(name string) hclog.Logger {
	c := *a
	c.name = name
	c.logger = a.base
	if name != "" {
		c.logger = a.base.With(slog.String("logger", name))
	}
	return &c
}

// SetLevel is a no-op: the slog handler owns the level.
func (a *hclogAdapter) SetLevel(hclog.Level) {}

// GetLevel reports the lowest hclog level the slog handler lets through.
// go-plugin uses it to skip parsing plugin lines that would be dropped.
func (a *hclogAdapter) GetLevel() hclog.Level {
	for _, l := range []hclog.Level{hclog.Trace, hclog.Debug, hclog.Info, hclog.Warn, hclog.Error} {
		if a.enabled(l) {
			return l
		}
	}
	return hclog.Off
}

func (a *hclogAdapter) StandardLogger(*hclog.StandardLoggerOptions) *log.Logger {
	return slog.NewLogLogger(a.logger.Handler(), slog.LevelInfo)
}

func (a *hclogAdapter) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	return a.StandardLogger(opts).Writer()
}

// lineLogger is an io.Writer that logs each complete line it receives. It
// takes what a plugin writes to its os.Stdout/os.Stderr after serving
// (go-plugin forwards those over gRPC), which would otherwise be dropped.
type lineLogger struct {
	logger *slog.Logger
	stream string
	mu     sync.Mutex
	buf    []byte
}

// maxLine bounds a line kept waiting for its newline, so a plugin writing
// without newlines cannot grow host memory without limit.
const maxLine = 64 << 10

func newLineLogger(logger *slog.Logger, stream string) *lineLogger {
	return &lineLogger{logger: logger, stream: stream}
}

func (w *lineLogger) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.emit(w.buf[:i])
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > maxLine {
		w.emit(w.buf)
		w.buf = nil
	}
	if len(w.buf) == 0 {
		w.buf = nil // release the backing array between bursts
	}
	return len(p), nil
}

func (w *lineLogger) emit(line []byte) {
	line = bytes.TrimRight(line, "\r")
	if len(line) == 0 {
		return
	}
	w.logger.Info("plugin output", slog.String("stream", w.stream), slog.String("line", string(line)))
}
