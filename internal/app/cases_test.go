package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/demo"
	"github.com/gridhall/gridhall/internal/territory"
)

// caseSite is a site with the demo territory, one building, a grid worker
// of its grid, the dispatch centre, a water-department handler and a
// resident, each with an API token.
func caseSite(t *testing.T, s site) (tokens map[string]string, b territory.Building) {
	t.Helper()
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
	tokens = map[string]string{
		"gw":     staffToken(t, s, "gw01", auth.GridWorker, "420106001001"),
		"street": staffToken(t, s, "street", auth.StreetStaff, "420106001"),
		"water":  staffToken(t, s, "water", auth.DepartmentHandler, "420106"),
		"r1":     staffToken(t, s, "r1", auth.Resident, ""),
	}
	if err := s.app.Territory.Assign(ctx, planner, bs[0].GridCode, "gw01", territory.DutyWorker); err != nil {
		t.Fatal(err)
	}
	u, err := s.app.Auth.UserByName(ctx, auth.SystemActor("t"), "water")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.app.Catalog.AddMember(ctx, auth.SystemActor("t"), "water", u.ID); err != nil {
		t.Fatal(err)
	}
	return tokens, bs[0]
}

func multipartBody(t *testing.T, field, jsonPart string, photos int) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := mw.WriteField(field, jsonPart); err != nil {
		t.Fatal(err)
	}
	for i := range photos {
		w, _ := mw.CreateFormFile("photo", fmt.Sprintf("p%d.png", i))
		img := image.NewRGBA(image.Rect(0, 0, 40, 30))
		if err := png.Encode(w, img); err != nil {
			t.Fatal(err)
		}
	}
	mw.Close()
	return mw.FormDataContentType(), buf.String()
}

func TestCasesOverHTTP(t *testing.T) {
	for _, e := range dbtest.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			s := newSite(t, e)
			tok, b := caseSite(t, s)
			// A resident reports with a photo; the case is routed to the building's grid.
			ct, body := multipartBody(t, "case", fmt.Sprintf(`{"category":"M92001","description":"水管漏水，路面积水","lng":%v,"lat":%v}`, b.Lng, b.Lat), 1)
			resp, out := s.do(t, "POST", "/api/v1/cases", tok["r1"], ct, body)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("report: %d %s", resp.StatusCode, out)
			}
			var in struct {
				Case struct {
					ID       int64  `json:"id"`
					Number   string `json:"number"`
					GridCode string `json:"grid_code"`
					State    string `json:"state"`
				} `json:"case"`
			}
			if err := json.Unmarshal([]byte(out), &in); err != nil || in.Case.GridCode != b.GridCode || in.Case.State != "reported" {
				t.Fatalf("report answer %s (%v)", out, err)
			}
			id := fmt.Sprint(in.Case.ID)
			// Outside the jurisdiction: 400 naming the location, in the client's language.
			resp, out = s.do(t, "POST", "/api/v1/cases", tok["r1"], "application/json", `{"category":"M92001","description":"水管漏水","lng":116.4,"lat":39.9}`, "Accept-Language", "en")
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(decodeError(t, out).Error.Fields["location"], "outside") {
				t.Fatalf("outside: %d %s", resp.StatusCode, out)
			}
			// The grid worker finds it in the verify queue.
			resp, out = s.do(t, "GET", "/api/v1/cases?queue=verify", tok["gw"], "", "")
			if resp.StatusCode != 200 || !strings.Contains(out, in.Case.Number) {
				t.Fatalf("verify queue: %d %s", resp.StatusCode, out)
			}
			for _, step := range []struct{ who, action, body string }{
				{"gw", "verify", `{"note":"属实"}`},
				{"street", "accept", `{}`},
				{"street", "register", `{"urgency":"pressing"}`},
				{"street", "dispatch", `{"target":"department:water"}`},
				{"water", "sign", `{}`},
			} {
				resp, out = s.do(t, "POST", "/api/v1/cases/"+id+"/actions/"+step.action, tok[step.who], "application/json", step.body)
				if resp.StatusCode != 200 {
					t.Fatalf("%s %s: %d %s", step.who, step.action, resp.StatusCode, out)
				}
			}
			// Handling needs a photo: without one 400 naming photos; with one 200.
			resp, out = s.do(t, "POST", "/api/v1/cases/"+id+"/actions/handle", tok["water"], "application/json", `{"note":"已修复"}`)
			if resp.StatusCode != 400 || decodeError(t, out).Error.Fields["photos"] == "" {
				t.Fatalf("handle without photo: %d %s", resp.StatusCode, out)
			}
			ct, body = multipartBody(t, "case", `{"note":"已修复"}`, 1)
			resp, out = s.do(t, "POST", "/api/v1/cases/"+id+"/actions/handle", tok["water"], ct, body)
			if resp.StatusCode != 200 {
				t.Fatalf("handle: %d %s", resp.StatusCode, out)
			}
			// An illegal step is a 409 that says why; an unknown one a 400.
			resp, out = s.do(t, "POST", "/api/v1/cases/"+id+"/actions/sign", tok["water"], "application/json", `{}`, "Accept-Language", "en")
			if resp.StatusCode != http.StatusConflict || !strings.Contains(decodeError(t, out).Error.Message, "handled") {
				t.Fatalf("sign a handled case: %d %s", resp.StatusCode, out)
			}
			resp, _ = s.do(t, "POST", "/api/v1/cases/"+id+"/actions/explode", tok["street"], "application/json", `{}`)
			if resp.StatusCode != 400 {
				t.Fatalf("unknown action: %d", resp.StatusCode)
			}
			// The resident reads the timeline without staff names; a bad filter is a 400.
			resp, out = s.do(t, "GET", "/api/v1/cases/"+id, tok["r1"], "", "")
			if resp.StatusCode != 200 || strings.Contains(out, `"actor":"street"`) || !strings.Contains(out, `"action":"handle"`) {
				t.Fatalf("resident view: %d %s", resp.StatusCode, out)
			}
			resp, out = s.do(t, "GET", "/api/v1/cases?overdue=maybe", tok["street"], "", "")
			if resp.StatusCode != 400 || decodeError(t, out).Error.Fields["overdue"] == "" {
				t.Fatalf("bad filter: %d %s", resp.StatusCode, out)
			}
			resp, out = s.do(t, "GET", "/api/v1/stats/cases?territory=420106001&from=2026-11-01&to=2026-11-30", tok["street"], "", "")
			if resp.StatusCode != 200 || !strings.Contains(out, `"handled":1`) {
				t.Fatalf("figures: %d %s", resp.StatusCode, out)
			}
			resp, out = s.do(t, "GET", "/api/v1/categories?q=电梯", tok["r1"], "", "")
			if resp.StatusCode != 200 || !strings.Contains(out, "M93005") {
				t.Fatalf("categories: %d %s", resp.StatusCode, out)
			}
		})
	}
}
