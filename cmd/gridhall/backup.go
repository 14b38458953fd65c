package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/gridhall/gridhall/internal/app"
	"github.com/gridhall/gridhall/internal/config"
	"github.com/gridhall/gridhall/internal/db"
)

// runBackup takes an online backup of a SQLite database. It opens the
// database without migrating it: a backup must copy what the running server
// has, and must not change the schema under an older server.
func runBackup(e env, args []string) error {
	cfg := config.Default()
	fs := flagSet(e, "backup", "backup --out FILE [flags]")
	config.RegisterStorage(fs, &cfg)
	var out string
	fs.StringVar(&out, "out", "", "file to write the backup to; must not exist yet")
	if err := parse(e, fs, &cfg, args); err != nil {
		return err
	}
	if fs.NArg() > 0 || out == "" {
		return usageError("usage: gridhall backup --out FILE [flags]")
	}
	if cfg.IsPostgres() {
		return exitError{code: 1, msg: db.ErrBackupEngine.Error() + "; see docs/operations.md, Backups"}
	}
	d, err := app.OpenDB(e.ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Backup(e.ctx, out); err != nil {
		if errors.Is(err, db.ErrBackupEngine) {
			return exitError{code: 1, msg: err.Error()}
		}
		return err
	}
	fmt.Fprintf(e.stdout, "backup of %s written to %s (integrity_check ok)\n", d.Path(), out)
	// Personal data in the copy is sealed under the master key, which is
	// not in the database: without it the copy's registry cannot be read.
	key := cfg.MasterKeyFile
	if key == "" {
		key = filepath.Join(cfg.DataDir, "master.key")
	}
	fmt.Fprintf(e.stderr, "note: the master key is not in the backup; keep a copy of %s (or GRIDHALL_MASTER_KEY) apart from it\n", key)
	return nil
}
