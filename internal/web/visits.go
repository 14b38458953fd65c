package web

import (
	"net/http"
	"strconv"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/people"
)

// visitsPageSize is how many visits one page of the log shows.
const visitsPageSize = 20

// visitsNotices are the confirmations of the visits log (?ok=…).
var visitsNotices = map[string]string{
	"recorded": "visits.notice.recorded",
}

// visitRow is a visit as the log shows it, times in Beijing time.
type visitRow struct {
	people.Visit
	Day, From, To string
}

// visitsData is one page of the visits log.
type visitsData struct {
	Visits   []visitRow
	Places   map[string]string
	After    int64
	NextURL  string
	CanVisit bool
}

// visitsPage handles GET /visits?after=…: the visits in the actor's scope,
// newest first.
func (w *Web) visitsPage(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.visitsPage"
	actor, err := requireSomewhere(r, op, auth.ReadPeople)
	if err != nil {
		return err
	}
	svc, err := w.registry(op)
	if err != nil {
		return err
	}
	after, err := cursor(r.URL.Query().Get("after"))
	if err != nil {
		return err
	}
	vs, err := svc.Visits(r.Context(), actor, people.VisitFilter{AfterID: after, Limit: visitsPageSize + 1})
	if err != nil {
		return err
	}
	d := visitsData{After: after, CanVisit: canSomewhere(actor, auth.WritePeople)}
	if len(vs) > visitsPageSize {
		vs = vs[:visitsPageSize]
		d.NextURL = "/visits?after=" + strconv.FormatInt(vs[len(vs)-1].ID, 10)
	}
	for _, v := range vs {
		from, to := v.StartedAt.In(beijing), v.EndedAt.In(beijing)
		row := visitRow{Visit: v, Day: from.Format("2006-01-02"), From: from.Format("15:04"), To: to.Format("15:04")}
		if to.Format("2006-01-02") != row.Day {
			row.To = to.Format("2006-01-02 15:04")
		}
		d.Visits = append(d.Visits, row)
	}
	p := w.newPage(r, "visits", "/visits")
	if d.Places, err = w.placeNames(r.Context(), actor, p.Lang); err != nil {
		return err
	}
	p.Notice = noticeFor(p, visitsNotices, r)
	p.Data = d
	return w.render(rw, http.StatusOK, "visits", p)
}
