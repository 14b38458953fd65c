package api

import (
	"encoding/json"
	"net/http"
	"sync"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/export"
	"github.com/gridhall/gridhall/internal/httpx"
	"github.com/gridhall/gridhall/internal/openapi"
	"github.com/gridhall/gridhall/internal/outbox"
	"github.com/gridhall/gridhall/internal/people"
	"github.com/gridhall/gridhall/internal/territory"
)

// OpenAPIPath is where the OpenAPI 3.1 document is served.
const OpenAPIPath = "/api/v1/openapi.json"

var (
	docOnce sync.Once
	doc     *openapi.Document
	docJSON []byte
)

// Document is the OpenAPI 3.1 description of /api/v1. Its schemas come from
// the Go types the handlers encode; a test walks every operation against a
// real server and checks each response against them.
func Document() *openapi.Document {
	docOnce.Do(func() {
		doc = buildDocument()
		var err error
		if docJSON, err = json.MarshalIndent(doc, "", "  "); err != nil {
			panic(err) // the document is built from static data
		}
	})
	return doc
}

func (a *API) openAPI(w http.ResponseWriter, r *http.Request) {
	Document()
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(docJSON)
}

// Parameter shorthands.
func query(name, desc string, s openapi.Schema) openapi.Param {
	return openapi.Param{Name: name, In: "query", Description: desc, Schema: s}
}

func pathParam(name, desc string, s openapi.Schema) openapi.Param {
	return openapi.Param{Name: name, In: "path", Description: desc, Required: true, Schema: s}
}

var (
	idParam     = pathParam("id", "Numeric id.", openapi.Integer())
	cursorParam = query("cursor", "The next_cursor of the previous page; absent for the first page.", openapi.String())
	limitParam  = query("limit", "Items per page, 1–200 (default 50).", openapi.Schema{"type": "integer", "minimum": 1, "maximum": 200})
)

func jsonBody(s openapi.Schema) *openapi.Body {
	return &openapi.Body{Required: true, Content: map[string]openapi.Schema{"application/json": s}}
}

func ok(code int, desc string, s openapi.Schema) map[int]openapi.Response {
	if s == nil {
		return map[int]openapi.Response{code: {Description: desc}}
	}
	return map[int]openapi.Response{code: {Description: desc, Content: map[string]openapi.Schema{"application/json": s}}}
}

func content(code int, desc, mediaType string, s openapi.Schema) map[int]openapi.Response {
	return map[int]openapi.Response{code: {Description: desc, Content: map[string]openapi.Schema{mediaType: s}}}
}

// page is the schema of a cursor page of items.
func page(d *openapi.Document, name string, item openapi.Schema) openapi.Schema {
	return d.Define(name, openapi.Object(map[string]openapi.Schema{
		"items":       openapi.Array(item),
		"next_cursor": withDoc(openapi.String(), "Pass as cursor to get the next page; absent on the last page."),
	}, "items"))
}

// list is the schema of a complete list in {"items": […]}.
func list(d *openapi.Document, name string, item openapi.Schema) openapi.Schema {
	return d.Define(name, openapi.Object(map[string]openapi.Schema{"items": openapi.Array(item)}, "items"))
}

func withDoc(s openapi.Schema, doc string) openapi.Schema {
	s["description"] = doc
	return s
}

