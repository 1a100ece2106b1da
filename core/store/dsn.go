package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// target is a parsed DSN ready to open.
type target struct {
	dialect Dialect
	display string // redacted form for messages
	schema  string
	open    func() (*sql.DB, error)
	// openReader, SQLite only, opens the read-only pool for hot reads.
	openReader func() (*sql.DB, error)
	// pool, PostgreSQL only, is the one pgx pool behind open's *sql.DB,
	// shared with River's pgx driver and LISTEN.
	pool *pgxpool.Pool
}

func parseDSN(dsn string, opts Options) (target, error) {
	dsn = strings.TrimSpace(dsn)
	switch {
	case dsn == "":
		return target{}, fmt.Errorf("store dsn is empty: %w", errUnsupportedDSN)
	case strings.HasPrefix(dsn, "sqlite:"):
		return parseSQLite(strings.TrimPrefix(dsn, "sqlite:"), opts)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return parsePostgres(dsn, opts)
	default:
		scheme := "no scheme"
		if i := strings.Index(dsn, ":"); i > 0 {
			scheme = fmt.Sprintf("scheme %q", dsn[:i])
		}
		return target{}, fmt.Errorf("store dsn has %s: %w", scheme, errUnsupportedDSN)
	}
}

func parseSQLite(path string, opts Options) (target, error) {
	// Accept "sqlite://relative" and "sqlite:///absolute" as well as the
	// documented "sqlite:PATH".
	path = strings.TrimPrefix(path, "//")
	if path == "" {
		return target{}, fmt.Errorf("store dsn %q: sqlite path is empty (want sqlite:PATH, e.g. sqlite:var/switchyard.db)", "sqlite:")
	}
	if strings.ContainsAny(path, "?#") || path == ":memory:" {
		return target{}, fmt.Errorf("store dsn %q: sqlite path must be a plain file path (no query, no :memory:)", "sqlite:"+path)
	}
	display := "sqlite:" + path
	// Pragmas are per connection, so they go into the DSN: modernc applies
	// them to every connection the pool opens. _txlock=immediate takes the
	// write lock at BEGIN, so two processes (serve + a CLI command) queue on
	// busy_timeout instead of failing with an unretryable lock upgrade.
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", opts.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	// FULL: a commit is on disk before it returns, so an acknowledged
	// session or webhook survives power loss too. NORMAL (common with WAL)
	// is about twice as fast here but may lose the last commits on an OS
	// crash, which a payment router must not (docs/decisions.md).
	q.Add("_pragma", "synchronous(FULL)")
	// Group commit (RunInGroupTx) runs each member in a savepoint, whose
	// undo copies of pages would otherwise go to a temporary file with a
	// write syscall per page; they only matter until the commit.
	q.Add("_pragma", "temp_store(MEMORY)")
	q.Set("_txlock", "immediate")
	driverDSN := path + "?" + q.Encode()
	// The read pool: in WAL mode readers neither wait for the writer nor
	// block it, so authentication does not queue behind the one writer
	// connection. query_only makes a stray write fail instead of racing
	// the writer for the lock.
	r := url.Values{}
	r.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", opts.BusyTimeout.Milliseconds()))
	r.Add("_pragma", "query_only(1)")
	readerDSN := path + "?" + r.Encode()

	return target{
		dialect: DialectSQLite,
		display: display,
		open: func() (*sql.DB, error) {
			if err := privateSQLiteFiles(path); err != nil {
				return nil, fmt.Errorf("store: %s: %w", display, err)
			}
			db, err := sql.Open("sqlite", driverDSN)
			if err != nil {
				return nil, fmt.Errorf("store: open %s: %w", display, err)
			}
			db.SetMaxOpenConns(opts.SQLiteMaxOpenConns)
			db.SetMaxIdleConns(opts.SQLiteMaxOpenConns)
			db.SetConnMaxLifetime(0)
			return db, nil
		},
		openReader: func() (*sql.DB, error) {
			db, err := sql.Open("sqlite", readerDSN)
			if err != nil {
				return nil, fmt.Errorf("store: open %s for reading: %w", display, err)
			}
			db.SetMaxOpenConns(opts.SQLiteReadConns)
			db.SetMaxIdleConns(opts.SQLiteReadConns)
			db.SetConnMaxLifetime(0)
			return db, nil
		},
	}, nil
}

