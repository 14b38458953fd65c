package outbox

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/errs"
)

// Enqueue adds msgs to the outbox through q, which should be the
// transaction of the calling use case: if it rolls back, nothing is sent.
// Webhook messages fan out here into one row per active endpoint whose
// subscription covers the message: endpoints of the owner To and of system
// subscribers, subscribed to the event, and whose territory and category
// filters (if any) contain the message's; one indexed query finds them for
// the whole batch. A message nobody subscribes to gets no row.
// A message whose Key was enqueued before for the same channel and
// recipient is silently dropped. An invalid
// message fails the whole call with errs.Invalid naming its fields.
func Enqueue(ctx context.Context, q db.Querier, now time.Time, msgs ...Message) error {
	const op = "outbox.Enqueue"
	if len(msgs) == 0 {
		return nil
	}
	// Validation trims fields; the caller's messages stay as they were.
	msgs = slices.Clone(msgs)
	var hooks []Message
	for i := range msgs {
		if f := msgs[i].validate(); len(f) > 0 {
			return errs.Fields(op, f)
		}
		if msgs[i].Channel == Webhook {
			hooks = append(hooks, msgs[i])
		}
	}
	var endpoints []subscription
	if len(hooks) > 0 {
		var err error
		if endpoints, err = activeSubscriptions(ctx, q, routeKeys(hooks)); err != nil {
			return errs.Wrap(op, err)
		}
	}
	rows := make([]newRow, 0, len(msgs))
	for _, m := range msgs {
		r := newRow{Message: m}
		if m.Channel != Webhook {
			r.Payload = nil
			if m.Channel == InApp {
				r.Key = storedKey(m.Key, m.Channel, strconv.FormatInt(m.UserID, 10))
			} else {
				r.Key = storedKey(m.Key, m.Channel, m.To)
			}
			rows = append(rows, r)
			continue
		}
		for _, ep := range endpoints {
			if !ep.covers(m) {
				continue
			}
			r := r
			r.endpointID = ep.id
			r.Key = storedKey(m.Key, m.Channel, strconv.FormatInt(ep.id, 10))
			rows = append(rows, r)
		}
	}
	return errs.Wrap(op, insertMessages(ctx, q, rows, now))
}

// storedKey scopes an idempotency key to its channel and recipient (the
// account, the address, the endpoint): a key then means "this notification
// to this recipient", so a use case can reuse one key for everyone it
// notifies, on every channel, and each recipient still gets it once.
func storedKey(key string, ch Channel, recipient string) string {
	if key == "" {
		return ""
	}
	return string(ch) + ":" + recipient + ":" + key
}

// newRow is a message about to be inserted.
type newRow struct {
	Message
	endpointID int64
}

// subscription is what fan-out needs of an endpoint.
type subscription struct {
	id         int64
	owner      string
	events     string
	territory  string // "" for everywhere
	categories string // comma-separated; "" for every category
}

// covers reports whether the endpoint's subscription covers m. The route
// lookup only narrows the candidates for a whole batch; this decides for
// each message. A department's endpoint gets only messages addressed to its
// department, whatever its filters: a broad filter never shows it another
// department's cases.
func (s subscription) covers(m Message) bool {
	if !IsSystemOwner(s.owner) && (m.To == "" || s.owner != m.To) {
		return false
	}
	// Territory codes are hierarchical: a code lies inside every code that
	// is a prefix of it (both are validated as whole levels).
	if s.territory != "" && !strings.HasPrefix(m.Territory, s.territory) {
		return false
	}
	if s.categories != "" {
		if m.Category == "" {
			return false
		}
		cs := strings.Split(s.categories, ",")
		if !slices.Contains(cs, m.Category) && !slices.Contains(cs, m.Category[:majorClassLen]) {
			return false
		}
	}
	return subscribed(s.events, m.Event)
}

// routes are the values a batch of webhook messages looks up in
// webhook_routes: each column's candidates, "" (no filter) included.
type routes struct {
	audiences, territories, categories []string
}

// routeKeys collects the route values of webhook messages: their owners and
// the system audience, every level of their territory codes, and their
// category refs and major classes.
func routeKeys(hooks []Message) routes {
	r := routes{audiences: []string{routeAnyAudience}, territories: []string{""}, categories: []string{""}}
	for _, m := range hooks {
		if m.To != "" {
			r.audiences = append(r.audiences, m.To)
		}
		if path, err := auth.ScopeFromCode(m.Territory); err == nil {
			r.territories = append(r.territories, strings.Split(path, "/")...)
		}
		if m.Category != "" {
			r.categories = append(r.categories, m.Category, m.Category[:majorClassLen])
		}
	}
	for _, l := range []*[]string{&r.audiences, &r.territories, &r.categories} {
		slices.Sort(*l)
		*l = slices.Compact(*l)
	}
	return r
}

// routeRows are the webhook_routes rows of an endpoint: one per category
// of its filter (one with "" without a filter).
func routeRows(owner string, categories []string) (audience string, cats []string) {
	audience = owner
	if IsSystemOwner(owner) {
		audience = routeAnyAudience
	}
	if len(categories) == 0 {
		return audience, []string{""}
	}
	return audience, categories
}

// nullString stores "" as NULL, for columns where NULL means absent.
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// nullInt stores 0 as NULL.
func nullInt(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

// placeholders returns "$offset+1, …" for n values.
func placeholders(n, offset int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(offset + i + 1))
	}
	return b.String()
}
