package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/i18n"
)

func TestLoginWrongPasswordShowsTranslatedError(t *testing.T) {
	e := newEnv(t)
	e.user("wang", auth.GridWorker, "420106", false)
	for _, tc := range []struct {
		name           string
		acceptLanguage string
		langCookie     string
		want           string
	}{
		{"Chinese by default", "", "", i18n.Chinese},
		{"Chinese by Accept-Language", "zh-CN,zh;q=0.9", "", i18n.Chinese},
		{"English by Accept-Language", "en-US,en;q=0.9", "", i18n.English},
		{"English by cookie over Accept-Language", "zh-CN", "en", i18n.English},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := e.browser(tc.acceptLanguage)
			if tc.langCookie != "" {
				b.cookies["lang"] = &http.Cookie{Name: "lang", Value: tc.langCookie}
			}
			res := b.post("/login", url.Values{"username": {"wang"}, "password": {"wrong password!"}})
			wantStatus(t, res, http.StatusUnauthorized)
			wantText(t, res, e.bundle.T(tc.want, "error.login.failed"))
			wantHTML(t, res, `lang="`+tc.want+`"`)
			// The user name stays in the form; the password never comes back.
			wantHTML(t, res, `value="wang"`)
			if b.session() != "" {
				t.Fatal("a failed login set a session cookie")
			}
		})
	}
}

func TestLoginEmptyFieldsAreMarkedNextToTheFields(t *testing.T) {
	e := newEnv(t)
	res := e.browser("en").post("/login", url.Values{})
	wantStatus(t, res, http.StatusBadRequest)
	wantText(t, res, e.bundle.T(i18n.English, "error.field.required"))
	wantHTML(t, res, `id="f-username-error"`)
	wantHTML(t, res, `id="f-password-error"`)
}

func TestLoginSetsHttpOnlyLaxSessionCookieAndRedirectsHome(t *testing.T) {
	e := newEnv(t)
	e.user("li", auth.Resident, "", false)
	b := e.browser("")
	res := b.signIn("li")
	wantRedirect(t, res, "/")
	c := b.cookies["gridhall_session"]
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Lax, Path=/", c)
	}
	home := b.get("/")
	wantStatus(t, home, http.StatusOK)
	wantText(t, home, e.bundle.T(i18n.Chinese, "home.greeting", "Display li"))
	wantText(t, home, e.bundle.T(i18n.Chinese, "role.resident"))
	if got := home.Header.Get("Cache-Control"); got != "no-store" {
		t.Fatalf("home Cache-Control %q, want no-store", got)
	}
}

func TestLoginFollowsOnlyLocalNext(t *testing.T) {
	e := newEnv(t)
	e.user("zhao", auth.Auditor, "", false)
	for next, want := range map[string]string{
		"/audit?before=10":     "/audit?before=10",
		"//evil.example/x":     "/",
		"https://evil.example": "/",
		"/\\evil.example":      "/",
		"":                     "/",
	} {
		b := e.browser("")
		res := b.post("/login", url.Values{"username": {"zhao"}, "password": {testPassword}, "next": {next}})
		wantRedirect(t, res, want)
	}
}

func TestLoginPageCarriesNextFromProtectedPage(t *testing.T) {
	e := newEnv(t)
	b := e.browser("")
	res := b.get("/audit?before=5")
	wantRedirect(t, res, "/login?next="+url.QueryEscape("/audit?before=5"))
	page := b.get(res.Header.Get("Location"))
	wantStatus(t, page, http.StatusOK)
	wantHTML(t, page, `name="next" value="/audit?before=5"`)
}

func TestLoginRemembersAccountLanguage(t *testing.T) {
	e := newEnv(t)
	u := e.user("chen", auth.CommunityStaff, "420106/420106001", false)
	if err := e.svc.SetLocale(context.Background(), u.Actor(), "en"); err != nil {
		t.Fatal(err)
	}
	b := e.browser("zh-CN")
	b.signIn("chen")
	if c := b.cookies["lang"]; c == nil || c.Value != "en" {
		t.Fatalf("lang cookie %+v, want en", c)
	}
	wantHTML(t, b.get("/"), `<html lang="en"`)
}

func TestLoginThrottledAnswers429WithRetryAfter(t *testing.T) {
	e := newEnv(t)
	e.user("sun", auth.GridWorker, "420106", false)
	b := e.browser("en")
	var res response
	for range 6 {
		res = b.post("/login", url.Values{"username": {"sun"}, "password": {"wrong password!"}})
	}
	wantStatus(t, res, http.StatusTooManyRequests)
	secs, err := strconv.Atoi(res.Header.Get("Retry-After"))
	if err != nil || secs <= 0 || secs > int((15*time.Minute).Seconds())+1 {
		t.Fatalf("Retry-After %q, want seconds up to the window", res.Header.Get("Retry-After"))
	}
	wantText(t, res, e.bundle.T(i18n.English, "error.login.throttled", 15))
}

func TestSignedInVisitorSkipsLoginPage(t *testing.T) {
	e := newEnv(t)
	e.user("qian", auth.Auditor, "", false)
	b := e.browser("")
	b.signIn("qian")
	wantRedirect(t, b.get("/login?next=/audit"), "/audit")
}

func TestLogoutEndsSessionOnServer(t *testing.T) {
	e := newEnv(t)
	e.user("zhou", auth.GridWorker, "420106", false)
	b := e.browser("")
	b.signIn("zhou")
	old := b.session()
	wantRedirect(t, b.post("/logout", url.Values{"csrf": {b.csrf()}}), "/login")
	if b.session() != "" {
		t.Fatal("logout left the session cookie")
	}
	wantRedirect(t, b.get("/"), "/login")
	// Replaying the old cookie must not work either: the session is gone.
	b.cookies["gridhall_session"] = &http.Cookie{Name: "gridhall_session", Value: old}
	wantRedirect(t, b.get("/"), "/login")
}

func TestLogoutWhenAlreadySignedOutGoesToLogin(t *testing.T) {
	e := newEnv(t)
	wantRedirect(t, e.browser("").post("/logout", url.Values{}), "/login")
}
