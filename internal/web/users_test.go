package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/i18n"
)

func TestAdminPagesAreForbiddenForOtherRoles(t *testing.T) {
	e := newEnv(t)
	e.user("worker", auth.GridWorker, "420106", false)
	b := e.browser("en")
	b.signIn("worker")
	for _, res := range []response{
		b.get("/admin/users"),
		b.post("/admin/users", url.Values{"csrf": {b.csrf()}, "username": {"x1"}, "password": {testPassword}, "role": {"resident"}}),
		b.get("/audit"),
	} {
		wantStatus(t, res, http.StatusForbidden)
		wantText(t, res, e.bundle.T(i18n.English, "error.forbidden"))
	}
	home := b.get("/")
	if strings.Contains(home.Body, `href="/admin/users"`) || strings.Contains(home.Body, `href="/audit"`) {
		t.Fatal("a grid worker's home page links to administration")
	}
}

func TestSignedInPagesSendAnonymousVisitorsToLogin(t *testing.T) {
	e := newEnv(t)
	b := e.browser("")
	wantRedirect(t, b.get("/"), "/login")
	wantRedirect(t, b.get("/admin/users?q=a"), "/login?next="+url.QueryEscape("/admin/users?q=a"))
	wantRedirect(t, b.get("/password"), "/login?next=%2Fpassword")
	wantRedirect(t, b.post("/admin/users", url.Values{"username": {"x"}}), "/login")
}

func TestAdminCreatesAccountThatMustChangePassword(t *testing.T) {
	e := newEnv(t)
	e.user("admin", auth.SystemAdmin, "", false)
	admin := e.browser("en")
	admin.signIn("admin")
	res := admin.post("/admin/users", url.Values{"csrf": {admin.csrf()}, "username": {"newbie"}, "display_name": {"小李"},
		"role": {"grid_worker"}, "scope": {"420106001002"}, "password": {"temporary password"}})
	wantRedirect(t, res, "/admin/users?ok=created")
	list := admin.get("/admin/users?ok=created")
	wantText(t, list, e.bundle.T(i18n.English, "users.notice.created"))
	wantText(t, list, "小李")
	wantText(t, list, e.bundle.T(i18n.English, "users.status.must_change"))

	// The new account is sent to /password from every page until it has
	// chosen its own password; preferences and sign-out still work.
	u := e.browser("en")
	res = u.post("/login", url.Values{"username": {"newbie"}, "password": {"temporary password"}})
	wantRedirect(t, res, "/password")
	for _, path := range []string{"/", "/admin/users", "/audit", "/login"} {
		wantRedirect(t, u.get(path), "/password")
	}
	page := u.get("/password")
	wantStatus(t, page, http.StatusOK)
	wantText(t, page, e.bundle.T(i18n.English, "password.must_change"))
	wantText(t, page, e.bundle.T(i18n.English, "password.current_temporary"))
	if strings.Contains(page.Body, `href="/admin/users"`) {
		t.Fatal("the navigation offers pages that would only lead back to /password")
	}
	wantRedirect(t, u.post("/prefs", url.Values{"csrf": {u.csrf()}, "text": {"large"}, "back": {"/password"}}), "/password")

	res = u.post("/password", url.Values{"csrf": {u.csrf()}, "current_password": {"temporary password"},
		"new_password": {"my very own password"}, "confirm_password": {"my very own password"}})
	wantRedirect(t, res, "/?ok=password")
	home := u.get("/?ok=password")
	wantStatus(t, home, http.StatusOK)
	wantText(t, home, e.bundle.T(i18n.English, "password.changed"))
	wantText(t, home, e.bundle.T(i18n.English, "role.grid_worker"))
	wantText(t, home, "420106001002")
}

func TestCreateUserErrorsKeepValuesButNeverThePassword(t *testing.T) {
	e := newEnv(t)
	e.user("admin", auth.SystemAdmin, "", false)
	b := e.browser("zh-CN")
	b.signIn("admin")
	res := b.post("/admin/users", url.Values{"csrf": {b.csrf()}, "username": {"Bad Name!"}, "display_name": {"王<b>五</b>"},
		"role": {"community_staff"}, "scope": {"12ab"}, "password": {"secret-password-123"}})
	wantStatus(t, res, http.StatusBadRequest)
	wantText(t, res, e.bundle.T(i18n.Chinese, "error.username.format"))
	wantText(t, res, e.bundle.T(i18n.Chinese, "error.scope.length"))
	wantHTML(t, res, `value="Bad Name!"`)
	wantHTML(t, res, `value="王&lt;b&gt;五&lt;/b&gt;"`)
	wantHTML(t, res, `<option value="community_staff" selected>`)
	wantHTML(t, res, `aria-invalid="true" aria-describedby="f-username-hint f-username-error"`)
	if strings.Contains(res.Body, "secret-password-123") {
		t.Fatal("the password came back in the page")
	}
	// The failed form comes before the list, so a phone shows its errors first.
	if strings.Index(res.Body, `id="create-heading"`) > strings.Index(res.Body, `id="list-heading"`) {
		t.Fatal("the failed create form is not shown before the list")
	}

	dup := b.post("/admin/users", url.Values{"csrf": {b.csrf()}, "username": {"admin"}, "role": {"auditor"}, "password": {"long enough password"}})
	wantStatus(t, dup, http.StatusConflict)
	wantText(t, dup, e.bundle.T(i18n.Chinese, "error.username.taken"))
}

