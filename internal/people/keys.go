package people

import (
	"context"
	"database/sql"
	"strconv"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/errs"
)

// RotationResult says what a key rotation did.
type RotationResult struct {
	NewKeyID int64   `json:"new_key_id"`
	Resealed int     `json:"resealed"`
	Retired  []int64 `json:"retired"`
}

// rotateBatch is how many residents one transaction re-encrypts: small
// enough that requests waiting for the writer are not held up for long.
const rotateBatch = 500

// RotateKeys makes a new data key current, re-encrypts every sealed value of
// the registry with it, batch by batch while the service keeps running, and
// retires the data keys no longer needed. Blind indexes use their own key,
// which does not change, so lookups work throughout. A value sealed by a node
// that has not yet seen the new key stays readable: retired keys are kept for
// reading, and the next rotation moves such values too.
func (s *Service) RotateKeys(ctx context.Context, actor auth.Actor) (RotationResult, error) {
	const op = "people.RotateKeys"
	if err := s.ready(op); err != nil {
		return RotationResult{}, err
	}
	if !actor.System {
		return RotationResult{}, errs.E(errs.Forbidden, op, "error.forbidden")
	}
	var res RotationResult
	id, err := s.keys.Rotate(ctx)
	if err != nil {
		return res, errs.Wrap(op, err)
	}
	res.NewKeyID = id
	var after int64
	for {
		n, last, err := s.resealBatch(ctx, after)
		if err != nil {
			return res, errs.Wrap(op, err)
		}
		res.Resealed += n
		if last == 0 {
			break
		}
		after = last
	}
	for _, k := range s.keys.Keys() {
		if k.Kind == "data" && !k.Current && k.RetiredAt.IsZero() {
			if err := s.keys.Retire(ctx, k.ID); err != nil {
				return res, errs.Wrap(op, err)
			}
			res.Retired = append(res.Retired, k.ID)
		}
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		return s.record(ctx, tx, actor, audit.Record{Action: "keys.rotate", ObjectType: "seal_key", ObjectID: strconv.FormatInt(id, 10),
			Detail: map[string]any{"resealed": res.Resealed, "retired": res.Retired}})
	})
	return res, errs.Wrap(op, err)
}

// resealBatch re-encrypts the residents after the given id, returning how
// many values changed and the last id seen (0 at the end).
func (s *Service) resealBatch(ctx context.Context, after int64) (int, int64, error) {
	changed, last := 0, int64(0)
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT id, document_sealed, phone_sealed FROM residents WHERE id > $1 ORDER BY id LIMIT $2", after, rotateBatch)
		if err != nil {
			return err
		}
		type pending struct {
			id         int64
			doc, phone string
		}
		var batch []pending
		for rows.Next() {
			var p pending
			if err := rows.Scan(&p.id, &p.doc, &p.phone); err != nil {
				rows.Close()
				return err
			}
			batch = append(batch, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, p := range batch {
			last = p.id
			doc, c1, err := s.keys.Reseal(purposeDocument, p.doc)
			if err != nil {
				return err
			}
			phone, c2, err := s.keys.Reseal(purposePhone, p.phone)
			if err != nil {
				return err
			}
			if !c1 && !c2 {
				continue
			}
			if _, err := tx.ExecContext(ctx, "UPDATE residents SET document_sealed = $1, phone_sealed = $2 WHERE id = $3", doc, phone, p.id); err != nil {
				return err
			}
			changed++
		}
		return nil
	})
	return changed, last, err
}
