package web

import (
	"strings"
	"testing"

	"github.com/gridhall/gridhall/internal/api"
	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
)

// The API reference page shows every operation of the real document, with
// links from operations to the schemas they name, to anyone, in both
// languages.
func TestTheAPIReferencePageShowsEveryOperation(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	al := audit.New(d)
	doc := api.Document()
	e := envWith(t, Deps{Auth: testAuth(d, al), Audit: al, APIDoc: doc})
	for lang, heading := range map[string]string{"zh-CN": "API 参考", "en": "API reference"} {
		res := e.browser(lang).get("/developers/api")
		wantStatus(t, res, 200)
		wantText(t, res, heading)
		for _, o := range doc.Ops {
			if !strings.Contains(res.Body, `id="op-`+o.ID+`"`) || !strings.Contains(res.Body, "<code>"+o.Path+"</code>") {
				t.Errorf("%s: %s %s is not on the page", lang, o.Method, o.Path)
			}
		}
		for name := range doc.Schemas() {
			if !strings.Contains(res.Body, `id="schema-`+name+`"`) {
				t.Errorf("schema %s has no section", name)
			}
		}
		wantHTML(t, res, `<a href="#schema-CasesDetail">CasesDetail</a>`)
		wantHTML(t, res, `href="/api/v1/openapi.json"`)
		// TestEveryPageRendersInBothLanguages leaves this page to this test.
		for _, k := range templateKeys(t) {
			if strings.Contains(res.Body, k) {
				t.Errorf("%s: the API reference shows the untranslated key %q", lang, k)
			}
		}
	}
	// Without a document the page says the service is unavailable.
	bare := envWith(t, Deps{Auth: testAuth(d, al), Audit: al})
	wantStatus(t, bare.browser("en").get("/developers/api"), 503)
}
