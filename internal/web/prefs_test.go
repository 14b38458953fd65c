package web

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/i18n"
)

func TestPrefsSetsLongLivedCookiesAndReturns(t *testing.T) {
	e := newEnv(t)
	b := e.browser("zh-CN")
	res := b.post("/prefs", url.Values{"lang": {"en"}, "text": {"large"}, "back": {"/login?next=%2Faudit"}})
	wantRedirect(t, res, "/login?next=%2Faudit")
	for name, want := range map[string]string{"lang": "en", "text": "large"} {
		c := b.cookies[name]
		if c == nil || c.Value != want {
			t.Fatalf("cookie %s = %+v, want %q", name, c, want)
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge < int((364*24*time.Hour).Seconds()) {
			t.Fatalf("cookie %s = %+v: want HttpOnly, SameSite=Lax, Path=/, a year", name, c)
		}
	}
	page := b.get("/login")
	wantHTML(t, page, `<html lang="en" class="large-text">`)
	wantHTML(t, page, `name="text" value="normal" aria-pressed="true"`)
	wantHTML(t, page, `name="lang" value="zh-CN" lang="zh-CN">中文</button>`)

	wantRedirect(t, b.post("/prefs", url.Values{"text": {"normal"}, "back": {"/login"}}), "/login")
	wantHTML(t, b.get("/login"), `<html lang="en">`)
}

func TestPrefsNeverRedirectsOffSite(t *testing.T) {
	e := newEnv(t)
	for _, back := range []string{"https://evil.example/", "//evil.example", "/\\evil.example", "", "javascript:alert(1)"} {
		wantRedirect(t, e.browser("").post("/prefs", url.Values{"lang": {"en"}, "back": {back}}), "/")
	}
}

func TestPrefsRejectsUnknownValues(t *testing.T) {
	e := newEnv(t)
	for _, form := range []url.Values{{"lang": {"fr"}}, {"text": {"huge"}}} {
		res := e.browser("en").post("/prefs", form)
		wantStatus(t, res, http.StatusBadRequest)
	}
}

func TestPrefsRemembersLanguageInAccount(t *testing.T) {
	e := newEnv(t)
	u := e.user("wu", auth.GridWorker, "420106", false)
	b := e.browser("")
	b.signIn("wu")
	wantRedirect(t, b.post("/prefs", url.Values{"lang": {"en"}, "back": {"/"}, "csrf": {b.csrf()}}), "/")
	got, err := e.svc.UserByID(t.Context(), auth.SystemActor("test"), u.ID)
	if err != nil || got.Locale != i18n.English {
		t.Fatalf("account locale %q (%v), want en", got.Locale, err)
	}
	// A new device picks the language up at login.
	fresh := e.browser("zh-CN")
	fresh.signIn("wu")
	wantHTML(t, fresh.get("/"), `<html lang="en"`)
}
