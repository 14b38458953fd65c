package web

import (
	"encoding/json"
	"net/http"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/people"
	"github.com/gridhall/gridhall/internal/seal"
)

// meNotices are the confirmations of the own-record page (?ok=…).
var meNotices = map[string]string{
	"welcome":  "me.notice.welcome",
	"verified": "me.notice.verified",
}

// meData is a resident's own record as the page shows it. The numbers are
// masked here although they are the resident's own: the page may be read
// on a shared computer at the community centre. The full values are in the
// downloaded data.
type meData struct {
	Verified bool
	Record   people.MyRecord
	Document string
	Phone    string
}

// requireResident lets only residents (not staff) reach their own record.
func requireResident(r *http.Request, op string) (auth.Actor, error) {
	actor := auth.ActorFrom(r.Context())
	if actor.Role != auth.Resident {
		return actor, errs.E(errs.Forbidden, op, "me.staff")
	}
	return actor, nil
}

// mePage handles GET /me: the resident's record and household once their
// account is linked to it, else the form that links it.
func (w *Web) mePage(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.mePage"
	actor, err := requireResident(r, op)
	if err != nil {
		return err
	}
	svc, err := w.registry(op)
	if err != nil {
		return err
	}
	p := w.newPage(r, "me", "/me")
	p.Notice = noticeFor(p, meNotices, r)
	d := meData{}
	rec, err := svc.Me(r.Context(), actor)
	switch {
	case errs.Is(err, errs.NotFound):
	case err != nil:
		return err
	default:
		d = meData{Verified: true, Record: rec, Phone: seal.MaskPhone(rec.Phone), Document: seal.MaskPassport(rec.Document)}
		if rec.DocumentKind == "id_card" {
			d.Document = seal.MaskIDNumber(rec.Document)
		}
	}
	p.Data = d
	return w.render(rw, http.StatusOK, "me", p)
}

// verifyMe handles POST /me/verify: the resident types their name and
// identity number, and the account is linked to the matching record. The
// number is never written back into the page, also after a mistake.
func (w *Web) verifyMe(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.verifyMe"
	actor, err := requireResident(r, op)
	if err != nil {
		return err
	}
	svc, err := w.registry(op)
	if err != nil {
		return err
	}
	err = svc.VerifySelf(r.Context(), w.auth, actor, r.PostFormValue("name"), r.PostFormValue("document_number"))
	if err != nil {
		f, status, ok := w.formProblem(rw, r, err, formValues(r, "name"))
		if !ok {
			return err
		}
		p := w.newPage(r, "me", "/me")
		p.Form, p.Data = f, meData{}
		return w.render(rw, status, "me", p)
	}
	return redirect(rw, r, "/me?ok=verified")
}

// myData handles GET /me/data: everything the registry holds about the
// resident, and who read or changed it, as a JSON file to keep.
func (w *Web) myData(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.myData"
	actor, err := requireResident(r, op)
	if err != nil {
		return err
	}
	svc, err := w.registry(op)
	if err != nil {
		return err
	}
	data, err := svc.DownloadMyData(r.Context(), actor)
	if err != nil {
		return err
	}
	body, err := json.MarshalIndent(data, "", "  ")
	if err != nil {
		return errs.Wrap(op, err)
	}
	h := rw.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="my-data.json"`)
	_, _ = rw.Write(append(body, '\n'))
	return nil
}
