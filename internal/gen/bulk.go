package gen

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/gridhall/gridhall/internal/db"
)

// SetAside prepares tables for a bulk load: it drops their secondary
// indexes (and on PostgreSQL their foreign keys) and, when cases is among
// them, stops the case_facts triggers.
// An index built once from all the rows is far quicker than one grown row
// by row, and the facts are then counted once instead of per row. The
// function it returns puts everything back exactly as the migrations made
// it — the indexes from their own DDL, read from the catalogue before the
// drop — and fills case_facts by migration 0010's aggregate (FillCaseFacts),
// running its statements on q: d itself, or the connection of a bulk load
// (db.WithBulkConn). Primary keys and UNIQUE constraints of a table's
// definition stay.
//
// The case benchmarks (internal/cases) load their millions of cases the
// same way.
func SetAside(ctx context.Context, d *db.DB, tables ...string) (restore func(ctx context.Context, q db.Querier) error, err error) {
	var indexes, triggers []string
	for _, t := range tables {
		query := `SELECT sql FROM sqlite_master WHERE tbl_name = $1 AND type = $2 AND sql IS NOT NULL ORDER BY name`
		if d.Engine == db.Postgres {
			// Indexes behind a constraint (the primary key, a UNIQUE column)
			// cannot be dropped by themselves and stay.
			query = `SELECT indexdef FROM pg_indexes i WHERE schemaname = current_schema() AND tablename = $1 AND $2 = 'index'
				AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.connamespace = to_regnamespace(current_schema()))
				ORDER BY indexname`
		}
		for kind, into := range map[string]*[]string{"index": &indexes, "trigger": &triggers} {
			rows, err := d.QueryContext(ctx, query, t, kind)
			if err != nil {
				return nil, err
			}
			for rows.Next() {
				var q string
				if err := rows.Scan(&q); err != nil {
					rows.Close()
					return nil, err
				}
				*into = append(*into, q)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, err
			}
		}
	}
	// PostgreSQL checks foreign keys row by row, and a COPY of a child
	// table may come before its parents' rows: they are dropped for the
	// load too, and adding them back checks every row at once.
	var fkeys [][3]string // table, name, definition
	if d.Engine == db.Postgres {
		for _, t := range tables {
			rows, err := d.QueryContext(ctx, `SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
				JOIN pg_class r ON r.oid = c.conrelid
				WHERE c.contype = 'f' AND r.relname = $1 AND r.relnamespace = to_regnamespace(current_schema()) ORDER BY c.conname`, t)
			if err != nil {
				return nil, err
			}
			for rows.Next() {
				var name, def string
				if err := rows.Scan(&name, &def); err != nil {
					rows.Close()
					return nil, err
				}
				fkeys = append(fkeys, [3]string{t, name, def})
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return nil, err
			}
		}
	}
	slices.Sort(indexes)
	slices.Sort(triggers)
	exec := func(ctx context.Context, x db.Querier, q string) error {
		if _, err := x.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", firstLine(q), err)
		}
		return nil
	}
	facts := slices.Contains(tables, "cases")
	for _, q := range indexes {
		if err := exec(ctx, d, "DROP INDEX "+ddlName(q)); err != nil {
			return nil, err
		}
	}
	for _, fk := range fkeys {
		if err := exec(ctx, d, "ALTER TABLE "+fk[0]+" DROP CONSTRAINT "+fk[1]); err != nil {
			return nil, err
		}
	}
	if facts && d.Engine == db.Postgres {
		if err := exec(ctx, d, "ALTER TABLE cases DISABLE TRIGGER USER"); err != nil {
			return nil, err
		}
	}
	for _, q := range triggers {
		if err := exec(ctx, d, "DROP TRIGGER "+ddlName(q)); err != nil {
			return nil, err
		}
	}
	return func(ctx context.Context, x db.Querier) error {
		for _, q := range indexes {
			if err := exec(ctx, x, q); err != nil {
				return err
			}
		}
		for _, fk := range fkeys {
			if err := exec(ctx, x, "ALTER TABLE "+fk[0]+" ADD CONSTRAINT "+fk[1]+" "+fk[2]); err != nil {
				return err
			}
		}
		if !facts {
			return nil
		}
		if err := FillCaseFacts(ctx, x, d.Engine); err != nil {
			return err
		}
		for _, q := range triggers {
			if err := exec(ctx, x, q); err != nil {
				return err
			}
		}
		if d.Engine == db.Postgres {
			return exec(ctx, x, "ALTER TABLE cases ENABLE TRIGGER USER")
		}
		return nil
	}, nil
}

// ddlName is the name an index's or trigger's DDL creates.
func ddlName(ddl string) string {
	f := strings.Fields(ddl)
	i := slices.IndexFunc(f, func(w string) bool { return strings.EqualFold(w, "INDEX") || strings.EqualFold(w, "TRIGGER") })
	return f[i+1]
}

func firstLine(q string) string {
	q, _, _ = strings.Cut(strings.TrimSpace(q), "\n")
	return q
}

// FillCaseFacts replaces case_facts by the counts of the cases stored, with
// migration 0010's own statement, so that the summary a bulk load leaves is
// the one the triggers would have kept. q is the database of engine e or a
// connection to it.
func FillCaseFacts(ctx context.Context, q db.Querier, e db.Engine) error {
	ms, err := db.Migrations(e)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.Name != "case_facts" {
			continue
		}
		i := strings.Index(m.SQL, "INSERT INTO case_facts")
		if i < 0 {
			break
		}
		j := strings.Index(m.SQL[i:], "GROUP BY")
		k := strings.Index(m.SQL[i+j:], ";")
		if _, err := q.ExecContext(ctx, "DELETE FROM case_facts"); err != nil {
			return err
		}
		_, err := q.ExecContext(ctx, m.SQL[i:i+j+k])
		return err
	}
	return fmt.Errorf("no case_facts migration")
}
