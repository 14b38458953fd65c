package httpx

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"

	"github.com/gridhall/gridhall/internal/errs"
)

// DecodeJSON reads one JSON object from the request body into v, strictly:
// the content type must be JSON, unknown fields and trailing data are
// rejected, and every failure is an Invalid (or TooLarge) error whose message
// names the problem — the byte offset of a syntax error, or the field with
// the wrong type or an unknown name.
func DecodeJSON(r *http.Request, v any) error {
	const op = "httpx.DecodeJSON"
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && mt != "application/merge-patch+json") {
			return &errs.Error{Code: errs.Invalid, Op: op, Msg: "error.json.content_type"}
		}
	}
	return decodeJSON(r.Body, v)
}

func decodeJSON(body io.Reader, v any) error {
	const op = "httpx.DecodeJSON"
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(op, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return jsonError(op, err)
		}
		return &errs.Error{Code: errs.Invalid, Op: op, Msg: "error.json.trailing"}
	}
	return nil
}

func jsonError(op string, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return &errs.Error{Code: errs.TooLarge, Op: op, Msg: "error.json.too_large", Args: []any{mbe.Limit}}
	case errors.As(err, &syn):
		return &errs.Error{Code: errs.Invalid, Op: op, Msg: "error.json.syntax", Args: []any{syn.Offset}, Err: err}
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(body)"
		}
		return &errs.Error{Code: errs.Invalid, Op: op, Msg: "error.json.type", Args: []any{field, typ.Type.String()},
			Fields: map[string]string{field: "error.json.wrong_type"}, Err: err}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return &errs.Error{Code: errs.Invalid, Op: op, Msg: "error.json.eof", Err: err}
	}
	// encoding/json reports unknown fields only as text: `json: unknown field "x"`.
	const unknown = `json: unknown field "`
	if s := err.Error(); len(s) > len(unknown) && s[:len(unknown)] == unknown {
		field := s[len(unknown) : len(s)-1]
		return &errs.Error{Code: errs.Invalid, Op: op, Msg: "error.json.unknown_field", Args: []any{field},
			Fields: map[string]string{field: "error.json.unknown"}, Err: err}
	}
	return &errs.Error{Code: errs.Invalid, Op: op, Msg: "error.json.eof", Err: err}
}

// BodyError classifies a failure to read a request body: too large, or cut
// off by the client.
func BodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return &errs.Error{Code: errs.TooLarge, Op: "httpx.Body", Msg: "error.json.too_large", Args: []any{mbe.Limit}}
	}
	return &errs.Error{Code: errs.Invalid, Op: "httpx.Body", Msg: "error.json.eof", Err: err}
}
