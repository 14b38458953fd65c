package db

import (
	"context"
	"database/sql"
)

// WithBulkConn runs fn on the connection of the write path, holding the
// writer's turn for as long as fn runs. Bulk loaders need one connection
// for their whole run: session settings (PRAGMAs on SQLite, SET on
// PostgreSQL) stay with a connection, prepared statements belong to it, and
// on PostgreSQL COPY needs the driver's connection (sql.Conn.Raw).
//
// On SQLite the idle read connections are closed first and none are kept
// until fn returns, so that fn may take the database out of WAL mode for
// the load (no other connection may have it open then). fn must not read
// through d meanwhile: a new read connection would switch the file back to
// WAL.
func (d *DB) WithBulkConn(ctx context.Context, fn func(c *sql.Conn) error) error {
	if err := d.queue(ctx); err != nil {
		return err
	}
	defer d.unqueue()
	if d.Engine == SQLite {
		idle := d.read.Stats().MaxOpenConnections
		d.read.SetMaxIdleConns(0)
		defer d.read.SetMaxIdleConns(idle)
	}
	c, err := d.write.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(c)
}
