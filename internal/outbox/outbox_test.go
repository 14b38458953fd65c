package outbox_test

import (
	"database/sql"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/outbox"
)

func TestRolledBackTransactionEnqueuesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		uid := e.user(t, "li")
		rc := newReceiver(t, nil)
		e.endpoint(t, "dept-a", rc.URL, "*")
		failed := errors.New("use case failed after enqueueing")
		err := d.Tx(e.ctx, func(tx *sql.Tx) error {
			if err := outbox.Enqueue(e.ctx, tx, e.clk.Now(),
				outbox.Message{Channel: outbox.InApp, Event: "case.accepted", UserID: uid, Subject: "已受理"},
				outbox.Message{Channel: outbox.Webhook, Event: "case.accepted", To: "dept-a", Payload: payload(1)},
				outbox.Message{Channel: outbox.Email, Event: "case.accepted", To: "li@example.cn", Subject: "已受理"},
			); err != nil {
				return err
			}
			return failed
		})
		if !errors.Is(err, failed) {
			t.Fatalf("tx: %v", err)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM outbox"); n != 0 {
			t.Fatalf("%d outbox rows after rollback", n)
		}
		e.clk.Advance(time.Hour)
		if n := runOnce(t, e.ctx, e.dispatcher(outbox.Config{})); n != 0 {
			t.Fatalf("delivered %d", n)
		}
		if n, _ := e.svc.Unread(e.ctx, uid); n != 0 || len(rc.got()) != 0 {
			t.Fatalf("sent after rollback: %d unread, %d webhook requests", n, len(rc.got()))
		}
	})
}

func TestEnqueueRejectsBadMessagesNamingTheField(t *testing.T) {
	d := dbtest.Open(t, db.SQLite)
	e := newEnv(t, d)
	ok := outbox.Message{Channel: outbox.InApp, Event: "case.accepted", UserID: e.user(t, "li"), Subject: "s"}
	tests := []struct {
		name  string
		edit  func(m *outbox.Message)
		field string
		key   string
	}{
		{"unknown channel", func(m *outbox.Message) { m.Channel = "sms" }, "channel", "outbox.error.channel"},
		{"upper-case event", func(m *outbox.Message) { m.Event = "Case.Accepted" }, "event", "outbox.error.event"},
		{"event with empty word", func(m *outbox.Message) { m.Event = "case..accepted" }, "event", "outbox.error.event"},
		{"event ending in a dot", func(m *outbox.Message) { m.Event = "case." }, "event", "outbox.error.event"},
		{"in-app without recipient", func(m *outbox.Message) { m.UserID = 0 }, "user_id", "outbox.error.user"},
		{"in-app without subject", func(m *outbox.Message) { m.Subject = " " }, "subject", "error.field.required"},
		{"subject too long", func(m *outbox.Message) { m.Subject = strings.Repeat("长", 201) }, "subject", "error.field.too_long"},
		{"subject with a line break", func(m *outbox.Message) { m.Subject = "a\r\nBcc: x@y.cn" }, "subject", "outbox.error.text"},
		{"body not UTF-8", func(m *outbox.Message) { m.Body = "\xff" }, "body", "outbox.error.text"},
		{"protocol-relative link", func(m *outbox.Message) { m.Link = "//evil.example/x" }, "link", "outbox.error.link"},
		{"backslash link", func(m *outbox.Message) { m.Link = "/\\evil.example" }, "link", "outbox.error.link"},
		{"script link", func(m *outbox.Message) { m.Link = "javascript:alert(1)" }, "link", "outbox.error.link"},
		{"absolute link", func(m *outbox.Message) { m.Link = "https://example.cn/cases/1" }, "link", "outbox.error.link"},
		{"key too long", func(m *outbox.Message) { m.Key = strings.Repeat("k", 201) }, "key", "error.field.too_long"},
		{"email to a non-address", func(m *outbox.Message) { m.Channel, m.To = outbox.Email, "li at example" }, "to", "outbox.error.email"},
		{"email to two addresses", func(m *outbox.Message) { m.Channel, m.To = outbox.Email, "a@b.cn, c@d.cn" }, "to", "outbox.error.email"},
		{"webhook to a system owner", func(m *outbox.Message) {
			m.Channel, m.To, m.Payload = outbox.Webhook, "system:gis", payload(1)
		}, "to", "outbox.error.owner"},
		{"webhook with a bad territory", func(m *outbox.Message) {
			m.Channel, m.To, m.Territory, m.Payload = outbox.Webhook, "dept-a", "4201060", payload(1)
		}, "territory", "outbox.error.territory"},
		{"webhook with a major class for category", func(m *outbox.Message) {
			m.Channel, m.To, m.Category, m.Payload = outbox.Webhook, "dept-a", "M92", payload(1)
		}, "category", "outbox.error.category"},
		{"webhook to owner with a space", func(m *outbox.Message) {
			m.Channel, m.To, m.Payload = outbox.Webhook, "dept a", payload(1)
		}, "to", "outbox.error.owner"},
		{"webhook with broken JSON", func(m *outbox.Message) {
			m.Channel, m.To, m.Payload = outbox.Webhook, "dept-a", []byte(`{"a":`)
		}, "payload", "outbox.error.payload"},
		{"webhook without payload", func(m *outbox.Message) { m.Channel, m.To = outbox.Webhook, "dept-a" }, "payload", "outbox.error.payload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ok
			tt.edit(&m)
			err := outbox.Enqueue(e.ctx, d, e.clk.Now(), ok, m)
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("err = %v, want invalid", err)
			}
			if got := errs.As(err).Fields[tt.field]; got != tt.key {
				t.Fatalf("fields = %v, want %s: %s", errs.As(err).Fields, tt.field, tt.key)
			}
		})
	}
	if n := e.count(t, "SELECT COUNT(*) FROM outbox"); n != 0 {
		t.Fatalf("an invalid batch left %d rows", n)
	}
	for _, link := range []string{"/cases/42", "/inbox?x=1#top", "/案件/1"} {
		m := ok
		m.Link = link
		if err := outbox.Enqueue(e.ctx, d, e.clk.Now(), m); err != nil {
			t.Errorf("link %q refused: %v", link, err)
		}
	}
}

func TestIdempotencyKeyEnqueuesOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		uid := e.user(t, "li")
		rc := newReceiver(t, nil)
		e.endpoint(t, "dept-a", rc.URL, "case.accepted")
		e.endpoint(t, "dept-a", rc.URL, "*")
		msgs := []outbox.Message{
			{Channel: outbox.InApp, Event: "case.accepted", UserID: uid, Subject: "已受理", Key: "case:7:accepted:user"},
			{Channel: outbox.Webhook, Event: "case.accepted", To: "dept-a", Payload: payload(7), Key: "case:7:accepted:hook"},
		}
		e.enqueue(t, msgs...)
		e.enqueue(t, msgs...)
		// The same key twice in one batch, too.
		e.enqueue(t, msgs[0], msgs[0])
		if n := e.count(t, "SELECT COUNT(*) FROM outbox WHERE channel = 'inapp'"); n != 1 {
			t.Errorf("%d in-app rows, want 1", n)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM outbox WHERE channel = 'webhook'"); n != 2 {
			t.Errorf("%d webhook rows, want one per endpoint (2)", n)
		}
		// Messages without a key are never deduplicated.
		m := msgs[0]
		m.Key = ""
		e.enqueue(t, m, m)
		if n := e.count(t, "SELECT COUNT(*) FROM outbox WHERE channel = 'inapp'"); n != 3 {
			t.Errorf("%d in-app rows, want 3", n)
		}
		// A key is per channel and recipient: one key for a whole use case
		// still reaches every recipient once on every channel.
		other := e.user(t, "wang")
		shared := "case:8:accepted"
		for range 2 {
			e.enqueue(t,
				outbox.Message{Channel: outbox.InApp, Event: "case.accepted", UserID: uid, Subject: "s", Key: shared},
				outbox.Message{Channel: outbox.InApp, Event: "case.accepted", UserID: other, Subject: "s", Key: shared},
				outbox.Message{Channel: outbox.Email, Event: "case.accepted", To: "li@example.cn", Subject: "s", Key: shared},
				outbox.Message{Channel: outbox.Email, Event: "case.accepted", To: "wang@example.cn", Subject: "s", Key: shared},
				outbox.Message{Channel: outbox.Webhook, Event: "case.accepted", To: "dept-a", Payload: payload(8), Key: shared},
			)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM outbox WHERE idem_key LIKE '%case:8:accepted'"); n != 6 {
			t.Errorf("%d rows for the shared key, want 6 (2 users, 2 addresses, 2 endpoints)", n)
		}
	})
}

