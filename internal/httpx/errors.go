// Package httpx is GridHall's HTTP platform: the one table from error codes
// to statuses, JSON encoding and strict decoding, the client address, the
// request's language, and the middleware every face shares (request ids,
// access logs, panic recovery, security headers, body limits, metrics).
package httpx

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/i18n"
)

// statuses maps every error code to its HTTP status. It is the only place
// where codes become statuses.
var statuses = map[errs.Code]int{
	errs.Invalid:         http.StatusBadRequest,
	errs.NotFound:        http.StatusNotFound,
	errs.Forbidden:       http.StatusForbidden,
	errs.Unauthenticated: http.StatusUnauthorized,
	errs.Conflict:        http.StatusConflict,
	errs.TooMany:         http.StatusTooManyRequests,
	errs.Unavailable:     http.StatusServiceUnavailable,
	errs.TooLarge:        http.StatusRequestEntityTooLarge,
	errs.Gone:            http.StatusGone,
	errs.Internal:        http.StatusInternalServerError,
}

// Status returns the HTTP status of an error code.
func Status(c errs.Code) int {
	if s, ok := statuses[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// defaultMessages are the message keys of errors that carry none of their own.
var defaultMessages = map[errs.Code]string{
	errs.Invalid:         "error.invalid_fields",
	errs.NotFound:        "error.not_found",
	errs.Forbidden:       "error.forbidden",
	errs.Unauthenticated: "error.unauthenticated",
	errs.Conflict:        "error.conflict",
	errs.TooMany:         "error.too_many",
	errs.Unavailable:     "error.unavailable",
	errs.TooLarge:        "error.too_large",
	errs.Gone:            "error.gone",
	errs.Internal:        "error.internal",
}

// Problem is an error translated for a user: what both faces render.
type Problem struct {
	Status     int               `json:"-"`
	Code       errs.Code         `json:"code"`
	Message    string            `json:"message"`
	Fields     map[string]string `json:"fields,omitempty"`
	RequestID  string            `json:"request_id,omitempty"`
	RetryAfter int               `json:"-"` // seconds
}

// Translate turns err into a Problem in lang. Internal errors never reveal
// their cause: the user sees the request id, the log has the rest.
func Translate(tr *i18n.Bundle, lang string, reqID string, err error) Problem {
	e := errs.As(err)
	p := Problem{Status: Status(e.Code), Code: e.Code, RequestID: reqID}
	switch {
	case e.Code == errs.Internal:
		p.Message = tr.T(lang, "error.internal", reqID)
	case e.Msg != "":
		args := make([]any, len(e.Args))
		for i, a := range e.Args {
			if k, ok := a.(errs.Key); ok {
				a = tr.T(lang, string(k))
			}
			args[i] = a
		}
		p.Message = tr.T(lang, e.Msg, args...)
	default:
		p.Message = tr.T(lang, defaultMessages[e.Code])
	}
	if len(e.Fields) > 0 {
		p.Fields = make(map[string]string, len(e.Fields))
		for f, k := range e.Fields {
			p.Fields[f] = tr.T(lang, k)
		}
	}
	if e.RetryAfter > 0 {
		p.RetryAfter = int((e.RetryAfter.Seconds())) + 1
	}
	return p
}

// WriteJSON writes v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// WriteProblemJSON writes a Problem in the JSON error format
// {"error":{"code":…,"message":…,"fields":{…}}}.
func WriteProblemJSON(w http.ResponseWriter, p Problem) {
	if p.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(p.RetryAfter))
	}
	WriteJSON(w, p.Status, map[string]Problem{"error": p})
}
