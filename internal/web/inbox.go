package web

import (
	"net/http"
	"strconv"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/outbox"
)

// inboxPageSize is how many messages one page of the inbox shows.
const inboxPageSize = 30

// inboxNotices confirm the inbox's actions (?ok=…).
var inboxNotices = map[string]string{
	"read": "inbox.notice.read",
	"all":  "inbox.notice.all",
}

// inboxRow is a message as the inbox shows it.
type inboxRow struct {
	outbox.InboxMessage
	At     string
	Unread bool
	// Link is the message's link when it is a path on this site; messages
	// are written by the system, but a link is never trusted to leave it.
	Link string
}

// inboxData is one page of the inbox.
type inboxData struct {
	Rows     []inboxRow
	NextURL  string
	FirstURL string
}

// mailbox returns the outbox service, or Unavailable without it.
func (w *Web) mailbox(op string) (*outbox.Service, error) {
	if w.outbox == nil {
		return nil, errs.E(errs.Unavailable, op, "error.unavailable")
	}
	return w.outbox, nil
}

// inboxPage handles GET /inbox?before=…: the account's in-app messages,
// newest first, the unread ones marked.
func (w *Web) inboxPage(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.inboxPage"
	svc, err := w.mailbox(op)
	if err != nil {
		return err
	}
	before, err := cursor(r.URL.Query().Get("before"))
	if err != nil {
		return err
	}
	actor := auth.ActorFrom(r.Context())
	msgs, err := svc.Inbox(r.Context(), actor.UserID, outbox.InboxFilter{Before: before, Limit: inboxPageSize + 1})
	if err != nil {
		return err
	}
	p := w.newPage(r, "inbox", "/inbox")
	p.Notice = noticeFor(p, inboxNotices, r)
	d := inboxData{}
	if len(msgs) > inboxPageSize {
		msgs = msgs[:inboxPageSize]
		d.NextURL = "/inbox?before=" + strconv.FormatInt(msgs[len(msgs)-1].ID, 10)
	}
	if before != 0 {
		d.FirstURL = "/inbox"
	}
	for _, m := range msgs {
		row := inboxRow{InboxMessage: m, At: p.When(m.CreatedAt), Unread: m.ReadAt == nil}
		if isLocalPath(m.Link) {
			row.Link = m.Link
		}
		d.Rows = append(d.Rows, row)
	}
	p.Data = d
	return w.render(rw, http.StatusOK, "inbox", p)
}

// markRead handles POST /inbox/read: one message read. With open=1 it then
// follows the message's link, so reading a message marks it.
func (w *Web) markRead(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.markRead"
	svc, err := w.mailbox(op)
	if err != nil {
		return err
	}
	id := formInt(r.PostFormValue("id"))
	if id == 0 {
		return errs.E(errs.NotFound, op, "error.not_found")
	}
	actor := auth.ActorFrom(r.Context())
	if err := svc.MarkRead(r.Context(), actor.UserID, id); err != nil {
		return err
	}
	if link := r.PostFormValue("open"); link != "" && isLocalPath(link) {
		return redirect(rw, r, link)
	}
	return redirect(rw, r, "/inbox?ok=read")
}

// markAllRead handles POST /inbox/read-all.
func (w *Web) markAllRead(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.markAllRead"
	svc, err := w.mailbox(op)
	if err != nil {
		return err
	}
	if err := svc.MarkAllRead(r.Context(), auth.ActorFrom(r.Context()).UserID); err != nil {
		return err
	}
	return redirect(rw, r, "/inbox?ok=all")
}
