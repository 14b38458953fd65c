// Package durability holds GridHall's process-level evidence, built only
// with the durability tag (make test-durability): the real binary killed
// with SIGKILL during writes on SQLite, a PostgreSQL outage under load, and
// several nodes on one PostgreSQL behind a round-robin proxy. The tests
// start real processes and real databases, so plain `go test ./...` leaves
// them out; this file only gives the package a name outside the tag.
package durability
