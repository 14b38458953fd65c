package web

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gridhall/gridhall/internal/auth"
)

// upload posts a GeoJSON file to the boundary files page as a browser would.
func (b *browser) upload(name, content string, dryRun bool) response {
	b.e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf", b.csrf())
	if dryRun {
		mw.WriteField("dry_run", "on")
	}
	if name != "" {
		fw, _ := mw.CreateFormFile("file", name)
		fw.Write([]byte(content))
	}
	mw.Close()
	req := httptest.NewRequest(http.MethodPost, "/territory/import", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return b.do(req)
}

func TestBoundaryFilesPage(t *testing.T) {
	e := newMapEnv(t)
	e.user("district", auth.DistrictAdmin, "420106", false)
	e.user("chen", auth.CommunityStaff, "420106001001", false)
	d := e.browser("en")
	d.signIn("district")

	bad := `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"code":"420106001001003","name":"重叠"},"geometry":{"type":"Polygon","coordinates":[[[114.31,30.51],[114.33,30.51],[114.33,30.53],[114.31,30.53],[114.31,30.51]]]}},
{"type":"Feature","properties":{"code":"abc","name":"坏码"},"geometry":{"type":"Polygon","coordinates":[[[114.30,30.50],[114.31,30.50],[114.31,30.51],[114.30,30.50]]]}}]}`
	res := d.upload("bad.geojson", bad, false)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(res.Body, "overlaps a neighbouring place") ||
		!strings.Contains(res.Body, "Feature 2") || !strings.Contains(res.Body, "6, 9, 12, 15 or 18 digits") {
		t.Fatalf("bad file: %d %s", res.StatusCode, res.Body)
	}
	good := `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"code":"420106001001001","name":"第一网格（新名）"},"geometry":{"type":"Polygon","coordinates":[[[114.30,30.50],[114.32,30.50],[114.32,30.54],[114.30,30.54],[114.30,30.50]]]}}]}`
	res = d.upload("good.geojson", good, true)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "good.geojson checked, nothing changed: it would create 0, update 1") {
		t.Fatalf("dry run: %d %s", res.StatusCode, res.Body)
	}
	res = d.upload("good.geojson", good, false)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Body, "good.geojson imported: 0 created, 1 updated") {
		t.Fatalf("import: %d %s", res.StatusCode, res.Body)
	}
	if res := d.upload("", "", false); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("no file: %d", res.StatusCode)
	}
	res = d.get("/territory/export")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Disposition"), "territory.geojson") || !strings.Contains(res.Body, "第一网格（新名）") {
		t.Fatalf("export: %d %.200s", res.StatusCode, res.Body)
	}
	// Community staff may look at the map but not replace boundaries.
	c := e.browser("en")
	c.signIn("chen")
	if res := c.get("/territory"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("community staff on the files page: %d", res.StatusCode)
	}
	if res := c.upload("good.geojson", good, false); res.StatusCode != http.StatusForbidden {
		t.Fatalf("community staff uploaded: %d", res.StatusCode)
	}
}
