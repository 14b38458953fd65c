package outbox

import (
	"context"
	"database/sql"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/seal"
)

// OwnerPolicy says whether actor may manage the webhook endpoints of owner
// without holding auth.ManageSettings — for example a department handler
// for its own department's code. The capability that defines owners
// supplies it.
type OwnerPolicy func(actor auth.Actor, owner string) bool

// Service holds the readable side of the outbox: users' inboxes, webhook
// endpoints and their delivery logs, and retention.
type Service struct {
	db     *db.DB
	audit  *audit.Log
	keys   *seal.Keyring
	clock  clock.Clock
	policy OwnerPolicy
}

// NewService returns the outbox service. keys may be nil (no master key):
// endpoint secrets are then stored in plain text. policy may be nil: only
// holders of auth.ManageSettings manage endpoints.
func NewService(d *db.DB, a *audit.Log, keys *seal.Keyring, c clock.Clock, policy OwnerPolicy) *Service {
	return &Service{db: d, audit: a, keys: keys, clock: c, policy: policy}
}

// rotationOverlap is how long a replaced secret keeps signing beside the new
// one: time for a receiver to deploy the new secret.
const rotationOverlap = 24 * time.Hour

// maxMarkIDs bounds one MarkRead call.
const maxMarkIDs = 500

// Inbox lists a user's in-app messages, newest first, a page at a time:
// pass the last id of a page as Before to get the next.
func (s *Service) Inbox(ctx context.Context, userID int64, f InboxFilter) ([]InboxMessage, error) {
	const op = "outbox.Inbox"
	if userID <= 0 {
		return nil, errs.E(errs.Unauthenticated, op, "error.unauthenticated")
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 200)
	out, err := inbox(ctx, s.db, userID, f)
	return out, errs.Wrap(op, err)
}

// Unread counts a user's unread messages.
func (s *Service) Unread(ctx context.Context, userID int64) (int, error) {
	const op = "outbox.Unread"
	if userID <= 0 {
		return 0, errs.E(errs.Unauthenticated, op, "error.unauthenticated")
	}
	n, err := unread(ctx, s.db, userID)
	return n, errs.Wrap(op, err)
}

// MarkRead marks messages of userID read. If any id is not one of the
// user's messages, nothing changes and the result is errs.NotFound: a user
// can neither mark nor probe another user's messages.
func (s *Service) MarkRead(ctx context.Context, userID int64, ids ...int64) error {
	const op = "outbox.MarkRead"
	if userID <= 0 {
		return errs.E(errs.Unauthenticated, op, "error.unauthenticated")
	}
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	if len(ids) == 0 {
		return nil
	}
	if len(ids) > maxMarkIDs {
		return errs.Fields(op, map[string]string{"ids": "outbox.error.too_many_ids"})
	}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		n, err := countOwn(ctx, tx, userID, ids)
		if err != nil {
			return err
		}
		if n != len(ids) {
			return errs.E(errs.NotFound, op, "outbox.error.no_message")
		}
		return markRead(ctx, tx, userID, ids, s.clock.Now())
	})
	return errs.Wrap(op, err)
}

// MarkAllRead marks every message of userID read.
func (s *Service) MarkAllRead(ctx context.Context, userID int64) error {
	const op = "outbox.MarkAllRead"
	if userID <= 0 {
		return errs.E(errs.Unauthenticated, op, "error.unauthenticated")
	}
	return errs.Wrap(op, markRead(ctx, s.db, userID, nil, s.clock.Now()))
}

// mayManage reports whether actor may manage the endpoints of owner. A
// system subscriber sees every case its filters match, so only holders of
// auth.ManageSettings manage one, whatever the owner policy says.
func (s *Service) mayManage(actor auth.Actor, owner string) bool {
	if auth.Can(actor, auth.ManageSettings, "") {
		return true
	}
	return !IsSystemOwner(owner) && s.policy != nil && actor.Authenticated() && s.policy(actor, owner)
}

