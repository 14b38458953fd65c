package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/db/dbtest"
)

// Every GeoReport v2 endpoint answers in XML and JSON with the shapes of
// the team's schemas: types, omissions, datetimes, status codes and error
// bodies; a request follows the workflow through GET requests and
// servicerequestupdates; a client's update lands on the case's timeline
// once, however often it is sent.
func TestOpen311GeoReportConformance(t *testing.T) {
	schemas := open311Schemas(t)
	for _, e := range dbtest.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			s := newSite(t, e)
			tok, b := caseSite(t, s)
			g := georeport{t: t, s: s, schemas: schemas}
			ctx := context.Background()
			console := auth.SystemActor("t")
			if _, err := s.app.Auth.CreateUser(ctx, console, auth.NewUser{Username: "app", Password: "password-app-1", Role: auth.Resident}); err != nil {
				t.Fatal(err)
			}
			_, key, err := s.app.Auth.CreateToken(ctx, console, auth.NewToken{Username: "app", Name: "civic app", Scopes: []string{"open311"}})
			if err != nil {
				t.Fatal(err)
			}
			form := func(v url.Values) string { return v.Encode() }
			const urlenc = "application/x-www-form-urlencoded"
			// Datetimes never carry fractional seconds, whatever the clock says.
			s.clock.Advance(1500 * time.Millisecond)

			// Discovery, services, definitions.
			g.get("/open311/v2/discovery.{fmt}", 200, "discovery")
			g.get("/open311/v2/services.{fmt}", 200, "services")
			def := g.get("/open311/v2/services/M91001.{fmt}", 200, "service_definition")
			if len(field(def, "attributes").([]any)) == 0 {
				t.Fatalf("M91001 has questions: %v", def)
			}
			g.get("/open311/v2/services/M92001.{fmt}", 200, "service_definition")

			// POST requests: multipart with a photo, media URLs, an address id,
			// a device and an account id.
			fields := [][2]string{{"api_key", key}, {"service_code", "M92001"}, {"description", "水管漏水，路面积水"},
				{"lat", fmt.Sprint(b.Lat)}, {"long", fmt.Sprint(b.Lng)}, {"email", "li@example.cn"}, {"first_name", "李"},
				{"last_name", "雷"}, {"phone", "13800138000"}, {"device_id", "dev-1"}, {"account_id", "acct-9"},
				{"media_url", "https://img.example.org/a.jpg"}, {"media_url", "http://10.0.0.1/internal.png"}}
			ct, body := multipartForm(t, fields, 1)
			made := g.both("POST", "/open311/v2/requests.{fmt}", ct, body, 200, "created")
			if field(made, 0, "account_id") != "acct-9" || field(made, 0, "token") != nil {
				t.Fatalf("created: %v", made)
			}
			number := field(made, 0, "service_request_id").(string)
			// By address_id alone: the building places it.
			byAddr := g.both("POST", "/open311/v2/requests.{fmt}", urlenc, form(url.Values{"api_key": {key}, "service_code": {"M92001"},
				"description": {"楼道灯不亮"}, "address_id": {fmt.Sprint(b.ID)}}), 200, "created")
			addrNumber := field(byAddr, 0, "service_request_id").(string)

			// GET requests/{id}: without extensions no extended fields; with
			// them the history and the extended attributes.
			one := g.get("/open311/v2/requests/"+number+".{fmt}", 200, "request")
			r0 := field(one, 0).(map[string]any)
			if r0["extended_attributes"] != nil || r0["notes"] != nil {
				t.Fatalf("extensions without extensions=true: %v", r0)
			}
			if r0["status"] != "open" || !strings.HasPrefix(r0["media_url"].(string), s.URL+"/open311/v2/media/") {
				t.Fatalf("request: %v", r0)
			}
			resp, photo := s.do(t, "GET", strings.TrimPrefix(r0["media_url"].(string), s.URL), "", "", "")
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || len(photo) == 0 {
				t.Fatalf("media_url: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			ext := g.get("/open311/v2/requests/"+number+".{fmt}?extensions=true", 200, "request")
			ea := field(ext, 0, "extended_attributes")
			if field(ea, "channel") != "open311" || field(ea, "grid_code") != b.GridCode || field(ea, "extended_status") != "open" ||
				field(ea, "media_urls", 1) != "http://10.0.0.1/internal.png" || field(ext, 0, "notes", 0, "action") != "report" {
				t.Fatalf("extended request: %v", ext)
			}
			if addr := g.get("/open311/v2/requests/"+addrNumber+".{fmt}", 200, "request"); field(addr, 0, "address_id") != fmt.Sprint(b.ID) ||
				field(addr, 0, "address") != b.Address {
				t.Fatalf("request by address_id: %v", addr)
			}
			// No personal data anywhere.
			for _, f := range []string{"json", "xml"} {
				_, out := s.do(t, "GET", "/open311/v2/requests."+f+"?extensions=true", "", "", "")
				for _, secret := range []string{"li@example.cn", "李", "13800138000", "acct-9", "dev-1"} {
					if strings.Contains(out, secret) {
						t.Fatalf("requests.%s shows %q: %s", f, secret, out)
					}
				}
			}

			// The workflow moves; GET requests and servicerequestupdates follow.
			var id int64
			if err := s.app.DB.QueryRowContext(ctx, "SELECT id FROM cases WHERE number = $1", number).Scan(&id); err != nil {
				t.Fatal(err)
			}
			for _, step := range []struct{ who, action, body string }{
				{"gw", "verify", `{"note":"属实"}`}, {"street", "accept", `{}`}, {"street", "register", `{}`},
				{"street", "dispatch", `{"target":"department:water"}`},
			} {
				s.clock.Advance(time.Minute)
				if resp, out := s.do(t, "POST", fmt.Sprintf("/api/v1/cases/%d/actions/%s", id, step.action), tok[step.who], "application/json", step.body); resp.StatusCode != 200 {
					t.Fatalf("%s: %d %s", step.action, resp.StatusCode, out)
				}
			}
			dept, err := s.app.Catalog.Department(ctx, "water")
			if err != nil {
				t.Fatal(err)
			}
			list := g.get("/open311/v2/requests.{fmt}?service_request_id="+number+"&extensions=true", 200, "requests")
			if field(list, 0, "status") != "open" || field(list, 0, "agency_responsible") != dept.Name.In("zh-CN") ||
				field(list, 0, "expected_datetime") == nil || field(list, 0, "extended_attributes", "extended_status") != "action_scheduled" ||
				field(list, 0, "extended_attributes", "workflow_state") != "dispatched" || field(list, 0, "status_notes") != "属实" {
				t.Fatalf("dispatched request: %v", list)
			}
			ups := g.get("/open311/v2/servicerequestupdates.{fmt}", 200, "updates")
			var mine []any
			for _, u := range ups.([]any) {
				if field(u, "service_request_id") == number {
					mine = append(mine, u)
				}
			}
			if len(mine) != 4 || field(mine, 0, "status") != "investigating" || field(mine, 0, "description") != "属实" ||
				field(mine, 3, "status") != "action_scheduled" || field(mine, 3, "external_status_code") != "dispatched" {
				t.Fatalf("updates of %s: %v", number, mine)
			}

			// A client posts an update: once on the timeline, however often sent.
			upd := url.Values{"api_key": {key}, "service_request_id": {number}, "update_id": {"fms-77"}, "status": {"IN_PROGRESS"},
				"updated_datetime": {"2026-11-21T17:05:00+08:00"}, "description": {"居民反映：仍在漏水"},
				"first_name": {"王"}, "email": {"wang@example.cn"}, "media_url": {"https://img.example.org/b.jpg"}}
			first := g.both("POST", "/open311/v2/servicerequestupdates.{fmt}", urlenc, form(upd), 200, "update_created")
			again := g.both("POST", "/open311/v2/servicerequestupdates.{fmt}", urlenc, form(upd), 200, "update_created")
			if field(first, 0, "update_id") != field(again, 0, "update_id") {
				t.Fatalf("the same update twice: %v then %v", first, again)
			}
			resp, out := s.do(t, "GET", fmt.Sprintf("/api/v1/cases/%d", id), tok["street"], "", "")
			var det struct {
				Events []struct {
					ID     int64  `json:"id"`
					Action string `json:"action"`
					Note   string `json:"note"`
					Public bool   `json:"public"`
				} `json:"events"`
			}
			if err := json.Unmarshal([]byte(out), &det); err != nil || resp.StatusCode != 200 {
				t.Fatalf("case detail: %d %s", resp.StatusCode, out)
			}
			n := 0
			for _, ev := range det.Events {
				if ev.Action == string(cases.Note) && ev.Note == "居民反映：仍在漏水" && ev.Public {
					n++
					if fmt.Sprint(ev.ID) != field(first, 0, "update_id") {
						t.Fatalf("update id %v, timeline entry %d", field(first, 0, "update_id"), ev.ID)
					}
				}
			}
			if n != 1 {
				t.Fatalf("the client's update is on the timeline %d times: %+v", n, det.Events)
			}
			ups = g.get("/open311/v2/servicerequestupdates.{fmt}?start_date=2026-11-21T00:00:00Z&end_date=2026-11-22T00:00:00Z", 200, "updates")
			last := field(ups, len(ups.([]any))-1)
			if field(last, "update_id") != field(first, 0, "update_id") || field(last, "status") != "action_scheduled" ||
				field(last, "media_url") != "https://img.example.org/b.jpg" {
				t.Fatalf("the client's update in updates: %v", last)
			}
			if body := fmt.Sprint(ups); strings.Contains(body, "wang@example.cn") || strings.Contains(body, "王") {
				t.Fatalf("updates show the commenter: %s", body)
			}
			// And it is the request's latest note.
			if l := g.get("/open311/v2/requests/"+number+".{fmt}", 200, "request"); field(l, 0, "status_notes") != "居民反映：仍在漏水" {
				t.Fatalf("status notes after the update: %v", l)
			}

			// Closing the case closes the request.
			if resp, out := s.do(t, "POST", fmt.Sprintf("/api/v1/cases/%d/actions/sign", id), tok["water"], "application/json", `{}`); resp.StatusCode != 200 {
				t.Fatalf("sign: %d %s", resp.StatusCode, out)
			}
			ct, body = multipartBody(t, "case", `{"note":"已修复"}`, 1)
			if resp, out := s.do(t, "POST", fmt.Sprintf("/api/v1/cases/%d/actions/handle", id), tok["water"], ct, body); resp.StatusCode != 200 {
				t.Fatalf("handle: %d %s", resp.StatusCode, out)
			}
			for _, step := range []struct{ who, action string }{{"gw", "check"}, {"street", "close"}} {
				if resp, out := s.do(t, "POST", fmt.Sprintf("/api/v1/cases/%d/actions/%s", id, step.action), tok[step.who], "application/json", `{}`); resp.StatusCode != 200 {
					t.Fatalf("%s: %d %s", step.action, resp.StatusCode, out)
				}
			}
			closed := g.get("/open311/v2/requests.{fmt}?status=closed&extensions=true", 200, "requests")
			if len(closed.([]any)) != 1 || field(closed, 0, "service_request_id") != number || field(closed, 0, "extended_attributes", "extended_status") != "fixed" ||
				field(closed, 0, "expected_datetime") != nil {
				t.Fatalf("closed requests: %v", closed)
			}
			ups = g.get("/open311/v2/servicerequestupdates.{fmt}?page=1&page_size=500", 200, "updates")
			if last := field(ups, len(ups.([]any))-1); field(last, "status") != "fixed" || field(last, "external_status_code") != "closed" {
				t.Fatalf("the last update after closing: %v", last)
			}

			// Where: lat/long/radius keep the requests around a point.
			near := func(lat, long float64, radius string) int {
				q := fmt.Sprintf("/open311/v2/requests.{fmt}?lat=%v&long=%v", lat, long)
				if radius != "" {
					q += "&radius=" + radius
				}
				return len(g.get(q, 200, "requests").([]any))
			}
			// The four requests (each POST above ran once per format) are at
			// the building; 300 m north is outside a 100 m circle and inside
			// a 500 m one.
			if n := near(b.Lat, b.Lng, "10"); n != 4 {
				t.Fatalf("at the building: %d requests", n)
			}
			if n := near(b.Lat+0.0027, b.Lng, "100"); n != 0 {
				t.Fatalf("300 m away within 100 m: %d", n)
			}
			if n := near(b.Lat+0.0027, b.Lng, ""); n != 4 {
				t.Fatalf("300 m away within the default 500 m: %d", n)
			}
			// East-west distances shrink with the latitude's cosine: 0.004°
			// of longitude here is about 380 m.
			if near(b.Lat, b.Lng+0.004, "350") != 0 || near(b.Lat, b.Lng+0.004, "420") != 4 {
				t.Fatal("the circle is not measured in metres east-west")
			}
			// Pages.
			if p := g.get("/open311/v2/requests.{fmt}?page_size=3&page=2", 200, "requests"); len(p.([]any)) != 1 {
				t.Fatalf("page 2 of 3: %v", p)
			}
			if p := g.get("/open311/v2/requests.{fmt}?page_size=3&page=3", 200, "requests"); len(p.([]any)) != 0 {
				t.Fatalf("page 3 of 3: %v", p)
			}

			// Errors: in the requested format, with the right code, naming the
			// parameter, in the client's language.
			long := strings.Repeat("漏", 4001)
			for _, c := range []struct {
				method, path, body string
				status             int
				want               string
				lang               string
			}{
				{"GET", "/open311/v2/services/M99999.{fmt}", "", 404, "M99999", "en"},
				{"GET", "/open311/v2/requests/20000101-99999.{fmt}", "", 404, "20000101-99999", "en"},
				{"GET", "/open311/v2/tokens/abc123.{fmt}", "", 404, "realtime", "en"},
				{"GET", "/open311/v2/nothing.{fmt}", "", 404, "discovery", "en"},
				{"GET", "/open311/v2/requests.{fmt}?page_size=501", "", 400, "page_size", "en"},
				{"GET", "/open311/v2/requests.{fmt}?radius=100", "", 400, "radius", "en"},
				{"GET", "/open311/v2/requests.{fmt}?lat=30.5&long=114.3&radius=20000", "", 400, "radius", "en"},
				{"GET", "/open311/v2/requests.{fmt}?lat=30.5", "", 400, "lat/long", "en"},
				{"GET", "/open311/v2/requests.{fmt}?status=fixed", "", 400, "status", "en"},
				{"GET", "/open311/v2/requests.{fmt}?start_date=yesterday", "", 400, "start_date", "en"},
				{"GET", "/open311/v2/servicerequestupdates.{fmt}?end_date=2026-13-01", "", 400, "end_date", "en"},
				{"GET", "/open311/v2/requests.{fmt}?page_size=0", "", 400, "page_size 须为", "zh-CN"},
				{"POST", "/open311/v2/requests.{fmt}", form(url.Values{"api_key": {"gh_wrong"}, "service_code": {"M92001"}}), 403, "api_key", "en"},
				{"POST", "/open311/v2/requests.{fmt}", form(url.Values{"api_key": {tok["r1"]}, "service_code": {"M92001"}}), 403, "api_key", "en"},
				{"POST", "/open311/v2/requests.{fmt}", form(url.Values{"api_key": {key}, "service_code": {"M99999"}, "address_id": {fmt.Sprint(b.ID)}}), 404, "M99999", "en"},
				{"POST", "/open311/v2/requests.{fmt}", form(url.Values{"api_key": {key}, "address_id": {fmt.Sprint(b.ID)}}), 400, "service_code", "en"},
				{"POST", "/open311/v2/requests.{fmt}", form(url.Values{"api_key": {key}, "service_code": {"M92001"}}), 400, "lat/long", "en"},
				{"POST", "/open311/v2/requests.{fmt}", form(url.Values{"api_key": {key}, "service_code": {"M92001"}, "lat": {"39.9"}, "long": {"116.4"}}), 400, "lat/long: ", "en"},
				{"POST", "/open311/v2/requests.{fmt}", form(url.Values{"api_key": {key}, "service_code": {"M92001"}, "address_id": {"999999"}}), 400, "address_id", "en"},
				{"POST", "/open311/v2/requests.{fmt}", form(url.Values{"api_key": {key}, "service_code": {"M92001"}, "address_id": {fmt.Sprint(b.ID)}, "description": {long}}), 400, "description", "en"},
				{"POST", "/open311/v2/requests.{fmt}", form(url.Values{"api_key": {key}, "service_code": {"M92001"}, "address_id": {fmt.Sprint(b.ID)}, "description": {"<b>漏水</b>"}}), 400, "description: description must be plain text", "en"},
				{"POST", "/open311/v2/requests.{fmt}", form(url.Values{"api_key": {key}, "service_code": {"M92001"}, "address_id": {fmt.Sprint(b.ID)}, "media_url": {"file:///etc/passwd"}}), 400, "media_url", "en"},
				{"POST", "/open311/v2/servicerequestupdates.{fmt}", form(url.Values{"api_key": {"gh_wrong"}}), 403, "api_key", "en"},
				{"POST", "/open311/v2/servicerequestupdates.{fmt}", form(url.Values{"api_key": {key}, "service_request_id": {number}}), 400, "update_id", "en"},
				{"POST", "/open311/v2/servicerequestupdates.{fmt}", form(url.Values{"api_key": {key}, "service_request_id": {number}, "update_id": {"x"},
					"status": {"SOLVED"}, "updated_datetime": {"2026-11-21T09:00:00Z"}, "description": {"好了"}}), 400, "status must be one of", "en"},
				{"POST", "/open311/v2/servicerequestupdates.{fmt}", form(url.Values{"api_key": {key}, "service_request_id": {number}, "update_id": {"x"},
					"status": {"FIXED"}, "updated_datetime": {"2026-11-21T09:00:00Z"}, "description": {"<script>x</script>"}}), 400, "description", "en"},
				{"POST", "/open311/v2/servicerequestupdates.{fmt}", form(url.Values{"api_key": {key}, "service_request_id": {"20000101-99999"}, "update_id": {"x"},
					"status": {"FIXED"}, "updated_datetime": {"2026-11-21T09:00:00Z"}, "description": {"好了"}}), 404, "20000101-99999", "en"},
			} {
				errs := g.both(c.method, c.path, urlenc, c.body, c.status, "errors", "Accept-Language", c.lang)
				if fmt.Sprint(field(errs, 0, "code")) != fmt.Sprint(c.status) || !strings.Contains(fmt.Sprint(errs), c.want) {
					t.Fatalf("%s %s: %v, want %q", c.method, c.path, errs, c.want)
				}
			}
			// None of the refused posts made a case or a note.
			var count int
			if err := s.app.DB.QueryRowContext(ctx, "SELECT COUNT(*) FROM cases").Scan(&count); err != nil || count != 4 {
				t.Fatalf("cases after refusals: %d %v", count, err)
			}
		})
	}
}
