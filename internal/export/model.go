// Package export produces bulk exports of cases — CSV, XLSX or GeoJSON —
// for any filter a queue takes, plus a range of report dates. A request
// becomes a job row; a background worker on one node claims it (a lease lets
// another node take it up if that node dies), streams the cases from the
// database in keyset-paginated batches straight into a file in the export
// directory, and marks it ready with its row count, size and SHA-256. The
// requester downloads it until it expires (24 hours by default), when the
// purge removes the file.
//
// Reporters' contacts are masked unless the requester asks otherwise, which
// takes the permission that reveals personal data and a reason. Requests and
// every download are written to the audit log.
package export

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/cases"
)

// Format is a file format of an export.
type Format string

// The formats.
const (
	CSV     Format = "csv"
	XLSX    Format = "xlsx"
	GeoJSON Format = "geojson"
)

// Formats lists the formats.
var Formats = []Format{CSV, XLSX, GeoJSON}

// ContentType is the media type a download of the format is served as.
func (f Format) ContentType() string {
	switch f {
	case XLSX:
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case GeoJSON:
		return "application/geo+json"
	}
	return "text/csv; charset=utf-8"
}

// State is where an export job stands.
type State string

// The states: queued → running → ready | failed; ready → expired when the
// file is purged. A running job whose lease runs out is claimed again.
const (
	Queued  State = "queued"
	Running State = "running"
	Ready   State = "ready"
	Failed  State = "failed"
	Expired State = "expired"
)

// Filter is what an export selects: a queue's filters and a range of report
// dates. Dates are calendar days in China Standard Time, both inclusive.
type Filter struct {
	Queue        cases.Queue   `json:"queue,omitempty"`
	Category     string        `json:"category,omitempty"`
	Grid         string        `json:"grid,omitempty"` // a territory code at any level
	State        cases.State   `json:"state,omitempty"`
	Overdue      bool          `json:"overdue,omitempty"`
	Channel      cases.Channel `json:"channel,omitempty"`
	ReportedFrom string        `json:"reported_from,omitempty"` // YYYY-MM-DD
	ReportedTo   string        `json:"reported_to,omitempty"`   // YYYY-MM-DD
}

// Request asks for an export.
type Request struct {
	Format Format `json:"format"`
	Filter
	// Masked defaults to true; false writes reporters' contacts in full and
	// needs the reveal permission and a Reason.
	Masked *bool  `json:"masked,omitempty"`
	Reason string `json:"reason,omitempty"`
	// Lang is the language of the headers and words of CSV and XLSX files
	// (zh-CN or en); the faces fill it in from the user's language.
	Lang string `json:"-"`
}

// masked reports whether the request keeps contacts masked.
func (r Request) masked() bool { return r.Masked == nil || *r.Masked }

// Job is an export and where it stands.
type Job struct {
	ID          int64     `json:"id"`
	UserID      int64     `json:"-"`
	Username    string    `json:"requested_by"`
	ScopePath   string    `json:"-"`
	Format      Format    `json:"format"`
	Filter      Filter    `json:"filter"`
	Masked      bool      `json:"masked"`
	Lang        string    `json:"lang"`
	State       State     `json:"state"`
	Rows        int64     `json:"rows"`
	Bytes       int64     `json:"bytes"`
	File        string    `json:"-"`
	SHA256      string    `json:"sha256,omitempty"`
	Error       string    `json:"-"` // an i18n key; the faces translate it
	Attempts    int       `json:"-"`
	Downloads   int       `json:"downloads"`
	CreatedAt   time.Time `json:"created_at"`
	StartedAt   time.Time `json:"started_at,omitzero"`
	FinishedAt  time.Time `json:"finished_at,omitzero"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
	leaseOwner  string
	leaseExpiry time.Time
}

// FileName is the name a download is offered under.
func (j Job) FileName() string {
	return "cases-" + j.CreatedAt.In(calendar.Location()).Format("20060102-150405") + "-" + itoa(j.ID) + "." + string(j.Format)
}

// minReason and maxReason bound the reason for an unmasked export, as for
// revealing a resident's numbers.
const (
	minReason = 4
	maxReason = 200
)

// check validates a request, naming each bad field with an i18n key, and
// turns its filter into the case service's.
func (r *Request) check() (cases.ExportFilter, map[string]string) {
	bad := map[string]string{}
	r.Format = Format(strings.ToLower(strings.TrimSpace(string(r.Format))))
	if r.Format == "" {
		r.Format = CSV
	}
	if !slices.Contains(Formats, r.Format) {
		bad["format"] = "export.error.format"
	}
	r.Reason = strings.TrimSpace(r.Reason)
	if !r.masked() {
		if n := utf8.RuneCountInString(r.Reason); n < minReason || n > maxReason {
			bad["reason"] = "export.error.reason"
		}
	}
	f := cases.ExportFilter{Filter: cases.Filter{Queue: r.Queue, Category: strings.TrimSpace(r.Category),
		Grid: strings.TrimSpace(r.Grid), State: r.State, Overdue: r.Overdue, Channel: r.Channel}}
	var ok bool
	if r.ReportedFrom != "" {
		if f.From, ok = day(r.ReportedFrom); !ok {
			bad["reported_from"] = "error.field.date"
		}
	}
	if r.ReportedTo != "" {
		if f.To, ok = day(r.ReportedTo); !ok {
			bad["reported_to"] = "error.field.date"
		}
		f.To = f.To.AddDate(0, 0, 1) // inclusive: up to the end of that day
	}
	return f, bad
}

// day parses a calendar day in China Standard Time, where cases are reported.
func day(s string) (time.Time, bool) {
	t, err := time.ParseInLocation(time.DateOnly, strings.TrimSpace(s), calendar.Location())
	return t, err == nil
}
