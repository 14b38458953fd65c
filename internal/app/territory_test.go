package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/demo"
)

// districtToken signs up a district administrator over the demo's district
// and returns their API token.
func districtToken(t *testing.T, s site) string {
	t.Helper()
	ctx := context.Background()
	console := auth.SystemActor("t")
	if _, err := s.app.Auth.CreateUser(ctx, console, auth.NewUser{Username: "district", Password: "district-password", Role: auth.DistrictAdmin, Scope: demo.DistrictCode}); err != nil {
		t.Fatal(err)
	}
	_, tok, err := s.app.Auth.CreateToken(ctx, console, auth.NewToken{Username: "district", Name: "t", Scopes: []string{"read", "write"}})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestTerritoryOverHTTP(t *testing.T) {
	s := newSite(t, db.SQLite)
	tok := districtToken(t, s)

	resp, body := s.do(t, "POST", "/api/v1/territory/import", tok, "application/geo+json", string(demo.TerritoryGeoJSON()))
	if resp.StatusCode != 200 || !strings.Contains(body, `"created":26`) {
		t.Fatalf("import: %d %s", resp.StatusCode, body)
	}
	// Locate is public and answers in both coordinate systems.
	resp, body = s.do(t, "GET", "/api/v1/locate?lat=30.5507&lng=114.3003", "", "", "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"code":"420106001001001"`) || !strings.Contains(body, `"name":"Y社区"`) {
		t.Fatalf("locate: %d %s", resp.StatusCode, body)
	}
	resp, body = s.do(t, "GET", "/api/v1/locate?lat=40&lng=116", "", "", "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"inside":false`) {
		t.Fatalf("locate outside: %d %s", resp.StatusCode, body)
	}
	resp, body = s.do(t, "GET", "/api/v1/locate?lat=north&lng=114.3&crs=mars", "", "", "", "Accept-Language", "en")
	e := decodeError(t, body)
	if resp.StatusCode != 400 || e.Error.Fields["lat"] == "" || e.Error.Fields["crs"] == "" || e.Error.Fields["lng"] != "" {
		t.Fatalf("bad locate: %d %s", resp.StatusCode, body)
	}

	// A bad file: 400, every problem translated, nothing written.
	bad := `{"type":"FeatureCollection","features":[
		{"type":"Feature","properties":{"code":"420106001001099","name":"越界"},"geometry":{"type":"Polygon","coordinates":[[[114.40,30.54],[114.41,30.54],[114.41,30.55],[114.40,30.54]]]}},
		{"type":"Feature","properties":{"code":"4201","name":"短码"},"geometry":{"type":"Polygon","coordinates":[[[114.30,30.54],[114.31,30.54],[114.31,30.55],[114.30,30.54]]]}}]}`
	resp, body = s.do(t, "POST", "/api/v1/territory/import", tok, "application/json", bad, "Accept-Language", "zh-CN")
	var rej struct {
		Error    struct{ Code, Message string }
		Problems []struct {
			Index          int
			Code, Reason   string
			Message, Other string
		}
	}
	json.Unmarshal([]byte(body), &rej)
	if resp.StatusCode != 400 || rej.Error.Code != "invalid" || len(rej.Problems) != 2 ||
		rej.Problems[0].Reason != "territory.problem.not_within_parent" || rej.Problems[0].Message != "边界不在上级范围之内。" ||
		rej.Problems[1].Index != 1 || rej.Problems[1].Reason != "territory.problem.code_format" {
		t.Fatalf("bad file: %d %s", resp.StatusCode, body)
	}
	resp, body = s.do(t, "GET", "/api/v1/territory?level=community", tok, "", "")
	if resp.StatusCode != 200 || strings.Count(body, `"kind":"community"`) != 4 || strings.Contains(body, `"kind":"grid"`) {
		t.Fatalf("tree: %d %.300s", resp.StatusCode, body)
	}
	resp, body = s.do(t, "GET", "/api/v1/territory/nodes/420106001001001", tok, "", "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"ancestors"`) || !strings.Contains(body, `"kind":"grid"`) {
		t.Fatalf("card: %d %s", resp.StatusCode, body)
	}

	// Roles: the system administrator may read but not change the territory;
	// anonymous clients may only locate.
	resp, _ = s.do(t, "POST", "/api/v1/territory/import", s.admin, "application/json", string(demo.TerritoryGeoJSON()))
	if resp.StatusCode != 403 {
		t.Fatalf("system_admin imported: %d", resp.StatusCode)
	}
	resp, _ = s.do(t, "PUT", "/api/v1/territory/nodes/420106001001001/boundary", s.admin, "application/json", `{"geometry":null}`)
	if resp.StatusCode != 403 {
		t.Fatalf("system_admin edited a boundary: %d", resp.StatusCode)
	}
	resp, _ = s.do(t, "GET", "/api/v1/territory", "", "", "")
	if resp.StatusCode != 401 {
		t.Fatalf("anonymous read the tree: %d", resp.StatusCode)
	}
	resp, body = s.do(t, "PUT", "/api/v1/territory/nodes/420106001001001/boundary", tok, "application/json", `{"geometry":{"type":"Point","coordinates":[1,2]}}`, "Accept-Language", "en")
	if resp.StatusCode != 400 || !strings.Contains(body, "Polygon or MultiPolygon") {
		t.Fatalf("point as boundary: %d %s", resp.StatusCode, body)
	}

	// Buildings: created through the API, placed by the locator, found by address.
	resp, body = s.do(t, "POST", "/api/v1/buildings", tok, "application/json",
		`{"name":"1号楼","address":"武汉市武昌区中南一路1号","lng":114.3003,"lat":30.5507,"households":30}`)
	if resp.StatusCode != 201 || !strings.Contains(body, `"grid_code":"420106001001001"`) {
		t.Fatalf("create building: %d %s", resp.StatusCode, body)
	}
	resp, body = s.do(t, "GET", "/api/v1/buildings/search?q=中南一路", tok, "", "")
	if resp.StatusCode != 200 || !strings.Contains(body, "中南一路1号") {
		t.Fatalf("search: %d %s", resp.StatusCode, body)
	}
	resp, body = s.do(t, "GET", "/api/v1/buildings/search?q=", tok, "", "")
	if resp.StatusCode != 400 || decodeError(t, body).Error.Fields["q"] == "" {
		t.Fatalf("empty search: %d %s", resp.StatusCode, body)
	}
}
