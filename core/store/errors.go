package store

import (
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/switchyard/switchyard/core/domain"
)

// IsUniqueViolation reports whether err is a unique or primary-key
// constraint violation on either dialect.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		switch liteErr.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return true
		}
	}
	return false
}

// IsForeignKeyViolation reports whether err is a foreign-key violation on
// either dialect.
func IsForeignKeyViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23503"
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		return liteErr.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

// MapConflict turns a unique violation into the given conflict error and
// leaves every other error (nil included) unchanged. It is the one place
// where driver error codes become domain.ErrConflict.
func MapConflict(err error, conflict *domain.Error) error {
	if err != nil && IsUniqueViolation(err) {
		return conflict
	}
	return err
}

// notFound maps sql.ErrNoRows to the domain's not-found error for resource.
func notFound(err error, resource string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return domain.NotFound(resource)
	}
	return err
}
