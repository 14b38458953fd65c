package export

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/errs"
)

const (
	communityY  = "420106001001"
	communityDZ = "420106001002"
)

var zhang = cases.Contact{Name: "张三", Phone: "13812345678", Email: "zhang@example.org"}

// seedCases reports three cases in community Y (two disputes, one repair)
// and two in the neighbouring community, every one with a contact.
func seedCases(t *testing.T, s *stack) (inY, outside []cases.Case) {
	t.Helper()
	y, dz := s.buildingIn(t, communityY), s.buildingIn(t, communityDZ)
	inY = append(inY,
		s.report(t, y, dispute, "楼上邻居深夜噪音扰民", zhang, false),
		s.report(t, y, dispute, "=HYPERLINK(\"x\") 邻里纠纷", zhang, true),
		s.report(t, y, repair, "楼道灯坏了，需要维修", zhang, false))
	outside = append(outside,
		s.report(t, dz, dispute, "丁字桥社区噪音纠纷", zhang, false),
		s.report(t, dz, repair, "丁字桥社区水管漏水", zhang, false))
	return inY, outside
}

// download reads a ready export's file through Open.
func download(t *testing.T, s *stack, actor auth.Actor, id int64) (Job, []byte) {
	t.Helper()
	j, f, err := s.svc.Open(s.ctx, actor, id)
	if err != nil {
		t.Fatalf("open export %d: %v", id, err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return j, b
}

func readCSV(t *testing.T, b []byte) [][]string {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("\uFEFF")) {
		t.Fatal("CSV must start with a byte-order mark for Excel")
	}
	rows, err := csv.NewReader(bytes.NewReader(b[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func masked(b bool) *bool { return &b }

func TestCSVExportHoldsTheFilteredCasesOfTheActorsTerritoryMasked(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newStack(t, d, DefaultConfig())
		inY, _ := seedCases(t, s)
		cs01 := s.as(t, "cs01") // community staff of Y

		j, err := s.svc.Create(s.ctx, cs01, Request{Format: CSV, Filter: Filter{Category: dispute}})
		if err != nil {
			t.Fatal(err)
		}
		if j.State != Ready || j.Rows != 2 || !j.Masked {
			t.Fatalf("small export: state %s, %d rows, masked %v; want ready, 2, masked", j.State, j.Rows, j.Masked)
		}
		got, b := download(t, s, cs01, j.ID)
		rows := readCSV(t, b)
		if len(rows) != 3 {
			t.Fatalf("CSV has %d lines, want a header and 2 cases:\n%s", len(rows), b)
		}
		if rows[0][0] != "案件编号" || rows[0][19] != "上报人" {
			t.Errorf("headers are not in Chinese: %q", rows[0])
		}
		first := rows[1]
		if first[0] != inY[0].Number || first[1] != dispute || first[3] != "待核实" || first[7] != "Y社区" || first[8] == "" {
			t.Errorf("first row = %q", first)
		}
		if first[19] != "张*" || first[20] != "138****5678" || first[21] != "z***@example.org" {
			t.Errorf("contact not masked by default: %q", first[19:])
		}
		if rows[2][18] != "'=HYPERLINK(\"x\") 邻里纠纷" {
			t.Errorf("a description starting with = must be defused, got %q", rows[2][18])
		}
		if got.SHA256 == "" || got.Bytes != int64(len(b)) {
			t.Errorf("recorded size %d and hash %q for a file of %d bytes", got.Bytes, got.SHA256, len(b))
		}

		// Staff of the neighbouring community get none of Y's cases, even
		// when they filter by Y.
		cs05 := s.as(t, "cs05")
		j2, err := s.svc.Create(s.ctx, cs05, Request{Format: CSV, Filter: Filter{Grid: communityY}})
		if err != nil {
			t.Fatal(err)
		}
		if _, b := download(t, s, cs05, j2.ID); len(readCSV(t, b)) != 1 || j2.Rows != 0 {
			t.Errorf("an actor outside the territory got %d rows", j2.Rows)
		}
		// The street sees all five; the date range leaves out what was
		// reported before it.
		street := s.as(t, "street")
		j3, err := s.svc.Create(s.ctx, street, Request{Format: CSV, Filter: Filter{ReportedFrom: "2026-11-16", ReportedTo: "2026-11-16"}})
		if err != nil || j3.Rows != 5 {
			t.Fatalf("street export of the day: %d rows, %v; want 5", j3.Rows, err)
		}
		j4, err := s.svc.Create(s.ctx, street, Request{Format: CSV, Filter: Filter{ReportedFrom: "2026-11-17"}})
		if err != nil || j4.Rows != 0 {
			t.Fatalf("street export from the next day: %d rows, %v; want 0", j4.Rows, err)
		}
	})
}

func TestXLSXAndGeoJSONExportsCarryTheSameCases(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newStack(t, d, DefaultConfig())
		inY, _ := seedCases(t, s)
		cs01 := s.as(t, "cs01")

		j, err := s.svc.Create(s.ctx, cs01, Request{Format: XLSX, Lang: "en"})
		if err != nil {
			t.Fatal(err)
		}
		_, b := download(t, s, cs01, j.ID)
		f, err := excelize.OpenReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := f.GetRows("Cases")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 4 || rows[0][0] != "Case number" || rows[1][0] != inY[0].Number || rows[1][7] != "Community Y" {
			t.Fatalf("XLSX rows = %q", rows)
		}
		// A number cell carries no type, or "n"; text would be a string type.
		if typ, err := f.GetCellType("Cases", "K2"); err != nil || (typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset) {
			t.Errorf("latitude cell type = %v, %v; want a number", typ, err)
		}

		g, err := s.svc.Create(s.ctx, cs01, Request{Format: GeoJSON, Filter: Filter{Category: repair}})
		if err != nil {
			t.Fatal(err)
		}
		_, b = download(t, s, cs01, g.ID)
		var fc struct {
			Type     string `json:"type"`
			Features []struct {
				Geometry struct {
					Type        string     `json:"type"`
					Coordinates [2]float64 `json:"coordinates"`
				} `json:"geometry"`
				Properties map[string]any `json:"properties"`
			} `json:"features"`
		}
		if err := json.Unmarshal(b, &fc); err != nil {
			t.Fatalf("GeoJSON does not parse: %v\n%s", err, b)
		}
		if fc.Type != "FeatureCollection" || len(fc.Features) != 1 {
			t.Fatalf("GeoJSON = %s", b)
		}
		ft := fc.Features[0]
		c := inY[2]
		if ft.Geometry.Type != "Point" || ft.Geometry.Coordinates != [2]float64{c.Lng, c.Lat} {
			t.Errorf("geometry = %+v, want the case's point %v,%v", ft.Geometry, c.Lng, c.Lat)
		}
		if ft.Properties["number"] != c.Number || ft.Properties["state"] != "reported" || ft.Properties["reporter_phone"] != "138****5678" ||
			ft.Properties["community_name"] != "Y社区" {
			t.Errorf("properties = %v", ft.Properties)
		}
	})
}

func TestUnmaskedExportNeedsTheRevealPermissionAndAReasonAndIsAudited(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newStack(t, d, DefaultConfig())
		seedCases(t, s)

		// Street staff read cases but may not reveal personal data.
		_, err := s.svc.Create(s.ctx, s.as(t, "street"), Request{Masked: masked(false), Reason: "回访核实情况"})
		if !errs.Is(err, errs.Forbidden) {
			t.Fatalf("street staff unmasked export: %v, want forbidden", err)
		}
		cs01 := s.as(t, "cs01")
		_, err = s.svc.Create(s.ctx, cs01, Request{Masked: masked(false)})
		if e := errs.As(err); e.Code != errs.Invalid || e.Fields["reason"] == "" {
			t.Fatalf("unmasked export without a reason: %v, want a field error on reason", err)
		}
		j, err := s.svc.Create(s.ctx, cs01, Request{Masked: masked(false), Reason: "回访核实情况"})
		if err != nil {
			t.Fatal(err)
		}
		_, b := download(t, s, cs01, j.ID)
		rows := readCSV(t, b)
		// The second case's reporter asked for anonymity: masked even so.
		if rows[1][19] != "张三" || rows[1][20] != "\t13812345678" || rows[2][20] != "138****5678" {
			t.Errorf("unmasked contacts = %q / %q", rows[1][19:], rows[2][19:])
		}
		es := s.auditOf(t, "case.export")
		last := es[len(es)-1]
		if last.Reason != "回访核实情况" || !strings.Contains(last.Detail, `"masked":false`) || last.ActorName != "cs01" {
			t.Errorf("audit of the unmasked export = %+v", last)
		}
	})
}

