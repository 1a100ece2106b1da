package store_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/switchyard/switchyard/core/store"
)

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	return st.Mode().Perm()
}

// openMigrated opens the SQLite database at path, migrates it (which writes
// through the WAL) and leaves it open so the -wal and -shm files exist.
func openMigrated(t *testing.T, path string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite:"+path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestSQLiteFilesArePrivate: the database, its WAL and shared-memory files
// are 0600 and a directory the store creates is 0700, whatever the umask
// would have allowed; files an older version left readable are narrowed.
func TestSQLiteFilesArePrivate(t *testing.T) {
	t.Run("new", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "var", "data")
		db := filepath.Join(dir, "switchyard.db")
		openMigrated(t, db)
		for _, p := range []string{db, db + "-wal", db + "-shm"} {
			if m := mode(t, p); m != 0o600 {
				t.Errorf("%s is %v, want -rw-------", filepath.Base(p), m)
			}
		}
		for _, d := range []string{dir, filepath.Dir(dir)} {
			if m := mode(t, d); m != 0o700 {
				t.Errorf("created directory %s is %v, want drwx------", d, m)
			}
		}
	})
	t.Run("existing files are narrowed", func(t *testing.T) {
		dir := t.TempDir()
		db := filepath.Join(dir, "switchyard.db")
		st := openMigrated(t, db)
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{db + "-wal", db + "-journal"} {
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range []string{db, db + "-wal", db + "-journal"} {
			if err := os.Chmod(p, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		openMigrated(t, db)
		for _, p := range []string{db, db + "-wal", db + "-shm"} {
			if m := mode(t, p); m != 0o600 {
				t.Errorf("%s is %v after reopening, want -rw-------", filepath.Base(p), m)
			}
		}
		// -journal may already be gone (SQLite removes a stale empty
		// journal); if it is there it is private.
		if st, err := os.Stat(db + "-journal"); err == nil && st.Mode().Perm() != 0o600 {
			t.Errorf("-journal is %v, want -rw-------", st.Mode().Perm())
		}
		if m := mode(t, dir); m != 0o755 {
			t.Errorf("an existing directory's mode was changed to %v", m)
		}
	})
}
