package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"mime"
	"mime/multipart"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/config"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/demo"
	"github.com/gridhall/gridhall/internal/people"
)

const docURL = "https://gridhall.test/openapi.json"

// The document served at /api/v1/openapi.json is valid OpenAPI 3.1 (checked
// against the OpenAPI Initiative's schema, and every schema in it compiles
// as JSON Schema 2020-12), and it documents exactly the routes the API
// registers: a route added without documentation, or documentation left
// behind by a removed route, fails here.
func TestTheOpenAPIDocumentIsValidAndCoversEveryRoute(t *testing.T) {
	s := newSite(t, dbtest.Engines(t)[0])
	resp, body := s.do(t, "GET", "/api/v1/openapi.json", "", "", "")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("openapi.json: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	meta, err := os.ReadFile("../api/testdata/oas-3.1-schema.json")
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	metaDoc, err := jsonschema.UnmarshalJSON(bytes.NewReader(meta))
	if err != nil {
		t.Fatal(err)
	}
	const metaURL = "https://spec.openapis.org/oas/3.1/schema/2026-08-03"
	if err := c.AddResource(metaURL, metaDoc); err != nil {
		t.Fatal(err)
	}
	oas, err := c.Compile(metaURL)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := oas.Validate(inst); err != nil {
		t.Fatalf("the document is not valid OpenAPI 3.1: %v", err)
	}
	v := newValidator(t, body)
	var doc struct {
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	for name := range doc.Components.Schemas {
		if _, err := v.c.Compile(docURL + "#/components/schemas/" + name); err != nil {
			t.Errorf("schema %s does not compile: %v", name, err)
		}
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths {
		for method := range item {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	registered := registeredRoutes(t)
	for r := range registered {
		if !documented[r] {
			t.Errorf("route %s is not in the OpenAPI document", r)
		}
	}
	for r := range documented {
		if !registered[r] {
			t.Errorf("the OpenAPI document describes %s, which the API does not register", r)
		}
	}
	if len(registered) < 60 {
		t.Fatalf("found only %d routes in internal/api; the route scan is broken", len(registered))
	}
}

// registeredRoutes reads internal/api's source for every mux.Handle and
// mux.HandleFunc pattern under /api/v1, resolving the package's string
// constants, so that the check needs no cooperation from the code it checks.
func registeredRoutes(t *testing.T) map[string]bool {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("../api/*.go")
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	var calls []*ast.CallExpr
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(af, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				for i, name := range n.Names {
					if i < len(n.Values) {
						if lit, ok := n.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							consts[name.Name], _ = strconv.Unquote(lit.Value)
						}
					}
				}
			case *ast.CallExpr:
				if sel, ok := n.Fun.(*ast.SelectorExpr); ok && (sel.Sel.Name == "Handle" || sel.Sel.Name == "HandleFunc") && len(n.Args) == 2 {
					calls = append(calls, n)
				}
			}
			return true
		})
	}
	var eval func(e ast.Expr) (string, bool)
	eval = func(e ast.Expr) (string, bool) {
		switch e := e.(type) {
		case *ast.BasicLit:
			s, err := strconv.Unquote(e.Value)
			return s, err == nil
		case *ast.Ident:
			s, ok := consts[e.Name]
			return s, ok
		case *ast.BinaryExpr:
			l, ok1 := eval(e.X)
			r, ok2 := eval(e.Y)
			return l + r, ok1 && ok2
		}
		return "", false
	}
	out := map[string]bool{}
	for _, c := range calls {
		p, ok := eval(c.Args[0])
		if !ok {
			t.Fatalf("cannot read the route pattern at %s", fset.Position(c.Pos()))
		}
		if method, path, ok := strings.Cut(p, " "); ok && strings.HasPrefix(path, "/api/v1/") {
			out[method+" "+path] = true
		}
	}
	return out
}

// validator checks responses against the document's schemas.
type validator struct {
	t      *testing.T
	c      *jsonschema.Compiler
	doc    map[string]any
	cache  map[string]*jsonschema.Schema
	passed map[string]bool // operations answered with a 2xx that matched
}

func newValidator(t *testing.T, body string) *validator {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(docURL, inst); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	return &validator{t: t, c: c, doc: doc, cache: map[string]*jsonschema.Schema{}, passed: map[string]bool{}}
}

func pointerToken(s string) string {
	return url.PathEscape(strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1"))
}

// check validates one response of the operation route ("GET /api/v1/x/{id}").
func (v *validator) check(route string, status int, contentType, body string) {
	t := v.t
	t.Helper()
	method, path, _ := strings.Cut(route, " ")
	item, _ := v.doc["paths"].(map[string]any)[path].(map[string]any)
	op, _ := item[strings.ToLower(method)].(map[string]any)
	if op == nil {
		t.Errorf("%s: not in the document", route)
		return
	}
	resp, _ := op["responses"].(map[string]any)[strconv.Itoa(status)].(map[string]any)
	if resp == nil {
		t.Errorf("%s answered %d, which the document does not list: %.300s", route, status, body)
		return
	}
	content, _ := resp["content"].(map[string]any)
	if len(content) == 0 {
		if strings.TrimSpace(body) != "" {
			t.Errorf("%s %d: the document says no content, the server sent %.200s", route, status, body)
		}
		v.pass(route, status)
		return
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	if _, ok := content[mt]; !ok {
		t.Errorf("%s %d: content type %q is not among the documented %v", route, status, mt, keys(content))
		return
	}
	if mt != "application/json" && mt != "application/geo+json" {
		v.pass(route, status)
		return
	}
	loc := docURL + "#/paths/" + pointerToken(path) + "/" + strings.ToLower(method) + "/responses/" + strconv.Itoa(status) +
		"/content/" + pointerToken(mt) + "/schema"
	sch, ok := v.cache[loc]
	if !ok {
		var err error
		if sch, err = v.c.Compile(loc); err != nil {
			t.Fatalf("%s: compiling %s: %v", route, loc, err)
		}
		v.cache[loc] = sch
	}
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(body))
	if err != nil {
		t.Errorf("%s %d: not JSON: %.200s", route, status, body)
		return
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("%s %d: the response disagrees with the document: %v\nbody: %.600s", route, status, err, body)
		return
	}
	v.pass(route, status)
}

func (v *validator) pass(route string, status int) {
	if status < 300 {
		v.passed[route] = true
	}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Every operation in the document is called on a real server with real
// data, on both engines, and each answer (successes and the errors met on
// the way) must match the document's schema for its status. The test fails
// when an operation is never answered successfully, so a new route cannot
// go unchecked.
func TestEveryAPIResponseMatchesTheOpenAPIDocument(t *testing.T) {
	for _, e := range dbtest.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			// PostgreSQL nodes need a shared master key for the registry.
			s := newSiteWith(t, e, func(c *config.Config) { c.MasterKey = strings.Repeat("5a", 32) })
			tok, b := caseSite(t, s)
			_, docBody := s.do(t, "GET", "/api/v1/openapi.json", "", "", "")
			v := newValidator(t, docBody)
			v.check("GET /api/v1/openapi.json", 200, "application/json", docBody)
			admin := s.admin
			// Duties are separate: accounts and settings (admin), the
			// territory (district), the registry (community), the audit log.
			da := staffToken(t, s, "da", auth.DistrictAdmin, "420106")
			cs := staffToken(t, s, "cs", auth.CommunityStaff, "420106001001")
			aud := staffToken(t, s, "aud", auth.Auditor, "")
			// call makes a request and checks its answer against route.
			var call caller = func(route, path, token, ctype, body string, hdr ...string) (int, string) {
				t.Helper()
				method, _, _ := strings.Cut(route, " ")
				resp, out := s.do(t, method, path, token, ctype, body, hdr...)
				v.check(route, resp.StatusCode, resp.Header.Get("Content-Type"), out)
				return resp.StatusCode, out
			}
			// expect calls and fails unless the status is want.
			var expect expecter = func(want int, route, path, token, ctype, body string, hdr ...string) string {
				t.Helper()
				got, out := call(route, path, token, ctype, body, hdr...)
				if got != want {
					t.Errorf("%s: status %d, want %d: %.500s", path, got, want, out)
				}
				return out
			}
			var idOf picker = func(out string, path ...string) string {
				t.Helper()
				var m any
				if err := json.Unmarshal([]byte(out), &m); err != nil {
					t.Fatalf("not JSON: %s", out)
				}
				for _, p := range path {
					switch x := m.(type) {
					case map[string]any:
						m = x[p]
					case []any:
						i, _ := strconv.Atoi(p)
						if i >= len(x) {
							t.Fatalf("no %v in %.300s", path, out)
						}
						m = x[i]
					}
				}
				switch x := m.(type) {
				case float64:
					return strconv.FormatInt(int64(x), 10)
				case string:
					return x
				}
				t.Fatalf("no %v in %.300s", path, out)
				return ""
			}
			const js = "application/json"

			// Accounts.
			expect(200, "GET /api/v1/me", "/api/v1/me", admin, "", "")
			expect(401, "GET /api/v1/me", "/api/v1/me", "", "", "")
			uid := idOf(expect(201, "POST /api/v1/users", "/api/v1/users", admin, js,
				`{"username":"gw02","password":"password-gw02","role":"grid_worker","scope":"420106001001","display_name":"网格员二"}`), "id")
			expect(400, "POST /api/v1/users", "/api/v1/users", admin, js, `{"username":""}`)
			expect(200, "GET /api/v1/users", "/api/v1/users?limit=1", admin, "", "")
			expect(400, "GET /api/v1/users", "/api/v1/users?limit=0", admin, "", "")
			expect(200, "GET /api/v1/users/{id}", "/api/v1/users/"+uid, admin, "", "")
			expect(404, "GET /api/v1/users/{id}", "/api/v1/users/999999", admin, "", "")
			expect(200, "POST /api/v1/users/{id}/disable", "/api/v1/users/"+uid+"/disable", admin, "", "")
			expect(200, "POST /api/v1/users/{id}/enable", "/api/v1/users/"+uid+"/enable", admin, "", "")
			out := expect(201, "POST /api/v1/tokens", "/api/v1/tokens", admin, js, `{"username":"gw02","name":"field app","scopes":["read","write"],"expires_in_days":30}`)
			gw2, gw2ID := idOf(out, "token"), idOf(out, "id")
			expect(200, "GET /api/v1/tokens", "/api/v1/tokens", admin, "", "")
			expect(204, "POST /api/v1/me/password", "/api/v1/me/password", gw2, js, `{"current_password":"password-gw02","new_password":"a-new-password-2"}`)
			expect(400, "POST /api/v1/me/password", "/api/v1/me/password", gw2, js, `{"current_password":"wrong","new_password":"x"}`)
			expect(204, "DELETE /api/v1/tokens/{id}", "/api/v1/tokens/"+gw2ID, admin, "", "")
			expect(200, "GET /api/v1/audit", "/api/v1/audit?limit=5", aud, "", "")
			expect(403, "GET /api/v1/audit", "/api/v1/audit", tok["r1"], "", "")

			// Territory.
			expect(200, "GET /api/v1/locate", fmt.Sprintf("/api/v1/locate?lat=%v&lng=%v", b.Lat, b.Lng), "", "", "")
			expect(400, "GET /api/v1/locate", "/api/v1/locate?lat=x&lng=1", "", "", "")
			expect(200, "GET /api/v1/territory", "/api/v1/territory?level=grid", da, "", "")
			expect(200, "POST /api/v1/territory/import", "/api/v1/territory/import?dry_run=true", da, "application/geo+json", string(demo.TerritoryGeoJSON()))
			expect(400, "POST /api/v1/territory/import", "/api/v1/territory/import", da, "application/geo+json", `{"type":"FeatureCollection","features":[{"type":"Feature"}]}`)
			grid := b.GridCode
			expect(200, "GET /api/v1/territory/nodes/{code}", "/api/v1/territory/nodes/"+grid, da, "", "")
			hist := expect(200, "GET /api/v1/territory/nodes/{code}/history", "/api/v1/territory/nodes/"+grid+"/history", da, "", "")
			var fc struct {
				Features []struct {
					Geometry json.RawMessage `json:"geometry"`
				} `json:"features"`
			}
			if err := json.Unmarshal([]byte(hist), &fc); err != nil || len(fc.Features) == 0 {
				t.Fatalf("history: %s", hist)
			}
			expect(200, "PUT /api/v1/territory/nodes/{code}/boundary", "/api/v1/territory/nodes/"+grid+"/boundary", da, js,
				`{"geometry":`+string(fc.Features[0].Geometry)+`}`)
			expect(200, "GET /api/v1/territory/nodes/{code}/staff", "/api/v1/territory/nodes/"+grid+"/staff", da, "", "")
			expect(200, "PUT /api/v1/territory/nodes/{code}/staff/{username}", "/api/v1/territory/nodes/"+grid+"/staff/gw02", da, js, `{"duty":"leader"}`)
			expect(400, "PUT /api/v1/territory/nodes/{code}/staff/{username}", "/api/v1/territory/nodes/"+grid+"/staff/gw02", da, js, `{"duty":"boss"}`)
			expect(204, "DELETE /api/v1/territory/nodes/{code}/staff/{username}", "/api/v1/territory/nodes/"+grid+"/staff/gw02", da, "", "")
			expect(200, "GET /api/v1/buildings", "/api/v1/buildings?grid="+grid, da, "", "")
			expect(201, "POST /api/v1/buildings", "/api/v1/buildings", da, js, fmt.Sprintf(`{"name":"2号楼","address":"中南一路2号","lng":%v,"lat":%v}`, b.Lng, b.Lat))
			expect(200, "GET /api/v1/buildings/search", "/api/v1/buildings/search?q=中南", da, "", "")

			// People.
			house := idOf(expect(201, "POST /api/v1/houses", "/api/v1/houses", cs, js, fmt.Sprintf(`{"building_id":%d,"unit":"1","number":"101","floor":1}`, b.ID)), "id")
			doc := people.GenerateIDNumber("420106", time.Date(1950, 3, 4, 0, 0, 0, 0, time.UTC), true, 5)
			out = expect(201, "POST /api/v1/residents", "/api/v1/residents", cs, js, fmt.Sprintf(`{"house_id":%s,"name":"周玉兰","document_number":%q,"phone":"13712345678"}`, house, doc))
			rid, household := idOf(out, "id"), idOf(out, "household_id")
			expect(400, "POST /api/v1/residents", "/api/v1/residents", cs, js, fmt.Sprintf(`{"house_id":%s,"name":"","document_number":"1"}`, house))
			expect(200, "POST /api/v1/residents/search", "/api/v1/residents/search", cs, js, `{"name":"周","limit":1}`)
			expect(200, "GET /api/v1/residents/{id}", "/api/v1/residents/"+rid, cs, "", "")
			expect(200, "POST /api/v1/residents/{id}/reveal", "/api/v1/residents/"+rid+"/reveal", cs, js, `{"field":"phone","reason":"办理高龄补贴"}`)
			csvFile := "姓名,公民身份号码,联系电话,楼栋,门牌号\n王建国," + people.GenerateIDNumber("420106", time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), false, 9) + ",13800001111,1号楼,101\n"
			ct, mp := multipartFile(t, "file", "r.csv", csvFile, map[string]string{"dry_run": "true"})
			expect(200, "POST /api/v1/residents/import", "/api/v1/residents/import", cs, ct, mp)
			ct, mp = multipartFile(t, "file", "r.csv", "姓名\n", nil)
			expect(400, "POST /api/v1/residents/import", "/api/v1/residents/import", cs, ct, mp)
			expect(200, "POST /api/v1/residents/export", "/api/v1/residents/export", cs, js, `{"format":"csv"}`)
			expect(201, "POST /api/v1/visits", "/api/v1/visits", cs, js, fmt.Sprintf(`{"household_ids":[%s],"companions":"社区医生","started_at":"2026-11-21T09:00:00+08:00","ended_at":"2026-11-21T09:30:00+08:00"}`, household))
			expect(200, "GET /api/v1/visits", "/api/v1/visits", cs, "", "")
			expect(200, "GET /api/v1/care", "/api/v1/care?on=2026-11-21", cs, "", "")
			expect(400, "GET /api/v1/care", "/api/v1/care?on=yesterday", cs, "", "")
			expect(200, "GET /api/v1/stats/population", "/api/v1/stats/population?code=420106001001", cs, "", "")
			expect(201, "POST /api/v1/signup", "/api/v1/signup", "", js, `{"phone":"137-1234-5678","password":"resident-password"}`)
			expect(400, "POST /api/v1/signup", "/api/v1/signup", "", js, `{"phone":"12","password":"x"}`)
			_, selfTok := tokenFor(t, s, "13712345678")
			expect(404, "GET /api/v1/me/resident", "/api/v1/me/resident", selfTok, "", "")
			expect(200, "POST /api/v1/me/verify", "/api/v1/me/verify", selfTok, js, fmt.Sprintf(`{"name":"周玉兰","document_number":%q}`, doc))
			expect(200, "GET /api/v1/me/resident", "/api/v1/me/resident", selfTok, "", "")
			expect(200, "GET /api/v1/me/data", "/api/v1/me/data", selfTok, "", "")
			doc2 := people.GenerateIDNumber("420106", time.Date(1949, 7, 1, 0, 0, 0, 0, time.UTC), false, 6)
			rid2 := idOf(expect(201, "POST /api/v1/residents", "/api/v1/residents", cs, js, fmt.Sprintf(`{"house_id":%s,"name":"李大爷","document_number":%q,"phone":"13911112222"}`, house, doc2)), "id")
			expect(201, "POST /api/v1/signup", "/api/v1/signup", "", js, `{"phone":"13911112222","password":"resident-password"}`)
			expect(204, "POST /api/v1/residents/{id}/verify-in-person", "/api/v1/residents/"+rid2+"/verify-in-person", cs, js, `{"username":"13911112222"}`)

			// Cases.
			ct, mp = multipartBody(t, "case", fmt.Sprintf(`{"category":"M92001","description":"水管漏水，路面积水","lng":%v,"lat":%v}`, b.Lng, b.Lat), 1)
			out = expect(201, "POST /api/v1/cases", "/api/v1/cases", tok["r1"], ct, mp)
			cid := idOf(out, "case", "id")
			expect(400, "POST /api/v1/cases", "/api/v1/cases", tok["r1"], js, `{"category":"M92001","description":"x","lng":116.4,"lat":39.9}`)
			expect(201, "POST /api/v1/cases", "/api/v1/cases", tok["r1"], js, fmt.Sprintf(`{"category":"M92001","description":"又一处水管漏水","lng":%v,"lat":%v}`, b.Lng, b.Lat))
			expect(200, "GET /api/v1/cases", "/api/v1/cases?queue=verify&limit=1", tok["gw"], "", "")
			expect(200, "GET /api/v1/cases", "/api/v1/cases?queue=all&format=geojson", tok["gw"], "", "")
			expect(400, "GET /api/v1/cases", "/api/v1/cases?overdue=maybe", tok["gw"], "", "")
			expect(200, "GET /api/v1/cases/similar", fmt.Sprintf("/api/v1/cases/similar?category=M92001&lat=%v&lng=%v&text=水管漏水", b.Lat, b.Lng), tok["gw"], "", "")
			for _, step := range []struct{ who, action, body string }{
				{"gw", "verify", `{"note":"属实"}`}, {"street", "accept", `{}`}, {"street", "register", `{"urgency":"pressing"}`},
			} {
				expect(200, "POST /api/v1/cases/{id}/actions/{action}", "/api/v1/cases/"+cid+"/actions/"+step.action, tok[step.who], js, step.body)
			}
			expect(200, "POST /api/v1/cases/bulk/{action}", "/api/v1/cases/bulk/dispatch", tok["street"], js, fmt.Sprintf(`{"ids":[%s,999999],"target":"department:water"}`, cid))
			expect(409, "POST /api/v1/cases/{id}/actions/{action}", "/api/v1/cases/"+cid+"/actions/close", tok["street"], js, `{}`)
			out = expect(200, "GET /api/v1/cases/{id}", "/api/v1/cases/"+cid, tok["street"], "", "")
			photo := idOf(out, "events", "0", "attachments", "0")
			expect(200, "GET /api/v1/cases/{id}/photos/{photo}", "/api/v1/cases/"+cid+"/photos/"+photo+"?size=thumb", tok["street"], "", "")
			expect(404, "GET /api/v1/cases/{id}", "/api/v1/cases/999999", tok["street"], "", "")
			expect(200, "GET /api/v1/queues", "/api/v1/queues", tok["street"], "", "")
			expect(200, "GET /api/v1/stats/cases", "/api/v1/stats/cases?territory=420106001&from=2026-11-01&to=2026-11-30", tok["street"], "", "")
			expect(400, "GET /api/v1/stats/cases", "/api/v1/stats/cases?from=soon", tok["street"], "", "")

			// Catalogue and calendar.
			expect(200, "GET /api/v1/categories", "/api/v1/categories?q=水", admin, "", "")
			cat := expect(200, "GET /api/v1/categories/{ref}", "/api/v1/categories/M92001", admin, "", "")
			expect(404, "GET /api/v1/categories/{ref}", "/api/v1/categories/M99999", admin, "", "")
			expect(200, "PUT /api/v1/categories/{ref}", "/api/v1/categories/M92001", admin, js, stripRef(t, cat))
			csvCats := expect(200, "GET /api/v1/categories/export", "/api/v1/categories/export", admin, "", "")
			expect(200, "POST /api/v1/categories/import", "/api/v1/categories/import", admin, "text/csv", csvCats)
			expect(400, "POST /api/v1/categories/import", "/api/v1/categories/import", admin, "text/csv", "nonsense\n1\n")
			expect(200, "GET /api/v1/departments", "/api/v1/departments", admin, "", "")
			expect(200, "PUT /api/v1/departments/{code}", "/api/v1/departments/gas", admin, js, `{"name":{"zh":"燃气公司","en":"Gas company"},"active":true}`)
			expect(204, "PUT /api/v1/departments/{code}/members/{user}", "/api/v1/departments/gas/members/water", admin, "", "")
			expect(204, "DELETE /api/v1/departments/{code}/members/{user}", "/api/v1/departments/gas/members/water", admin, "", "")
			expect(200, "GET /api/v1/calendar/{district}/{year}", "/api/v1/calendar/default/2026", admin, "", "")
			expect(200, "GET /api/v1/calendar/{district}/{year}", "/api/v1/calendar/default/2026?format=csv", admin, "", "")
			expect(200, "POST /api/v1/calendar/{district}/{year}", "/api/v1/calendar/default/2027", admin, js, `{"days":[{"date":"2027-01-01","kind":"holiday","name":"元旦"}]}`)
			expect(400, "POST /api/v1/calendar/{district}/{year}", "/api/v1/calendar/default/2027", admin, "text/csv", "date,kind\n2027-13-01,holiday\n")

			// Messages: the resident was told when the case was accepted.
			expect(200, "GET /api/v1/inbox", "/api/v1/inbox?limit=10", tok["r1"], "", "")
			expect(204, "POST /api/v1/inbox/read", "/api/v1/inbox/read", tok["r1"], js, `{"all":true}`)

			// Webhooks.
			out = expect(201, "POST /api/v1/webhooks", "/api/v1/webhooks", admin, js, `{"owner":"water","url":"http://127.0.0.1:9/hook","events":"*"}`)
			hook := idOf(out, "endpoint", "id")
			expect(400, "POST /api/v1/webhooks", "/api/v1/webhooks", admin, js, `{"owner":"water","url":"ftp://x","events":"*"}`)
			expect(200, "GET /api/v1/webhooks", "/api/v1/webhooks?owner=water", admin, "", "")
			expect(200, "PUT /api/v1/webhooks/{id}", "/api/v1/webhooks/"+hook, admin, js, `{"url":"http://127.0.0.1:9/hook2","events":"case.*","territory":"420106001","categories":"M92"}`)
			expect(400, "PUT /api/v1/webhooks/{id}", "/api/v1/webhooks/"+hook, admin, js, `{"url":"http://127.0.0.1:9/hook2","events":"case.*","territory":"12"}`)
			expect(200, "POST /api/v1/webhooks/{id}/rotate", "/api/v1/webhooks/"+hook+"/rotate", admin, "", "")
			expect(200, "GET /api/v1/webhooks/{id}/deliveries", "/api/v1/webhooks/"+hook+"/deliveries", admin, "", "")
			expect(204, "POST /api/v1/webhooks/{id}/disable", "/api/v1/webhooks/"+hook+"/disable", admin, "", "")

			walkLaterRoutes(t, expect, idOf, admin, tok)

			var missing []string
			for r := range registeredRoutes(t) {
				if !v.passed[r] {
					missing = append(missing, r)
				}
			}
			slices.Sort(missing)
			if len(missing) > 0 {
				t.Errorf("no successful, schema-checked call of:\n  %s", strings.Join(missing, "\n  "))
			}
		})
	}
}

// caller makes a request and checks its answer against the route's
// documented responses; expecter also fails unless the status is the one
// wanted;
// picker reads a value from a JSON answer by a path of keys and indexes.
type (
	caller   func(route, path, token, ctype, body string, hdr ...string) (int, string)
	expecter func(want int, route, path, token, ctype, body string, hdr ...string) string
	picker   func(out string, path ...string) string
)

// tokenFor gives an existing account a read/write API token.
func tokenFor(t *testing.T, s site, username string) (int64, string) {
	t.Helper()
	tk, secret, err := s.app.Auth.CreateToken(context.Background(), auth.SystemActor("t"),
		auth.NewToken{Username: username, Name: "t", Scopes: []string{"read", "write"}})
	if err != nil {
		t.Fatal(err)
	}
	return tk.ID, secret
}

// stripRef turns a category as read into a body for PUT.
func stripRef(t *testing.T, body string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "ref")
	out, _ := json.Marshal(m)
	return string(out)
}

func multipartFile(t *testing.T, field, name, content string, fields map[string]string) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	w, err := mw.CreateFormFile(field, name)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte(content))
	mw.Close()
	return mw.FormDataContentType(), buf.String()
}
