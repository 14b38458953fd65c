package app_test

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/gridhall/gridhall/internal/db"
)

// The GeoReport v2 discovery, services and service definitions answer in
// XML and JSON with the standard's types and omissions, and errors come as
// GeoReport error lists in the requested format.
func TestOpen311ServicesAndDefinitionsInXMLAndJSON(t *testing.T) {
	s := newSite(t, db.SQLite)
	get := func(path string) (*http.Response, string) { return s.do(t, "GET", "/open311/v2/"+path, "", "", "") }

	resp, body := get("services.json")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("services.json: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var raw []map[string]any
	if err := json.Unmarshal([]byte(body), &raw); err != nil || len(raw) < 250 {
		t.Fatalf("services.json is not a list of the public categories: %d %v", len(raw), err)
	}
	byCode := map[string]map[string]any{}
	for _, svc := range raw {
		code, ok := svc["service_code"].(string)
		if !ok || code == "" {
			t.Fatalf("service_code not a string: %v", svc)
		}
		if _, ok := svc["metadata"].(bool); !ok {
			t.Fatalf("%s: metadata not a boolean", code)
		}
		if svc["type"] != "realtime" {
			t.Fatalf("%s: type %v", code, svc["type"])
		}
		for k, v := range svc {
			if v == "" || v == nil {
				t.Fatalf("%s: empty %s is sent instead of omitted", code, k)
			}
		}
		byCode[code] = svc
	}
	if byCode["M91001"]["metadata"] != true || byCode["M92001"]["metadata"] != false {
		t.Fatalf("metadata: fire hazard %v, water repair %v", byCode["M91001"]["metadata"], byCode["M92001"]["metadata"])
	}

	resp, body = get("services.xml")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/xml; charset=utf-8" || !strings.HasPrefix(body, `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Fatalf("services.xml: %d %s %.60q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var xs struct {
		XMLName  xml.Name `xml:"services"`
		Services []struct {
			Code     string `xml:"service_code"`
			Metadata string `xml:"metadata"`
		} `xml:"service"`
	}
	if err := xml.Unmarshal([]byte(body), &xs); err != nil || len(xs.Services) != len(raw) {
		t.Fatalf("services.xml: %d services (json %d), %v", len(xs.Services), len(raw), err)
	}

	resp, body = get("services/M91001.json")
	var def struct {
		Code       string `json:"service_code"`
		Attributes []struct {
			Variable bool   `json:"variable"`
			Code     string `json:"code"`
			Datatype string `json:"datatype"`
			Required bool   `json:"required"`
			Order    int    `json:"order"`
			Values   []struct {
				Key  string `json:"key"`
				Name string `json:"name"`
			} `json:"values"`
		} `json:"attributes"`
	}
	if err := json.Unmarshal([]byte(body), &def); err != nil || resp.StatusCode != 200 || def.Code != "M91001" || len(def.Attributes) == 0 {
		t.Fatalf("definition: %d %s (%v)", resp.StatusCode, body, err)
	}
	a := def.Attributes[0]
	if a.Code != "hazard_type" || a.Datatype != "singlevaluelist" || !a.Required || !a.Variable || len(a.Values) < 2 || a.Values[0].Key == "" {
		t.Fatalf("hazard_type attribute %+v", a)
	}
	resp, body = get("services/M91001.xml")
	if resp.StatusCode != 200 || !strings.Contains(body, "<service_definition><service_code>M91001</service_code><attributes><attribute><variable>true</variable>") ||
		!strings.Contains(body, "<values><value><key>") {
		t.Fatalf("definition.xml: %d %s", resp.StatusCode, body)
	}

	// Unknown service: 404 as a GeoReport error list, in either format.
	resp, body = get("services/M99999.xml")
	if resp.StatusCode != 404 || !regexp.MustCompile(`<errors><error><code>404</code><description>[^<]+</description></error></errors>`).MatchString(body) {
		t.Fatalf("unknown service xml: %d %s", resp.StatusCode, body)
	}
	resp, body = get("services/M99999.json")
	var errsJSON []struct {
		Code        int    `json:"code"`
		Description string `json:"description"`
	}
	if err := json.Unmarshal([]byte(body), &errsJSON); err != nil || resp.StatusCode != 404 || len(errsJSON) != 1 || errsJSON[0].Code != 404 || errsJSON[0].Description == "" {
		t.Fatalf("unknown service json: %d %s", resp.StatusCode, body)
	}
	if resp, body := get("nothing-here.json"); resp.StatusCode != 404 || !strings.HasPrefix(body, `[{"code":404`) {
		t.Fatalf("unknown resource: %d %s", resp.StatusCode, body)
	}

	resp, body = get("discovery.json")
	var disc struct {
		Changeset string `json:"changeset"`
		Endpoints []struct {
			URL     string   `json:"url"`
			Type    string   `json:"type"`
			Formats []string `json:"formats"`
		} `json:"endpoints"`
	}
	if err := json.Unmarshal([]byte(body), &disc); err != nil || resp.StatusCode != 200 || len(disc.Endpoints) != 1 ||
		!regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$`).MatchString(disc.Changeset) ||
		!strings.HasSuffix(disc.Endpoints[0].URL, "/open311/v2") || len(disc.Endpoints[0].Formats) != 2 {
		t.Fatalf("discovery: %d %s", resp.StatusCode, body)
	}
	if resp, body := get("discovery.xml"); resp.StatusCode != 200 || !strings.Contains(body, "<formats><format>text/xml</format><format>application/json</format></formats>") {
		t.Fatalf("discovery.xml: %d %s", resp.StatusCode, body)
	}
}
