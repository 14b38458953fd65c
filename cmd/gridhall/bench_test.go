//go:build !race

package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gridhall/gridhall/internal/bench"
	"github.com/gridhall/gridhall/internal/db/dbtest"
)

// TestBenchQuickPrintsEveryRow runs `gridhall bench --quick` on each engine
// — a community-scale data set generated into a fresh database, every
// workload briefly — and checks that it prints every row of the table with
// a figure. Timings are not checked: they are BENCHMARKS.md's business.
// Built without -race (the race detector would multiply its minute), it
// runs in make test's non-race pass.
func TestBenchQuickPrintsEveryRow(t *testing.T) {
	workloads := []string{"case intake over HTTP, 50 clients", "point → grid", "work queue: street centre's dispatch queue",
		"work queue: street, all cases newest first", "work queue: community worker's verify queue", "work queue: workbench page (HTML)",
		"case detail, JSON", "case detail, page (HTML)", "KPI figures, a street", "KPI figures, the district",
		"registry import", "resident lookup by identity number", "peak memory"}
	for _, e := range dbtest.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "bench.json")
			args := append([]string{"bench", "--quick", "--json", out}, storageArgs(t, e)...)
			cmd := exec.CommandContext(context.Background(), binary, args...)
			cmd.Env = os.Environ()
			stdout, err := cmd.Output()
			if err != nil {
				var stderr []byte
				if ee, ok := err.(*exec.ExitError); ok {
					stderr = ee.Stderr
				}
				t.Fatalf("gridhall bench --quick: %v\n%s\n%s", err, stdout, stderr)
			}
			table := string(stdout)
			for _, w := range workloads {
				if !strings.Contains(table, w) {
					t.Errorf("no row %q in:\n%s", w, table)
				}
			}
			b, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			var rep bench.Report
			if err := json.Unmarshal(b, &rep); err != nil {
				t.Fatal(err)
			}
			if rep.Engine != string(e) || len(rep.Rows) != len(workloads)+1 { // intake has two rows: bare insert and hello world
				t.Errorf("engine %s, %d rows, want %s and %d", rep.Engine, len(rep.Rows), e, len(workloads)+1)
			}
			for _, r := range rep.Rows {
				if r.Figure == "" || r.Value <= 0 || r.Peer == "" {
					t.Errorf("row without a figure or peer: %+v", r)
				}
			}
		})
	}
}
