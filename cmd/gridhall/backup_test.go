package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gridhall/gridhall/internal/app"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/config"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/demo"
	"github.com/gridhall/gridhall/internal/territory"
)

// Backups taken while writers keep committing are whole: each opens,
// passes integrity_check, holds at least what was committed before it
// began, and its audit chain verifies. An existing file is never
// overwritten, and on PostgreSQL the command points to pg_dump.
func TestBackupDuringConcurrentWritesIsConsistentAndVerifies(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := config.Default()
	cfg.DataDir = dir
	a, err := app.Open(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), app.Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	planner := auth.SystemActorAs("backup-test", auth.DistrictAdmin)
	if _, err := a.Territory.Import(ctx, planner, demo.TerritoryGeoJSON(), false); err != nil {
		t.Fatal(err)
	}

	// Four writers add buildings (each an audited transaction) until told to stop.
	stop := make(chan struct{})
	var committed atomic.Int64
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				_, err := a.Territory.AddBuildings(ctx, planner, []territory.NewBuilding{{
					Name: fmt.Sprintf("backup-%d-%d", w, i), Address: fmt.Sprintf("中南一路%d-%d号", w, i), Lng: 114.3003, Lat: 30.5507}})
				if err != nil {
					t.Error(err)
					return
				}
				committed.Add(1)
			}
		})
	}
	var outs []string
	var before []int64
	for i := range 3 {
		for committed.Load() < int64(20*(i+1)) {
			// let the writers get ahead of the next backup
		}
		out := filepath.Join(dir, fmt.Sprintf("backup-%d.db", i))
		before = append(before, committed.Load())
		if code, stdout, stderr := cli(t, "", "backup", "--data-dir", dir, "--out", out); code != 0 || !strings.Contains(stdout, "integrity_check ok") ||
			!strings.Contains(stderr, "master.key") {
			t.Fatalf("backup %d: exit %d\n%s%s", i, code, stdout, stderr)
		}
		outs = append(outs, out)
	}
	close(stop)
	wg.Wait()
	if t.Failed() {
		return
	}

	for i, out := range outs {
		if err := db.CheckSQLiteFile(ctx, out); err != nil {
			t.Fatalf("backup %d: %v", i, err)
		}
		d, err := db.Open(ctx, db.Options{SQLitePath: out})
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		err = d.QueryRowContext(ctx, "SELECT COUNT(*) FROM buildings WHERE name LIKE 'backup-%'").Scan(&n)
		d.Close()
		if err != nil || n < before[i] {
			t.Fatalf("backup %d holds %d buildings, %d were committed before it began (%v)", i, n, before[i], err)
		}
		// The audit chain of the copy verifies, with the live data
		// directory's master key (which the copy does not contain).
		if code, stdout, stderr := cli(t, "", "audit", "verify", "--db", out, "--data-dir", dir); code != 0 || !strings.Contains(stdout, "intact") {
			t.Fatalf("audit verify of backup %d: exit %d\n%s%s", i, code, stdout, stderr)
		}
	}

	// An existing file is left alone.
	st, _ := os.Stat(outs[0])
	if code, _, stderr := cli(t, "", "backup", "--data-dir", dir, "--out", outs[0]); code != 1 || !strings.Contains(stderr, "refusing to overwrite") {
		t.Fatalf("backup onto an existing file: exit %d %s", code, stderr)
	}
	if st2, _ := os.Stat(outs[0]); st2.Size() != st.Size() || !st2.ModTime().Equal(st.ModTime()) {
		t.Fatal("the existing backup changed")
	}
	// PostgreSQL has its own tools; the command says so before connecting.
	code, _, stderr := cli(t, "", "backup", "--db", "postgres://nobody@127.0.0.1:1/none", "--out", filepath.Join(dir, "pg.db"))
	if code != 1 || !strings.Contains(stderr, "pg_dump") || !strings.Contains(stderr, "pg_basebackup") {
		t.Fatalf("backup on PostgreSQL: exit %d %s", code, stderr)
	}
	if code, _, _ := cli(t, "", "backup", "--data-dir", dir); code != 2 {
		t.Fatalf("backup without --out: exit %d, want 2", code)
	}
}
