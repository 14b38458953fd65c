package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/db/dbtest"
)

// A GeoReport client posts requests with its key in any of the places
// clients put it; the request lands in the right grid worker's queue, and
// its status follows the workflow in GET requests.
func TestOpen311RequestsArePostedRoutedAndFollowed(t *testing.T) {
	for _, e := range dbtest.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			s := newSite(t, e)
			tok, b := caseSite(t, s)
			ctx := context.Background()
			console := auth.SystemActor("t")
			if _, err := s.app.Auth.CreateUser(ctx, console, auth.NewUser{Username: "app", Password: "password-app-1", Role: auth.Resident}); err != nil {
				t.Fatal(err)
			}
			_, key, err := s.app.Auth.CreateToken(ctx, console, auth.NewToken{Username: "app", Name: "civic app", Scopes: []string{"open311"}})
			if err != nil {
				t.Fatal(err)
			}
			post := func(path string, form url.Values, hdr ...string) (*http.Response, string) {
				return s.do(t, "POST", "/open311/v2/"+path, "", "application/x-www-form-urlencoded", form.Encode(), hdr...)
			}
			base := func() url.Values {
				return url.Values{"service_code": {"M92001"}, "description": {"水管漏水，路面积水"},
					"lat": {fmt.Sprint(b.Lat)}, "long": {fmt.Sprint(b.Lng)}, "email": {"li@example.cn"}, "first_name": {"李"}}
			}
			// Wrong or missing key: 403 with an <errors> body.
			f := base()
			f.Set("api_key", "gh_wrong")
			if resp, body := post("requests.xml", f); resp.StatusCode != 403 || !strings.Contains(body, "<errors><error><code>403</code>") {
				t.Fatalf("wrong key: %d %s", resp.StatusCode, body)
			}
			// A read/write token without the open311 scope is refused too.
			f.Set("api_key", tok["r1"])
			if resp, _ := post("requests.json", f); resp.StatusCode != 403 {
				t.Fatalf("token without open311 scope: %d", resp.StatusCode)
			}
			// Unknown service: 404; outside the jurisdiction: 400 naming the location.
			f = base()
			f.Set("api_key", key)
			f.Set("service_code", "M99999")
			if resp, body := post("requests.json", f); resp.StatusCode != 404 || !strings.HasPrefix(body, `[{"code":404`) {
				t.Fatalf("unknown service: %d %s", resp.StatusCode, body)
			}
			f = base()
			f.Set("lat", "39.9")
			f.Set("long", "116.4")
			resp, body := post("requests.json", f, "Authorization", "Bearer "+key, "Accept-Language", "en")
			if resp.StatusCode != 400 || !strings.Contains(body, "lat/long") || !strings.Contains(body, "outside") {
				t.Fatalf("outside: %d %s", resp.StatusCode, body)
			}
			// Key in the query string; a good request.
			resp, body = post("requests.json?api_key="+url.QueryEscape(key), base())
			var created []struct {
				ID     string `json:"service_request_id"`
				Notice string `json:"service_notice"`
			}
			if err := json.Unmarshal([]byte(body), &created); err != nil || resp.StatusCode != 200 || len(created) != 1 || created[0].ID == "" {
				t.Fatalf("post: %d %s", resp.StatusCode, body)
			}
			number := created[0].ID
			// It is in the grid worker's verify queue.
			if resp, body := s.do(t, "GET", "/api/v1/cases?queue=verify", tok["gw"], "", ""); resp.StatusCode != 200 || !strings.Contains(body, number) || !strings.Contains(body, `"channel":"open311"`) {
				t.Fatalf("grid worker's queue: %s", body)
			}
			// Multi-valued answers: attribute[CODE][]= and repeated attribute[CODE] store the same.
			answers := func(form string) string {
				f := base()
				f.Set("api_key", key)
				f.Set("service_code", "M94001")
				q, _ := url.ParseQuery(form)
				for k, v := range q {
					f[k] = v
				}
				resp, body := post("requests.json", f)
				if resp.StatusCode != 200 {
					t.Fatalf("post %s: %d %s", form, resp.StatusCode, body)
				}
				var c []struct {
					ID string `json:"service_request_id"`
				}
				_ = json.Unmarshal([]byte(body), &c)
				var stored string
				if err := s.app.DB.QueryRowContext(ctx, "SELECT answers FROM cases WHERE number = $1", c[0].ID).Scan(&stored); err != nil {
					t.Fatal(err)
				}
				return stored
			}
			a1 := answers("attribute[needs][]=meals&attribute[needs][]=cleaning")
			a2 := answers("attribute[needs]=meals&attribute[needs]=cleaning")
			if a1 != a2 || !strings.Contains(a1, "meals") || !strings.Contains(a1, "cleaning") {
				t.Fatalf("multi-valued answers differ: %s vs %s", a1, a2)
			}
			// The description is optional in GeoReport: the service's name stands in.
			f = base()
			f.Set("api_key", key)
			f.Del("description")
			f.Set("service_code", "M93005")
			if resp, body := post("requests.json", f, "Accept-Language", "en"); resp.StatusCode != 200 {
				t.Fatalf("post without a description: %d %s", resp.StatusCode, body)
			}
			// GET requests and requests/{id}: open now, no personal data.
			resp, body = s.do(t, "GET", "/open311/v2/requests/"+number+".json", "", "", "")
			if resp.StatusCode != 200 || !strings.Contains(body, `"status":"open"`) || strings.Contains(body, "li@example.cn") || strings.Contains(body, "李") {
				t.Fatalf("request: %d %s", resp.StatusCode, body)
			}
			if resp, body := s.do(t, "GET", "/open311/v2/requests/20000101-99999.xml", "", "", ""); resp.StatusCode != 404 || !strings.Contains(body, "<errors>") {
				t.Fatalf("unknown request: %d %s", resp.StatusCode, body)
			}
			var id int64
			if err := s.app.DB.QueryRowContext(ctx, "SELECT id FROM cases WHERE number = $1", number).Scan(&id); err != nil {
				t.Fatal(err)
			}
			for _, step := range []struct{ who, action, body string }{
				{"gw", "verify", `{}`}, {"street", "reject", `{"note":"重复上报，已有同一问题在办"}`},
			} {
				if resp, out := s.do(t, "POST", fmt.Sprintf("/api/v1/cases/%d/actions/%s", id, step.action), tok[step.who], "application/json", step.body); resp.StatusCode != 200 {
					t.Fatalf("%s: %d %s", step.action, resp.StatusCode, out)
				}
			}
			resp, body = s.do(t, "GET", "/open311/v2/requests.xml?status=closed&service_code=M92001", "", "", "")
			if resp.StatusCode != 200 || !strings.Contains(body, "<service_request_id>"+number+"</service_request_id><status>closed</status><status_notes>重复上报") {
				t.Fatalf("closed requests: %d %s", resp.StatusCode, body)
			}
			if resp, body := s.do(t, "GET", "/open311/v2/requests.json?status=open&service_code=M92001", "", "", ""); resp.StatusCode != 200 || body != "[]\n" {
				t.Fatalf("open requests: %d %q", resp.StatusCode, body)
			}
			if resp, _ := s.do(t, "GET", "/open311/v2/requests.json?start_date=yesterday", "", "", ""); resp.StatusCode != 400 {
				t.Fatalf("bad start_date: %d", resp.StatusCode)
			}
		})
	}
}
