package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchyard/switchyard/core/domain"
)

// ConsoleSession is an operator's login to the console. ID is the SHA-256
// (hex) of the secret in the cookie.
type ConsoleSession struct {
	bun.BaseModel `bun:"table:console_sessions,alias:cs"`

	ID         string    `bun:"id,pk"`
	Operator   string    `bun:"operator,notnull"`
	TokenFP    string    `bun:"token_fp,notnull"`
	CSRF       string    `bun:"csrf,notnull"`
	Flash      string    `bun:"flash,notnull"`
	RemoteAddr string    `bun:"remote_addr,notnull"`
	UserAgent  string    `bun:"user_agent,notnull"`
	CreatedAt  time.Time `bun:"created_at,notnull"`
	LastSeenAt time.Time `bun:"last_seen_at,notnull"`
	ExpiresAt  time.Time `bun:"expires_at,notnull"`
}

// InsertConsoleSession stores a new console session.
func (r *Repo) InsertConsoleSession(ctx context.Context, s *ConsoleSession) error {
	if _, err := r.db.NewInsert().Model(s).Exec(ctx); err != nil {
		return fmt.Errorf("insert console session: %w", err)
	}
	return nil
}

// GetConsoleSession reads a console session by id; unknown ids are
// domain.ErrNotFound.
func (r *Repo) GetConsoleSession(ctx context.Context, id string) (*ConsoleSession, error) {
	s := new(ConsoleSession)
	err := r.db.NewSelect().Model(s).Where("id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, domain.NotFound("console session")
	}
	if err != nil {
		return nil, fmt.Errorf("get console session: %w", err)
	}
	return s, nil
}

// TouchConsoleSession records use of a session at at.
func (r *Repo) TouchConsoleSession(ctx context.Context, id string, at time.Time) error {
	if _, err := r.db.NewUpdate().Model((*ConsoleSession)(nil)).Set("last_seen_at = ?", at.UTC()).
		Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("touch console session: %w", err)
	}
	return nil
}

// SetConsoleFlash stores the notice the session's next page shows ("" to
// clear it).
func (r *Repo) SetConsoleFlash(ctx context.Context, id, flash string) error {
	if _, err := r.db.NewUpdate().Model((*ConsoleSession)(nil)).Set("flash = ?", flash).
		Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("set console flash: %w", err)
	}
	return nil
}

// DeleteConsoleSession ends a session; an unknown id is not an error.
func (r *Repo) DeleteConsoleSession(ctx context.Context, id string) error {
	if _, err := r.db.NewDelete().Model((*ConsoleSession)(nil)).Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("delete console session: %w", err)
	}
	return nil
}

// DeleteStaleConsoleSessions removes sessions past their absolute expiry
// or unused since idleCutoff, and returns how many.
func (r *Repo) DeleteStaleConsoleSessions(ctx context.Context, now, idleCutoff time.Time) (int64, error) {
	res, err := r.db.NewDelete().Model((*ConsoleSession)(nil)).
		Where("expires_at <= ? OR last_seen_at < ?", now.UTC(), idleCutoff.UTC()).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("delete stale console sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// AuditEntry is one row of the audit log.
type AuditEntry struct {
	bun.BaseModel `bun:"table:audit_log,alias:al"`

	ID         int64     `bun:"id,pk,autoincrement" json:"id"`
	At         time.Time `bun:"at,notnull" json:"at"`
	Actor      string    `bun:"actor,notnull" json:"actor"`
	Role       string    `bun:"role,notnull" json:"role"`
	Via        string    `bun:"via,notnull" json:"via"`
	Action     string    `bun:"action,notnull" json:"action"`
	TargetType string    `bun:"target_type,notnull" json:"target_type"`
	TargetID   string    `bun:"target_id,notnull" json:"target_id"`
	Outcome    string    `bun:"outcome,notnull" json:"outcome"`
	Detail     string    `bun:"detail,notnull" json:"detail"`
	RemoteAddr string    `bun:"remote_addr,notnull" json:"remote_addr"`
}

// InsertAuditEntry appends to the audit log.
func (r *Repo) InsertAuditEntry(ctx context.Context, e *AuditEntry) error {
	if _, err := r.db.NewInsert().Model(e).Exec(ctx); err != nil {
		return fmt.Errorf("insert audit entry: %w", err)
	}
	return nil
}

// AuditFilter selects audit entries, newest first. Zero fields match all.
type AuditFilter struct {
	Actor      string
	Action     string
	TargetType string
	TargetID   string
	BeforeID   int64 // cursor: ids lower than this one
	Limit      int
}

// ListAuditEntries lists audit entries matching f, newest first.
func (r *Repo) ListAuditEntries(ctx context.Context, f AuditFilter) ([]*AuditEntry, error) {
	out := []*AuditEntry{}
	q := r.db.NewSelect().Model(&out)
	if f.Actor != "" {
		q = q.Where("actor = ?", f.Actor)
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if f.TargetType != "" {
		q = q.Where("target_type = ?", f.TargetType)
	}
	if f.TargetID != "" {
		q = q.Where("target_id = ?", f.TargetID)
	}
	if f.BeforeID > 0 {
		q = q.Where("id < ?", f.BeforeID)
	}
	if f.Limit > 0 {
		q = q.Limit(int64(f.Limit))
	}
	if err := q.OrderExpr("id DESC").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list audit entries: %w", err)
	}
	return out, nil
}
