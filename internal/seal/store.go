package seal

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/gridhall/gridhall/internal/db"
)

// Key kinds, as stored in seal_keys.kind.
const (
	kindData  = "data"
	kindIndex = "index"
)

// maxKeyRows bounds the key listing. There is one row per rotation, so the
// bound is never reached by honest use; reaching it means something inserts
// keys in a loop, which is better stopped than loaded.
const maxKeyRows = 10000

// keyRow is one row of seal_keys.
type keyRow struct {
	id        int64
	kind      string
	handle    string
	wrapped   string
	createdAt int64
	retiredAt sql.NullInt64
}

// loadKeyRows reads every key row in id order. The table is tiny, so reading
// it whole is one cheap round trip, and it is how Refresh notices changes.
func loadKeyRows(ctx context.Context, q db.Querier) ([]keyRow, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, kind, handle, wrapped, created_at, retired_at
		FROM seal_keys ORDER BY id LIMIT $1`, maxKeyRows+1)
	if err != nil {
		return nil, fmt.Errorf("seal: read keys: %w", err)
	}
	defer rows.Close()
	var out []keyRow
	for rows.Next() {
		var r keyRow
		if err := rows.Scan(&r.id, &r.kind, &r.handle, &r.wrapped, &r.createdAt, &r.retiredAt); err != nil {
			return nil, fmt.Errorf("seal: read keys: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("seal: read keys: %w", err)
	}
	if len(out) > maxKeyRows {
		return nil, fmt.Errorf("seal: more than %d rows in seal_keys", maxKeyRows)
	}
	return out, nil
}

// lockKeys serialises the transactions that write seal_keys across nodes.
// On PostgreSQL it takes a table lock that conflicts with itself but not with
// plain reads, so Seal/Unseal on other nodes never wait; after it, a
// READ COMMITTED transaction's next statement sees every committed key. On
// SQLite the write transaction (BEGIN IMMEDIATE) is already exclusive.
func lockKeys(ctx context.Context, d *db.DB, tx *sql.Tx) error {
	if d.Engine != db.Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "LOCK TABLE seal_keys IN SHARE ROW EXCLUSIVE MODE"); err != nil {
		return fmt.Errorf("seal: lock keys: %w", err)
	}
	return nil
}

func insertKeyRow(ctx context.Context, tx *sql.Tx, kind, handle, wrapped string, createdAt int64) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO seal_keys (kind, handle, wrapped, created_at)
		VALUES ($1, $2, $3, $4) RETURNING id`, kind, handle, wrapped, createdAt).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("seal: store %s key: %w", kind, err)
	}
	return id, nil
}

func updateWrapped(ctx context.Context, tx *sql.Tx, id int64, wrapped string) error {
	if _, err := tx.ExecContext(ctx, "UPDATE seal_keys SET wrapped = $1 WHERE id = $2", wrapped, id); err != nil {
		return fmt.Errorf("seal: re-wrap key %d: %w", id, err)
	}
	return nil
}

func setRetired(ctx context.Context, tx *sql.Tx, id, at int64) error {
	if _, err := tx.ExecContext(ctx, "UPDATE seal_keys SET retired_at = $1 WHERE id = $2", at, id); err != nil {
		return fmt.Errorf("seal: retire key %d: %w", id, err)
	}
	return nil
}
