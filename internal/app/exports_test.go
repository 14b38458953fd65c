package app_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/export"
)

type exportJob struct {
	ID          int64  `json:"id"`
	Format      string `json:"format"`
	State       string `json:"state"`
	Masked      bool   `json:"masked"`
	Rows        int64  `json:"rows"`
	Bytes       int64  `json:"bytes"`
	SHA256      string `json:"sha256"`
	DownloadURL string `json:"download_url"`
	RequestedBy string `json:"requested_by"`
	Filter      struct {
		Category string `json:"category"`
	} `json:"filter"`
}

func TestCaseExportsOverHTTP(t *testing.T) {
	for _, e := range dbtest.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			s := newSite(t, e)
			tok, b := caseSite(t, s)
			for _, text := range []string{"水管漏水，路面积水", "楼道灯不亮了"} {
				body := fmt.Sprintf(`{"category":"M92001","description":%q,"lng":%v,"lat":%v,"contact":{"name":"李四","phone":"13900001111"}}`, text, b.Lng, b.Lat)
				if resp, out := s.do(t, "POST", "/api/v1/cases", tok["r1"], "application/json", body); resp.StatusCode != http.StatusCreated {
					t.Fatalf("report: %d %s", resp.StatusCode, out)
				}
			}

			resp, out := s.do(t, "POST", "/api/v1/exports", tok["street"], "application/json", `{"format":"csv","category":"M92001"}`, "Accept-Language", "en")
			var j exportJob
			if resp.StatusCode != http.StatusAccepted || json.Unmarshal([]byte(out), &j) != nil {
				t.Fatalf("create: %d %s", resp.StatusCode, out)
			}
			if j.State != "ready" || j.Rows != 2 || !j.Masked || j.Filter.Category != "M92001" || j.RequestedBy != "street" ||
				j.DownloadURL != fmt.Sprintf("/api/v1/exports/%d/download", j.ID) || resp.Header.Get("Location") != fmt.Sprintf("/api/v1/exports/%d", j.ID) {
				t.Fatalf("created export = %s", out)
			}

			resp, out = s.do(t, "GET", j.DownloadURL, tok["street"], "", "")
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
				!strings.HasPrefix(resp.Header.Get("Content-Disposition"), `attachment; filename=cases-`) || int64(len(out)) != j.Bytes {
				t.Fatalf("download: %d %v (%d bytes)", resp.StatusCode, resp.Header, len(out))
			}
			rows, err := csv.NewReader(bytes.NewReader([]byte(strings.TrimPrefix(out, "\uFEFF")))).ReadAll()
			if err != nil || len(rows) != 3 || rows[0][0] != "Case number" || rows[1][7] != "Community Y" {
				t.Fatalf("CSV = %q (%v)", rows, err)
			}
			// Without a master key (PostgreSQL here) no contact is kept at all.
			if s.app.Keys != nil && (rows[1][19] != "李*" || rows[1][20] != "139****1111") {
				t.Errorf("contact not masked: %q", rows[1][19:])
			}
			es, err := s.app.Audit.List(context.Background(), audit.Filter{Limit: 20})
			if err != nil || es[0].Action != "case.export.download" || es[0].ActorName != "street" ||
				!strings.Contains(es[0].Detail, `"rows":2`) || !strings.Contains(es[0].Detail, `"masked":true`) {
				t.Fatalf("the download is not audited: %+v (%v)", es[0], err)
			}

			// Status, the list, and who else may see it.
			resp, out = s.do(t, "GET", fmt.Sprintf("/api/v1/exports/%d", j.ID), tok["street"], "", "")
			if resp.StatusCode != http.StatusOK || !strings.Contains(out, `"downloads":1`) {
				t.Fatalf("status: %d %s", resp.StatusCode, out)
			}
			if resp, out := s.do(t, "POST", "/api/v1/exports", tok["street"], "application/json", `{"format":"geojson"}`); resp.StatusCode != http.StatusAccepted {
				t.Fatalf("second export: %d %s", resp.StatusCode, out)
			}
			resp, out = s.do(t, "GET", "/api/v1/exports?limit=1", tok["street"], "", "")
			var page struct {
				Items      []exportJob `json:"items"`
				NextCursor string      `json:"next_cursor"`
			}
			if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(out), &page) != nil || len(page.Items) != 1 || page.Items[0].Format != "geojson" || page.NextCursor == "" {
				t.Fatalf("list: %d %s", resp.StatusCode, out)
			}
			resp, out = s.do(t, "GET", "/api/v1/exports?limit=1&after="+page.NextCursor, tok["street"], "", "")
			if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(out), &page) != nil || len(page.Items) != 1 || page.Items[0].ID != j.ID {
				t.Fatalf("second page: %d %s", resp.StatusCode, out)
			}
			if resp, out := s.do(t, "GET", j.DownloadURL, tok["gw"], "", ""); resp.StatusCode != http.StatusForbidden {
				t.Errorf("a grid worker downloading the street's export: %d %s", resp.StatusCode, out)
			}

			// Bad input names the field in the client's language.
			resp, out = s.do(t, "POST", "/api/v1/exports", tok["street"], "application/json", `{"format":"pdf","reported_from":"yesterday"}`, "Accept-Language", "en")
			if p := decodeError(t, out); resp.StatusCode != http.StatusBadRequest || !strings.Contains(p.Error.Fields["format"], "csv, xlsx or geojson") ||
				p.Error.Fields["reported_from"] == "" {
				t.Errorf("bad format: %d %s", resp.StatusCode, out)
			}
			resp, out = s.do(t, "POST", "/api/v1/exports", tok["street"], "application/json", `{"format":"pdf"}`, "Accept-Language", "zh-CN")
			if p := decodeError(t, out); resp.StatusCode != http.StatusBadRequest || !strings.Contains(p.Error.Fields["format"], "请选择") {
				t.Errorf("bad format in Chinese: %d %s", resp.StatusCode, out)
			}
			// Unmasked needs the reveal permission, which street staff lack.
			resp, out = s.do(t, "POST", "/api/v1/exports", tok["street"], "application/json", `{"masked":false,"reason":"回访核实"}`)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("unmasked export by street staff: %d %s", resp.StatusCode, out)
			}

			// A queued export is not ready (409); an expired one is gone (410).
			street, err := s.app.Auth.UserByName(context.Background(), auth.SystemActor("t"), "street")
			if err != nil {
				t.Fatal(err)
			}
			actor, err := s.app.Auth.ActorOf(context.Background(), street.ID)
			if err != nil {
				t.Fatal(err)
			}
			background := export.New(export.Deps{DB: s.app.DB, Audit: s.app.Audit, Clock: s.app.Clock, Cases: s.app.Cases, Users: s.app.Auth,
				I18n: s.app.I18n}, export.Config{Dir: s.app.Config.ExportDirectory()})
			queued, err := background.Create(context.Background(), actor, export.Request{})
			if err != nil || queued.State != export.Queued {
				t.Fatalf("queued export: %v %s", err, queued.State)
			}
			if resp, out := s.do(t, "GET", fmt.Sprintf("/api/v1/exports/%d/download", queued.ID), tok["street"], "", ""); resp.StatusCode != http.StatusConflict {
				t.Errorf("download of a queued export: %d %s", resp.StatusCode, out)
			}
			s.clock.Advance(25 * time.Hour)
			if resp, out := s.do(t, "GET", j.DownloadURL, tok["street"], "", ""); resp.StatusCode != http.StatusGone {
				t.Errorf("download after expiry: %d %s", resp.StatusCode, out)
			}
		})
	}
}
