package cases

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/i18n"
	"github.com/gridhall/gridhall/internal/outbox"
)

// What each step tells whom. Residents following a case are told at
// acceptance, dispatch, handling and closure (and asked to rate); the
// assignee is told when work arrives or is pressed; a department's systems
// get every event about its cases by webhook, and system subscribers every
// event of any case inside their territory and category filters.
var (
	toFollowers = map[string]string{
		string(Accept): "accepted", string(Reject): "rejected", string(Dispatch): "dispatched",
		string(Handle): "handled", string(Close): "closed", string(Cancel): "cancelled",
		string(Merge): "cancelled", "merged": "merged",
	}
	toAssignee = map[string]string{
		string(Dispatch): "assigned", string(Transfer): "assigned", string(Rework): "rework",
		string(Urge): "urged", "warn": "due_soon", "overdue": "overdue", string(ApproveExtension): "extended",
		string(RefuseExtension): "extension_refused", string(Resume): "resumed", string(Suspend): "suspended",
	}
)

// emailed are the follower messages also sent by email to a reporter who
// left an address (Open311 clients do).
var emailed = map[string]bool{"accepted": true, "dispatched": true, "handled": true, "closed": true, "rejected": true}

// notify enqueues the messages of step on case c inside the step's
// transaction, so they leave only if it commits.
func (s *Service) notify(ctx context.Context, tx *sql.Tx, c Case, step string, actor auth.Actor) error {
	var msgs []outbox.Message
	link := "/cases/" + itoa(c.ID)
	key := func(kind string, who any) string {
		return fmt.Sprintf("case:%d:v%d:%s:%s:%v", c.ID, c.Version, step, kind, who)
	}
	if what, ok := toFollowers[step]; ok {
		fs, err := s.st.followers(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		for _, f := range fs {
			if f.UserID == actor.UserID && step != string(Close) {
				continue // nobody needs telling what they just did
			}
			subj, body := s.text(f.Locale, what, c)
			msgs = append(msgs, outbox.Message{Channel: outbox.InApp, Event: "case." + what, UserID: f.UserID,
				Subject: subj, Body: body, Link: link, Key: key("inapp", f.UserID)})
		}
		if emailed[what] {
			ct, err := s.contactOf(ctx, c, true)
			if err == nil && ct.Email != "" && !c.Anonymous {
				subj, body := s.text(i18n.Chinese, what, c)
				msgs = append(msgs, outbox.Message{Channel: outbox.Email, Event: "case." + what, To: ct.Email,
					Subject: subj, Body: body, Link: link, Key: key("email", "reporter")})
			}
		}
	}
	if what, ok := toAssignee[step]; ok {
		switch c.AssigneeKind {
		case ToUser:
			uid, _ := strconv.ParseInt(c.Assignee, 10, 64)
			us, err := s.st.usersByID(ctx, tx, []int64{uid})
			if err != nil {
				return err
			}
			for _, u := range us {
				subj, body := s.text(u.Locale, what, c)
				msgs = append(msgs, outbox.Message{Channel: outbox.InApp, Event: "case." + what, UserID: u.UserID,
					Subject: subj, Body: body, Link: link, Key: key("inapp", u.UserID)})
			}
		case ToDepartment:
			ids, err := s.cat.Members(ctx, c.Assignee)
			if err != nil {
				return err
			}
			us, err := s.st.usersByID(ctx, tx, ids)
			if err != nil {
				return err
			}
			for _, u := range us {
				subj, body := s.text(u.Locale, what, c)
				msgs = append(msgs, outbox.Message{Channel: outbox.InApp, Event: "case." + what, UserID: u.UserID,
					Subject: subj, Body: body, Link: link, Key: key("inapp", u.UserID)})
			}
		}
	}
	// Every step is offered as a webhook; the outbox routes it to the
	// endpoints that subscribed to it. Only the assignee department is
	// named, so a department's endpoints never see another department's
	// cases; system subscribers match on territory and category alone. A
	// report is nobody's case yet.
	dept := ""
	if c.AssigneeKind == ToDepartment && step != "report" {
		dept = c.Assignee
	}
	payload, err := json.Marshal(webhookBody{Event: "case." + step, Case: publicCase(c)})
	if err != nil {
		return err
	}
	msgs = append(msgs, outbox.Message{Channel: outbox.Webhook, Event: "case." + step, To: dept,
		Territory: c.GridCode, Category: c.Category, Payload: payload, Key: key("webhook", dept)})
	return outbox.Enqueue(ctx, tx, s.clock.Now(), msgs...)
}

// text is a message's subject and body in a reader's language.
func (s *Service) text(locale, what string, c Case) (string, string) {
	if locale == "" {
		locale = i18n.Chinese
	}
	return s.tr.T(locale, "case.msg."+what+".subject", c.Number),
		s.tr.T(locale, "case.msg."+what+".body", c.Number, truncate(c.Description, 60))
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// webhookBody is what a department's or a subscribed system receives.
type webhookBody struct {
	Event string     `json:"event"`
	Case  PublicCase `json:"case"`
}

// PublicCase is a case without anything personal: what may leave the
// system to departments and the public.
type PublicCase struct {
	ID          int64   `json:"id"`
	Number      string  `json:"number"`
	Category    string  `json:"category"`
	Urgency     string  `json:"urgency"`
	State       State   `json:"state"`
	Description string  `json:"description"`
	Address     string  `json:"address,omitempty"`
	Lng         float64 `json:"lng"`
	Lat         float64 `json:"lat"`
	GridCode    string  `json:"grid_code"`
	Channel     Channel `json:"channel"`
	Assignee    string  `json:"assignee,omitempty"`
	Level       Level   `json:"level"`
	DueAt       string  `json:"due_at,omitempty"`
	Overdue     bool    `json:"overdue"`
	CreatedAt   string  `json:"created_at"`
	UpdatedAt   string  `json:"updated_at"`
}

func publicCase(c Case) PublicCase {
	p := PublicCase{ID: c.ID, Number: c.Number, Category: c.Category, Urgency: string(c.Urgency), State: c.State,
		Description: c.Description, Address: c.Address, Lng: c.Lng, Lat: c.Lat, GridCode: c.GridCode,
		Channel: c.Channel, Level: c.Level, Overdue: c.Overdue,
		CreatedAt: c.CreatedAt.Format(timeFormat), UpdatedAt: c.UpdatedAt.Format(timeFormat)}
	if c.AssigneeKind == ToDepartment {
		p.Assignee = c.Assignee
	}
	if !c.StageDueAt.IsZero() {
		p.DueAt = c.StageDueAt.Format(timeFormat)
	}
	return p
}

const timeFormat = "2006-01-02T15:04:05Z07:00"

// limitText writes an extension request for the case row: "3 days".
func limitText(l calendar.Limit) string { return strconv.Itoa(l.Amount) + " " + string(l.Unit) }

func parseLimitText(s string) (calendar.Limit, bool) {
	a, u, ok := strings.Cut(s, " ")
	n, err := strconv.Atoi(a)
	l := calendar.Limit{Amount: n, Unit: calendar.Unit(u)}
	return l, ok && err == nil && l.Valid()
}
