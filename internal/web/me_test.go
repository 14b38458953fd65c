package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gridhall/gridhall/internal/i18n"
	"github.com/gridhall/gridhall/internal/people"
	"github.com/gridhall/gridhall/internal/seal"
)

func TestResidentSignsUpVerifiesAndDownloadsTheirData(t *testing.T) {
	e := newPeopleEnv(t)
	en := func(key string, args ...any) string { return e.bundle.T(i18n.English, key, args...) }
	b := e.browser("en")

	res := b.get("/signup")
	wantStatus(t, res, http.StatusOK)
	wantHTML(t, res, `autocomplete="tel"`)
	wantHTML(t, res, `href="/login"`)
	if strings.Contains(res.Body, `name="csrf"`) {
		t.Error("the anonymous sign-up form carries a csrf field")
	}
	wantHTML(t, b.get("/login"), `href="/signup"`)

	res = b.post("/signup", url.Values{"phone": {wangPhone}, "password": {testPassword}, "confirm_password": {"something else"}})
	wantStatus(t, res, http.StatusBadRequest)
	wantText(t, res, en("error.password.mismatch"))
	res = b.post("/signup", url.Values{"phone": {"12"}, "password": {testPassword}, "confirm_password": {testPassword}})
	wantStatus(t, res, http.StatusBadRequest)
	wantText(t, res, en("people.phone.format"))

	res = b.post("/signup", url.Values{"phone": {"138 0013 5678"}, "password": {testPassword}, "confirm_password": {testPassword}})
	wantRedirect(t, res, "/me?ok=welcome")
	if b.session() == "" {
		t.Fatal("sign-up did not sign in")
	}
	wantRedirect(t, b.get("/signup"), "/")

	res = b.get("/me?ok=welcome")
	wantStatus(t, res, http.StatusOK)
	wantText(t, res, en("me.notice.welcome"))
	wantHTML(t, res, `action="/me/verify"`)
	wantHTML(t, res, `href="/me" aria-current="page"`)
	if strings.Contains(res.Body, `href="/people"`) {
		t.Error("a resident is offered the registry")
	}
	wantStatus(t, b.get("/people"), http.StatusForbidden)
	wantStatus(t, b.get(residentURL(e.wang.ID)), http.StatusNotFound)
	wantStatus(t, b.get("/me/data"), http.StatusNotFound)

	// A wrong number: said beside the field, and not written back.
	wrong := wangDoc[:14] + "0000"
	wrong = wrong[:17] + string(people.CheckChar(wrong[:17]))
	res = b.post("/me/verify", url.Values{"csrf": {b.csrf()}, "name": {"王秀英"}, "document_number": {wrong}})
	wantStatus(t, res, http.StatusBadRequest)
	wantText(t, res, en("people.verify.no_match"))
	wantHTML(t, res, `value="王秀英"`)
	if strings.Contains(res.Body, wrong) {
		t.Error("the typed identity number is written back into the page")
	}

	res = b.post("/me/verify", url.Values{"csrf": {b.csrf()}, "name": {"王秀英"}, "document_number": {strings.ToLower(wangDoc)}})
	wantRedirect(t, res, "/me?ok=verified")
	res = b.get("/me?ok=verified")
	wantStatus(t, res, http.StatusOK)
	wantText(t, res, en("me.notice.verified"))
	wantText(t, res, "王秀英")
	wantText(t, res, "李明")
	wantText(t, res, seal.MaskIDNumber(wangDoc))
	if strings.Contains(res.Body, wangDoc) || strings.Contains(res.Body, liDoc) {
		t.Error("the record page shows a full identity number")
	}
	wantHTML(t, res, `href="/me/data"`)

	res = b.get("/me/data")
	wantStatus(t, res, http.StatusOK)
	if cd := res.Header.Get("Content-Disposition"); !strings.Contains(cd, "attachment") || !strings.Contains(cd, "my-data.json") {
		t.Errorf("Content-Disposition %q", cd)
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", res.Header.Get("Cache-Control"))
	}
	var data people.MyData
	if err := json.Unmarshal([]byte(res.Body), &data); err != nil {
		t.Fatal(err)
	}
	if data.Record.Document != wangDoc || data.Record.Name != "王秀英" || len(data.Access) == 0 {
		t.Fatalf("downloaded data: %+v", data)
	}
}

func TestOwnRecordIsForResidentsOnly(t *testing.T) {
	e := newPeopleEnv(t)
	b := e.as("cs", i18n.English)
	wantStatus(t, b.get("/me"), http.StatusForbidden)
	wantStatus(t, b.get("/me/data"), http.StatusForbidden)
	wantStatus(t, b.post("/me/verify", url.Values{"csrf": {b.csrf()}, "name": {"王秀英"}, "document_number": {wangDoc}}), http.StatusForbidden)
	if strings.Contains(b.get("/").Body, `href="/me"`) {
		t.Error("staff are offered the own-record page")
	}
}
