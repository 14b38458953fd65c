package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrBackupEngine is returned by Backup on PostgreSQL, whose own tools
// (pg_dump, pg_basebackup with WAL archiving) make better backups than any
// copy GridHall could take through a client connection.
var ErrBackupEngine = errors.New("gridhall backup copies SQLite databases only; back up PostgreSQL with pg_dump (logical) or pg_basebackup plus WAL archiving (physical, point-in-time)")

// Backup writes a consistent copy of the live SQLite database to path and
// checks it. It runs while the server keeps serving: VACUUM INTO reads one
// snapshot inside a read transaction, which in WAL mode blocks no writer,
// in this process or another. The copy goes to a temporary file beside
// path, passes PRAGMA integrity_check, is flushed to disk and only then is
// linked to path; an existing path is never overwritten (not even by a race
// between the check and the link, since link fails on an existing name).
func (d *DB) Backup(ctx context.Context, path string) error {
	if d.Engine != SQLite {
		return ErrBackupEngine
	}
	if path == "" {
		return errors.New("backup: no output file")
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("backup: %s already exists; refusing to overwrite it", path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("backup: %w", err)
	}
	dir := filepath.Dir(path)
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	tmp := filepath.Join(dir, "."+filepath.Base(path)+".partial-"+hex.EncodeToString(b))
	defer os.Remove(tmp) // after the link, only the temporary name goes
	// The read pool is query_only, which refuses VACUUM INTO, so the copy
	// runs on the writer connection; it still holds only a read lock.
	if err := d.queue(ctx); err != nil {
		return err
	}
	_, err := d.write.ExecContext(ctx, "VACUUM INTO $1", tmp)
	d.unqueue()
	if err != nil {
		return fmt.Errorf("backup: copy the database: %w", err)
	}
	if err := CheckSQLiteFile(ctx, tmp); err != nil {
		return fmt.Errorf("backup: the copy failed its check: %w", err)
	}
	if err := syncPath(tmp); err != nil {
		return fmt.Errorf("backup: flush the copy: %w", err)
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("backup: %s already exists; refusing to overwrite it", path)
		}
		return fmt.Errorf("backup: %w", err)
	}
	if err := os.Remove(tmp); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	// The new directory entry must survive a power loss too.
	if err := syncPath(dir); err != nil {
		return fmt.Errorf("backup: flush the directory: %w", err)
	}
	return nil
}

// CheckSQLiteFile opens a SQLite database file read-only and runs PRAGMA
// integrity_check, returning its findings as an error unless it says "ok".
func CheckSQLiteFile(ctx context.Context, path string) error {
	if _, err := os.Stat(path); err != nil {
		return err
	}
	c, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer c.Close()
	rows, err := c.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return err
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(problems) > 0 {
		return fmt.Errorf("integrity_check: %q", problems)
	}
	return nil
}

func syncPath(p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
