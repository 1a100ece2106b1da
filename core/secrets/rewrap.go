package secrets

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
)

// Column names a text column holding values encrypted by a Keyring. The
// owner of each value is (Table, the row's IDColumn as a string, Field).
type Column struct {
	Table    string
	IDColumn string
	Field    string
}

func (c Column) String() string { return c.Table + "." + c.Field }

// ColumnReport counts what a rewrap did to one column.
type ColumnReport struct {
	Column Column
	// Rewrapped rows now hold a value under the primary key.
	Rewrapped int
	// Changed rows were modified by someone else between read and write;
	// they were left alone (a concurrent writer encrypts under the primary
	// key anyway).
	Changed int
}

// Report is the outcome of RewrapColumns, one entry per column in order.
type Report struct {
	Columns []ColumnReport
}

// Rewrapped is the total number of values re-encrypted.
func (r Report) Rewrapped() int {
	n := 0
	for _, c := range r.Columns {
		n += c.Rewrapped
	}
	return n
}

// RewrapColumns re-encrypts, under the keyring's primary key, every value in
// cols that was sealed with an older key. It runs in one transaction: if any
// value cannot be decrypted (unknown key, tampered, wrong owner) nothing is
// changed and the error names the table, row and field. Running it again is
// harmless.
func RewrapColumns(ctx context.Context, db *bun.DB, kr *Keyring, cols []Column) (Report, error) {
	var report Report
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		report = Report{}
		for _, col := range cols {
			cr, err := rewrapColumn(ctx, tx, kr, col)
			if err != nil {
				return err
			}
			report.Columns = append(report.Columns, cr)
		}
		return nil
	})
	if err != nil {
		return Report{}, err
	}
	return report, nil
}

type storedValue struct {
	id, value string
}

func rewrapColumn(ctx context.Context, tx bun.Tx, kr *Keyring, col Column) (ColumnReport, error) {
	cr := ColumnReport{Column: col}
	if col.Table == "" || col.IDColumn == "" || col.Field == "" {
		return cr, fmt.Errorf("rewrap: column %+v: table, id column and field are required", col)
	}
	stale, err := staleValues(ctx, tx, kr, col)
	if err != nil {
		return cr, err
	}
	for _, sv := range stale {
		owner := Owner{Table: col.Table, Row: sv.id, Field: col.Field}
		fresh, err := kr.Rewrap(sv.value, owner)
		if err != nil {
			return cr, fmt.Errorf("rewrap %s: %w", col, err)
		}
		// Compare-and-set: only replace the value that was read.
		res, err := tx.ExecContext(ctx, "UPDATE ? SET ? = ? WHERE ? = ? AND ? = ?",
			bun.Ident(col.Table), bun.Ident(col.Field), fresh,
			bun.Ident(col.IDColumn), sv.id, bun.Ident(col.Field), sv.value)
		if err != nil {
			return cr, fmt.Errorf("rewrap %s: update row %s: %w", col, sv.id, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return cr, fmt.Errorf("rewrap %s: update row %s: %w", col, sv.id, err)
		}
		if n == 0 {
			cr.Changed++
			continue
		}
		cr.Rewrapped++
	}
	return cr, nil
}

// staleValues reads the rows whose value is not under the primary key. The
// SQL filter keeps the read small on large tables; NeedsRewrap decides.
// Everything is read before any update so no cursor is open while writing.
func staleValues(ctx context.Context, tx bun.Tx, kr *Keyring, col Column) ([]storedValue, error) {
	current := version + ":" + likeEscape(kr.PrimaryID()) + ":%"
	rows, err := tx.QueryContext(ctx,
		`SELECT CAST(? AS TEXT), ? FROM ? WHERE ? IS NOT NULL AND ? <> '' AND ? NOT LIKE ? ESCAPE '\' ORDER BY ?`,
		bun.Ident(col.IDColumn), bun.Ident(col.Field), bun.Ident(col.Table),
		bun.Ident(col.Field), bun.Ident(col.Field), bun.Ident(col.Field), current, bun.Ident(col.IDColumn))
	if err != nil {
		return nil, fmt.Errorf("rewrap %s: select: %w", col, err)
	}
	defer rows.Close()
	var out []storedValue
	for rows.Next() {
		var id sql.NullString
		var sv storedValue
		if err := rows.Scan(&id, &sv.value); err != nil {
			return nil, fmt.Errorf("rewrap %s: scan: %w", col, err)
		}
		if !id.Valid {
			return nil, fmt.Errorf("rewrap %s: a row has a NULL %s", col, col.IDColumn)
		}
		sv.id = id.String
		if kr.NeedsRewrap(sv.value) {
			out = append(out, sv)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rewrap %s: select: %w", col, err)
	}
	return out, nil
}

// likeEscape escapes LIKE wildcards; key ids may contain "_".
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
