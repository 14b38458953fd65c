package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/app"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/config"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/demo"
	"github.com/gridhall/gridhall/internal/people"
	"github.com/gridhall/gridhall/internal/territory"
)

// staffToken creates an account with an API token.
func staffToken(t *testing.T, s site, name string, role auth.Role, scope string) string {
	t.Helper()
	ctx := context.Background()
	console := auth.SystemActor("t")
	if _, err := s.app.Auth.CreateUser(ctx, console, auth.NewUser{Username: name, Password: "password-" + name, Role: role, Scope: scope}); err != nil {
		t.Fatal(err)
	}
	_, tok, err := s.app.Auth.CreateToken(ctx, console, auth.NewToken{Username: name, Name: "t", Scopes: []string{"read", "write"}})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestThePeopleRegistryOverHTTPKeepsNumbersPrivate(t *testing.T) {
	s := newSite(t, db.SQLite)
	ctx := context.Background()
	planner := auth.SystemActorAs("t", auth.DistrictAdmin)
	if _, err := s.app.Territory.Import(ctx, planner, demo.TerritoryGeoJSON(), false); err != nil {
		t.Fatal(err)
	}
	bs, err := s.app.Territory.AddBuildings(ctx, planner, []territory.NewBuilding{
		{Name: "1号楼", Address: "中南一路1号", Lng: 114.3003, Lat: 30.5507},
		{Name: "9号楼", Address: "丁字桥路9号", Lng: 114.3150, Lat: 30.5500},
	})
	if err != nil {
		t.Fatal(err)
	}
	cs := staffToken(t, s, "cs01", auth.CommunityStaff, "420106001001")
	other := staffToken(t, s, "cs05", auth.CommunityStaff, "420106001002")
	gw := staffToken(t, s, "gw01", auth.GridWorker, "420106001001")
	if err := s.app.Territory.Assign(ctx, planner, "420106001001001", "gw01", territory.DutyWorker); err != nil {
		t.Fatal(err)
	}

	_, body := s.do(t, "POST", "/api/v1/houses", cs, "application/json", fmt.Sprintf(`{"building_id":%d,"unit":"1","number":"101","floor":1}`, bs[0].ID))
	var house struct{ ID int64 }
	json.Unmarshal([]byte(body), &house)
	_, body = s.do(t, "POST", "/api/v1/houses", other, "application/json", fmt.Sprintf(`{"building_id":%d,"unit":"2","number":"202","floor":2}`, bs[1].ID))
	var houseB struct{ ID int64 }
	json.Unmarshal([]byte(body), &houseB)

	idA := people.GenerateIDNumber("420106", time.Date(1948, 5, 4, 0, 0, 0, 0, time.UTC), true, 7)
	idB := people.GenerateIDNumber("420106", time.Date(1985, 9, 9, 0, 0, 0, 0, time.UTC), false, 8)
	resp, body := s.do(t, "POST", "/api/v1/residents", cs, "application/json",
		fmt.Sprintf(`{"house_id":%d,"name":"刘桂兰","document_number":%q,"phone":"13912345678"}`, house.ID, idA))
	if resp.StatusCode != 201 || !strings.Contains(body, `"phone":"139****5678"`) || strings.Contains(body, idA) {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	var resA struct{ ID int64 }
	json.Unmarshal([]byte(body), &resA)
	resp, body = s.do(t, "POST", "/api/v1/residents", other, "application/json",
		fmt.Sprintf(`{"house_id":%d,"name":"张伟","document_number":%q,"phone":"13687654321"}`, houseB.ID, idB))
	if resp.StatusCode != 201 {
		t.Fatalf("create B: %d %s", resp.StatusCode, body)
	}
	var resB struct{ ID int64 }
	json.Unmarshal([]byte(body), &resB)

	// The grid worker finds the resident of their grid by identity number,
	// and nothing of the other community, by any route.
	resp, body = s.do(t, "POST", "/api/v1/residents/search", gw, "application/json", fmt.Sprintf(`{"document":%q}`, idA))
	if resp.StatusCode != 200 || !strings.Contains(body, "刘桂兰") {
		t.Fatalf("search own grid: %d %s", resp.StatusCode, body)
	}
	for _, q := range []string{fmt.Sprintf(`{"document":%q}`, idB), `{"name":"张"}`, `{"phone":"13687654321"}`} {
		if _, body := s.do(t, "POST", "/api/v1/residents/search", gw, "application/json", q); !strings.Contains(body, `"items":[]`) {
			t.Errorf("grid worker searched outside their grids with %s: %s", q, body)
		}
	}
	if resp, _ := s.do(t, "GET", fmt.Sprintf("/api/v1/residents/%d", resB.ID), gw, "", ""); resp.StatusCode != 404 {
		t.Errorf("grid worker read a resident outside their grids: %d", resp.StatusCode)
	}
	if resp, _ := s.do(t, "POST", fmt.Sprintf("/api/v1/residents/%d/reveal", resA.ID), gw, "application/json", `{"field":"phone","reason":"call her"}`); resp.StatusCode != 403 {
		t.Errorf("grid worker revealed: %d", resp.StatusCode)
	}
	resp, body = s.do(t, "POST", fmt.Sprintf("/api/v1/residents/%d/reveal", resA.ID), cs, "application/json", `{"field":"document"}`, "Accept-Language", "zh-CN")
	if resp.StatusCode != 400 || decodeError(t, body).Error.Fields["reason"] == "" {
		t.Fatalf("reveal without reason: %d %s", resp.StatusCode, body)
	}
	resp, body = s.do(t, "POST", fmt.Sprintf("/api/v1/residents/%d/reveal", resA.ID), cs, "application/json", `{"field":"document","reason":"办理高龄补贴"}`)
	if resp.StatusCode != 200 || !strings.Contains(body, idA) || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("reveal: %d %s", resp.StatusCode, body)
	}
	var reason string
	s.app.DB.QueryRowContext(ctx, "SELECT reason FROM audit_log WHERE action = 'resident.reveal'").Scan(&reason)
	if reason != "办理高龄补贴" {
		t.Fatalf("reveal audit reason %q", reason)
	}

	// Neither the database file (and its write-ahead log) nor the logs hold
	// a number in plain text.
	if err := s.app.DB.Close(); err != nil {
		t.Fatal(err)
	}
	var raw []byte
	for _, name := range []string{"gridhall.db", "gridhall.db-wal"} {
		b, _ := os.ReadFile(filepath.Join(filepath.Dir(s.app.Config.SQLitePath()), name))
		raw = append(raw, b...)
	}
	if len(raw) < 4096 {
		t.Fatalf("read only %d bytes of the database", len(raw))
	}
	for _, secret := range []string{idA, idB, "13912345678", "13687654321"} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("the database file holds %s…", secret[:4])
		}
		if strings.Contains(s.logs.String(), secret) {
			t.Errorf("the log holds %s…", secret[:4])
		}
	}
}