func TestWebhookFansOutToSubscribedActiveEndpointsOfTheOwner(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		rc := newReceiver(t, nil)
		exact, _ := e.endpoint(t, "dept-a", rc.URL+"/exact", "case.closed, case.accepted")
		all, _ := e.endpoint(t, "dept-a", rc.URL+"/all", "*")
		e.endpoint(t, "dept-a", rc.URL+"/other", "case.closed")
		off, _ := e.endpoint(t, "dept-a", rc.URL+"/off", "*")
		e.endpoint(t, "dept-b", rc.URL+"/b", "*")
		if err := e.svc.DisableEndpoint(e.ctx, admin, off.ID); err != nil {
			t.Fatal(err)
		}
		e.enqueue(t,
			outbox.Message{Channel: outbox.Webhook, Event: "case.accepted", To: "dept-a", Payload: payload(1)},
			outbox.Message{Channel: outbox.Webhook, Event: "case.accepted", To: "nobody", Payload: payload(2)},
		)
		var got []int64
		for _, r := range e.rows(t) {
			got = append(got, r.endpointID)
		}
		if len(got) != 2 || got[0] != exact.ID || got[1] != all.ID {
			t.Fatalf("rows for endpoints %v, want [%d %d]", got, exact.ID, all.ID)
		}
		if n := runOnce(t, e.ctx, e.dispatcher(outbox.Config{})); n != 2 {
			t.Fatalf("delivered %d", n)
		}
		paths := map[string]bool{}
		for _, r := range rc.got() {
			paths[r.header.Get(outbox.HeaderEvent)+" "+string(r.body)] = true
		}
		if len(rc.got()) != 2 || len(paths) != 1 {
			t.Fatalf("receipts: %+v", rc.got())
		}
	})
}

func TestInboxListsCountsAndMarksOnlyOwnMessages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		li, wang := e.user(t, "li"), e.user(t, "wang")
		for i, s := range []string{"一", "二", "三"} {
			e.enqueue(t, outbox.Message{Channel: outbox.InApp, Event: "case.accepted", UserID: li,
				Subject: "案件" + s, Body: "正文", Link: "/cases/" + string(rune('1'+i))})
			e.clk.Advance(time.Second)
		}
		e.enqueue(t, outbox.Message{Channel: outbox.InApp, Event: "case.closed", UserID: wang, Subject: "wang's"})
		if n := runOnce(t, e.ctx, e.dispatcher(outbox.Config{})); n != 4 {
			t.Fatalf("delivered %d, want 4", n)
		}
		all, err := e.svc.Inbox(e.ctx, li, outbox.InboxFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 3 || all[0].Subject != "案件三" || all[2].Subject != "案件一" || all[2].Link != "/cases/1" {
			t.Fatalf("inbox: %+v", all)
		}
		if !all[0].CreatedAt.Equal(t0.Add(2 * time.Second)) {
			t.Errorf("created at %v: want the time of the event", all[0].CreatedAt)
		}
		page1, _ := e.svc.Inbox(e.ctx, li, outbox.InboxFilter{Limit: 2})
		page2, _ := e.svc.Inbox(e.ctx, li, outbox.InboxFilter{Limit: 2, Before: page1[1].ID})
		if len(page1) != 2 || len(page2) != 1 || page2[0].ID != all[2].ID {
			t.Fatalf("pages %+v / %+v", page1, page2)
		}
		theirs, _ := e.svc.Inbox(e.ctx, wang, outbox.InboxFilter{})
		if len(theirs) != 1 {
			t.Fatalf("wang's inbox: %+v", theirs)
		}
		unread := func(uid int64) int {
			n, err := e.svc.Unread(e.ctx, uid)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if unread(li) != 3 {
			t.Fatalf("unread %d", unread(li))
		}
		if err := e.svc.MarkRead(e.ctx, li, all[0].ID, all[0].ID); err != nil {
			t.Fatal(err)
		}
		if unread(li) != 2 {
			t.Fatalf("unread after marking one: %d", unread(li))
		}
		// Another user's message, alone or among one's own: refused, nothing changes.
		for _, ids := range [][]int64{{theirs[0].ID}, {all[1].ID, theirs[0].ID}, {999999}} {
			if err := e.svc.MarkRead(e.ctx, li, ids...); !errs.Is(err, errs.NotFound) {
				t.Fatalf("MarkRead(%v) = %v, want not found", ids, err)
			}
		}
		if unread(wang) != 1 || unread(li) != 2 {
			t.Fatalf("unread li %d wang %d after refused marks", unread(li), unread(wang))
		}
		only, _ := e.svc.Inbox(e.ctx, li, outbox.InboxFilter{UnreadOnly: true})
		if len(only) != 2 || only[0].ID != all[1].ID {
			t.Fatalf("unread only: %+v", only)
		}
		read, _ := e.svc.Inbox(e.ctx, li, outbox.InboxFilter{})
		if read[0].ReadAt == nil || !read[0].ReadAt.Equal(e.clk.Now()) || read[1].ReadAt != nil {
			t.Fatalf("read_at: %+v", read)
		}
		if err := e.svc.MarkAllRead(e.ctx, li); err != nil {
			t.Fatal(err)
		}
		if unread(li) != 0 || unread(wang) != 1 {
			t.Fatalf("after mark all: li %d wang %d", unread(li), unread(wang))
		}
		many := make([]int64, 501)
		for i := range many {
			many[i] = int64(i + 1)
		}
		if err := e.svc.MarkRead(e.ctx, li, many...); errs.As(err).Fields["ids"] != "outbox.error.too_many_ids" {
			t.Fatalf("501 ids: %v", err)
		}
		if _, err := e.svc.Inbox(e.ctx, 0, outbox.InboxFilter{}); !errs.Is(err, errs.Unauthenticated) {
			t.Fatalf("inbox of nobody: %v", err)
		}
	})
}

