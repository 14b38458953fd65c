package web

import (
	"net/http"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/people"
)

// revealResident handles POST /people/{id}/reveal: one full identity or
// phone number, for a typed reason that the service audits. The value is
// shown on this response only: it is never stored in the session or put in
// a URL, and the page is not cached (wrap sets no-store), so reloading or
// going back does not show it again without a new, audited reveal.
func (w *Web) revealResident(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.revealResident"
	id, err := residentID(r, op)
	if err != nil {
		return err
	}
	svc, err := w.registry(op)
	if err != nil {
		return err
	}
	field, reason := r.PostFormValue("field"), r.PostFormValue("reason")
	if field != people.FieldDocument && field != people.FieldPhone {
		field = people.FieldDocument
	}
	value, rerr := svc.Reveal(r.Context(), auth.ActorFrom(r.Context()), id, field, reason)
	p := w.newPage(r, "people", "/people/"+r.PathValue("id"))
	d, err := w.residentData(r.Context(), op, id, p.Lang)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if rerr != nil {
		f, st, ok := w.formProblem(rw, r, rerr, map[string]string{"reason": reason})
		if !ok {
			return rerr
		}
		p.Form, status = f, st
		d.Failed = field
	} else {
		d.Revealed, d.Value = field, value
		p.Notice = p.T("registry.reveal.done")
	}
	p.Data = d
	return w.render(rw, status, "resident", p)
}
