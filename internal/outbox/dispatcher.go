package outbox

import (
	"context"
	crand "crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/mail"
	"os"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/seal"
)

// Config tunes a Dispatcher. Zero fields take the documented defaults.
type Config struct {
	// Node names this dispatcher in claims and in the delivery log; the host
	// name and a random suffix when empty. Two dispatchers must never share
	// a name.
	Node string
	SMTP SMTPConfig
	// HTTPClient posts webhooks; by default one that follows no redirects.
	// Each delivery is cut off after 10 s whatever the client's timeout.
	HTTPClient *http.Client
	// MaxAttempts is how often a message is tried before it is dead: 8.
	MaxAttempts int
	// Backoff is the wait after the attempt-th failed attempt (1-based):
	// 30 s · 2^(attempt-1), at most 6 h, with jitter.
	Backoff func(attempt int) time.Duration
	// Lease is how long a claim holds a message: 2 min, and at least twice
	// the longest delivery (SMTP timeout or 10 s, plus 5 s). A node that
	// dies holds its messages this long.
	Lease time.Duration
	// BatchSize is how many messages one RunOnce claims: 100.
	BatchSize int
	// Concurrency is how many email and webhook deliveries run at once: 4.
	Concurrency int
	// Keys opens sealed endpoint secrets; nil on installations without a
	// master key, where secrets are stored in plain text.
	Keys *seal.Keyring
}

// DefaultBackoff waits 30 s · 2^(attempt-1), at most 6 h, for a random 50
// to 100 % of that: the jitter spreads the retries of many messages that
// failed together (a receiver that was down) so they do not return at once.
func DefaultBackoff(attempt int) time.Duration {
	const base, ceiling = 30 * time.Second, 6 * time.Hour
	d := ceiling
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= 20 {
		d = min(base<<(attempt-1), ceiling)
	}
	return d/2 + rand.N(d/2+1)
}

// Dispatcher delivers due outbox messages. Every node runs one; claims keep
// them from delivering a message twice.
type Dispatcher struct {
	db    *db.DB
	clock clock.Clock
	cfg   Config
	log   *slog.Logger

	mu          sync.Mutex // one RunOnce at a time: a claim token is per batch
	noSMTPOnce  sync.Once
	smtpFrom    *mail.Address
	smtpFromErr error
}

// NewDispatcher returns a dispatcher over d; cfg's zero fields take their
// defaults.
func NewDispatcher(d *db.DB, c clock.Clock, cfg Config, log *slog.Logger) *Dispatcher {
	if cfg.Node == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		crand.Read(b)
		cfg.Node = host + "-" + hex.EncodeToString(b)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = defaultHTTPClient()
	}
	if cfg.SMTP.Timeout <= 0 {
		cfg.SMTP.Timeout = 30 * time.Second
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 8
	}
	if cfg.Backoff == nil {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Minute
	}
	// A lease shorter than two of the longest deliveries would leave no
	// time to start one (see deliverExternal).
	cfg.Lease = max(cfg.Lease, 2*maxSendTime(cfg))
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 100
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dp := &Dispatcher{db: d, clock: c, cfg: cfg, log: log.With("component", "outbox", "node", cfg.Node)}
	if cfg.SMTP.Addr != "" {
		dp.smtpFrom, dp.smtpFromErr = parseAddress(cfg.SMTP.From)
	}
	return dp
}

// Node is the name this dispatcher claims under.
func (d *Dispatcher) Node() string { return d.cfg.Node }

// Run calls RunOnce every interval until ctx ends, and at once again after
// a full batch, so a backlog drains without waiting for the ticker.
func (d *Dispatcher) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		for {
			claimed, _, err := d.runOnce(ctx)
			if err != nil && ctx.Err() == nil {
				d.log.Error("outbox run failed", "err", err)
			}
			if err != nil || claimed < d.cfg.BatchSize || ctx.Err() != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce claims one batch of due messages, delivers them and records every
// outcome. It returns how many it delivered; failed deliveries are
// scheduled for retry, not errors. An error means the database failed; the
// messages of the batch then return to the queue when their lease ends.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	_, delivered, err := d.runOnce(ctx)
	return delivered, err
}

func (d *Dispatcher) runOnce(ctx context.Context) (claimedN, delivered int, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.clock.Now()
	c := claim{node: d.cfg.Node, lease: db.Millis(now.Add(d.cfg.Lease))}
	var batch []claimed
	err = d.db.Tx(ctx, func(tx *sql.Tx) error {
		batch, err = claimDue(ctx, tx, d.db.Engine, c, now, d.cfg.BatchSize)
		return err
	})
	if err != nil || len(batch) == 0 {
		return 0, 0, err
	}
	var inapp, external []claimed
	for _, m := range batch {
		if m.channel == InApp {
			inapp = append(inapp, m)
		} else {
			external = append(external, m)
		}
	}
	if len(inapp) > 0 {
		n, err := d.deliverInApp(ctx, c, inapp)
		delivered += n
		if err != nil {
			return len(batch), delivered, err
		}
	}
	if len(external) > 0 {
		n, err := d.deliverExternal(ctx, c, external)
		delivered += n
		if err != nil {
			return len(batch), delivered, err
		}
	}
	return len(batch), delivered, nil
}

