package outbox

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/errs"
)

// Enqueue adds msgs to the outbox through q, which should be the
// transaction of the calling use case: if it rolls back, nothing is sent.
// Webhook messages fan out here into one row per active endpoint of the
// owner subscribed to the event; an owner without such endpoints gets none.
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
	var owners []string
	for i := range msgs {
		if f := msgs[i].validate(); len(f) > 0 {
			return errs.Fields(op, f)
		}
		if msgs[i].Channel == Webhook {
			owners = append(owners, msgs[i].To)
		}
	}
	slices.Sort(owners)
	owners = slices.Compact(owners)
	var endpoints map[string][]subscription
	if len(owners) > 0 {
		var err error
		if endpoints, err = activeSubscriptions(ctx, q, owners); err != nil {
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
		for _, ep := range endpoints[m.To] {
			if !subscribed(ep.events, m.Event) {
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
	id     int64
	events string
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
