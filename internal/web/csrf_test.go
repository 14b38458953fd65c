package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/i18n"
)

func TestSignedInPostWithoutCSRFIsForbidden(t *testing.T) {
	e := newEnv(t)
	e.user("admin", auth.SystemAdmin, "", false)
	victim := e.user("victim", auth.GridWorker, "420106", false)
	b := e.browser("en")
	b.signIn("admin")
	id := strconv.FormatInt(victim.ID, 10)
	forms := map[string]url.Values{
		"/logout":                          {},
		"/password":                        {"current_password": {testPassword}, "new_password": {"another long one"}, "confirm_password": {"another long one"}},
		"/prefs":                           {"lang": {"zh-CN"}, "back": {"/"}},
		"/admin/users":                     {"username": {"newbie"}, "password": {testPassword}, "role": {"resident"}},
		"/admin/users/" + id + "/disable":  {},
		"/admin/users/" + id + "/enable":   {},
		"/admin/users/" + id + "/password": {"password": {"a new temporary pw"}},
	}
	for path, form := range forms {
		for name, token := range map[string]string{"missing": "", "wrong": auth.CSRFToken("another-session")} {
			t.Run(path+"/"+name, func(t *testing.T) {
				f := url.Values{}
				for k, v := range form {
					f[k] = v
				}
				if token != "" {
					f.Set("csrf", token)
				}
				res := b.post(path, f)
				wantStatus(t, res, http.StatusForbidden)
				wantText(t, res, e.bundle.T(i18n.English, "error.csrf"))
			})
		}
	}
	// Nothing happened: still signed in, victim still enabled.
	wantStatus(t, b.get("/"), http.StatusOK)
	u, err := e.svc.UserByID(t.Context(), auth.SystemActor("test"), victim.ID)
	if err != nil || u.Disabled {
		t.Fatalf("victim after forged posts: %+v, %v", u, err)
	}
}

func TestPagesCarryTheSessionCSRFToken(t *testing.T) {
	e := newEnv(t)
	e.user("admin", auth.SystemAdmin, "", false)
	b := e.browser("")
	b.signIn("admin")
	for _, path := range []string{"/", "/password", "/admin/users"} {
		wantHTML(t, b.get(path), `name="csrf" value="`+b.csrf()+`"`)
	}
}

func TestAnonymousFormsCarryNoCSRFToken(t *testing.T) {
	e := newEnv(t)
	res := e.browser("").get("/login")
	wantStatus(t, res, http.StatusOK)
	if strings.Contains(res.Body, `name="csrf"`) {
		t.Fatal("the login page of an anonymous visitor carries a csrf field")
	}
}