func TestDownloadIsAuditedAndOnlyForTheRequesterOrAnAdministrator(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newStack(t, d, DefaultConfig())
		seedCases(t, s)
		cs01 := s.as(t, "cs01")
		j, err := s.svc.Create(s.ctx, cs01, Request{Format: GeoJSON})
		if err != nil {
			t.Fatal(err)
		}
		download(t, s, cs01, j.ID)
		es := s.auditOf(t, "case.export.download")
		if len(es) != 1 || es[0].ObjectID != itoa(j.ID) || !strings.Contains(es[0].Detail, `"rows":3`) ||
			!strings.Contains(es[0].Detail, `"masked":true`) {
			t.Fatalf("download audit = %+v", es)
		}
		if _, _, err := s.svc.Open(s.ctx, s.as(t, "cs05"), j.ID); !errs.Is(err, errs.Forbidden) {
			t.Errorf("another community's staff: %v, want forbidden", err)
		}
		if _, _, err := s.svc.Open(s.ctx, s.as(t, "street"), j.ID); !errs.Is(err, errs.Forbidden) {
			t.Errorf("street staff (not an administrator): %v, want forbidden", err)
		}
		got, _ := download(t, s, s.as(t, "district"), j.ID)
		if got.Downloads != 2 || len(s.auditOf(t, "case.export.download")) != 2 {
			t.Errorf("downloads = %d, want 2 (requester and district administrator), each audited", got.Downloads)
		}
		if js, err := s.svc.List(s.ctx, s.as(t, "district"), 0, 50); err != nil || len(js) != 0 {
			t.Errorf("the list holds the caller's own exports only: %d, %v", len(js), err)
		}
	})
}

