package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gridhall/gridhall/internal/db/dbtest"
)

// TestGenFromTheConsole generates a small data set with `gridhall gen` on
// each engine, checks the audit chain with `gridhall audit verify`, and is
// refused a second time and on a wrong command line.
func TestGenFromTheConsole(t *testing.T) {
	if code, _, errOut := cli(t, "", "gen", "--help"); code != 0 || !strings.Contains(errOut, "-scale") || !strings.Contains(errOut, "-db") {
		t.Errorf("gen --help: %d %q", code, errOut)
	}
	if code, _, errOut := cli(t, "", "gen", "--scale", "village", "--data-dir", t.TempDir()); code != 2 || !strings.Contains(errOut, "megacity") {
		t.Errorf("unknown scale: %d %q", code, errOut)
	}
	for _, e := range dbtest.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			s := storageArgs(t, e)
			pw := filepath.Join(t.TempDir(), "pw")
			if err := os.WriteFile(pw, []byte("generated accounts\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"gen", "--scale", "community", "--grids", "3", "--residents", "200", "--cases", "300",
				"--seed", "3", "--now", "2026-11-19", "--password-file", pw, "--log-format", "text"}, s...)
			if e == "postgres" {
				key := filepath.Join(t.TempDir(), "master.key")
				if code, out, _ := cli(t, "", "keys", "init"); code != 0 || os.WriteFile(key, []byte(out), 0o600) != nil {
					t.Fatal("keys init")
				}
				args = append(args, "--master-key-file", key)
			}
			code, out, errOut := cli(t, "", args...)
			if code != 0 || !strings.Contains(out, "3 grids") || !strings.Contains(out, "200 residents") || !strings.Contains(out, "300 cases") ||
				!strings.Contains(out, "password: generated accounts") || !strings.Contains(errOut, "rows/s") && !strings.Contains(errOut, "done:") {
				t.Fatalf("gen: %d\n%s\n%s", code, out, errOut)
			}
			if code, out, errOut := cli(t, "", append([]string{"audit", "verify"}, s...)...); code != 0 {
				t.Fatalf("audit verify after gen: %d %s %s", code, out, errOut)
			}
			if code, _, errOut := cli(t, "", args...); code != 1 || !strings.Contains(errOut, "already holds data") {
				t.Fatalf("second gen: %d %q", code, errOut)
			}
		})
	}
}