func TestAdminDisablesEnablesAndResetsAccount(t *testing.T) {
	e := newEnv(t)
	admin := e.user("admin", auth.SystemAdmin, "", false)
	e.user("worker", auth.GridWorker, "420106", false)
	w := e.browser("")
	w.signIn("worker")
	b := e.browser("en")
	b.signIn("admin")
	worker, err := e.svc.UserByName(t.Context(), auth.SystemActor("test"), "worker")
	if err != nil {
		t.Fatal(err)
	}
	base := "/admin/users/" + strconv.FormatInt(worker.ID, 10)

	wantRedirect(t, b.post(base+"/disable", url.Values{"csrf": {b.csrf()}}), "/admin/users?ok=disabled")
	wantRedirect(t, w.get("/"), "/login") // the worker's session ended
	list := b.get("/admin/users")
	wantHTML(t, list, `action="`+base+`/enable"`)

	wantRedirect(t, b.post(base+"/enable", url.Values{"csrf": {b.csrf()}}), "/admin/users?ok=enabled")
	wantHTML(t, b.get("/admin/users"), `action="`+base+`/disable" data-confirm="`+escaped(e.bundle.T(i18n.English, "users.disable.confirm", "worker"))+`"`)
	wantRedirect(t, b.post(base+"/password", url.Values{"csrf": {b.csrf()}, "password": {"temporary password 2"}}), "/admin/users?ok=password")
	res := w.post("/login", url.Values{"username": {"worker"}, "password": {"temporary password 2"}})
	wantRedirect(t, res, "/password")

	// A rejected password shows that account's reset form with the reason.
	short := b.post(base+"/password", url.Values{"csrf": {b.csrf()}, "password": {"short"}})
	wantStatus(t, short, http.StatusBadRequest)
	wantText(t, short, e.bundle.T(i18n.English, "error.password.too_short"))
	wantText(t, short, e.bundle.T(i18n.English, "users.reset.for", "Display worker", "worker"))

	// Administrators cannot lock themselves out.
	self := b.post(fmt.Sprintf("/admin/users/%d/disable", admin.ID), url.Values{"csrf": {b.csrf()}})
	wantStatus(t, self, http.StatusConflict)
	wantText(t, self, e.bundle.T(i18n.English, "error.user.disable_self"))
}

func TestAccountActionsAnswerBadIDsWithoutServerError(t *testing.T) {
	e := newEnv(t)
	e.user("admin", auth.SystemAdmin, "", false)
	b := e.browser("en")
	b.signIn("admin")
	for _, path := range []string{"/admin/users/abc/disable", "/admin/users/-1/enable", "/admin/users/99999/password", "/admin/users/99999999999999999999/disable"} {
		res := b.post(path, url.Values{"csrf": {b.csrf()}, "password": {"long enough password"}})
		wantStatus(t, res, http.StatusNotFound)
	}
	wantStatus(t, b.get("/admin/users?after=xyz"), http.StatusBadRequest)
	wantStatus(t, b.get("/audit?before=-3"), http.StatusForbidden) // admins do not read the audit log
}

func TestUserListPagesAndSearches(t *testing.T) {
	e := newEnv(t)
	e.user("admin", auth.SystemAdmin, "", false)
	for i := range usersPageSize + 5 {
		e.user(fmt.Sprintf("res%03d", i), auth.Resident, "", false)
	}
	b := e.browser("en")
	b.signIn("admin")
	first := b.get("/admin/users")
	wantStatus(t, first, http.StatusOK)
	if n := strings.Count(first.Body, `class="card"`); n != usersPageSize {
		t.Fatalf("first page shows %d accounts, want %d", n, usersPageSize)
	}
	wantText(t, first, e.bundle.T(i18n.English, "pager.next"))
	i := strings.Index(first.Body, `href="/admin/users?after=`)
	next := first.Body[i+len(`href="`):]
	next = strings.ReplaceAll(next[:strings.IndexByte(next, '"')], "&amp;", "&")
	second := b.get(next)
	if n := strings.Count(second.Body, `class="card"`); n != 6 {
		t.Fatalf("second page shows %d accounts, want 6", n)
	}
	found := b.get("/admin/users?q=res05")
	if n := strings.Count(found.Body, `class="card"`); n != 5 {
		t.Fatalf("search shows %d accounts, want 5", n)
	}
	wantHTML(t, found, `value="res05"`)
}
