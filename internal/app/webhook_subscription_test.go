package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/outbox"
)

// subscriber is a system's webhook receiver as its owners would write it:
// it verifies every request with outbox.Verify against the secrets it
// knows, refuses what fails, and keeps what it accepted, with the request
// as sent so a test can replay it.
type subscriber struct {
	*httptest.Server
	now     func() time.Time
	mu      sync.Mutex
	secrets []string // each accepted delivery must verify under all of them
	got     []delivered
	refused []error
}

type delivered struct {
	event, id, caseNumber string
	header                http.Header
	body                  []byte
}

func newSubscriber(t *testing.T, now func() time.Time) *subscriber {
	sb := &subscriber{now: now}
	sb.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sb.mu.Lock()
		defer sb.mu.Unlock()
		for _, s := range sb.secrets {
			if err := outbox.Verify([]byte(s), r.Header, body, sb.now(), 5*time.Minute); err != nil {
				sb.refused = append(sb.refused, err)
				http.Error(w, "unauthentic", http.StatusUnauthorized)
				return
			}
		}
		var p struct {
			Case struct{ Number string } `json:"case"`
		}
		_ = json.Unmarshal(body, &p)
		sb.got = append(sb.got, delivered{event: r.Header.Get(outbox.HeaderEvent), id: r.Header.Get(outbox.HeaderDelivery),
			caseNumber: p.Case.Number, header: r.Header.Clone(), body: body})
	}))
	t.Cleanup(sb.Close)
	return sb
}

func (sb *subscriber) trust(secrets ...string) {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	sb.secrets = secrets
}

// events lists the accepted deliveries as "event case-number".
func (sb *subscriber) events() []string {
	sb.mu.Lock()
	defer sb.mu.Unlock()
	var out []string
	for _, d := range sb.got {
		out = append(out, d.event+" "+d.caseNumber)
	}
	return out
}

