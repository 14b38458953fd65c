package cases

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/errs"
)

// This file holds what open-data clients (Open311) read of a case's public
// timeline and what they may add to it: their comments, as FixMyStreet's
// service-request updates. Nothing here reads or writes personal data.

// PublicStep is one public step of a case's timeline with what the public
// may see of it: its photos and the links (media URLs) clients sent.
type PublicStep struct {
	ID     int64
	CaseID int64
	Number string // the case's number
	At     time.Time
	Action string
	From   State
	To     State
	Note   string
	Photos []int64  // attachment ids, in upload order
	Links  []string // media URLs sent by a client, never fetched
	// AddressID is the client's address id (Open311 address_id) kept on
	// the report step.
	AddressID string
	// Into is the number of the case a merged duplicate went into.
	Into string
}

// stepDetail is the part of an event's detail that public readers see.
type stepDetail struct {
	Links     []string `json:"links"`
	AddressID string   `json:"address_id"`
	Into      string   `json:"into"`
	UpdateID  string   `json:"update_id"`
	Client    int64    `json:"client"`
}

func readDetail(raw string) stepDetail {
	var d stepDetail
	if raw != "" && raw != "{}" {
		_ = json.Unmarshal([]byte(raw), &d)
	}
	return d
}

// PublicSteps returns the public steps of the given cases, oldest first,
// with their photos and links.
func (s *Service) PublicSteps(ctx context.Context, ids []int64) ([]PublicStep, error) {
	const op = "cases.PublicSteps"
	if len(ids) == 0 {
		return nil, nil
	}
	q := &sqlBuilder{}
	ph := make([]string, len(ids))
	for i, id := range ids {
		ph[i] = q.arg(id)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT e.id, e.case_id, c.number, e.at, e.action, e.from_state, e.to_state, e.note, e.detail
		FROM case_events e JOIN cases c ON c.id = e.case_id
		WHERE e.public = TRUE AND e.case_id IN (`+strings.Join(ph, ",")+`) ORDER BY e.id`, q.args...)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	out, err := scanSteps(rows)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, errs.Wrap(op, s.attachPhotos(ctx, out))
}

func scanSteps(rows *sql.Rows) ([]PublicStep, error) {
	defer rows.Close()
	var out []PublicStep
	for rows.Next() {
		var e PublicStep
		var at int64
		var from, to, detail string
		if err := rows.Scan(&e.ID, &e.CaseID, &e.Number, &at, &e.Action, &from, &to, &e.Note, &detail); err != nil {
			return nil, err
		}
		d := readDetail(detail)
		e.At, e.From, e.To = db.FromMillis(at), State(from), State(to)
		e.Links, e.AddressID, e.Into = d.Links, d.AddressID, d.Into
		out = append(out, e)
	}
	return out, rows.Err()
}

// attachPhotos fills in the photo ids of public steps, in one query.
func (s *Service) attachPhotos(ctx context.Context, steps []PublicStep) error {
	if len(steps) == 0 {
		return nil
	}
	q := &sqlBuilder{}
	at := map[int64]int{}
	var ph []string
	for i, e := range steps {
		at[e.ID] = i
		ph = append(ph, q.arg(e.ID))
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, event_id FROM case_attachments WHERE event_id IN (`+strings.Join(ph, ",")+`) ORDER BY id`, q.args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, ev int64
		if err := rows.Scan(&id, &ev); err != nil {
			return err
		}
		if i, ok := at[ev]; ok {
			steps[i].Photos = append(steps[i].Photos, id)
		}
	}
	return rows.Err()
}

// UpdatesFilter selects public steps for service-request updates: those in
// [From, To), oldest first, a page at a time.
type UpdatesFilter struct {
	From, To      time.Time
	Offset, Limit int
}

// PublicUpdates lists the public steps after the report of every case, in
// the order they happened: what FixMyStreet calls service-request updates.
// The report itself is the request, not an update of it.
func (s *Service) PublicUpdates(ctx context.Context, f UpdatesFilter) ([]PublicStep, error) {
	const op = "cases.PublicUpdates"
	q := &sqlBuilder{}
	q.where("e.public = TRUE")
	q.where("e.action <> 'report'")
	if !f.From.IsZero() {
		q.where("e.at >= " + q.arg(db.Millis(f.From)))
	}
	if !f.To.IsZero() {
		q.where("e.at < " + q.arg(db.Millis(f.To)))
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 1000
	}
	rows, err := s.db.QueryContext(ctx, `SELECT e.id, e.case_id, c.number, e.at, e.action, e.from_state, e.to_state, e.note, e.detail
		FROM case_events e JOIN cases c ON c.id = e.case_id WHERE `+q.conds()+
		` ORDER BY e.at, e.id LIMIT `+q.arg(f.Limit)+` OFFSET `+q.arg(max(f.Offset, 0)), q.args...)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	out, err := scanSteps(rows)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	return out, errs.Wrap(op, s.attachPhotos(ctx, out))
}

// PublicPhoto returns a photo of a public step, for anyone: the photos a
// case's public timeline shows. A photo of a step the public does not see
// is not found, whatever its id.
func (s *Service) PublicPhoto(ctx context.Context, id int64) (contentType string, data []byte, err error) {
	const op = "cases.PublicPhoto"
	var public bool
	err = s.db.QueryRowContext(ctx, `SELECT a.content_type, a.data, COALESCE(e.public, FALSE) FROM case_attachments a
		LEFT JOIN case_events e ON e.id = a.event_id WHERE a.id = $1`, id).Scan(&contentType, &data, &public)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !public) {
		return "", nil, notFound(op)
	}
	if err != nil {
		return "", nil, errs.Wrap(op, err)
	}
	return contentType, data, nil
}

