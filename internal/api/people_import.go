package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/httpx"
	"github.com/gridhall/gridhall/internal/people"
)

// ResidentsImportPrefix is the registry import's path: request bodies there
// may be as large as a file upload (httpx.LimitBody's upload prefixes).
const ResidentsImportPrefix = "/api/v1/residents/import"

// transferDeadline is how long an import or export may take to arrive and
// to answer. The server's deadlines (a minute to read a request, two to
// answer) suit ordinary requests; a register of a million residents takes
// longer to upload on a slow line and about a minute to import.
const transferDeadline = 30 * time.Minute

// registerImport adds the registry's spreadsheet import and export.
func (a *API) registerImport(mux *http.ServeMux) {
	mux.Handle("POST "+ResidentsImportPrefix, a.handle(a.importResidents, "write"))
	// The export takes a JSON body, like the search: identity and phone
	// numbers used as filters must not travel in URLs.
	mux.Handle("POST /api/v1/residents/export", a.handle(a.exportResidents, "read"))
}

// importReport is the import report as the API answers it: the problems
// translated, and the column problems with snake_case keys and a message.
type importReport struct {
	people.ImportReport
	ColumnProblems []columnProblem `json:"column_problems,omitempty"`
}

type columnProblem struct {
	Field   string `json:"field"`
	Header  string `json:"header,omitempty"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// importResidents takes a multipart form: file (CSV or XLSX), and optionally
// mapping (a JSON object, field → header), valid_only and dry_run ("true").
// It answers 200 with the report, or the error with the report beside it:
// {"error": {…}, "report": {…}}.
func (a *API) importResidents(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	const op = "api.importResidents"
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(transferDeadline)) // not every writer supports deadlines (tests)
	_ = rc.SetWriteDeadline(time.Now().Add(transferDeadline))
	// Parts beyond 1 MiB go to a temporary file, so the upload is never
	// held in memory; the import then reads it twice from there.
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return httpx.BodyError(err)
		}
		return &errs.Error{Code: errs.Invalid, Op: op, Msg: "error.invalid_fields", Fields: map[string]string{"file": "error.field.required"}, Err: err}
	}
	defer r.MultipartForm.RemoveAll()
	file, header, err := r.FormFile("file")
	if err != nil {
		return errs.Fields(op, map[string]string{"file": "error.field.required"})
	}
	defer file.Close()
	opt := people.ImportOptions{ValidOnly: formBool(r, "valid_only"), DryRun: formBool(r, "dry_run")}
	if m := r.FormValue("mapping"); m != "" {
		if err := json.Unmarshal([]byte(m), &opt.Mapping); err != nil {
			return errs.Fields(op, map[string]string{"mapping": "error.json.wrong_type"})
		}
	}
	rep, err := a.d.People.Import(r.Context(), actor, file, header.Size, header.Filename, opt)
	lang := httpx.Lang(r, a.d.I18n.Match)
	rep.Localize(func(key string, args ...any) string { return a.d.I18n.T(lang, key, args...) })
	body := importReport{ImportReport: rep}
	for _, p := range rep.ColumnProblems {
		body.ColumnProblems = append(body.ColumnProblems, columnProblem{Field: p.Field, Header: p.Header, Reason: p.Reason, Message: a.d.I18n.T(lang, p.Reason)})
	}
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		if errs.CodeOf(err) != errs.Invalid {
			return err
		}
		p := httpx.Translate(a.d.I18n, lang, httpx.RequestID(r.Context()), err)
		httpx.WriteJSON(w, p.Status, map[string]any{"error": p, "report": body})
		return nil
	}
	httpx.WriteJSON(w, http.StatusOK, body)
	return nil
}

// formBool reads a checkbox-like form value: "true", "1" or "on".
func formBool(r *http.Request, name string) bool {
	v := r.FormValue(name)
	if v == "on" {
		return true
	}
	b, _ := strconv.ParseBool(v)
	return b
}

// exportResidents answers the residents matching a search as a CSV or XLSX
// attachment, with headers in the client's language. The body is JSON:
// {"format": "csv"|"xlsx", the search filters (name, document, phone,
// building_id, house_id, tag), "reveal": true, "reason": "…"}.
func (a *API) exportResidents(w http.ResponseWriter, r *http.Request, actor auth.Actor) error {
	var in struct {
		Format     string `json:"format"`
		Name       string `json:"name"`
		Document   string `json:"document"`
		Phone      string `json:"phone"`
		BuildingID int64  `json:"building_id"`
		HouseID    int64  `json:"house_id"`
		Tag        string `json:"tag"`
		Reveal     bool   `json:"reveal"`
		Reason     string `json:"reason"`
	}
	if err := httpx.DecodeJSON(r, &in); err != nil {
		return err
	}
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(transferDeadline))
	out := &attachment{w: w, format: in.Format}
	f := people.Filter{Name: in.Name, Document: in.Document, Phone: in.Phone, BuildingID: in.BuildingID, HouseID: in.HouseID, Tag: in.Tag}
	_, err := a.d.People.Export(r.Context(), actor, out, in.Format, f, in.Reveal, in.Reason, httpx.Lang(r, a.d.I18n.Match))
	if err != nil && out.started {
		// Part of the file is out: the status is sent. Cutting the
		// connection is the only way left to say the file is incomplete.
		a.d.Log.LogAttrs(r.Context(), slog.LevelError, "export failed", slog.String("id", httpx.RequestID(r.Context())), slog.Any("err", err))
		panic(http.ErrAbortHandler)
	}
	return err
}

// attachment sets the download's headers on the first write, so that an
// export refused before its first byte is answered as an ordinary JSON
// error.
type attachment struct {
	w       http.ResponseWriter
	format  string
	started bool
}

func (a *attachment) Write(p []byte) (int, error) {
	if !a.started {
		a.started = true
		h := a.w.Header()
		if a.format == people.ExportXLSX {
			h.Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
		} else {
			h.Set("Content-Type", "text/csv; charset=utf-8")
		}
		h.Set("Content-Disposition", `attachment; filename="residents.`+a.format+`"`)
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		a.w.WriteHeader(http.StatusOK)
	}
	return a.w.Write(p)
}