func parsePostgres(dsn string, opts Options) (target, error) {
	display, parsed := redactURL(dsn)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		if !parsed {
			// pgx names the DSN itself, with the password masked.
			return target{}, fmt.Errorf("store dsn is not a valid postgres url: %s", innermost(err))
		}
		return target{}, fmt.Errorf("store dsn %s is not a valid postgres url: %s", display, innermost(err))
	}
	if cfg.ConnectTimeout == 0 || cfg.ConnectTimeout > opts.ConnectTimeout {
		cfg.ConnectTimeout = opts.ConnectTimeout
	}
	schema := opts.Schema
	if schema != "" {
		if err := validIdentifier(schema); err != nil {
			return target{}, fmt.Errorf("store schema %q: %w", schema, err)
		}
		cfg.RuntimeParams["search_path"] = quoteIdent(schema)
	} else if sp := cfg.RuntimeParams["search_path"]; sp != "" {
		schema = firstSchema(sp)
	}
	pcfg, err := pgxpool.ParseConfig("")
	if err != nil {
		return target{}, fmt.Errorf("store: pool config: %w", err)
	}
	pcfg.ConnConfig = cfg
	pcfg.MaxConns = int32(opts.PGMaxOpenConns)
	// Creating a pool does not connect (MinConns is 0); Open's ping does.
	pool, err := pgxpool.NewWithConfig(context.Background(), pcfg)
	if err != nil {
		return target{}, fmt.Errorf("store dsn %s: %s", display, innermost(err))
	}
	return target{
		dialect: DialectPostgres,
		display: display,
		schema:  schema,
		pool:    pool,
		// bun reaches the pool through database/sql: every query borrows
		// a pgx connection (with its statement cache) and gives it back,
		// so bun, River and LISTEN never hold more than MaxConns together.
		open: func() (*sql.DB, error) { return stdlib.OpenDBFromPool(pool), nil },
	}, nil
}

// redactURL hides the password of a URL-form DSN; anything unparsable is
// replaced wholesale because it may contain a password in an unknown place.
func redactURL(dsn string) (string, bool) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://<unparsable>", false
	}
	return u.Redacted(), true
}

// innermost returns the deepest wrapped error's message, which for pgx
// parse errors is the reason without the connection string.
func innermost(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err.Error()
		}
		err = next
	}
}

// firstSchema extracts the first entry of a search_path value, which is
// where unqualified CREATE TABLE statements land.
func firstSchema(searchPath string) string {
	first, _, _ := strings.Cut(searchPath, ",")
	first = strings.TrimSpace(first)
	if strings.HasPrefix(first, `"`) && strings.HasSuffix(first, `"`) && len(first) >= 2 {
		return strings.ReplaceAll(first[1:len(first)-1], `""`, `"`)
	}
	if first == "$user" {
		return ""
	}
	return strings.ToLower(first)
}

// validIdentifier restricts schema names to what needs no surprises when
// quoted and when passed to River (which interpolates it into SQL).
func validIdentifier(name string) error {
	if len(name) == 0 || len(name) > 63 {
		return fmt.Errorf("must be 1 to 63 characters")
	}
	for i, r := range name {
		ok := r == '_' || (r >= 'a' && r <= 'z') || (i > 0 && r >= '0' && r <= '9')
		if !ok {
			return fmt.Errorf("must be lowercase letters, digits and underscores, starting with a letter or underscore")
		}
	}
	return nil
}

func quoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
