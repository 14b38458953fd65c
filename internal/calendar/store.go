package calendar

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/gridhall/gridhall/internal/db"
)

// store is the calendar's SQL.
type store struct{}

// maxStoredDays bounds the exceptions one query loads: every importable
// year of two calendars (a district's and the installation's).
const maxStoredDays = 2 * (MaxYear - MinYear + 1) * MaxImportRows

// storedDay is an exception with the calendar it belongs to.
type storedDay struct {
	district string
	Day
}

// stored is what a district's calendar is built from: its own rows and the
// installation's ("").
type stored struct {
	settings map[string]string       // district → settings JSON
	years    map[string]map[int]bool // district → imported years
	days     []storedDay             // sorted by district and date
}

func (store) version(ctx context.Context, q db.Querier) (int64, error) {
	var v int64
	err := q.QueryRowContext(ctx, "SELECT version FROM calendar_version WHERE id = 1").Scan(&v)
	return v, err
}

// bump marks a change to the calendars. Every write transaction calls it
// first: the row lock it takes queues calendar writers, also across nodes.
func (store) bump(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, "UPDATE calendar_version SET version = version + 1 WHERE id = 1")
	return err
}

// load reads the rows of district's calendar and of the installation's.
func (store) load(ctx context.Context, q db.Querier, district string) (stored, error) {
	st := stored{settings: map[string]string{}, years: map[string]map[int]bool{district: {}, "": {}}}
	rows, err := q.QueryContext(ctx, "SELECT district, settings FROM calendar_settings WHERE district IN ($1, '')", district)
	if err != nil {
		return st, err
	}
	for rows.Next() {
		var d, s string
		if err := rows.Scan(&d, &s); err != nil {
			rows.Close()
			return st, err
		}
		st.settings[d] = s
	}
	if err := closeRows(rows); err != nil {
		return st, err
	}
	rows, err = q.QueryContext(ctx, "SELECT district, year FROM calendar_years WHERE district IN ($1, '') ORDER BY district, year LIMIT $2",
		district, 2*(MaxYear-MinYear+1))
	if err != nil {
		return st, err
	}
	for rows.Next() {
		var d string
		var y int
		if err := rows.Scan(&d, &y); err != nil {
			rows.Close()
			return st, err
		}
		st.years[d][y] = true
	}
	if err := closeRows(rows); err != nil {
		return st, err
	}
	rows, err = q.QueryContext(ctx, "SELECT district, day, kind, name FROM calendar_days WHERE district IN ($1, '') ORDER BY district, day LIMIT $2",
		district, maxStoredDays)
	if err != nil {
		return st, err
	}
	for rows.Next() {
		var d storedDay
		if err := rows.Scan(&d.district, &d.Date, &d.Kind, &d.Name); err != nil {
			rows.Close()
			return st, err
		}
		st.days = append(st.days, d)
	}
	return st, closeRows(rows)
}

func closeRows(rows *sql.Rows) error {
	err := rows.Err()
	if cerr := rows.Close(); err == nil {
		err = cerr
	}
	return err
}

func (store) saveSettings(ctx context.Context, tx *sql.Tx, district, settings string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO calendar_settings (district, settings, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (district) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`,
		district, settings, db.Millis(now))
	return err
}

// yearRange is the key range of a year's dates.
func yearRange(year int) (from, to string) {
	return fmt.Sprintf("%04d-01-01", year), fmt.Sprintf("%04d-01-01", year+1)
}

// replaceYear replaces district's exceptions of year with days, marks the
// year imported, and returns how many exceptions it replaced.
func (store) replaceYear(ctx context.Context, tx *sql.Tx, district string, year int, days []Day, now time.Time) (int, error) {
	from, to := yearRange(year)
	res, err := tx.ExecContext(ctx, "DELETE FROM calendar_days WHERE district = $1 AND day >= $2 AND day < $3", district, from, to)
	if err != nil {
		return 0, err
	}
	replaced, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	// One statement per 100 rows keeps every statement well inside both
	// engines' parameter limits; a year is at most four statements.
	const batch = 100
	for start := 0; start < len(days); start += batch {
		part := days[start:min(start+batch, len(days))]
		var b strings.Builder
		b.WriteString("INSERT INTO calendar_days (district, day, kind, name) VALUES ")
		args := make([]any, 0, 4*len(part))
		for i, d := range part {
			if i > 0 {
				b.WriteString(", ")
			}
			n := len(args)
			fmt.Fprintf(&b, "($%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4)
			args = append(args, district, d.Date, string(d.Kind), d.Name)
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return 0, err
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO calendar_years (district, year, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (district, year) DO UPDATE SET updated_at = excluded.updated_at`, district, year, db.Millis(now))
	return int(replaced), err
}

// hasYears reports whether district has imported any year.
func (store) hasYears(ctx context.Context, q db.Querier, district string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM (SELECT 1 FROM calendar_years WHERE district = $1 LIMIT 1) AS y", district).Scan(&n)
	return n > 0, err
}
