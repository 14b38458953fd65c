package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/errs"
)

// auditPageSize is how many audit entries one page shows.
const auditPageSize = 50

// beijing is the time zone the audit log is shown in. China keeps one zone
// without daylight saving, so a fixed offset is exact and needs no tzdata.
var beijing = time.FixedZone("UTC+8", 8*60*60)

// auditRow is one audit entry as the page shows it: who did what to which
// object, and when. IP addresses, reasons and details stay out, so that
// reading the log does not itself expose personal data.
type auditRow struct {
	Seq        int64
	At         string
	Actor      string
	Role       auth.Role
	Action     string
	ObjectType string
	ObjectID   string
	Scope      string
}

// auditData is one page of the audit log.
type auditData struct {
	Rows    []auditRow
	Before  int64  // the cursor this page started from; 0 for the newest
	NextURL string // older entries, "" at the beginning of the log
}

// auditPage handles GET /audit?before=…: the newest entries inside the
// auditor's scope, paged backwards by sequence number.
func (w *Web) auditPage(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.auditPage"
	actor := auth.ActorFrom(r.Context())
	if !auth.Can(actor, auth.ReadAudit, actor.Scope) {
		return errs.E(errs.Forbidden, op, "error.forbidden")
	}
	before, err := cursor(r.URL.Query().Get("before"))
	if err != nil {
		return err
	}
	entries, err := w.audit.List(r.Context(), audit.Filter{BeforeSeq: before, ScopePath: actor.Scope, Limit: auditPageSize + 1})
	if err != nil {
		return errs.Wrap(op, err)
	}
	d := auditData{Before: before}
	if len(entries) > auditPageSize {
		entries = entries[:auditPageSize]
		d.NextURL = "/audit?before=" + strconv.FormatInt(entries[len(entries)-1].Seq, 10)
	}
	for _, e := range entries {
		d.Rows = append(d.Rows, auditRow{
			Seq: e.Seq, At: e.At.In(beijing).Format("2006-01-02 15:04:05"),
			Actor: e.ActorName, Role: auth.Role(e.ActorRole), Action: e.Action,
			ObjectType: e.ObjectType, ObjectID: e.ObjectID, Scope: e.ScopePath,
		})
	}
	p := w.newPage(r, "audit", "/audit")
	p.Data = d
	return w.render(rw, http.StatusOK, "audit", p)
}