func TestWithoutAMasterKeyOnPostgresTheRegistryIsUnavailable(t *testing.T) {
	engines := dbtest.Engines(t)
	if len(engines) < 2 {
		t.Skip("PostgreSQL tier not configured (set " + dbtest.PostgresEnv + ")")
	}
	cfg := config.Default()
	cfg.DataDir, cfg.DB = t.TempDir(), dbtest.PostgresSchema(t)
	a, err := app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), app.Options{Version: "t"})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	h, err := a.Handler()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	s := site{Server: srv, app: a}
	tok := staffToken(t, s, "cs01", auth.CommunityStaff, "420106001001")
	resp, body := s.do(t, "POST", "/api/v1/residents/search", tok, "application/json", `{"name":"王"}`, "Accept-Language", "en")
	if resp.StatusCode != 503 || !strings.Contains(body, "no master key") {
		t.Fatalf("search without a key: %d %s", resp.StatusCode, body)
	}
	if resp, _ := s.do(t, "GET", "/readyz", "", "", ""); resp.StatusCode != 200 {
		t.Fatalf("the rest of the service must keep running: readyz %d", resp.StatusCode)
	}
}

func TestAResidentSignsUpVerifiesAndDownloadsTheirDataOverHTTP(t *testing.T) {
	s := newSite(t, db.SQLite)
	ctx := context.Background()
	planner := auth.SystemActorAs("t", auth.DistrictAdmin)
	if _, err := s.app.Territory.Import(ctx, planner, demo.TerritoryGeoJSON(), false); err != nil {
		t.Fatal(err)
	}
	bs, _ := s.app.Territory.AddBuildings(ctx, planner, []territory.NewBuilding{{Name: "1号楼", Address: "中南一路1号", Lng: 114.3003, Lat: 30.5507}})
	staff := auth.SystemActorAs("t", auth.CommunityStaff)
	h, err := s.app.People.AddHouse(ctx, staff, people.NewHouse{BuildingID: bs[0].ID, Unit: "1", Number: "101", Floor: 1})
	if err != nil {
		t.Fatal(err)
	}
	id := people.GenerateIDNumber("420106", time.Date(1955, 2, 3, 0, 0, 0, 0, time.UTC), true, 3)
	if _, err := s.app.People.AddResident(ctx, staff, people.NewResident{HouseID: h.ID, Name: "周玉兰", DocumentNumber: id, Phone: "13712345678"}); err != nil {
		t.Fatal(err)
	}
	resp, body := s.do(t, "POST", "/api/v1/signup", "", "application/json", `{"phone":"137-1234-5678","password":"resident-password"}`)
	if resp.StatusCode != 201 || !strings.Contains(body, `"role":"resident"`) {
		t.Fatalf("signup: %d %s", resp.StatusCode, body)
	}
	_, tok, err := s.app.Auth.CreateToken(ctx, auth.SystemActor("t"), auth.NewToken{Username: "13712345678", Name: "phone app", Scopes: []string{"read", "write"}})
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := s.do(t, "GET", "/api/v1/me/resident", tok, "", ""); resp.StatusCode != 404 {
		t.Fatalf("unverified resident sees a record: %d", resp.StatusCode)
	}
	resp, body = s.do(t, "POST", "/api/v1/me/verify", tok, "application/json", fmt.Sprintf(`{"name":"周玉兰","document_number":%q}`, id))
	if resp.StatusCode != 200 || !strings.Contains(body, id) {
		t.Fatalf("verify: %d %s", resp.StatusCode, body)
	}
	resp, body = s.do(t, "GET", "/api/v1/me/data", tok, "", "")
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Disposition"), "my-data.json") || !strings.Contains(body, `"access"`) || !strings.Contains(body, "13712345678") {
		t.Fatalf("download: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	// A resident account cannot search the registry.
	if resp, _ := s.do(t, "POST", "/api/v1/residents/search", tok, "application/json", `{"name":"周"}`); resp.StatusCode != 403 {
		t.Fatalf("resident searched the registry: %d", resp.StatusCode)
	}
}
