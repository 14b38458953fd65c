package web

import (
	"context"
	"net/http"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/people"
	"github.com/gridhall/gridhall/internal/territory"
)

// residentData is a resident's page: the masked record, the household and
// its house, and which numbers the actor may reveal.
type residentData struct {
	people.Detail
	// Places names the grids by code.
	Places map[string]string
	// Building is the house's building; its zero value when the territory
	// service is not wired in.
	Building territory.Building
	// CanReveal offers the reveal forms, CanVisit the link to record a
	// visit to the household (the services check again).
	CanReveal, CanVisit bool
	// Revealed is the field whose full value this response shows, once,
	// and Value that value; both empty on every other response.
	Revealed string
	Value    string
	// Failed is the field whose reveal form came back with an error, so
	// that the page opens that form and shows the error beside it.
	Failed string
}

// residentPage handles GET /people/{id}. A resident outside the actor's
// scope is "not found", as in the service: the page does not tell whether
// they exist.
func (w *Web) residentPage(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.residentPage"
	id, err := residentID(r, op)
	if err != nil {
		return err
	}
	p := w.newPage(r, "people", "/people")
	d, err := w.residentData(r.Context(), op, id, p.Lang)
	if err != nil {
		return err
	}
	p.Data = d
	return w.render(rw, http.StatusOK, "resident", p)
}

// residentData loads what the resident page shows.
func (w *Web) residentData(ctx context.Context, op string, id int64, lang string) (residentData, error) {
	svc, err := w.registry(op)
	if err != nil {
		return residentData{}, err
	}
	actor := auth.ActorFrom(ctx)
	det, err := svc.Resident(ctx, actor, id)
	if err != nil {
		return residentData{}, err
	}
	d := residentData{Detail: det}
	if d.Places, err = w.placeNames(ctx, actor, lang); err != nil {
		return residentData{}, err
	}
	if path, err := auth.ScopeFromCode(det.GridCode); err == nil {
		d.CanReveal = auth.Can(actor, auth.RevealPeople, path)
		d.CanVisit = auth.Can(actor, auth.WritePeople, path)
	}
	if w.territory != nil && det.House.BuildingID != 0 {
		// The resident was found inside the actor's scope, so their
		// building may be named.
		if b, err := w.territory.BuildingByID(ctx, det.House.BuildingID); err == nil {
			d.Building = b
		}
	}
	return d, nil
}

// numberRow is one sensitive number on the resident page: masked, or in
// full on the response to its reveal.
type numberRow struct {
	Field  string // people.FieldDocument or people.FieldPhone
	Label  string // message key of its name
	Masked string
	Value  string // the full value, on the reveal response only
	Failed bool   // its reveal form came back with an error
}

// Numbers lists the resident's sensitive numbers; a phone number is left
// out when there is none (children).
func (d residentData) Numbers() []numberRow {
	rows := []numberRow{{Field: people.FieldDocument, Label: "registry.document", Masked: d.Document}}
	if d.Phone != "" {
		rows = append(rows, numberRow{Field: people.FieldPhone, Label: "registry.phone", Masked: d.Phone})
	}
	for i := range rows {
		if rows[i].Field == d.Revealed {
			rows[i].Value = d.Value
		}
		rows[i].Failed = rows[i].Field == d.Failed
	}
	return rows
}