// deliverInApp delivers the batch's in-app messages in one transaction. If
// that fails, it tries each message alone, so that one message that cannot
// be stored is retried and eventually dead instead of blocking the others.
func (d *Dispatcher) deliverInApp(ctx context.Context, c claim, msgs []claimed) (int, error) {
	ids := make([]int64, len(msgs))
	for i, m := range msgs {
		ids[i] = m.id
	}
	var n int
	err := d.db.Tx(ctx, func(tx *sql.Tx) (err error) {
		n, err = deliverInApp(ctx, tx, c, ids, d.clock.Now())
		return err
	})
	if err == nil || ctx.Err() != nil {
		return n, err
	}
	d.log.Warn("in-app batch failed, delivering one by one", "err", err)
	n = 0
	for _, m := range msgs {
		var one int
		err := d.db.Tx(ctx, func(tx *sql.Tx) (err error) {
			one, err = deliverInApp(ctx, tx, c, []int64{m.id}, d.clock.Now())
			return err
		})
		if err != nil {
			if ctx.Err() != nil {
				return n, err
			}
			if _, err := d.finish(ctx, c, m, errors.New("cannot store the message: "+err.Error()), 0, 0); err != nil {
				return n, err
			}
		}
		n += one
	}
	return n, nil
}

// deliverExternal sends email and webhooks, Concurrency at a time, and
// records each outcome in its own transaction as soon as it is known, which
// keeps short the window in which a crash causes a second send.
func (d *Dispatcher) deliverExternal(ctx context.Context, c claim, msgs []claimed) (int, error) {
	var endpoints map[int64]endpointRow
	var ids []int64
	for _, m := range msgs {
		if m.channel == Webhook && m.endpointID != 0 {
			ids = append(ids, m.endpointID)
		}
	}
	if len(ids) > 0 {
		var err error
		if endpoints, err = endpointsByID(ctx, d.db, ids); err != nil {
			return 0, err
		}
	}
	var (
		mu         sync.Mutex
		delivered  int
		firstErr   error
		unstarted  []int64
		wg         sync.WaitGroup
		sem        = make(chan struct{}, d.cfg.Concurrency)
		leaseEnd   = db.FromMillis(c.lease)
		maxSendDur = maxSendTime(d.cfg)
	)
	for _, m := range msgs {
		sem <- struct{}{}
		mu.Lock()
		stop := firstErr != nil || ctx.Err() != nil
		mu.Unlock()
		// A delivery that could outlast the lease might run beside the node
		// that claims the message next; leave it to the next round instead.
		if stop || d.clock.Now().Add(maxSendDur).After(leaseEnd) {
			<-sem
			unstarted = append(unstarted, m.id)
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			ok, err := d.deliverOne(ctx, c, m, endpoints)
			mu.Lock()
			defer mu.Unlock()
			if ok {
				delivered++
			}
			if err != nil && firstErr == nil {
				firstErr = err
			}
		}()
	}
	wg.Wait()
	if len(unstarted) > 0 {
		if err := release(context.WithoutCancel(ctx), d.db, c, unstarted, d.clock.Now()); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	return delivered, firstErr
}

// maxSendTime bounds one email or webhook delivery, with a margin for
// recording its outcome.
func maxSendTime(cfg Config) time.Duration {
	return max(webhookTimeout, cfg.SMTP.Timeout) + 5*time.Second
}

// deliverOne sends one email or webhook and records the outcome. It
// reports whether the message was delivered; the error is a database
// failure.
func (d *Dispatcher) deliverOne(ctx context.Context, c claim, m claimed, endpoints map[int64]endpointRow) (bool, error) {
	start := time.Now() // real time: the duration of network I/O, for the log
	var r sendResult
	switch m.channel {
	case Email:
		r = d.sendEmail(ctx, m)
	case Webhook:
		r = d.sendWebhook(ctx, m, endpoints[m.endpointID])
	default:
		r.err = errors.New("unknown channel")
	}
	if r.err != nil && ctx.Err() != nil {
		// Shutting down: the failure is ours, not the receiver's, so the
		// message goes back to the queue without counting an attempt.
		return false, release(context.WithoutCancel(ctx), d.db, c, []int64{m.id}, d.clock.Now())
	}
	dur := time.Since(start)
	wctx := context.WithoutCancel(ctx)
	if r.skip != "" {
		_, err := d.record(wctx, c, m, outcomeRow{outcome: Skipped, err: r.skip})
		return false, err
	}
	return d.finish(wctx, c, m, r.err, r.code, dur)
}

// finish records a delivery (err == nil) or a failure, which is retried
// after the backoff or, at the last attempt or on a permanent refusal, dead.
func (d *Dispatcher) finish(ctx context.Context, c claim, m claimed, sendErr error, code int, dur time.Duration) (bool, error) {
	if sendErr == nil {
		return d.record(ctx, c, m, outcomeRow{outcome: Delivered, statusCode: code, duration: dur})
	}
	attempt := m.attempts + 1
	o := outcomeRow{outcome: Failed, statusCode: code, err: clip(sendErr.Error()), duration: dur,
		nextAt: d.clock.Now().Add(d.cfg.Backoff(attempt))}
	var se *smtpError
	if attempt >= d.cfg.MaxAttempts || (errors.As(sendErr, &se) && se.permanent()) {
		o.outcome = Dead
		d.log.Warn("outbox message dead", "id", m.id, "channel", m.channel, "event", m.event, "attempts", attempt,
			"err", o.err)
	}
	_, err := d.record(ctx, c, m, o)
	return false, err
}

// record writes an outcome and reports whether it counted: whether the
// claim was still ours.
func (d *Dispatcher) record(ctx context.Context, c claim, m claimed, o outcomeRow) (bool, error) {
	var held bool
	err := d.db.Tx(ctx, func(tx *sql.Tx) (err error) {
		held, err = recordOutcome(ctx, tx, c, m, o, d.clock.Now())
		return err
	})
	if err == nil && !held {
		// Our lease ran out and another node took the message over; its
		// outcome stands, this attempt is only logged.
		d.log.Warn("outbox claim lost before recording", "id", m.id, "outcome", o.outcome)
	}
	return held, err
}

// sendResult is what one send attempt came to.
type sendResult struct {
	code int    // HTTP status of a webhook, SMTP reply code of a refused mail
	err  error  // nil: delivered
	skip string // set: nothing to deliver to, for this reason
}

func (d *Dispatcher) sendEmail(ctx context.Context, m claimed) sendResult {
	if d.cfg.SMTP.Addr == "" {
		d.noSMTPOnce.Do(func() {
			d.log.Warn("email is not configured (no SMTP server): email messages are skipped")
		})
		return sendResult{skip: "SMTP not configured"}
	}
	if d.smtpFromErr != nil {
		return sendResult{err: errors.New("bad SMTP sender address")}
	}
	to, err := parseAddress(m.recipient)
	if err != nil {
		return sendResult{err: errors.New("bad recipient address")}
	}
	data := buildEmail(d.smtpFrom, to, m.subject, m.body, d.clock.Now(), messageID(m, d.smtpFrom))
	err = sendMail(ctx, d.cfg.SMTP, mailMessage{from: d.smtpFrom, to: to, data: data})
	var se *smtpError
	if errors.As(err, &se) {
		return sendResult{code: se.code, err: err}
	}
	return sendResult{err: err}
}

func (d *Dispatcher) sendWebhook(ctx context.Context, m claimed, ep endpointRow) sendResult {
	if ep.id == 0 {
		return sendResult{skip: "endpoint not found"}
	}
	if !ep.active {
		return sendResult{skip: "endpoint disabled"}
	}
	now := d.clock.Now()
	secret, err := openSecret(d.cfg.Keys, ep.secret)
	if err != nil {
		return sendResult{err: err}
	}
	secrets := [][]byte{[]byte(secret)}
	if ep.previousSecret != "" && ep.previousUntil > db.Millis(now) {
		prev, err := openSecret(d.cfg.Keys, ep.previousSecret)
		if err != nil {
			return sendResult{err: err}
		}
		secrets = append(secrets, []byte(prev))
	}
	code, err := postWebhook(ctx, d.cfg.HTTPClient, ep.url, m, now, secrets...)
	return sendResult{code: code, err: err}
}

// sealPurpose binds sealed endpoint secrets to their use. Current and
// previous secret share it, so a rotation moves a sealed value unopened.
const sealPurpose = "webhook_endpoint.secret"

// sealedPrefix starts every sealed value; plain secrets start with
// secretPrefix, so the two never meet.
const sealedPrefix = "s1."

// storeSecret seals a secret when a keyring is available.
func storeSecret(keys *seal.Keyring, secret string) (string, error) {
	if keys == nil {
		return secret, nil
	}
	return keys.Seal(sealPurpose, secret)
}

// openSecret returns the plain secret of a stored one.
func openSecret(keys *seal.Keyring, stored string) (string, error) {
	if !strings.HasPrefix(stored, sealedPrefix) {
		return stored, nil
	}
	if keys == nil {
		return "", errors.New("endpoint secret is sealed and no master key is configured")
	}
	s, err := keys.Unseal(sealPurpose, stored)
	if err != nil {
		return "", errors.New("cannot open endpoint secret")
	}
	return s, nil
}

// clip shortens an error for the log, on a character boundary.
func clip(s string) string {
	const limit = 300
	if len(s) <= limit {
		return s
	}
	for i := limit; i > 0; i-- {
		if utf8.RuneStart(s[i]) {
			return s[:i] + "…"
		}
	}
	return ""
}