func TestExportNotReadyIsAConflictAndExpiredIsGone(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		cfg := DefaultConfig()
		cfg.SyncLimit = 0 // every export waits for the worker
		s := newStack(t, d, cfg)
		seedCases(t, s)
		cs01 := s.as(t, "cs01")
		j, err := s.svc.Create(s.ctx, cs01, Request{Format: CSV})
		if err != nil || j.State != Queued {
			t.Fatalf("create: %v, %s", err, j.State)
		}
		if _, _, err := s.svc.Open(s.ctx, cs01, j.ID); !errs.Is(err, errs.Conflict) {
			t.Fatalf("download of a queued export: %v, want conflict", err)
		}
		if did, err := s.svc.Work(s.ctx); !did || err != nil {
			t.Fatalf("work: %v, %v", did, err)
		}
		if did, err := s.svc.Work(s.ctx); did || err != nil {
			t.Fatalf("second work: %v, %v; want nothing to do", did, err)
		}
		j, _ = s.svc.Get(s.ctx, cs01, j.ID)
		if j.State != Ready || j.Rows != 3 || !j.ExpiresAt.Equal(start.Add(24*time.Hour)) {
			t.Fatalf("after work: %+v", j)
		}
		path := filepath.Join(s.dir, j.File)
		// A ready export whose file this node cannot see (an --export-dir
		// not shared by every node) is unavailable, not an internal error.
		if err := os.Rename(path, path+".away"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.svc.Open(s.ctx, cs01, j.ID); !errs.Is(err, errs.Unavailable) {
			t.Fatalf("download of a file not on this node: %v, want unavailable", err)
		}
		if err := os.Rename(path+".away", path); err != nil {
			t.Fatal(err)
		}
		s.clock.Advance(25 * time.Hour)
		if _, _, err := s.svc.Open(s.ctx, cs01, j.ID); !errs.Is(err, errs.Gone) {
			t.Fatalf("download past expiry: %v, want gone", err)
		}
		if n, err := s.svc.Purge(s.ctx); n != 1 || err != nil {
			t.Fatalf("purge: %d, %v", n, err)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("the expired file is still there: %v", err)
		}
		j, _ = s.svc.Get(s.ctx, cs01, j.ID)
		if j.State != Expired {
			t.Errorf("state after purge = %s", j.State)
		}
		if _, _, err := s.svc.Open(s.ctx, cs01, j.ID); !errs.Is(err, errs.Gone) {
			t.Errorf("download after purge: %v, want gone", err)
		}
		if entries, _ := os.ReadDir(s.dir); len(entries) != 0 {
			t.Errorf("export directory holds %d files after purge, want none", len(entries))
		}
	})
}