// MaxLinks bounds the media URLs of one report or update, like its photos.
const MaxLinks = 6

// ValidLink reports whether a client's media URL may be kept: an absolute
// http or https URL of reasonable length. It is stored and shown, never
// fetched, so a URL pointing inside the network does no harm here.
func ValidLink(raw string) bool {
	if len(raw) > 2000 || strings.ContainsAny(raw, " \t\r\n<>\"") {
		return false
	}
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil
}

// checkLinks adds a problem to f when links are not all valid.
func checkLinks(links []string, field string, f map[string]string) {
	if len(links) > MaxLinks {
		f[field] = "case.error.too_many_links"
		return
	}
	for _, l := range links {
		if !ValidLink(l) {
			f[field] = "case.error.link"
			return
		}
	}
}

// ClientUpdate is a comment an Open311 client adds to a case's public
// timeline (a FixMyStreet service-request update).
type ClientUpdate struct {
	CaseID int64
	// UpdateID is the client's id of the update: the same id sent again
	// for the same case adds nothing and answers the first entry.
	UpdateID string
	// Status is the status the client reports (FixMyStreet's extended
	// statuses, lower case). It is recorded with the comment; it does not
	// move the workflow, where only staff decide and a check on site
	// confirms a fix.
	Status      string
	At          time.Time // when the client says it happened
	Description string
	Links       []string
}

// maxUpdateID bounds a client's update id.
const maxUpdateID = 100

// AddClientUpdate records a client's update on a case's public timeline as
// a note, once per client and update id, and tells the case's department
// like any other step. It answers the timeline entry's id, also when the
// update had been recorded before.
func (s *Service) AddClientUpdate(ctx context.Context, actor auth.Actor, u ClientUpdate) (int64, error) {
	const op = "cases.AddClientUpdate"
	if !actor.Authenticated() || actor.TokenID == 0 || !actor.HasTokenScope("open311") {
		return 0, errs.E(errs.Forbidden, op, "error.forbidden")
	}
	f := map[string]string{}
	u.UpdateID, u.Description = strings.TrimSpace(u.UpdateID), strings.TrimSpace(u.Description)
	if u.UpdateID == "" {
		f["update_id"] = "error.field.required"
	} else if utf8.RuneCountInString(u.UpdateID) > maxUpdateID {
		f["update_id"] = "error.field.too_long"
	}
	if u.Description == "" {
		f["description"] = "error.field.required"
	} else if utf8.RuneCountInString(u.Description) > maxNote {
		f["description"] = "error.field.too_long"
	}
	checkLinks(u.Links, "media_url", f)
	if len(f) > 0 {
		return 0, errs.Fields(op, f)
	}
	var evID int64
	var c Case
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		// The case row is locked first, so two deliveries of the same
		// update cannot both find it missing.
		c, err = s.st.caseByID(ctx, tx, u.CaseID, s.db.ForUpdate())
		if errors.Is(err, sql.ErrNoRows) {
			return notFound(op)
		}
		if err != nil {
			return err
		}
		if evID, err = s.st.clientUpdate(ctx, tx, c.ID, actor.TokenID, u.UpdateID); err != nil || evID != 0 {
			return err
		}
		now := s.clock.Now()
		detail := map[string]any{"source": string(Open311), "client": actor.TokenID, "update_id": u.UpdateID}
		if u.Status != "" {
			detail["status"] = u.Status
		}
		if !u.At.IsZero() {
			detail["client_at"] = u.At.UTC().Format(time.RFC3339)
		}
		if len(u.Links) > 0 {
			detail["links"] = u.Links
		}
		evID, err = s.st.insertEvent(ctx, tx, c.ID, Event{At: now, ActorID: actor.UserID, ActorName: actor.Username,
			ActorRole: actor.Role, Action: string(Note), From: c.State, To: c.State, Note: u.Description, Detail: detail, Public: true})
		if err != nil {
			return err
		}
		// The case changed for its readers: GET requests?updated_after
		// must find it, and a form opened before is stale.
		c.UpdatedAt = now
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET updated_at = $1, version = version + 1 WHERE id = $2`, db.Millis(now), c.ID); err != nil {
			return err
		}
		c.Version++
		if err := s.record(ctx, tx, actor, audit.Record{Action: "case.client_update", ObjectType: "case", ObjectID: itoa(c.ID),
			ScopePath: c.GridPath, Detail: map[string]any{"number": c.Number, "update_id": u.UpdateID}}); err != nil {
			return err
		}
		return s.notify(ctx, tx, c, string(Note), actor)
	})
	if err != nil {
		return 0, errs.Wrap(op, err)
	}
	return evID, nil
}

// clientUpdate finds the timeline entry a client's update made on a case
// before, 0 when there is none. A case has a short timeline, so its notes
// are read and their detail compared here rather than by each engine's
// JSON operators.
func (store) clientUpdate(ctx context.Context, q db.Querier, caseID, client int64, updateID string) (int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, detail FROM case_events WHERE case_id = $1 AND action = $2 ORDER BY id`, caseID, string(Note))
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var detail string
		if err := rows.Scan(&id, &detail); err != nil {
			return 0, err
		}
		if d := readDetail(detail); d.Client == client && d.UpdateID == updateID {
			return id, nil
		}
	}
	return 0, rows.Err()
}
