// Package bench measures GridHall's headline workloads on a data set and
// puts each figure beside its limit or a peer measured in the same run on
// the same machine (a bare insert, a hello-world handler, PostGIS, sqlite3's
// own CSV import), so that a figure means something on whatever machine it
// was taken: `gridhall bench` prints them as one table.
package bench

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
)

// BareTable is the table the bare-insert peer writes to.
const BareTable = "bench_bare"

// CreateBareTable creates BareTable if it is missing.
func CreateBareTable(ctx context.Context, d *db.DB) error {
	id := "id INTEGER PRIMARY KEY" // SQLite's rowid
	if d.Engine == db.Postgres {
		id = "id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"
	}
	_, err := d.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+BareTable+` (`+id+`, category TEXT NOT NULL,
		description TEXT NOT NULL, lng REAL, lat REAL, created_at BIGINT NOT NULL)`)
	return err
}

// BareInsert is the limit of case intake on a database: a handler that
// decodes the same JSON as POST /api/v1/cases and inserts one row in one
// write transaction through the same db.DB (the same writer queue and
// durability on SQLite), and does nothing else — no token, routing,
// checks, audit or timeline. Mounted beside the application on the same
// server, it shows what the case intake's own work costs.
func BareInsert(d *db.DB, c clock.Clock) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Category    string  `json:"category"`
			Description string  `json:"description"`
			Lng         float64 `json:"lng"`
			Lat         float64 `json:"lat"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var id int64
		err := d.Tx(r.Context(), func(tx *sql.Tx) error {
			return tx.QueryRowContext(r.Context(), `INSERT INTO `+BareTable+` (category, description, lng, lat, created_at)
				VALUES ($1, $2, $3, $4, $5) RETURNING id`, in.Category, in.Description, in.Lng, in.Lat, db.Millis(c.Now())).Scan(&id)
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":%d}`, id)
	}
}

// Hello is the floor of any request: Go's HTTP server answering a fixed
// body, with no middleware.
func Hello(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain")
	w.Write([]byte("hello, world\n"))
}