var (
	geojson   = openapi.Schema{"type": "object", "required": []string{"type"}, "properties": openapi.Schema{"type": openapi.String()}}
	csvText   = openapi.String()
	xlsxBytes = openapi.Schema{"type": "string", "contentMediaType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
)

const (
	tagAccounts  = "accounts"
	tagTerritory = "territory"
	tagPeople    = "people"
	tagCases     = "cases"
	tagCatalog   = "catalog"
	tagMessages  = "messages"
	tagWebhooks  = "webhooks"
	tagMeta      = "meta"
	tagExports   = "exports"
)

func buildDocument() *openapi.Document {
	d := openapi.New("GridHall API", "1",
		"GridHall's JSON API. Authenticate with an API token (Authorization: Bearer gh_…) whose scopes "+
			"include the operation's scope (read, write), or with a browser session. Lists are paged with "+
			"cursor and limit and answer {items, next_cursor}. Errors are {error: {code, message, fields, "+
			"request_id}} in the language of Accept-Language. Each token may make --api-rate requests per "+
			"second (bursts of --api-burst) per node; past that the answer is 429 with Retry-After.")
	d.Servers = []string{"/"}
	d.SecuritySchemes = map[string]any{
		"bearer":  map[string]any{"type": "http", "scheme": "bearer", "description": "An API token created with POST /api/v1/tokens or `gridhall token create`."},
		"session": map[string]any{"type": "apiKey", "in": "cookie", "name": "gridhall_session", "description": "A browser session (unsafe methods also need the CSRF token)."},
	}
	d.Tags = []openapi.Tag{
		{Name: tagMeta, Description: "This document."},
		{Name: tagAccounts, Description: "Accounts, API tokens and the audit log."},
		{Name: tagTerritory, Description: "Districts, streets, communities, grids and buildings; point-to-grid location."},
		{Name: tagPeople, Description: "The registry of people and housing, within the caller's territory; visits and care."},
		{Name: tagCases, Description: "Case intake, the workflow's actions, queues and figures."},
		{Name: tagCatalog, Description: "Case categories, departments and the working calendar."},
		{Name: tagMessages, Description: "The caller's in-app messages."},
		{Name: tagWebhooks, Description: "Signed event deliveries to other systems."},
		{Name: tagExports, Description: "Bulk exports of cases, produced in the background, masked by default, audited on download."},
	}
	d.Define(openapi.ErrorSchema, openapi.Object(map[string]openapi.Schema{"error": d.Of(httpx.Problem{})}, "error"))
	problems := d.Define("TerritoryProblems", openapi.Object(map[string]openapi.Schema{
		"error": d.Of(httpx.Problem{}), "problems": openapi.Array(d.Of(territory.Problem{}))}, "error", "problems"))

	d.Add(openapi.Op{Method: "GET", Path: OpenAPIPath, ID: "openapi", Tag: tagMeta, Summary: "This OpenAPI 3.1 document",
		Responses: ok(200, "The document.", openapi.Schema{"type": "object", "required": []string{"openapi", "paths"}})})

	addAccounts(d)
	addTerritory(d, problems)
	addPeople(d)
	addCases(d)
	addCatalog(d)
	addMessages(d)
	addWebhooks(d)
	addExports(d)
	return d
}

func addAccounts(d *openapi.Document) {
	user := d.Of(auth.User{})
	d.Add(
		openapi.Op{Method: "GET", Path: "/api/v1/me", ID: "getMe", Tag: tagAccounts, Scope: "read", Summary: "The calling account",
			Responses: ok(200, "The account.", d.Define("Me", openapi.Object(map[string]openapi.Schema{
				"id": openapi.Integer(), "username": openapi.String(), "display_name": openapi.String(), "role": openapi.String(),
				"scope": openapi.String(), "locale": openapi.String(), "must_change_password": openapi.Boolean()},
				"id", "username", "display_name", "role", "scope", "locale", "must_change_password")))},
		openapi.Op{Method: "POST", Path: "/api/v1/me/password", ID: "changePassword", Tag: tagAccounts, Scope: "write", Summary: "Change the caller's password",
			Body: jsonBody(openapi.Object(map[string]openapi.Schema{"current_password": openapi.String(), "new_password": openapi.String()},
				"current_password", "new_password")),
			Responses: ok(204, "Changed; other sessions are signed out.", nil), Errors: []int{400}},
		openapi.Op{Method: "GET", Path: "/api/v1/users", ID: "listUsers", Tag: tagAccounts, Scope: "read", Summary: "Accounts within the caller's scope",
			Params:    []openapi.Param{query("q", "Part of a user name or display name.", openapi.String()), cursorParam, limitParam},
			Responses: ok(200, "A page of accounts.", page(d, "UserPage", user)), Errors: []int{400}},
		openapi.Op{Method: "POST", Path: "/api/v1/users", ID: "createUser", Tag: tagAccounts, Scope: "write", Summary: "Create an account",
			Body: jsonBody(d.Of(auth.NewUser{})), Responses: ok(201, "The new account.", user), Errors: []int{400, 409}},
		openapi.Op{Method: "GET", Path: "/api/v1/users/{id}", ID: "getUser", Tag: tagAccounts, Scope: "read", Summary: "One account",
			Params: []openapi.Param{idParam}, Responses: ok(200, "The account.", user), Errors: []int{404}},
		openapi.Op{Method: "POST", Path: "/api/v1/users/{id}/disable", ID: "disableUser", Tag: tagAccounts, Scope: "write", Summary: "Disable an account and end its sessions",
			Params: []openapi.Param{idParam}, Responses: ok(200, "The account.", user), Errors: []int{404}},
		openapi.Op{Method: "POST", Path: "/api/v1/users/{id}/enable", ID: "enableUser", Tag: tagAccounts, Scope: "write", Summary: "Enable an account",
			Params: []openapi.Param{idParam}, Responses: ok(200, "The account.", user), Errors: []int{404}},
		openapi.Op{Method: "GET", Path: "/api/v1/tokens", ID: "listTokens", Tag: tagAccounts, Scope: "read", Summary: "The caller's API tokens",
			Responses: ok(200, "The tokens (never their secrets).", page(d, "TokenPage", d.Of(auth.Token{})))},
		openapi.Op{Method: "POST", Path: "/api/v1/tokens", ID: "createToken", Tag: tagAccounts, Scope: "write", Summary: "Create an API token",
			Description: "The secret is in the answer's token field, shown this once.",
			Body: jsonBody(openapi.Object(map[string]openapi.Schema{"username": openapi.String(), "name": openapi.String(),
				"scopes": openapi.Array(openapi.Enum("read", "write", "open311")), "expires_in_days": openapi.Integer()}, "name", "scopes")),
			Responses: ok(201, "The token with its secret.", d.Of(struct {
				auth.Token
				Secret string `json:"token"`
			}{})), Errors: []int{400, 404}},
		openapi.Op{Method: "DELETE", Path: "/api/v1/tokens/{id}", ID: "revokeToken", Tag: tagAccounts, Scope: "write", Summary: "Revoke an API token",
			Params: []openapi.Param{idParam}, Responses: ok(204, "Revoked.", nil), Errors: []int{404}},
		openapi.Op{Method: "GET", Path: "/api/v1/audit", ID: "listAudit", Tag: tagAccounts, Scope: "read", Summary: "The audit log, newest first",
			Params:    []openapi.Param{cursorParam, limitParam},
			Responses: ok(200, "A page of entries.", page(d, "AuditPage", d.Of(audit.Entry{}))), Errors: []int{400}},
		openapi.Op{Method: "POST", Path: "/api/v1/signup", ID: "signUp", Tag: tagAccounts, Summary: "A resident opens an account with a phone number",
			Body: jsonBody(openapi.Object(map[string]openapi.Schema{"phone": openapi.String(), "password": openapi.String()}, "phone", "password")),
			Responses: ok(201, "Signed up; the answer sets the session cookie.", openapi.Object(map[string]openapi.Schema{
				"username": openapi.String(), "role": openapi.String()}, "username", "role")), Errors: []int{400, 409}},
	)
}

func addTerritory(d *openapi.Document, problems openapi.Schema) {
	importResult := d.Of(territory.ImportResult{})
	rejected := map[int]openapi.Response{400: {Description: "Rejected whole, with every problem.",
		Content: map[string]openapi.Schema{"application/json": problems}}}
	withRejected := func(m map[int]openapi.Response) map[int]openapi.Response {
		for k, v := range rejected {
			m[k] = v
		}
		return m
	}
	code := pathParam("code", "A territory code (12 digits for a grid's community, longer below).", openapi.String())
	d.Add(
		openapi.Op{Method: "GET", Path: "/api/v1/locate", ID: "locate", Tag: tagTerritory, Summary: "The grid at a point",
			Params: []openapi.Param{
				{Name: "lat", In: "query", Required: true, Schema: openapi.Number()},
				{Name: "lng", In: "query", Required: true, Schema: openapi.Number()},
				query("crs", "wgs84 (default), gcj02 or cgcs2000.", openapi.Enum("wgs84", "gcj02", "cgcs2000"))},
			Responses: ok(200, "The grid and its parents.", d.Of(territory.Location{})), Errors: []int{400, 404}},
		openapi.Op{Method: "GET", Path: "/api/v1/territory", ID: "territoryGeoJSON", Tag: tagTerritory, Scope: "read", Summary: "Territory boundaries as GeoJSON",
			Params:    []openapi.Param{query("level", "district, street, community, grid or microgrid (default).", openapi.Enum(territory.Kinds...))},
			Responses: content(200, "A FeatureCollection.", "application/geo+json", geojson), Errors: []int{400}},
		openapi.Op{Method: "POST", Path: "/api/v1/territory/import", ID: "territoryImport", Tag: tagTerritory, Scope: "write", Summary: "Import boundaries (GeoJSON), all or nothing",
			Params:    []openapi.Param{query("dry_run", "true checks without saving.", openapi.Boolean())},
			Body:      &openapi.Body{Required: true, Content: map[string]openapi.Schema{"application/geo+json": geojson, "application/json": geojson}},
			Responses: withRejected(ok(200, "Imported.", importResult)), Errors: []int{413}},
		openapi.Op{Method: "GET", Path: "/api/v1/territory/nodes/{code}", ID: "territoryCard", Tag: tagTerritory, Scope: "read", Summary: "A territory node with its figures",
			Params: []openapi.Param{code}, Responses: ok(200, "The node.", d.Of(territory.Card{})), Errors: []int{404}},
		openapi.Op{Method: "GET", Path: "/api/v1/territory/nodes/{code}/history", ID: "territoryHistory", Tag: tagTerritory, Scope: "read", Summary: "A node's boundary versions",
			Params: []openapi.Param{code}, Responses: content(200, "A FeatureCollection, newest first.", "application/geo+json", geojson), Errors: []int{404}},
		openapi.Op{Method: "PUT", Path: "/api/v1/territory/nodes/{code}/boundary", ID: "territoryBoundary", Tag: tagTerritory, Scope: "write", Summary: "Redraw a node's boundary",
			Params:    []openapi.Param{code},
			Body:      jsonBody(openapi.Object(map[string]openapi.Schema{"geometry": geojson}, "geometry")),
			Responses: withRejected(ok(200, "Saved as a new version.", importResult)), Errors: []int{404}},
		openapi.Op{Method: "GET", Path: "/api/v1/territory/nodes/{code}/staff", ID: "gridStaff", Tag: tagTerritory, Scope: "read", Summary: "A grid's workers",
			Params: []openapi.Param{code}, Responses: ok(200, "The staff.", page(d, "StaffPage", d.Of(territory.StaffMember{}))), Errors: []int{404}},
		openapi.Op{Method: "PUT", Path: "/api/v1/territory/nodes/{code}/staff/{username}", ID: "assignStaff", Tag: tagTerritory, Scope: "write", Summary: "Assign a worker to a grid",
			Params:    []openapi.Param{code, pathParam("username", "The worker's user name.", openapi.String())},
			Body:      jsonBody(openapi.Object(map[string]openapi.Schema{"duty": openapi.Enum(string(territory.DutyWorker), string(territory.DutyLeader))}, "duty")),
			Responses: ok(200, "The grid's staff after the change.", page(d, "StaffPage", d.Of(territory.StaffMember{}))), Errors: []int{400, 404}},
		openapi.Op{Method: "DELETE", Path: "/api/v1/territory/nodes/{code}/staff/{username}", ID: "unassignStaff", Tag: tagTerritory, Scope: "write", Summary: "Remove a worker from a grid",
			Params: []openapi.Param{code, pathParam("username", "The worker's user name.", openapi.String())}, Responses: ok(204, "Removed.", nil), Errors: []int{404}},
		openapi.Op{Method: "GET", Path: "/api/v1/buildings", ID: "listBuildings", Tag: tagTerritory, Scope: "read", Summary: "Buildings, by grid",
			Params:    []openapi.Param{query("grid", "A territory code; buildings within it.", openapi.String()), cursorParam, limitParam},
			Responses: ok(200, "A page of buildings.", page(d, "BuildingPage", d.Of(territory.Building{}))), Errors: []int{400}},
		openapi.Op{Method: "POST", Path: "/api/v1/buildings", ID: "createBuilding", Tag: tagTerritory, Scope: "write", Summary: "Add a building (its grid is found from its point)",
			Body: jsonBody(d.Of(territory.NewBuilding{})), Responses: ok(201, "The building.", d.Of(territory.Building{})), Errors: []int{400}},
		openapi.Op{Method: "GET", Path: "/api/v1/buildings/search", ID: "searchBuildings", Tag: tagTerritory, Scope: "read", Summary: "Buildings by name or address",
			Params:    []openapi.Param{query("q", "Words of the name or address.", openapi.String()), query("limit", "1–50 (default 20).", openapi.Integer())},
			Responses: ok(200, "Matches, best first.", page(d, "BuildingMatches", d.Of(territory.Building{}))), Errors: []int{400}},
	)
}

func addPeople(d *openapi.Document) {
	residentFilter := map[string]openapi.Schema{"name": openapi.String(), "document": openapi.String(), "phone": openapi.String(),
		"building_id": openapi.Integer(), "house_id": openapi.Integer(), "tag": openapi.String()}
	search := map[string]openapi.Schema{"cursor": openapi.String(), "after": withDoc(openapi.Integer(), "Deprecated: use cursor."), "limit": openapi.Integer()}
	for k, v := range residentFilter {
		search[k] = v
	}
	export := map[string]openapi.Schema{"format": openapi.Enum("csv", "xlsx"), "reveal": openapi.Boolean(), "reason": openapi.String()}
	for k, v := range residentFilter {
		export[k] = v
	}
	d.Add(
		openapi.Op{Method: "POST", Path: "/api/v1/houses", ID: "createHouse", Tag: tagPeople, Scope: "write", Summary: "Add a house (dwelling) to a building",
			Body: jsonBody(d.Of(people.NewHouse{})), Responses: ok(201, "The house.", d.Of(people.House{})), Errors: []int{400, 404}},
		openapi.Op{Method: "POST", Path: "/api/v1/residents", ID: "createResident", Tag: tagPeople, Scope: "write", Summary: "Register a resident",
			Description: "Identity numbers and phones are sealed at rest; answers show them masked.",
			Body:        jsonBody(d.Of(people.NewResident{})), Responses: ok(201, "The resident, masked.", d.Of(people.Resident{})), Errors: []int{400, 404, 409}},
		openapi.Op{Method: "POST", Path: "/api/v1/residents/search", ID: "searchResidents", Tag: tagPeople, Scope: "read", Summary: "Search residents within the caller's territory",
			Description: "A POST so that identity numbers and phones searched for stay out of URLs and logs.",
			Body:        jsonBody(openapi.Object(search)), Responses: ok(200, "A page of residents, masked.", page(d, "ResidentPage", d.Of(people.Resident{}))), Errors: []int{400}},
		openapi.Op{Method: "GET", Path: "/api/v1/residents/{id}", ID: "getResident", Tag: tagPeople, Scope: "read", Summary: "One resident with household and tags",
			Params: []openapi.Param{idParam}, Responses: ok(200, "The resident, masked.", d.Of(people.Detail{})), Errors: []int{404}},
		openapi.Op{Method: "POST", Path: "/api/v1/residents/{id}/reveal", ID: "revealResident", Tag: tagPeople, Scope: "read", Summary: "Reveal one sealed field, with a reason (audited)",
			Params:    []openapi.Param{idParam},
			Body:      jsonBody(openapi.Object(map[string]openapi.Schema{"field": openapi.Enum("document", "phone"), "reason": openapi.String()}, "field", "reason")),
			Responses: ok(200, "The value in clear.", openapi.Object(map[string]openapi.Schema{"field": openapi.String(), "value": openapi.String()}, "field", "value")),
			Errors:    []int{400, 404}},
		openapi.Op{Method: "POST", Path: ResidentsImportPrefix, ID: "importResidents", Tag: tagPeople, Scope: "write", Summary: "Import a register (CSV or XLSX), all or nothing",
			Body: &openapi.Body{Required: true, Content: map[string]openapi.Schema{"multipart/form-data": openapi.Object(map[string]openapi.Schema{
				"file": openapi.Schema{"type": "string", "contentMediaType": "application/octet-stream"}, "mapping": openapi.String(),
				"valid_only": openapi.Boolean(), "dry_run": openapi.Boolean()}, "file")}},
			Responses: map[int]openapi.Response{
				200: {Description: "The import report.", Content: map[string]openapi.Schema{"application/json": d.Of(importReport{})}},
				400: {Description: "Rejected whole, with the report of every bad row.", Content: map[string]openapi.Schema{"application/json": openapi.Object(
					map[string]openapi.Schema{"error": d.Of(httpx.Problem{}), "report": d.Of(importReport{})}, "error", "report")}}},
			Errors: []int{413}},
		openapi.Op{Method: "POST", Path: "/api/v1/residents/export", ID: "exportResidents", Tag: tagPeople, Scope: "read", Summary: "Export residents (masked unless revealed with a reason; audited)",
			Body: jsonBody(openapi.Object(export)),
			Responses: map[int]openapi.Response{200: {Description: "The file, streamed.", Content: map[string]openapi.Schema{
				"text/csv": csvText, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": xlsxBytes}}},
			Errors: []int{400}},
		openapi.Op{Method: "POST", Path: "/api/v1/me/verify", ID: "verifySelf", Tag: tagPeople, Scope: "write", Summary: "A resident links their account to their registry record",
			Body:      jsonBody(openapi.Object(map[string]openapi.Schema{"name": openapi.String(), "document_number": openapi.String()}, "name", "document_number")),
			Responses: ok(200, "The caller's record.", d.Of(people.MyRecord{})), Errors: []int{400, 404}},
		openapi.Op{Method: "GET", Path: "/api/v1/me/resident", ID: "myRecord", Tag: tagPeople, Scope: "read", Summary: "The caller's own registry record",
			Responses: ok(200, "The record.", d.Of(people.MyRecord{})), Errors: []int{404}},
		openapi.Op{Method: "GET", Path: "/api/v1/me/data", ID: "myData", Tag: tagPeople, Scope: "read", Summary: "Everything GridHall holds about the caller (PIPL access right)",
			Responses: ok(200, "The data, as a download.", d.Of(people.MyData{}))},
		openapi.Op{Method: "POST", Path: "/api/v1/residents/{id}/verify-in-person", ID: "verifyInPerson", Tag: tagPeople, Scope: "write", Summary: "Staff link a resident's account after seeing their papers",
			Params:    []openapi.Param{idParam},
			Body:      jsonBody(openapi.Object(map[string]openapi.Schema{"username": openapi.String()}, "username")),
			Responses: ok(204, "Linked.", nil), Errors: []int{400, 404, 409}},
		openapi.Op{Method: "POST", Path: "/api/v1/visits", ID: "createVisit", Tag: tagPeople, Scope: "write", Summary: "Record a home visit",
			Body: jsonBody(openapi.Object(map[string]openapi.Schema{"household_ids": openapi.Array(openapi.Integer()), "companions": openapi.String(),
				"started_at": openapi.String("date-time"), "ended_at": openapi.String("date-time"), "findings": openapi.Array(d.Of(people.Finding{}))},
				"household_ids")),
			Responses: ok(201, "The visit.", d.Of(people.Visit{})), Errors: []int{400, 404}},
		openapi.Op{Method: "GET", Path: "/api/v1/visits", ID: "listVisits", Tag: tagPeople, Scope: "read", Summary: "Visits within the caller's territory, newest first",
			Params:    []openapi.Param{query("household", "A household id.", openapi.Integer()), cursorParam, limitParam},
			Responses: ok(200, "A page of visits.", page(d, "VisitPage", d.Of(people.Visit{}))), Errors: []int{400}},
		openapi.Op{Method: "GET", Path: "/api/v1/care", ID: "careDue", Tag: tagPeople, Scope: "read", Summary: "Residents due a care visit",
			Params:    []openapi.Param{query("on", "A day (YYYY-MM-DD, Beijing); today by default.", openapi.String("date"))},
			Responses: ok(200, "Who is due, most overdue first.", page(d, "CarePage", d.Of(people.CareItem{}))), Errors: []int{400}},
		openapi.Op{Method: "GET", Path: "/api/v1/stats/population", ID: "populationStats", Tag: tagPeople, Scope: "read", Summary: "Population figures for a territory node",
			Params:    []openapi.Param{query("code", "A territory code; the caller's scope by default.", openapi.String())},
			Responses: ok(200, "The figures.", d.Of(people.Stats{})), Errors: []int{404}},
	)
}

func addCases(d *openapi.Document) {
	caseS := d.Of(cases.Case{})
	caseID := pathParam("id", "The case id.", openapi.Integer())
	action := pathParam("action", "A workflow action.", openapi.Enum(actionNames()...))
	photoPart := openapi.Schema{"type": "array", "items": openapi.Schema{"type": "string", "contentMediaType": "image/*"}}
	d.Add(
		openapi.Op{Method: "POST", Path: "/api/v1/cases", ID: "reportCase", Tag: tagCases, Scope: "write", Summary: "Report a case",
			Description: "JSON, or multipart/form-data with the JSON in a `case` part and images in `photo` parts. The case is located by point (lat/lng, with crs) or typed address and routed to its grid.",
			Body: &openapi.Body{Required: true, Content: map[string]openapi.Schema{"application/json": d.Of(cases.NewCase{}),
				"multipart/form-data": openapi.Object(map[string]openapi.Schema{"case": openapi.String(), "photo": photoPart}, "case")}},
			Responses: ok(201, "The case, with likely duplicates.", d.Of(cases.Intake{})), Errors: []int{400, 413}},
		openapi.Op{Method: "GET", Path: "/api/v1/cases", ID: "listCases", Tag: tagCases, Scope: "read", Summary: "A queue page of cases",
			Params: []openapi.Param{
				query("queue", "verify, accept, register, dispatch, sign, handle, check, close, approve, overdue, all or mine.", openapi.String()),
				query("category", "A category ref (C01001, M92001).", openapi.String()),
				query("grid", "A territory code at any level.", openapi.String()),
				query("state", "A case state.", openapi.String()),
				query("overdue", "true for overdue cases only.", openapi.Boolean()),
				query("channel", "web, patrol, hotline, api, open311 or device.", openapi.String()),
				query("sort", "due (nearest deadline first) or new.", openapi.Enum("due", "new")),
				query("format", "geojson for map points.", openapi.Enum("geojson")),
				cursorParam, limitParam},
			Responses: map[int]openapi.Response{200: {Description: "A page of cases (or GeoJSON points).", Content: map[string]openapi.Schema{
				"application/json": {"anyOf": []any{page(d, "CasePage", d.Of(cases.Item{})), geojson}}}}},
			Errors: []int{400}},
		openapi.Op{Method: "GET", Path: "/api/v1/cases/similar", ID: "similarCases", Tag: tagCases, Scope: "read", Summary: "Open cases a draft report may duplicate",
			Params: []openapi.Param{query("category", "A category ref.", openapi.String()), {Name: "lat", In: "query", Required: true, Schema: openapi.Number()},
				{Name: "lng", In: "query", Required: true, Schema: openapi.Number()}, query("text", "The draft's description.", openapi.String())},
			Responses: ok(200, "Candidates, most similar first.", list(d, "CandidateList", d.Of(cases.Candidate{}))), Errors: []int{400}},
		openapi.Op{Method: "POST", Path: "/api/v1/cases/bulk/{action}", ID: "bulkAct", Tag: tagCases, Scope: "write", Summary: "One action on many cases",
			Params: []openapi.Param{action},
			Body: jsonBody(openapi.Schema{"allOf": []any{d.Of(cases.Input{}), openapi.Object(map[string]openapi.Schema{"ids": openapi.Array(openapi.Integer())}, "ids")},
				"unevaluatedProperties": false}),
			Responses: ok(200, "Each case's outcome.", openapi.Object(map[string]openapi.Schema{"results": openapi.Array(d.Of(bulkResult{}))}, "results")),
			Errors:    []int{400}},
		openapi.Op{Method: "GET", Path: "/api/v1/cases/{id}", ID: "getCase", Tag: tagCases, Scope: "read", Summary: "A case with its timeline",
			Params: []openapi.Param{caseID}, Responses: ok(200, "The case.", d.Of(cases.Detail{})), Errors: []int{404}},
		openapi.Op{Method: "POST", Path: "/api/v1/cases/{id}/actions/{action}", ID: "actOnCase", Tag: tagCases, Scope: "write", Summary: "Take a workflow step",
			Description: "JSON, or multipart/form-data with the JSON in a `case` part and photos. 409 when the case's state does not allow the action.",
			Params:      []openapi.Param{caseID, action},
			Body: &openapi.Body{Required: true, Content: map[string]openapi.Schema{"application/json": d.Of(cases.Input{}),
				"multipart/form-data": openapi.Object(map[string]openapi.Schema{"case": openapi.String(), "photo": photoPart})}},
			Responses: ok(200, "The case after the step.", caseS), Errors: []int{400, 404, 409, 413}},
		openapi.Op{Method: "GET", Path: "/api/v1/cases/{id}/photos/{photo}", ID: "casePhoto", Tag: tagCases, Scope: "read", Summary: "A case photo (metadata stripped)",
			Params: []openapi.Param{caseID, pathParam("photo", "The photo id.", openapi.Integer()), query("size", "thumb for the thumbnail.", openapi.Enum("thumb"))},
			Responses: map[int]openapi.Response{200: {Description: "The image.", Content: map[string]openapi.Schema{
				"image/jpeg": {"type": "string"}, "image/png": {"type": "string"}}}}, Errors: []int{404}},
		openapi.Op{Method: "GET", Path: "/api/v1/queues", ID: "queueCounts", Tag: tagCases, Scope: "read", Summary: "How many cases wait in each of the caller's queues",
			Description: "Counts stop at 100 (shown as 100+), so that a busy queue costs no more than a quiet one.",
			Responses: ok(200, "Counts by queue.", openapi.Object(map[string]openapi.Schema{
				"queues": {"type": "object", "additionalProperties": openapi.Integer()}}, "queues"))},
		openapi.Op{Method: "GET", Path: "/api/v1/stats/cases", ID: "caseFigures", Tag: tagCases, Scope: "read", Summary: "Case figures and rates for a territory or department",
			Params: []openapi.Param{query("territory", "A territory code.", openapi.String()), query("department", "A department code.", openapi.String()),
				{Name: "from", In: "query", Required: true, Schema: openapi.String("date")}, {Name: "to", In: "query", Required: true, Description: "The last day counted.", Schema: openapi.String("date")}},
			Responses: ok(200, "The figures.", d.Of(cases.Figures{})), Errors: []int{400, 404}},
	)
}

func actionNames() []string {
	out := make([]string, 0, len(cases.Actions))
	for _, a := range cases.Actions {
		out = append(out, string(a))
	}
	return out
}

func addCatalog(d *openapi.Document) {
	category := d.Of(categoryView{})
	ref := pathParam("ref", "A category ref: C01001 (national) or M92001 (local).", openapi.String())
	year := pathParam("year", "A year.", openapi.Integer())
	district := pathParam("district", "A district code, or default for the installation's calendar.", openapi.String())
	d.Add(
		openapi.Op{Method: "GET", Path: "/api/v1/categories", ID: "listCategories", Tag: tagCatalog, Scope: "read", Summary: "Case categories",
			Params: []openapi.Param{query("kind", "C (components) or M (events).", openapi.String()), query("group", "A major class.", openapi.String()),
				query("q", "Words of the name or keywords.", openapi.String()), query("all", "true includes inactive categories.", openapi.Boolean())},
			Responses: ok(200, "The categories.", list(d, "CategoryList", category))},
		openapi.Op{Method: "GET", Path: "/api/v1/categories/{ref}", ID: "getCategory", Tag: tagCatalog, Scope: "read", Summary: "One category with its limits and questions",
			Params: []openapi.Param{ref}, Responses: ok(200, "The category.", category), Errors: []int{404}},
		openapi.Op{Method: "PUT", Path: "/api/v1/categories/{ref}", ID: "saveCategory", Tag: tagCatalog, Scope: "write", Summary: "Create or change a category",
			Params: []openapi.Param{ref}, Body: jsonBody(d.Of(catalog.Category{})), Responses: ok(200, "The category.", category), Errors: []int{400}},
		openapi.Op{Method: "POST", Path: CategoriesImportPath, ID: "importCategories", Tag: tagCatalog, Scope: "write", Summary: "Import categories (CSV or XLSX), all or nothing",
			Body: &openapi.Body{Required: true, Content: map[string]openapi.Schema{"text/csv": csvText,
				"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": xlsxBytes}},
			Responses: ok(200, "How many were imported.", openapi.Object(map[string]openapi.Schema{"imported": openapi.Integer()}, "imported")),
			Errors:    []int{400, 413}},
		openapi.Op{Method: "GET", Path: "/api/v1/categories/export", ID: "exportCategories", Tag: tagCatalog, Scope: "read", Summary: "Every category as CSV",
			Responses: content(200, "The CSV.", "text/csv", csvText)},
		openapi.Op{Method: "GET", Path: "/api/v1/departments", ID: "listDepartments", Tag: tagCatalog, Scope: "read", Summary: "Departments that handle cases",
			Responses: ok(200, "The departments.", list(d, "DepartmentList", d.Of(catalog.Department{})))},
		openapi.Op{Method: "PUT", Path: "/api/v1/departments/{code}", ID: "saveDepartment", Tag: tagCatalog, Scope: "write", Summary: "Create or change a department",
			Params: []openapi.Param{pathParam("code", "The department code.", openapi.String())},
			Body:   jsonBody(d.Of(catalog.Department{})), Responses: ok(200, "The department.", d.Of(catalog.Department{})), Errors: []int{400}},
		openapi.Op{Method: "PUT", Path: "/api/v1/departments/{code}/members/{user}", ID: "addDepartmentMember", Tag: tagCatalog, Scope: "write", Summary: "Add a handler to a department",
			Params:    []openapi.Param{pathParam("code", "The department code.", openapi.String()), pathParam("user", "The handler's user name.", openapi.String())},
			Responses: ok(204, "Added.", nil), Errors: []int{404}},
		openapi.Op{Method: "DELETE", Path: "/api/v1/departments/{code}/members/{user}", ID: "removeDepartmentMember", Tag: tagCatalog, Scope: "write", Summary: "Remove a handler from a department",
			Params:    []openapi.Param{pathParam("code", "The department code.", openapi.String()), pathParam("user", "The handler's user name.", openapi.String())},
			Responses: ok(204, "Removed.", nil), Errors: []int{404}},
		openapi.Op{Method: "GET", Path: "/api/v1/calendar/{district}/{year}", ID: "calendarDays", Tag: tagCatalog, Scope: "read", Summary: "A year's holidays and make-up working days",
			Params: []openapi.Param{district, year, query("format", "csv for a file.", openapi.Enum("csv"))},
			Responses: map[int]openapi.Response{200: {Description: "The special days.", Content: map[string]openapi.Schema{
				"application/json": openapi.Object(map[string]openapi.Schema{"year": openapi.Integer(), "days": openapi.Array(d.Of(calendar.Day{}))}, "year", "days"),
				"text/csv":         csvText}}},
			Errors: []int{400}},
		openapi.Op{Method: "POST", Path: "/api/v1/calendar/{district}/{year}", ID: "calendarImport", Tag: tagCatalog, Scope: "write", Summary: "Replace a year's special days (CSV or JSON), all or nothing",
			Params: []openapi.Param{district, year},
			Body: &openapi.Body{Required: true, Content: map[string]openapi.Schema{"text/csv": csvText,
				"application/json": openapi.Object(map[string]openapi.Schema{"year": openapi.Integer(), "days": openapi.Array(d.Of(calendar.Day{}))}, "days")}},
			Responses: ok(200, "What was imported.", d.Of(calendar.ImportResult{})), Errors: []int{400}},
	)
}

func addMessages(d *openapi.Document) {
	d.Add(
		openapi.Op{Method: "GET", Path: "/api/v1/inbox", ID: "inbox", Tag: tagMessages, Scope: "read", Summary: "The caller's messages, newest first",
			Params:    []openapi.Param{query("unread", "true for unread only.", openapi.Boolean()), cursorParam, limitParam},
			Responses: ok(200, "A page of messages.", page(d, "MessagePage", d.Of(outbox.InboxMessage{}))), Errors: []int{400}},
		openapi.Op{Method: "POST", Path: "/api/v1/inbox/read", ID: "markRead", Tag: tagMessages, Scope: "write", Summary: "Mark messages read",
			Body:      jsonBody(openapi.Object(map[string]openapi.Schema{"ids": openapi.Array(openapi.Integer()), "all": openapi.Boolean()})),
			Responses: ok(204, "Marked.", nil), Errors: []int{400}},
	)
}

func addWebhooks(d *openapi.Document) {
	endpoint := d.Of(outbox.Endpoint{})
	d.Add(
		openapi.Op{Method: "GET", Path: "/api/v1/webhooks", ID: "listWebhooks", Tag: tagWebhooks, Scope: "read", Summary: "An owner's webhook endpoints and their filters",
			Params:    []openapi.Param{{Name: "owner", In: "query", Required: true, Description: "A department code or system:NAME.", Schema: openapi.String()}},
			Responses: ok(200, "The endpoints.", list(d, "EndpointList", endpoint)), Errors: []int{400}},
		openapi.Op{Method: "POST", Path: "/api/v1/webhooks", ID: "createWebhook", Tag: tagWebhooks, Scope: "write", Summary: "Register a webhook endpoint (a subscription)",
			Description: "A department's endpoint receives events of the cases assigned to it; a system subscriber (owner system:NAME, administrators only) receives events of any case. " +
				"Both may narrow what they receive by territory (a code at any level), categories (refs or major classes) and event types (case.dispatch, case.*). " +
				"Deliveries carry X-GridHall-Timestamp and X-GridHall-Signature: v1=hex(HMAC-SHA256(secret, timestamp + \".\" + body)); reject timestamps more than 5 minutes old. The signing secret is in the answer, shown this once.",
			Body:      jsonBody(d.Of(outbox.NewEndpoint{})),
			Responses: ok(201, "The endpoint and its secret.", openapi.Object(map[string]openapi.Schema{"endpoint": endpoint, "secret": openapi.String()}, "endpoint", "secret")),
			Errors:    []int{400}},
		openapi.Op{Method: "PUT", Path: "/api/v1/webhooks/{id}", ID: "updateWebhook", Tag: tagWebhooks, Scope: "write", Summary: "Change an endpoint's URL, events and filters",
			Description: "Replaces all four settings; the owner and the secret stay.",
			Params:      []openapi.Param{idParam}, Body: jsonBody(d.Of(outbox.EndpointUpdate{})),
			Responses: ok(200, "The endpoint.", openapi.Object(map[string]openapi.Schema{"endpoint": endpoint}, "endpoint")),
			Errors:    []int{400, 404, 409}},
		openapi.Op{Method: "POST", Path: "/api/v1/webhooks/{id}/rotate", ID: "rotateWebhook", Tag: tagWebhooks, Scope: "write", Summary: "Rotate an endpoint's signing secret",
			Description: "The previous secret keeps signing alongside the new one for 24 hours.",
			Params:      []openapi.Param{idParam},
			Responses:   ok(200, "The new secret.", openapi.Object(map[string]openapi.Schema{"secret": openapi.String()}, "secret")), Errors: []int{404}},
		openapi.Op{Method: "POST", Path: "/api/v1/webhooks/{id}/disable", ID: "disableWebhook", Tag: tagWebhooks, Scope: "write", Summary: "Stop deliveries to an endpoint",
			Params: []openapi.Param{idParam}, Responses: ok(204, "Disabled.", nil), Errors: []int{404}},
		openapi.Op{Method: "GET", Path: "/api/v1/webhooks/{id}/deliveries", ID: "webhookDeliveries", Tag: tagWebhooks, Scope: "read", Summary: "An endpoint's delivery log, newest first",
			Params:    []openapi.Param{idParam, cursorParam, limitParam},
			Responses: ok(200, "A page of deliveries.", page(d, "DeliveryPage", d.Of(outbox.Delivery{}))), Errors: []int{400, 404}},
	)
}

func addExports(d *openapi.Document) {
	job := d.Of(exportView{})
	d.Add(
		openapi.Op{Method: "POST", Path: "/api/v1/exports", ID: "createExport", Tag: tagExports, Scope: "read", Summary: "Export the cases matching a filter (CSV, XLSX or GeoJSON)",
			Description: "Reporters' contacts are masked unless masked is false, which needs the reveal permission and a reason (audited). " +
				"Small exports are ready in the answer; larger ones are written in the background: poll the job until it is ready, then download it.",
			Body: jsonBody(d.Of(export.Request{})),
			Responses: map[int]openapi.Response{202: {Description: "The export job.", Content: map[string]openapi.Schema{"application/json": job},
				Headers: map[string]openapi.Schema{"Location": openapi.String()}}},
			Errors: []int{400}},
		openapi.Op{Method: "GET", Path: "/api/v1/exports", ID: "listExports", Tag: tagExports, Scope: "read", Summary: "The caller's exports, newest first",
			Params:    []openapi.Param{cursorParam, limitParam},
			Responses: ok(200, "A page of export jobs.", page(d, "ExportPage", job)), Errors: []int{400}},
		openapi.Op{Method: "GET", Path: "/api/v1/exports/{id}", ID: "getExport", Tag: tagExports, Scope: "read", Summary: "An export job and where it stands",
			Params: []openapi.Param{idParam}, Responses: ok(200, "The job.", job), Errors: []int{404}},
		openapi.Op{Method: "GET", Path: "/api/v1/exports/{id}/download", ID: "downloadExport", Tag: tagExports, Scope: "read", Summary: "Download a ready export (audited)",
			Description: "Range requests resume an interrupted download. 409 while the export is being written, 410 once it has expired.",
			Params:      []openapi.Param{idParam},
			Responses: map[int]openapi.Response{
				200: {Description: "The file.", Content: map[string]openapi.Schema{"text/csv": csvText,
					"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": xlsxBytes, "application/geo+json": geojson}},
				206: {Description: "Part of the file, for a Range request."}},
			Errors: []int{404, 409, 410}},
	)
}
