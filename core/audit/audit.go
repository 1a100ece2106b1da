package audit

import (
	"context"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchyard/switchyard/core/store"
)

// Where an action came from.
const (
	ViaConsole = "console"
	ViaAPI     = "api"
)

// Outcomes.
const (
	// OK: the action was carried out.
	OK = "ok"
	// Failed: the service refused or failed it (bad input, conflict, …).
	Failed = "failed"
	// Denied: the operator may not do it (a viewer acting, a bad CSRF
	// token, a wrong login token).
	Denied = "denied"
)

// Entry is one audited action. At is set by Record when zero.
type Entry struct {
	At         time.Time
	Actor      string
	Role       string
	Via        string
	Action     string
	TargetType string
	TargetID   string
	Outcome    string
	// Detail says more in a sentence (an error message, what was created):
	// never a secret.
	Detail     string
	RemoteAddr string
}

// maxDetail bounds Detail so an entry stays a line, not a payload.
const maxDetail = 1000

// Log records and lists audit entries.
type Log struct {
	store *store.Store
	log   *slog.Logger
	now   func() time.Time
}

// New returns the audit log on st; entries are also logged to log.
func New(st *store.Store, log *slog.Logger) *Log {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Log{store: st, log: log, now: time.Now}
}

// Record stores e and logs it. A failure to store is returned (and the
// entry is still logged, at error level, so it is not lost).
func (l *Log) Record(ctx context.Context, e Entry) error {
	if e.At.IsZero() {
		e.At = l.now()
	}
	row := &store.AuditEntry{
		At: e.At.UTC().Truncate(time.Microsecond), Actor: e.Actor, Role: e.Role, Via: e.Via, Action: e.Action,
		TargetType: e.TargetType, TargetID: e.TargetID, Outcome: e.Outcome, Detail: clip(e.Detail, maxDetail),
		RemoteAddr: e.RemoteAddr,
	}
	err := l.store.InsertAuditEntry(context.WithoutCancel(ctx), row)
	level := slog.LevelInfo
	if err != nil {
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("actor", row.Actor), slog.String("role", row.Role), slog.String("via", row.Via),
		slog.String("action", row.Action), slog.String("target_type", row.TargetType),
		slog.String("target_id", row.TargetID), slog.String("outcome", row.Outcome),
		slog.String("detail", row.Detail), slog.String("remote_addr", row.RemoteAddr),
	}
	if err != nil {
		attrs = append(attrs, slog.String("store_err", err.Error()))
	}
	l.log.LogAttrs(ctx, level, "audit", attrs...)
	return err
}

// Filter selects entries, newest first.
type Filter = store.AuditFilter

// Listing limits.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// List returns entries matching f, newest first.
func (l *Log) List(ctx context.Context, f Filter) ([]*store.AuditEntry, error) {
	if f.Limit <= 0 {
		f.Limit = DefaultLimit
	}
	f.Limit = min(f.Limit, MaxLimit)
	return l.store.ListAuditEntries(ctx, f)
}

// clip shortens s to at most n bytes on a rune boundary, on one line.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
