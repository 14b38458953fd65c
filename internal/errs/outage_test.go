package errs

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
)

type sqlState string

func (s sqlState) Error() string    { return "server said " + string(s) }
func (s sqlState) SQLState() string { return string(s) }

type connErr struct{}

func (connErr) Error() string     { return "failed to receive message: unexpected EOF" }
func (connErr) SafeToRetry() bool { return false }

func TestADatabaseOutageIsUnavailableWithRetryAfterAndOtherFailuresStayInternal(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, c := range []struct {
		name string
		err  error
		want Code
	}{
		{"connection refused", fmt.Errorf("begin: %w", refused), Unavailable},
		{"bad connection", driver.ErrBadConn, Unavailable},
		{"dropped connection", connErr{}, Unavailable},
		{"cut off mid-answer", Wrap("cases.Report", io.ErrUnexpectedEOF), Unavailable},
		{"server shutting down", sqlState("57P01"), Unavailable},
		{"server starting up", sqlState("57P03"), Unavailable},
		{"connection exception class", sqlState("08006"), Unavailable},
		{"unique violation", sqlState("23505"), Internal},
		{"plain failure", errors.New("boom"), Internal},
		{"wrapped as internal on the way", Wrap("op", fmt.Errorf("x: %w", refused)), Unavailable},
		{"an internal error that carries an outage", &Error{Code: Internal, Op: "op", Err: refused}, Unavailable},
		{"a coded error keeps its code", &Error{Code: NotFound, Err: refused}, NotFound},
	} {
		if got := CodeOf(c.err); got != c.want {
			t.Errorf("%s: CodeOf = %s, want %s", c.name, got, c.want)
		}
		if e := As(c.err); c.want == Unavailable && (e.RetryAfter <= 0 || e.Msg != "error.unavailable") {
			t.Errorf("%s: As = %+v, want a Retry-After and the unavailable message", c.name, e)
		}
	}
}