// CreateEndpoint adds a webhook endpoint and returns it with its secret.
// The secret is shown this once: it is stored sealed (or, without a master
// key, in plain text) and never returned again; RotateSecret makes a new one.
// An owner "system:<name>" makes a system subscriber, which receives the
// events of every case its filters match; only holders of
// auth.ManageSettings create one (errs.Forbidden otherwise).
func (s *Service) CreateEndpoint(ctx context.Context, actor auth.Actor, in NewEndpoint) (Endpoint, string, error) {
	const op = "outbox.CreateEndpoint"
	f, st := in.validate()
	if len(f) > 0 {
		return Endpoint{}, "", errs.Fields(op, f)
	}
	if !s.mayManage(actor, in.Owner) {
		return Endpoint{}, "", errs.E(errs.Forbidden, op, "error.forbidden")
	}
	secret := newSecret()
	stored, err := storeSecret(s.keys, secret)
	if err != nil {
		return Endpoint{}, "", errs.Wrap(op, err)
	}
	now := s.clock.Now()
	row := endpointRow{owner: in.Owner, secret: stored, active: true, createdAt: db.Millis(now)}
	row.apply(st)
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if row.id, err = insertEndpoint(ctx, tx, row); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, "webhook.create", row)
	})
	if err != nil {
		return Endpoint{}, "", errs.Wrap(op, err)
	}
	return row.public(), secret, nil
}

// Endpoints lists the endpoints of an owner, disabled ones included.
func (s *Service) Endpoints(ctx context.Context, actor auth.Actor, owner string) ([]Endpoint, error) {
	const op = "outbox.Endpoints"
	if !s.mayManage(actor, owner) {
		return nil, errs.E(errs.Forbidden, op, "error.forbidden")
	}
	rows, err := endpointsOf(ctx, s.db, owner)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	out := make([]Endpoint, len(rows))
	for i, r := range rows {
		out[i] = r.public()
	}
	return out, nil
}

// UpdateEndpoint replaces an active endpoint's URL, events and filters
// with in and returns the endpoint as it now stands. Messages already
// enqueued keep going to it; only new events are routed by the new
// subscription. The owner and the secret do not change.
func (s *Service) UpdateEndpoint(ctx context.Context, actor auth.Actor, id int64, in EndpointUpdate) (Endpoint, error) {
	const op = "outbox.UpdateEndpoint"
	f, st := in.validate()
	if len(f) > 0 {
		return Endpoint{}, errs.Fields(op, f)
	}
	var ep endpointRow
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if ep, err = s.endpointFor(ctx, tx, actor, id, op); err != nil {
			return err
		}
		if !ep.active {
			return errs.E(errs.Conflict, op, "outbox.error.endpoint_disabled")
		}
		ep.apply(st)
		if err := updateEndpoint(ctx, tx, ep); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, "webhook.update", ep)
	})
	if err != nil {
		return Endpoint{}, errs.Wrap(op, err)
	}
	return ep.public(), nil
}

// apply sets the endpoint's subscription to st.
func (e *endpointRow) apply(st settings) {
	e.url, e.events, e.territory, e.categories = st.url, strings.Join(st.events, ","), st.territory, strings.Join(st.categories, ",")
}

// RotateSecret gives an active endpoint a new secret and returns it, shown
// this once. For 24 hours deliveries are signed with the old secret too,
// so the receiver can deploy the new one without losing deliveries. A
// second rotation within that time ends the older secret's overlap early.
func (s *Service) RotateSecret(ctx context.Context, actor auth.Actor, id int64) (string, error) {
	const op = "outbox.RotateSecret"
	secret := newSecret()
	stored, err := storeSecret(s.keys, secret)
	if err != nil {
		return "", errs.Wrap(op, err)
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		ep, err := s.endpointFor(ctx, tx, actor, id, op)
		if err != nil {
			return err
		}
		if !ep.active {
			return errs.E(errs.Conflict, op, "outbox.error.endpoint_disabled")
		}
		if err := rotateSecret(ctx, tx, id, stored, ep.secret, db.Millis(s.clock.Now().Add(rotationOverlap))); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, "webhook.rotate_secret", ep)
	})
	if err != nil {
		return "", errs.Wrap(op, err)
	}
	return secret, nil
}