func TestBadRequestsNameTheirFields(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newStack(t, d, DefaultConfig())
		cs01 := s.as(t, "cs01")
		for _, c := range []struct {
			name  string
			req   Request
			field string
		}{
			{"format", Request{Format: "pdf"}, "format"},
			{"date", Request{Filter: Filter{ReportedFrom: "16/11/2026"}}, "reported_from"},
			{"range", Request{Filter: Filter{ReportedFrom: "2026-11-16", ReportedTo: "2026-11-01"}}, "reported_to"},
			{"category", Request{Filter: Filter{Category: "M99999"}}, "category"},
			{"grid", Request{Filter: Filter{Grid: "42"}}, "grid"},
			{"state", Request{Filter: Filter{State: "lost"}}, "state"},
		} {
			_, err := s.svc.Create(s.ctx, cs01, c.req)
			if e := errs.As(err); e.Code != errs.Invalid || e.Fields[c.field] == "" {
				t.Errorf("%s: %v, want a field error on %s", c.name, err, c.field)
			}
		}
		if _, err := s.svc.Create(s.ctx, s.as(t, "resident"), Request{}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("resident export: %v, want forbidden", err)
		}
	})
}

// A node that dies mid-export leaves its job running under a lease; when
// the lease runs out another node takes the job up and finishes it.
func TestAJobLeftByACrashedNodeIsTakenUpAfterItsLease(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		cfg := DefaultConfig()
		cfg.SyncLimit = 0
		s := newStack(t, d, cfg)
		seedCases(t, s)
		cs01 := s.as(t, "cs01")
		j, err := s.svc.Create(s.ctx, cs01, Request{})
		if err != nil {
			t.Fatal(err)
		}
		// The crashed node claimed the job and then wrote nothing more.
		now := s.clock.Now()
		if err := d.Tx(s.ctx, func(tx *sql.Tx) error {
			_, err := s.svc.st.claim(s.ctx, tx, "dead-node", now, now.Add(cfg.Lease), cfg.MaxAttempts, 0)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if did, _ := s.svc.Work(s.ctx); did {
			t.Fatal("a job under a live lease was claimed again")
		}
		s.clock.Advance(cfg.Lease + time.Second)
		if did, err := s.svc.Work(s.ctx); !did || err != nil {
			t.Fatalf("work after the lease: %v, %v", did, err)
		}
		j, _ = s.svc.Get(s.ctx, cs01, j.ID)
		if j.State != Ready || j.Rows != 3 || j.Attempts != 2 {
			t.Errorf("job after takeover: state %s, %d rows, %d attempts", j.State, j.Rows, j.Attempts)
		}
	})
}

func TestTwoNodesClaimAJobOnce(t *testing.T) {
	for _, e := range dbtest.Engines(t) {
		if e != db.Postgres {
			continue // SQLite has one node by construction
		}
		d := dbtest.Open(t, e)
		cfg := DefaultConfig()
		cfg.SyncLimit = 0
		s := newStack(t, d, cfg)
		seedCases(t, s)
		cfg.Dir = s.dir
		other := node(t, d, s.clock, cfg)
		cs01 := s.as(t, "cs01")
		const jobs = 6
		for range jobs {
			if _, err := s.svc.Create(s.ctx, cs01, Request{}); err != nil {
				t.Fatal(err)
			}
		}
		var mu sync.Mutex
		done := map[*Service]int{}
		var wg sync.WaitGroup
		for _, svc := range []*Service{s.svc, other.svc, s.svc, other.svc} {
			wg.Go(func() {
				for {
					did, err := svc.Work(context.Background())
					if err != nil {
						t.Error(err)
						return
					}
					if !did {
						return
					}
					mu.Lock()
					done[svc]++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if done[s.svc]+done[other.svc] != jobs {
			t.Fatalf("jobs done: %d + %d, want %d in all", done[s.svc], done[other.svc], jobs)
		}
		js, err := s.svc.List(s.ctx, cs01, 0, 50)
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range js {
			if j.State != Ready || j.Attempts != 1 {
				t.Errorf("job %d: %s after %d attempts; want ready after one", j.ID, j.State, j.Attempts)
			}
		}
	}
}

func TestListPagesThroughTheCallersExports(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newStack(t, d, DefaultConfig())
		cs01 := s.as(t, "cs01")
		for range 5 {
			if _, err := s.svc.Create(s.ctx, cs01, Request{}); err != nil {
				t.Fatal(err)
			}
		}
		page, err := s.svc.List(s.ctx, cs01, 0, 3)
		if err != nil || len(page) != 3 || page[0].ID <= page[1].ID {
			t.Fatalf("first page: %d, %v", len(page), err)
		}
		rest, err := s.svc.List(s.ctx, cs01, page[2].ID, 3)
		if err != nil || len(rest) != 2 || rest[0].ID >= page[2].ID {
			t.Fatalf("second page: %d, %v", len(rest), err)
		}
	})
}
