package app_test

import "testing"

// walkLaterRoutes calls the export routes, checking each answer against
// the document.
func walkLaterRoutes(t *testing.T, expect expecter, idOf picker, admin string, tok map[string]string) {
	t.Helper()
	const js = "application/json"
	out := expect(202, "POST /api/v1/exports", "/api/v1/exports", tok["street"], js, `{"format":"geojson","category":"M92001","reported_from":"2026-11-01","reported_to":"2026-11-30"}`)
	id := idOf(out, "id")
	expect(400, "POST /api/v1/exports", "/api/v1/exports", tok["street"], js, `{"format":"pdf"}`)
	expect(200, "GET /api/v1/exports", "/api/v1/exports?limit=5", tok["street"], "", "")
	expect(200, "GET /api/v1/exports/{id}", "/api/v1/exports/"+id, tok["street"], "", "")
	expect(404, "GET /api/v1/exports/{id}", "/api/v1/exports/999999", tok["street"], "", "")
	expect(200, "GET /api/v1/exports/{id}/download", "/api/v1/exports/"+id+"/download", tok["street"], "", "")
	expect(403, "GET /api/v1/exports/{id}/download", "/api/v1/exports/"+id+"/download", tok["water"], "", "")
}
