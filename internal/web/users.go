package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/errs"
)

// usersPageSize is how many accounts one page of the list shows.
const usersPageSize = 50

// usersNotices are the confirmations after the account actions (?ok=…).
var usersNotices = map[string]string{
	"created":  "users.notice.created",
	"disabled": "users.notice.disabled",
	"enabled":  "users.notice.enabled",
	"password": "users.notice.password",
}

// usersData is the account administration page: one page of accounts and
// the search that selected them.
type usersData struct {
	Users   []auth.User
	Query   string
	After   int64  // the cursor this page started from; 0 on the first page
	NextURL string // the following page, "" on the last
	Roles   []auth.Role
}

// usersPage handles GET /admin/users?q=…&after=….
func (w *Web) usersPage(rw http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	after, err := cursor(q.Get("after"))
	if err != nil {
		return err
	}
	p := w.newPage(r, "users", "/admin/users")
	p.Notice = noticeFor(p, usersNotices, r)
	return w.renderUsers(rw, r, http.StatusOK, p, usersData{Query: q.Get("q"), After: after})
}

// renderUsers loads one page of accounts into d and renders the page with
// the given status; the create action uses it to show its errors.
func (w *Web) renderUsers(rw http.ResponseWriter, r *http.Request, status int, p *page, d usersData) error {
	ctx := r.Context()
	// One more than a page tells whether a next page exists.
	users, err := w.auth.ListUsers(ctx, auth.ActorFrom(ctx), auth.UserFilter{Query: d.Query, AfterID: d.After, Limit: usersPageSize + 1})
	if err != nil {
		return err
	}
	if len(users) > usersPageSize {
		users = users[:usersPageSize]
		next := url.Values{"after": {strconv.FormatInt(users[len(users)-1].ID, 10)}}
		if d.Query != "" {
			next.Set("q", d.Query)
		}
		d.NextURL = "/admin/users?" + next.Encode()
	}
	d.Users, d.Roles = users, auth.Roles
	p.Data = d
	return w.render(rw, status, "users", p)
}

// cursor parses a paging cursor: empty is the first page, anything but a
// positive number is the visitor's mistake, not ours.
func cursor(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, errs.E(errs.Invalid, "web.cursor", "error.field.number")
	}
	return n, nil
}