func TestPurgeRemovesOnlyOldFinishedMessagesAndTheirLog(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		uid := e.user(t, "li")
		rc := newReceiver(t, func(n int, r *http.Request) int {
			if r.URL.Path == "/down" {
				return 503
			}
			return 200
		})
		e.endpoint(t, "up", rc.URL+"/up", "*")
		e.endpoint(t, "down", rc.URL+"/down", "*")
		dp := e.dispatcher(outbox.Config{MaxAttempts: 1})
		// Old: one delivered in-app, one delivered webhook, one dead webhook.
		e.enqueue(t,
			outbox.Message{Channel: outbox.InApp, Event: "case.accepted", UserID: uid, Subject: "old"},
			outbox.Message{Channel: outbox.Webhook, Event: "case.accepted", To: "up", Payload: payload(1)},
			outbox.Message{Channel: outbox.Webhook, Event: "case.accepted", To: "down", Payload: payload(2)},
		)
		runOnce(t, e.ctx, dp)
		e.clk.Advance(40 * 24 * time.Hour)
		cutoff := e.clk.Now().Add(-30 * 24 * time.Hour)
		// Recent: one delivered; and one still pending (due in the future).
		e.enqueue(t, outbox.Message{Channel: outbox.InApp, Event: "case.accepted", UserID: uid, Subject: "new"})
		runOnce(t, e.ctx, dp)
		e.enqueue(t, outbox.Message{Channel: outbox.Webhook, Event: "case.closed", To: "up", Payload: payload(3)})
		n, err := e.svc.Purge(e.ctx, cutoff)
		if err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Fatalf("purged %d, want 3", n)
		}
		var statuses []string
		for _, r := range e.rows(t) {
			statuses = append(statuses, r.status)
		}
		if strings.Join(statuses, ",") != "delivered,pending" {
			t.Fatalf("left: %v", statuses)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM outbox_attempts WHERE message_id NOT IN (SELECT id FROM outbox)"); n != 0 {
			t.Fatalf("%d orphaned attempts", n)
		}
		if n := e.count(t, "SELECT COUNT(*) FROM outbox_attempts"); n != 1 {
			t.Fatalf("%d attempts left, want the recent one", n)
		}
		// The inbox is the user's, not the outbox's: purging keeps it.
		if n, _ := e.svc.Unread(e.ctx, uid); n != 2 {
			t.Fatalf("inbox lost messages: %d unread", n)
		}
	})
}