// A system subscriber limited to one community and one category receives,
// signed, the events it subscribed to of the cases inside its filters and
// nothing else; its filters change over PUT; its secret rotates over the API
// with both secrets signing meanwhile; a replayed delivery with a stale
// timestamp is refused; its delivery log pages with a cursor. Department
// handlers can neither create nor see it.
func TestSystemWebhookSubscriptionOverHTTP(t *testing.T) {
	for _, e := range dbtest.Engines(t) {
		t.Run(string(e), func(t *testing.T) {
			s := newSite(t, e)
			tok, b := caseSite(t, s)
			ctx := context.Background()
			sb := newSubscriber(t, s.clock.Now)
			disp := outbox.NewDispatcher(s.app.DB, s.clock, outbox.Config{Keys: s.app.Keys}, nil)
			deliver := func() {
				t.Helper()
				if _, err := disp.RunOnce(ctx); err != nil {
					t.Fatal(err)
				}
			}
			report := func(category string, lng, lat float64) string {
				t.Helper()
				resp, out := s.do(t, "POST", "/api/v1/cases", tok["r1"], "application/json",
					fmt.Sprintf(`{"category":%q,"description":"路面问题","lng":%v,"lat":%v}`, category, lng, lat))
				if resp.StatusCode != http.StatusCreated {
					t.Fatalf("report: %d %s", resp.StatusCode, out)
				}
				var in struct {
					Case struct {
						ID     int64
						Number string
					} `json:"case"`
				}
				_ = json.Unmarshal([]byte(out), &in)
				return fmt.Sprint(in.Case.ID) + " " + in.Case.Number
			}

			// Bad filters are refused naming the field; a department handler may not subscribe as a system.
			for _, bad := range []struct{ body, field string }{
				{`{"owner":"system:gis","url":"` + sb.URL + `","events":"*","territory":"4201"}`, "territory"},
				{`{"owner":"system:gis","url":"` + sb.URL + `","events":"*","categories":"M92001,road"}`, "categories"},
				{`{"owner":"system:GIS","url":"` + sb.URL + `","events":"*"}`, "owner"},
				{`{"owner":"system:gis","url":"` + sb.URL + `","events":"case.*x"}`, "events"},
			} {
				resp, out := s.do(t, "POST", "/api/v1/webhooks", s.admin, "application/json", bad.body)
				var p struct {
					Error struct{ Fields map[string]string } `json:"error"`
				}
				_ = json.Unmarshal([]byte(out), &p)
				if resp.StatusCode != http.StatusBadRequest || p.Error.Fields[bad.field] == "" {
					t.Fatalf("%s: %d %s, want 400 naming %s", bad.body, resp.StatusCode, out, bad.field)
				}
			}
			if resp, out := s.do(t, "POST", "/api/v1/webhooks", tok["water"], "application/json",
				`{"owner":"system:water-gis","url":"`+sb.URL+`","events":"*"}`); resp.StatusCode != http.StatusForbidden {
				t.Fatalf("department handler creates a system subscriber: %d %s", resp.StatusCode, out)
			}

			resp, out := s.do(t, "POST", "/api/v1/webhooks", s.admin, "application/json",
				`{"owner":"system:gis","url":"`+sb.URL+`/hook","events":"case.report, case.dispatch","territory":"420106001001","categories":"m92001"}`)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("create: %d %s", resp.StatusCode, out)
			}
			var created struct {
				Endpoint outbox.Endpoint `json:"endpoint"`
				Secret   string          `json:"secret"`
			}
			if err := json.Unmarshal([]byte(out), &created); err != nil || created.Secret == "" {
				t.Fatalf("create answered %s", out)
			}
			ep := created.Endpoint
			if !ep.System || ep.Territory != "420106001001" || !slices.Equal(ep.Categories, []string{"M92001"}) ||
				!slices.Equal(ep.Events, []string{"case.dispatch", "case.report"}) {
				t.Fatalf("endpoint %+v", ep)
			}
			sb.trust(created.Secret)
			hook := fmt.Sprintf("/api/v1/webhooks/%d", ep.ID)
			if resp, out := s.do(t, "GET", "/api/v1/webhooks?owner=system:gis", s.admin, "", ""); resp.StatusCode != 200 ||
				!strings.Contains(out, `"territory":"420106001001"`) || !strings.Contains(out, `"categories":["M92001"]`) {
				t.Fatalf("list: %d %s", resp.StatusCode, out)
			}
			for _, probe := range []struct{ method, path, body string }{
				{"GET", "/api/v1/webhooks?owner=system:gis", ""},
				{"PUT", hook, `{"url":"https://evil.example/h","events":"*"}`},
				{"POST", hook + "/rotate", ""},
				{"GET", hook + "/deliveries", ""},
			} {
				if resp, _ := s.do(t, probe.method, probe.path, tok["water"], "application/json", probe.body); resp.StatusCode != http.StatusForbidden &&
					resp.StatusCode != http.StatusNotFound {
					t.Fatalf("department handler %s %s: %d", probe.method, probe.path, resp.StatusCode)
				}
			}

			// The department's own endpoint, with the broadest filters, gets
			// only what happens to its cases once they are its cases.
			dept := newSubscriber(t, s.clock.Now)
			resp, out = s.do(t, "POST", "/api/v1/webhooks", tok["water"], "application/json",
				`{"owner":"water","url":"`+dept.URL+`","events":"*","territory":"420106","categories":"M92,M93"}`)
			var deptCreated struct{ Secret string }
			if err := json.Unmarshal([]byte(out), &deptCreated); resp.StatusCode != http.StatusCreated || err != nil {
				t.Fatalf("department endpoint: %d %s", resp.StatusCode, out)
			}
			dept.trust(deptCreated.Secret)

			// In the community and category: its report, then its dispatch
			// (verify, accept and register are not subscribed to).
			matching := report("M92001", b.Lng, b.Lat)
			id, number, _ := strings.Cut(matching, " ")
			report("M92001", 114.3020, 30.5420) // another community
			report("M93005", b.Lng, b.Lat)      // another category
			for _, step := range []struct{ who, action, body string }{
				{"gw", "verify", `{}`}, {"street", "accept", `{}`}, {"street", "register", `{}`},
				{"street", "dispatch", `{"target":"department:water"}`},
			} {
				if resp, out := s.do(t, "POST", "/api/v1/cases/"+id+"/actions/"+step.action, tok[step.who], "application/json", step.body); resp.StatusCode != 200 {
					t.Fatalf("%s: %d %s", step.action, resp.StatusCode, out)
				}
			}
			deliver()
			// One dispatcher run delivers in parallel: the order is free.
			if got, want := slices.Sorted(slices.Values(sb.events())), []string{"case.dispatch " + number, "case.report " + number}; !slices.Equal(got, want) {
				t.Fatalf("subscriber got %v, want %v (refused %v)", got, want, sb.refused)
			}
			if got := dept.events(); !slices.Equal(got, []string{"case.dispatch " + number}) {
				t.Fatalf("department got %v (refused %v)", got, dept.refused)
			}

			// A captured delivery replayed after 6 minutes carries a stale timestamp.
			s.clock.Advance(6 * time.Minute)
			sb.mu.Lock()
			first := sb.got[0]
			sb.mu.Unlock()
			if first.id == "" {
				t.Fatalf("delivery without %s", outbox.HeaderDelivery)
			}
			req, _ := http.NewRequest("POST", sb.URL+"/hook", bytes.NewReader(first.body))
			req.Header = first.header.Clone()
			replay, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			replay.Body.Close()
			sb.mu.Lock()
			refused := slices.Clone(sb.refused)
			sb.mu.Unlock()
			if replay.StatusCode != http.StatusUnauthorized || len(refused) != 1 ||
				errs.As(refused[0]).Fields[outbox.HeaderTimestamp] != "outbox.error.timestamp_skew" {
				t.Fatalf("replay: %d, refused %v", replay.StatusCode, refused)
			}

			// Rotation: while the overlap lasts a delivery verifies under the old and the new secret.
			resp, out = s.do(t, "POST", hook+"/rotate", s.admin, "", "")
			var rotated struct{ Secret string }
			if err := json.Unmarshal([]byte(out), &rotated); resp.StatusCode != 200 || err != nil || rotated.Secret == "" || rotated.Secret == created.Secret {
				t.Fatalf("rotate: %d %s", resp.StatusCode, out)
			}
			sb.trust(created.Secret, rotated.Secret)
			// The filters move to the other community: its new reports arrive, this one's no more.
			resp, out = s.do(t, "PUT", hook, s.admin, "application/json", `{"url":"`+sb.URL+`/hook","events":"case.*","territory":"420106001003","categories":"M93"}`)
			if resp.StatusCode != 200 || !strings.Contains(out, `"territory":"420106001003"`) || !strings.Contains(out, `"categories":["M93"]`) {
				t.Fatalf("update: %d %s", resp.StatusCode, out)
			}
			if resp, out := s.do(t, "PUT", hook, s.admin, "application/json", `{"url":"`+sb.URL+`/hook","events":"*","categories":"M92,9"}`); resp.StatusCode != http.StatusBadRequest ||
				!strings.Contains(out, `"categories"`) {
				t.Fatalf("update with bad categories: %d %s", resp.StatusCode, out)
			}
			report("M93005", b.Lng, b.Lat)
			report("M92001", 114.3020, 30.5420)
			moved := report("M93005", 114.3020, 30.5420)
			_, movedNumber, _ := strings.Cut(moved, " ")
			deliver()
			if got := sb.events(); len(got) != 3 || got[2] != "case.report "+movedNumber {
				t.Fatalf("after the update the subscriber got %v (refused %v)", got, sb.refused)
			}
			if got := dept.events(); len(got) != 1 {
				t.Fatalf("department got others' cases: %v", got)
			}
			sb.mu.Lock()
			sig := sb.got[2].header.Get(outbox.HeaderSignature)
			sb.mu.Unlock()
			if strings.Count(sig, "v1=") != 2 {
				t.Fatalf("signature during the overlap: %q", sig)
			}

			// The delivery log pages newest first: the last report, then the
			// first run's two deliveries (recorded in either order).
			type page struct {
				Items      []outbox.Delivery `json:"items"`
				NextCursor string            `json:"next_cursor"`
			}
			var p1, p2 page
			resp, out = s.do(t, "GET", hook+"/deliveries?limit=2", s.admin, "", "")
			if err := json.Unmarshal([]byte(out), &p1); resp.StatusCode != 200 || err != nil || len(p1.Items) != 2 ||
				p1.NextCursor != fmt.Sprint(p1.Items[1].ID) || p1.Items[0].Event != "case.report" || p1.Items[0].ID <= p1.Items[1].ID {
				t.Fatalf("first page: %d %s", resp.StatusCode, out)
			}
			resp, out = s.do(t, "GET", hook+"/deliveries?limit=2&after="+p1.NextCursor, s.admin, "", "")
			if err := json.Unmarshal([]byte(out), &p2); resp.StatusCode != 200 || err != nil || len(p2.Items) != 1 ||
				p2.NextCursor != "" || p2.Items[0].ID >= p1.Items[1].ID || p2.Items[0].Outcome != outbox.Delivered {
				t.Fatalf("second page: %d %s", resp.StatusCode, out)
			}
			if got := []string{p1.Items[1].Event, p2.Items[0].Event}; !slices.Contains(got, "case.report") || !slices.Contains(got, "case.dispatch") {
				t.Fatalf("older deliveries %v", got)
			}
			if resp, out := s.do(t, "GET", hook+"/deliveries?after=x", s.admin, "", ""); resp.StatusCode != http.StatusBadRequest ||
				!strings.Contains(out, `"after"`) {
				t.Fatalf("bad cursor: %d %s", resp.StatusCode, out)
			}
		})
	}
}