// DisableEndpoint stops deliveries to an endpoint. Its pending messages are
// skipped; it receives nothing new. Disabling twice changes nothing.
func (s *Service) DisableEndpoint(ctx context.Context, actor auth.Actor, id int64) error {
	const op = "outbox.DisableEndpoint"
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		ep, err := s.endpointFor(ctx, tx, actor, id, op)
		if err != nil || !ep.active {
			return err
		}
		if err := disableEndpoint(ctx, tx, id, s.clock.Now()); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, "webhook.disable", ep)
	})
	return errs.Wrap(op, err)
}

// Deliveries lists a page of the delivery attempts to an endpoint, newest
// first: pass the last id of a page as f.After to get the next.
func (s *Service) Deliveries(ctx context.Context, actor auth.Actor, endpointID int64, f DeliveryFilter) ([]Delivery, error) {
	const op = "outbox.Deliveries"
	if _, err := s.endpointFor(ctx, s.db, actor, endpointID, op); err != nil {
		return nil, errs.Wrap(op, err)
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	f.Limit = min(f.Limit, 500)
	out, err := deliveries(ctx, s.db, endpointID, f)
	return out, errs.Wrap(op, err)
}

// endpointFor loads an endpoint the actor may manage. An endpoint of an
// owner the actor does not manage is reported as not found, like a missing
// one, so ids cannot be probed.
func (s *Service) endpointFor(ctx context.Context, q db.Querier, actor auth.Actor, id int64, op string) (endpointRow, error) {
	suffix := ""
	if tx, ok := q.(*sql.Tx); ok && tx != nil {
		suffix = s.db.ForUpdate()
	}
	ep, err := endpointByID(ctx, q, id, suffix)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !s.mayManage(actor, ep.owner)) {
		return endpointRow{}, errs.E(errs.NotFound, op, "outbox.error.no_endpoint")
	}
	return ep, err
}

// record appends the audit entry of an endpoint change. The URL is reduced
// to its scheme and host: its path or query may hold a receiver's token.
func (s *Service) record(ctx context.Context, tx *sql.Tx, actor auth.Actor, action string, ep endpointRow) error {
	site := ""
	if u, err := url.Parse(ep.url); err == nil {
		site = u.Scheme + "://" + u.Host
	}
	_, err := s.audit.Append(ctx, tx, s.clock.Now(), audit.Record{
		ActorID: actor.UserID, ActorName: actor.Username, ActorRole: string(actor.Role),
		Action: action, ObjectType: "webhook_endpoint", ObjectID: strconv.FormatInt(ep.id, 10),
		Detail: map[string]string{"owner": ep.owner, "site": site, "events": ep.events, "territory": ep.territory,
			"categories": ep.categories},
	})
	return err
}

// public is the endpoint as shown to its managers: no secrets.
func (e endpointRow) public() Endpoint {
	out := Endpoint{ID: e.id, Owner: e.owner, URL: e.url, Events: strings.Split(e.events, ","), Territory: e.territory,
		Categories: splitList(e.categories), System: IsSystemOwner(e.owner), Active: e.active,
		CreatedAt: db.FromMillis(e.createdAt)}
	if out.Categories == nil {
		out.Categories = []string{}
	}
	if e.previousSecret != "" && e.previousUntil != 0 {
		t := db.FromMillis(e.previousUntil)
		out.PreviousUntil = &t
	}
	if e.disabledAt != 0 {
		t := db.FromMillis(e.disabledAt)
		out.DisabledAt = &t
	}
	return out
}

// Purge deletes delivered, dead and skipped messages finished before
// olderThan, with their delivery log, and returns how many messages it
// deleted. Pending messages are never purged. It works in small
// transactions, so a large backlog does not hold the writer.
func (s *Service) Purge(ctx context.Context, olderThan time.Time) (int, error) {
	const op = "outbox.Purge"
	total := 0
	for {
		var n int
		err := s.db.Tx(ctx, func(tx *sql.Tx) (err error) {
			n, err = purgeSome(ctx, tx, olderThan)
			return err
		})
		total += n
		if err != nil {
			return total, errs.Wrap(op, err)
		}
		if n < purgeChunk {
			return total, nil
		}
	}
}
