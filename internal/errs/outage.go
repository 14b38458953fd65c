package errs

import (
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"time"
)

// OutageRetryAfter is how long clients are asked to wait when the database
// cannot be reached: long enough not to hammer a restarting server, short
// enough that a client is back soon after it returns.
const OutageRetryAfter = 2 * time.Second

// Outage reports whether err says the database could not be reached or
// dropped the connection — a passing condition, so the faces answer 503
// with Retry-After instead of 500. It recognises the failure by behaviour,
// not by driver type, so that this bottom package imports no driver:
// database/sql's ErrBadConn; a connection cut off mid-answer; a network operation that failed (connection
// refused or reset); a connection-level error of the PostgreSQL driver,
// which marks those (and only those, never an error the server answered)
// with a SafeToRetry method; and the server's own SQLSTATEs for "shutting
// down", "starting up", "too many connections" and the 08 connection class.
func Outage(err error) bool {
	if err == nil {
		return false
	}
	// A connection that ended in the middle of an answer: the PostgreSQL
	// driver returns io.ErrUnexpectedEOF bare when the server dies while a
	// statement runs (an immediate shutdown, a crash).
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return true
	}
	var conn interface{ SafeToRetry() bool }
	if errors.As(err, &conn) {
		return true
	}
	var pg interface{ SQLState() string }
	if errors.As(err, &pg) {
		s := pg.SQLState()
		return strings.HasPrefix(s, "08") || s == "57P01" || s == "57P02" || s == "57P03" || s == "53300"
	}
	return false
}

// unavailable is the error a face shows for a database outage.
func unavailable(op string, err error) *Error {
	return &Error{Code: Unavailable, Op: op, Msg: "error.unavailable", RetryAfter: OutageRetryAfter, Err: err}
}
