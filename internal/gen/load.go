package gen

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/gridhall/gridhall/internal/db"
)

// loader writes rows in bulk on one connection. The generator adds rows to
// a table's sink; a full batch goes to a writer goroutine, so that drawing
// and sealing the next rows (one core) overlaps with SQLite or the network
// storing the last ones (the other). On SQLite a batch is one multi-row
// INSERT of a statement prepared once, inside transactions of about a
// million rows; on PostgreSQL it is one COPY.
type loader struct {
	ctx    context.Context
	engine db.Engine
	conn   *sql.Conn
	ops    chan op
	done   chan struct{}
	mu     sync.Mutex
	err    error
	sinks  []*sink
	// pending counts rows added since the last commit (SQLite).
	pending int
	// written counts rows stored, for the progress lines.
	written func(n int)
}

// op is one unit of work for the writer goroutine.
type op struct {
	s    *sink
	args []any   // SQLite: the values of a full batch
	rows [][]any // PostgreSQL: the rows of one COPY
	sql  string  // a statement to run in order with the batches
	sync chan error
}

// sink collects the rows of one table.
type sink struct {
	l     *loader
	table string
	cols  []string
	batch int
	args  []any
	rows  [][]any
	n     int
	stmt  *sql.Stmt
}

// sqliteMaxVars is SQLite's limit on the parameters of one statement.
const sqliteMaxVars = 32766

// commitRows is how many rows one SQLite transaction holds: large enough
// that commits cost nothing, small enough that a crash loses little.
const commitRows = 1_000_000

func newLoader(ctx context.Context, engine db.Engine, conn *sql.Conn, written func(int)) *loader {
	l := &loader{ctx: ctx, engine: engine, conn: conn, ops: make(chan op, 8), done: make(chan struct{}), written: written}
	go l.run()
	return l
}

// run is the writer goroutine: it applies the operations in order and
// keeps the first error, after which it only drains.
func (l *loader) run() {
	defer close(l.done)
	for o := range l.ops {
		err := l.failed()
		if err == nil {
			err = l.apply(o)
			if err != nil {
				l.mu.Lock()
				l.err = err
				l.mu.Unlock()
			}
		}
		if o.sync != nil {
			o.sync <- err
		}
	}
}

func (l *loader) failed() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

func (l *loader) apply(o op) error {
	switch {
	case o.sql != "":
		_, err := l.conn.ExecContext(l.ctx, o.sql)
		if err != nil {
			return fmt.Errorf("%s: %w", o.sql, err)
		}
		return nil
	case o.args != nil:
		stmt := o.s.stmt
		rows := len(o.args) / len(o.s.cols)
		if rows != o.s.batch {
			// The last, shorter batch of a table.
			st, err := l.conn.PrepareContext(l.ctx, insertSQL(o.s.table, o.s.cols, rows))
			if err != nil {
				return fmt.Errorf("prepare %s: %w", o.s.table, err)
			}
			defer st.Close()
			stmt = st
		}
		if _, err := stmt.ExecContext(l.ctx, o.args...); err != nil {
			return fmt.Errorf("insert into %s: %w", o.s.table, err)
		}
		l.written(rows)
	case o.rows != nil:
		err := l.conn.Raw(func(dc any) error {
			c, ok := dc.(*stdlib.Conn)
			if !ok {
				return errors.New("COPY needs the pgx driver")
			}
			_, err := c.Conn().CopyFrom(l.ctx, pgx.Identifier{o.s.table}, o.s.cols, pgx.CopyFromRows(o.rows))
			return err
		})
		if err != nil {
			return fmt.Errorf("copy into %s: %w", o.s.table, err)
		}
		l.written(len(o.rows))
	}
	return nil
}

// insertSQL is a multi-row INSERT of n rows.
func insertSQL(table string, cols []string, n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}

// table returns the sink of a table with the given columns.
func (l *loader) table(name string, cols ...string) (*sink, error) {
	s := &sink{l: l, table: name, cols: cols}
	if l.engine == db.SQLite {
		// About 500 rows or SQLite's parameter limit: beyond a few hundred
		// rows a statement saves nothing more per row.
		s.batch = min(500, sqliteMaxVars/len(cols))
		st, err := l.conn.PrepareContext(l.ctx, insertSQL(name, cols, s.batch))
		if err != nil {
			return nil, fmt.Errorf("prepare %s: %w", name, err)
		}
		s.stmt = st
		s.args = make([]any, 0, s.batch*len(cols))
	} else {
		s.batch = 10_000
	}
	l.sinks = append(l.sinks, s)
	return s, nil
}

// add appends one row; its values follow the sink's columns.
func (s *sink) add(vals ...any) error {
	if len(vals) != len(s.cols) {
		panic(fmt.Sprintf("gen: %d values for the %d columns of %s", len(vals), len(s.cols), s.table))
	}
	if s.l.engine == db.SQLite {
		s.args = append(s.args, vals...)
	} else {
		s.rows = append(s.rows, slices.Clone(vals))
	}
	s.n++
	s.l.pending++
	if s.n == s.batch {
		return s.flush()
	}
	return nil
}

// flush hands the rows collected so far to the writer.
func (s *sink) flush() error {
	if s.n == 0 {
		return s.l.failed()
	}
	if s.l.engine == db.SQLite {
		s.l.ops <- op{s: s, args: s.args}
		s.args = make([]any, 0, s.batch*len(s.cols))
	} else {
		s.l.ops <- op{s: s, rows: s.rows}
		s.rows = make([][]any, 0, s.batch)
	}
	s.n = 0
	return s.l.failed()
}

// exec runs a statement in order with the batches, and waits for it.
func (l *loader) exec(q string) error {
	if err := l.flush(); err != nil {
		return err
	}
	ch := make(chan error, 1)
	l.ops <- op{sql: q, sync: ch}
	return <-ch
}

// flush hands every sink's rows to the writer.
func (l *loader) flush() error {
	for _, s := range l.sinks {
		if err := s.flush(); err != nil {
			return err
		}
	}
	return l.failed()
}

// maybeCommit ends the SQLite transaction after about commitRows rows and
// begins the next.
func (l *loader) maybeCommit() error {
	if l.engine != db.SQLite || l.pending < commitRows {
		return l.failed()
	}
	l.pending = 0
	if err := l.flush(); err != nil {
		return err
	}
	l.ops <- op{sql: "COMMIT"}
	l.ops <- op{sql: "BEGIN"}
	return l.failed()
}

// close flushes everything, waits for the writer and closes the statements.
func (l *loader) close() error {
	err := l.flush()
	close(l.ops)
	<-l.done
	for _, s := range l.sinks {
		if s.stmt != nil {
			s.stmt.Close()
		}
	}
	if err != nil {
		return err
	}
	return l.failed()
}
