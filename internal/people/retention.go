package people

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/errs"
)

// MoveOut records the day a resident left. The record stays, with its
// numbers sealed, until the retention period has passed.
func (s *Service) MoveOut(ctx context.Context, actor auth.Actor, id int64, date string) error {
	const op = "people.MoveOut"
	if err := s.ready(op); err != nil {
		return err
	}
	row, err := s.st.resident(ctx, s.db, id)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !auth.Can(actor, auth.ReadPeople, row.gridPath)) {
		return errs.E(errs.NotFound, op, "people.resident.unknown")
	}
	if err != nil {
		return errs.Wrap(op, err)
	}
	if !auth.Can(actor, auth.WritePeople, row.gridPath) {
		return errs.E(errs.Forbidden, op, "error.forbidden")
	}
	d, perr := time.Parse(dateLayout, date)
	if perr != nil || d.After(s.today()) || date < row.moveIn {
		return errs.Fields(op, map[string]string{"move_out": "people.date.invalid"})
	}
	return errs.Wrap(op, s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "UPDATE residents SET move_out = $1, updated_at = $2 WHERE id = $3", date, db.Millis(s.clock.Now()), id); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, audit.Record{Action: "resident.move_out", ObjectType: "resident", ObjectID: strconv.FormatInt(id, 10), ScopePath: row.gridPath})
	}))
}

// AnonymiseMovedOut erases the personal data of residents who moved out more
// than retention ago: name, numbers, birth date and tags go; the row stays
// as an anonymous count for history. Every node may run it: the update only
// touches rows not yet anonymised, so a row is anonymised exactly once.
func (s *Service) AnonymiseMovedOut(ctx context.Context, retention time.Duration) (int64, error) {
	const op = "people.AnonymiseMovedOut"
	cutoff := s.today().Add(-retention).Format(dateLayout)
	now := db.Millis(s.clock.Now())
	var n int64
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM resident_tags WHERE resident_id IN (SELECT id FROM residents
			WHERE anonymised_at IS NULL AND move_out <> '' AND move_out <= $1)`, cutoff); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE residents SET name = '', birth_date = '', document_sealed = '', document_index = '',
			phone_sealed = '', phone_index = '', user_id = NULL, anonymised_at = $1, updated_at = $1
			WHERE anonymised_at IS NULL AND move_out <> '' AND move_out <= $2`, now, cutoff)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		return s.record(ctx, tx, auth.SystemActor("retention"), audit.Record{Action: "resident.anonymise", ObjectType: "resident", ObjectID: "*",
			Detail: map[string]any{"count": n, "moved_out_before": cutoff}})
	})
	return n, errs.Wrap(op, err)
}
