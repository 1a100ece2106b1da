package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// File modes of an SQLite store: the database holds customer emails,
// provider payloads and encrypted credentials, so no other local user may
// read it, nor its write-ahead log and shared-memory index, which hold the
// same pages.
const (
	sqliteFileMode fs.FileMode = 0o600
	sqliteDirMode  fs.FileMode = 0o700
)

// privateSQLiteFiles makes the database file exist with mode 0600 before
// SQLite opens it, because SQLite creates the database 0644 (less the umask)
// and then gives its -wal, -shm and -journal files the database file's
// mode. A database, or a companion, left with wider modes by an older
// version is narrowed to 0600. A missing parent directory is created 0700;
// an existing one is left as the operator made it (it may be shared, like
// /var/lib), the files inside are private either way.
func privateSQLiteFiles(path string) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, sqliteDirMode); err != nil {
			return fmt.Errorf("create directory: %w", err)
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, sqliteFileMode)
	if err != nil {
		return fmt.Errorf("create database file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("create database file: %w", err)
	}
	for _, name := range append([]string{path}, companionPaths(path)...) {
		st, err := os.Stat(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if st.Mode().Perm()&^sqliteFileMode != 0 {
			if err := os.Chmod(name, sqliteFileMode); err != nil {
				return fmt.Errorf("make %s private: %w", filepath.Base(name), err)
			}
		}
	}
	return nil
}

// companionPaths are the files SQLite keeps beside the database.
func companionPaths(path string) []string {
	return []string{path + "-wal", path + "-shm", path + "-journal"}
}
