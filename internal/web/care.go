package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/people"
)

// carePageSize is how many residents one page of the care schedule shows.
const carePageSize = 20

// careRow is a resident due for a visit, with the dates as the page shows
// them.
type careRow struct {
	people.CareItem
	LastVisit string // Beijing date, "" when never visited
}

// careData is one page of the care schedule.
type careData struct {
	Items    []careRow
	Places   map[string]string
	Total    int
	Overdue  int
	From     int // index of the first item shown
	PrevURL  string
	NextURL  string
	CanVisit bool
}

// carePage handles GET /care?from=…: the residents in the actor's scope who
// are due or overdue for a visit, most urgent first, each with a link that
// starts the visit form with their household ticked.
func (w *Web) carePage(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.carePage"
	actor, err := requireSomewhere(r, op, auth.ReadPeople)
	if err != nil {
		return err
	}
	svc, err := w.registry(op)
	if err != nil {
		return err
	}
	from64, err := cursor(r.URL.Query().Get("from"))
	if err != nil {
		return err
	}
	// The schedule is computed whole (it is bounded by the service) and
	// paged here, so that the order stays the service's.
	items, err := svc.CareDue(r.Context(), actor, time.Time{})
	if err != nil {
		return err
	}
	d := careData{Total: len(items), From: int(min(from64, int64(len(items)))), CanVisit: canSomewhere(actor, auth.WritePeople)}
	for _, it := range items {
		if it.Status == people.StatusOverdue {
			d.Overdue++
		}
	}
	end := min(d.From+carePageSize, len(items))
	for _, it := range items[d.From:end] {
		row := careRow{CareItem: it}
		if it.LastVisitAt != nil {
			row.LastVisit = it.LastVisitAt.In(beijing).Format("2006-01-02")
		}
		d.Items = append(d.Items, row)
	}
	if end < len(items) {
		d.NextURL = "/care?from=" + strconv.Itoa(end)
	}
	if d.From > 0 {
		d.PrevURL = "/care?from=" + strconv.Itoa(max(0, d.From-carePageSize))
	}
	p := w.newPage(r, "visits", "/care")
	if d.Places, err = w.placeNames(r.Context(), actor, p.Lang); err != nil {
		return err
	}
	p.Data = d
	return w.render(rw, http.StatusOK, "care", p)
}
