//go:build durability

package durability_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gridhall/gridhall/internal/db"
)

// checkWrites compares the database with the ledger: every acknowledged
// write is there exactly once under the id the client was given, no marker
// appears twice, nothing is there that was never asked for, and every row
// is whole — a case with exactly one report event and one audit entry, a
// building with one audit entry. It returns how many writes the client
// never saw acknowledged made it in anyway (allowed: the commit can beat
// the kill or the outage to the answer).
func checkWrites(t *testing.T, d *db.DB, l *ledger, prefix string) (unackedPresent int) {
	t.Helper()
	ctx := context.Background()
	found := map[string][]ack{}
	scan := func(kind, q string) {
		rows, err := d.QueryContext(ctx, q, "%"+prefix+"%")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var text string
			if err := rows.Scan(&id, &text); err != nil {
				t.Fatal(err)
			}
			i := strings.Index(text, prefix)
			marker := strings.Fields(text[i:])[0]
			found[marker] = append(found[marker], ack{kind, id})
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	scan("case", "SELECT id, description FROM cases WHERE description LIKE $1")
	scan("building", "SELECT id, name FROM buildings WHERE name LIKE $1")

	l.mu.Lock()
	defer l.mu.Unlock()
	lost := 0
	for m, a := range l.acked {
		got := found[m]
		switch {
		case len(got) == 0:
			lost++
			if lost <= 10 {
				t.Errorf("acknowledged %s %s (id %d) is missing", a.kind, m, a.id)
			}
		case len(got) > 1:
			t.Errorf("acknowledged %s %s is there %d times: %v", a.kind, m, len(got), got)
		case got[0] != a:
			t.Errorf("acknowledged %s %s has id %d, the client was told %d", a.kind, m, got[0].id, a.id)
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged writes are missing", lost, len(l.acked))
	}
	for m, got := range found {
		if len(got) > 1 {
			t.Errorf("%s is there %d times: %v", m, len(got), got)
		}
		if _, ok := l.attempted[m]; !ok {
			t.Errorf("%s is there but was never written", m)
		}
		if _, ok := l.acked[m]; !ok {
			unackedPresent++
		}
	}

	// Never half-applied: what one transaction writes is all there or not.
	var broken int
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM cases c WHERE c.description LIKE $1 AND (
		(SELECT COUNT(*) FROM case_events e WHERE e.case_id = c.id AND e.action = 'report') <> 1 OR
		(SELECT COUNT(*) FROM audit_log a WHERE a.object_type = 'case' AND a.object_id = CAST(c.id AS TEXT) AND a.action = 'case.report') <> 1)`,
		"%"+prefix+"%").Scan(&broken); err != nil {
		t.Fatal(err)
	}
	if broken > 0 {
		t.Errorf("%d cases lack their report event or audit entry, or have more than one", broken)
	}
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM buildings b WHERE b.name LIKE $1 AND
		(SELECT COUNT(*) FROM audit_log a WHERE a.object_type = 'building' AND a.object_id = CAST(b.id AS TEXT) AND a.action = 'building.create') <> 1`,
		"%"+prefix+"%").Scan(&broken); err != nil {
		t.Fatal(err)
	}
	if broken > 0 {
		t.Errorf("%d buildings lack their audit entry or have more than one", broken)
	}
	return unackedPresent
}

// auditVerify runs `gridhall audit verify` on the site's database.
func auditVerify(t *testing.T, s site, args ...string) string {
	t.Helper()
	out := cli(t, s.env, append([]string{"audit", "verify"}, args...)...)
	if !strings.Contains(out, "intact") {
		t.Fatalf("audit verify: %s", out)
	}
	return strings.TrimSpace(out)
}
