package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/errs"
)

// actOnCase handles POST /cases/{id}/act: one step on the case, named by
// the form's action, taken on the version of the case the form was made
// from. Done, it returns to the case page with a confirmation; refused for
// the input or a stale version, it shows the page again with the problems
// beside that step's form.
func (w *Web) actOnCase(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.actOnCase"
	svc, err := w.caseService(op)
	if err != nil {
		return err
	}
	id, err := caseID(r, op, "id")
	if err != nil {
		return err
	}
	a, in, ok := decodeAct(r.PostForm)
	if !ok {
		return errs.E(errs.Invalid, op, "case.error.action")
	}
	values := formValues(r, "note", "target", "rating", "limit_amount", "limit_unit", "urgency")
	if in.Version == 0 {
		// Every form carries its version; one without it cannot prove it
		// saw the case as it is.
		return w.showCase(rw, r, http.StatusConflict, a, w.conflict(r, values))
	}
	in.Photos = uploads(r, "photos")
	defer closeUploads(in.Photos)
	if _, err := svc.Act(r.Context(), auth.ActorFrom(r.Context()), id, a, in); err != nil {
		f, status, ok := w.formProblem(rw, r, err, values)
		if !ok {
			return err
		}
		return w.showCase(rw, r, status, a, f)
	}
	return redirect(rw, r, "/cases/"+strconv.FormatInt(id, 10)+"?ok="+string(a))
}

// decodeAct reads a step's form: the action, which must be one the workflow
// knows, and its input. Numbers that do not parse are 0, which the service
// refuses by field (a rating, a limit) or which means "no version".
func decodeAct(f url.Values) (cases.Action, cases.Input, bool) {
	a := cases.Action(f.Get("action"))
	if !slices.Contains(cases.Actions, a) {
		return "", cases.Input{}, false
	}
	in := cases.Input{Note: f.Get("note"), Target: strings.TrimSpace(f.Get("target")), Version: int(min(formInt(f.Get("version")), maxVersion))}
	switch a {
	case cases.Rate:
		in.Rating = cases.Rating(min(formInt(f.Get("rating")), 100))
	case cases.RequestExtension:
		in.Limit = calendar.Limit{Amount: int(min(formInt(f.Get("limit_amount")), calendar.MaxLimitAmount+1)), Unit: calendar.Unit(f.Get("limit_unit"))}
	case cases.Register:
		in.Urgency = catalog.Urgency(f.Get("urgency"))
	}
	return a, in, true
}

// maxVersion bounds a posted version: a case changes far fewer times, and
// an int must hold it on every platform.
const maxVersion = 1 << 30

// conflict is the form state of a step refused because the case changed.
func (w *Web) conflict(r *http.Request, values map[string]string) form {
	return form{Values: values, Message: w.i18n.T(w.lang(r), "case.error.stale")}
}
