// Package errs holds GridHall's one error type. Services return *Error values
// that carry a machine code, the failing operation and a user-facing message
// key; each face (web pages, JSON API, command line) maps codes to its own
// format in one place and translates message keys into the user's language.
package errs

import (
	"errors"
	"fmt"
	"time"
)

// Code classifies an error for the faces. The set is closed: every code maps
// to exactly one HTTP status in httpx.
type Code string

// The error codes.
const (
	Invalid         Code = "invalid"
	NotFound        Code = "not_found"
	Forbidden       Code = "forbidden"
	Unauthenticated Code = "unauthenticated"
	Conflict        Code = "conflict"
	TooMany         Code = "too_many_requests"
	Unavailable     Code = "unavailable"
	TooLarge        Code = "too_large"
	Gone            Code = "gone" // existed once and will not again, such as an expired export
	Internal        Code = "internal"
)

// Error is a failure with a code and a translatable message.
//
// Msg and the values of Fields are i18n message keys (for example
// "error.field.required"); Args fill the placeholders of Msg. Err keeps the
// underlying cause for logs and is never shown to users.
type Error struct {
	Code       Code
	Op         string
	Msg        string
	Args       []any
	Fields     map[string]string
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string {
	s := string(e.Code)
	if e.Op != "" {
		s = e.Op + ": " + s
	}
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if len(e.Args) > 0 {
		s += fmt.Sprint(e.Args)
	}
	for f, m := range e.Fields {
		s += fmt.Sprintf(" [%s: %s]", f, m)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// E builds an error with a code, operation and message key.
func E(code Code, op, msg string, args ...any) *Error {
	return &Error{Code: code, Op: op, Msg: msg, Args: args}
}

// Key is a message argument that is itself an i18n key: the faces translate
// it into the reader's language before filling the placeholder, so that
// "cannot verify a case that is closed" reads whole in either language.
type Key string

// Fields builds an Invalid error that names each bad field; fields maps a
// field name to the message key explaining what is wrong with it.
func Fields(op string, fields map[string]string) *Error {
	return &Error{Code: Invalid, Op: op, Msg: "error.invalid_fields", Fields: fields}
}

// Wrap marks an unexpected failure as Internal, keeping the cause for logs.
// An error that already has a code keeps it.
func Wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	if Outage(err) {
		return unavailable(op, err)
	}
	return &Error{Code: Internal, Op: op, Msg: "error.internal", Err: err}
}

// CodeOf returns the code of err, Internal for uncoded errors and "" for nil.
// A database outage (see Outage) is Unavailable, coded or not.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	return As(err).Code
}

// As returns err as *Error, wrapping uncoded errors as Internal, except a
// database outage, which is Unavailable with a Retry-After even when
// something on the way already called it Internal.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		if e.Code == Internal && Outage(e.Err) {
			return unavailable(e.Op, e.Err)
		}
		return e
	}
	if Outage(err) {
		return unavailable("", err)
	}
	return &Error{Code: Internal, Msg: "error.internal", Err: err}
}

// Is reports whether err carries the given code.
func Is(err error, code Code) bool { return CodeOf(err) == code }
