package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/outbox"
)

// A department's system registers a webhook; when a case is dispatched to
// the department, a receiver that fails twice then succeeds gets the event
// once, signed, after the retries.
func TestADepartmentsWebhookGetsADispatchedCaseOnceSignedAfterRetries(t *testing.T) {
	s := newSite(t, db.SQLite)
	tok, b := caseSite(t, s)
	var mu sync.Mutex
	var calls int
	var got []string
	var sigErr error
	var secret string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls <= 2 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		if err := outbox.Verify([]byte(secret), r.Header, body, s.clock.Now(), 5*time.Minute); err != nil {
			sigErr = err
		}
		got = append(got, r.Header.Get(outbox.HeaderEvent)+" "+r.Header.Get(outbox.HeaderDelivery))
	}))
	defer recv.Close()
	resp, out := s.do(t, "POST", "/api/v1/webhooks", s.admin, "application/json", `{"owner":"water","url":"`+recv.URL+`/hook","events":"case.dispatch"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create webhook: %d %s", resp.StatusCode, out)
	}
	var created struct {
		Endpoint outbox.Endpoint `json:"endpoint"`
		Secret   string          `json:"secret"`
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil || created.Secret == "" {
		t.Fatalf("webhook answer %s", out)
	}
	mu.Lock()
	secret = created.Secret
	mu.Unlock()
	// The department handler may list its own department's endpoints; not another's.
	if resp, out := s.do(t, "GET", "/api/v1/webhooks?owner=water", tok["water"], "", ""); resp.StatusCode != 200 || !strings.Contains(out, recv.URL) {
		t.Fatalf("department lists its webhooks: %d %s", resp.StatusCode, out)
	}
	if resp, _ := s.do(t, "GET", "/api/v1/webhooks?owner=fire", tok["water"], "", ""); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("department lists another's webhooks: %d", resp.StatusCode)
	}

	resp, out = s.do(t, "POST", "/api/v1/cases", tok["r1"], "application/json", fmt.Sprintf(`{"category":"M92001","description":"水管漏水","lng":%v,"lat":%v}`, b.Lng, b.Lat))
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("report: %d %s", resp.StatusCode, out)
	}
	var in struct {
		Case struct{ ID int64 } `json:"case"`
	}
	_ = json.Unmarshal([]byte(out), &in)
	id := fmt.Sprint(in.Case.ID)
	for _, step := range []struct{ who, action, body string }{
		{"gw", "verify", `{}`}, {"street", "accept", `{}`}, {"street", "register", `{}`},
		{"street", "dispatch", `{"target":"department:water"}`},
	} {
		if resp, out := s.do(t, "POST", "/api/v1/cases/"+id+"/actions/"+step.action, tok[step.who], "application/json", step.body); resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", step.action, resp.StatusCode, out)
		}
	}
	disp := outbox.NewDispatcher(s.app.DB, s.clock, outbox.Config{Keys: s.app.Keys}, nil)
	ctx := context.Background()
	for range 5 {
		if _, err := disp.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		s.clock.Advance(7 * time.Hour) // past any backoff
	}
	mu.Lock()
	defer mu.Unlock()
	if calls != 3 || len(got) != 1 || !strings.HasPrefix(got[0], "case.dispatch ") || sigErr != nil {
		t.Fatalf("receiver saw %d calls, accepted %v, signature %v", calls, got, sigErr)
	}
	resp, out = s.do(t, "GET", fmt.Sprintf("/api/v1/webhooks/%d/deliveries", created.Endpoint.ID), tok["water"], "", "")
	if resp.StatusCode != 200 || strings.Count(out, `"attempt"`) != 3 {
		t.Fatalf("delivery log: %d %s", resp.StatusCode, out)
	}
}
