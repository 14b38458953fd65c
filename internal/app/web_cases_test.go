package app_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/demo"
	"github.com/gridhall/gridhall/internal/httpx"
	"github.com/gridhall/gridhall/internal/territory"
)

// noisyPNG is a PNG that does not compress: larger than an ordinary form
// may be, as a phone photo is.
func noisyPNG(t *testing.T, size int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	seed := uint32(2630)
	for i := range img.Pix {
		seed = seed*1664525 + 1013904223
		img.Pix[i] = uint8(seed >> 24)
	}
	img.Set(0, 0, color.White)
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The report form and the case steps carry photos: the app lets their
// bodies be as large as an upload, while an ordinary form keeps the small
// limit.
func TestTheReportFormTakesPhotosLargerThanAnOrdinaryForm(t *testing.T) {
	for _, e := range dbtest.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			s := newSite(t, e) // ordinary bodies: at most 4,096 bytes
			ctx := context.Background()
			planner := auth.SystemActorAs("t", auth.DistrictAdmin)
			if _, err := s.app.Territory.Import(ctx, planner, demo.TerritoryGeoJSON(), false); err != nil {
				t.Fatal(err)
			}
			bs, err := s.app.Territory.AddBuildings(ctx, planner, []territory.NewBuilding{{Name: "1号楼", Address: "中南一路1号", Lng: 114.3003, Lat: 30.5507}})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.app.Territory.Locator().Refresh(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := s.app.Auth.CreateUser(ctx, auth.SystemActor("t"), auth.NewUser{Username: "r1", Password: "password-r1-long", Role: auth.Resident}); err != nil {
				t.Fatal(err)
			}
			jar, _ := cookiejar.New(nil)
			client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			res, err := client.PostForm(s.URL+"/login", url.Values{"username": {"r1"}, "password": {"password-r1-long"}})
			if err != nil || res.StatusCode != http.StatusSeeOther {
				t.Fatalf("login: %v %v", res, err)
			}
			res.Body.Close()
			u, _ := url.Parse(s.URL)
			var csrf string
			for _, c := range jar.Cookies(u) {
				if c.Name == httpx.SessionCookieName(false) {
					csrf = auth.CSRFToken(c.Value)
				}
			}
			photo := noisyPNG(t, 64)
			if len(photo) <= 4096 {
				t.Fatalf("the photo has %d bytes, not more than an ordinary form", len(photo))
			}
			var body bytes.Buffer
			mw := multipart.NewWriter(&body)
			for k, v := range map[string]string{"csrf": csrf, "category": "M92001", "address": bs[0].Address, "description": "楼道水管爆裂"} {
				mw.WriteField(k, v)
			}
			fw, _ := mw.CreateFormFile("photos", "p.png")
			fw.Write(photo)
			mw.Close()
			res, err = client.Post(s.URL+"/report", mw.FormDataContentType(), &body)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/report/done/") {
				t.Fatalf("report with a photo: status %d, location %q", res.StatusCode, res.Header.Get("Location"))
			}
			// An ordinary form still has the small limit.
			res, err = client.PostForm(s.URL+"/prefs", url.Values{"csrf": {csrf}, "lang": {"en"}, "back": {"/" + strings.Repeat("a", 5000)}})
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusRequestEntityTooLarge {
				t.Fatalf("oversized preference form: status %d, want 413", res.StatusCode)
			}
		})
	}
}
