-- The outbox: events leaving the system (in-app messages, email, webhooks).
-- Services insert rows inside their own transaction, so a rolled-back use
-- case sends nothing; dispatchers on any node claim due rows with a lease and
-- deliver them after commit.

-- Webhook endpoints of an owner (for example a department code). secret is
-- either sealed by internal/seal ("s1." …) or, on an installation without a
-- master key, the plain secret. previous_secret keeps signing beside the new
-- one until previous_until after a rotation, so receivers can switch keys
-- without losing deliveries. Endpoints are disabled, never deleted, so that
-- their delivery log stays readable.
CREATE TABLE webhook_endpoints (
    id              INTEGER PRIMARY KEY,
    owner           TEXT    NOT NULL,
    url             TEXT    NOT NULL,
    events          TEXT    NOT NULL,
    secret          TEXT    NOT NULL,
    previous_secret TEXT    NOT NULL DEFAULT '',
    previous_until  BIGINT,
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      BIGINT  NOT NULL,
    disabled_at     BIGINT
);
CREATE INDEX webhook_endpoints_owner ON webhook_endpoints (owner, active);

-- One row per delivery: a webhook event fans out at enqueue time into one
-- row per subscribed endpoint. status: pending, delivered, dead (gave up
-- after the maximum attempts), skipped (nothing to deliver to: no SMTP, a
-- disabled endpoint). A claim sets claimed_by and lease_until and moves
-- next_at to the end of the lease, so rows in flight leave the due range of
-- outbox_due; lease_until also serves as the claim token a dispatcher must
-- still hold when it records the outcome. idem_key is the caller's
-- idempotency key (for webhook rows suffixed with the endpoint id); NULLs do
-- not collide.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    channel     TEXT    NOT NULL,
    event       TEXT    NOT NULL,
    user_id     BIGINT  REFERENCES users (id) ON DELETE CASCADE,
    recipient   TEXT    NOT NULL DEFAULT '',
    endpoint_id BIGINT  REFERENCES webhook_endpoints (id),
    subject     TEXT    NOT NULL DEFAULT '',
    body        TEXT    NOT NULL DEFAULT '',
    link        TEXT    NOT NULL DEFAULT '',
    payload     TEXT    NOT NULL DEFAULT '',
    idem_key    TEXT,
    status      TEXT    NOT NULL DEFAULT 'pending',
    attempts    BIGINT  NOT NULL DEFAULT 0,
    next_at     BIGINT  NOT NULL,
    claimed_by  TEXT,
    lease_until BIGINT,
    last_error  TEXT    NOT NULL DEFAULT '',
    created_at  BIGINT  NOT NULL,
    done_at     BIGINT
);
CREATE UNIQUE INDEX outbox_idem_key ON outbox (idem_key);
-- Claims read the due range of pending rows in order; retention reads
-- finished rows by age. Each index holds only the rows its query wants.
CREATE INDEX outbox_due ON outbox (next_at, id) WHERE status = 'pending';
CREATE INDEX outbox_done ON outbox (done_at) WHERE status <> 'pending';
CREATE INDEX outbox_user ON outbox (user_id);
CREATE INDEX outbox_endpoint ON outbox (endpoint_id, id);

-- The delivery log: every attempt on every channel. endpoint_id is copied
-- from the message so that an owner's "recent deliveries" is one index range.
CREATE TABLE outbox_attempts (
    id          INTEGER PRIMARY KEY,
    message_id  BIGINT  NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    endpoint_id BIGINT,
    attempt     BIGINT  NOT NULL,
    at          BIGINT  NOT NULL,
    outcome     TEXT    NOT NULL,
    status_code BIGINT  NOT NULL DEFAULT 0,
    error       TEXT    NOT NULL DEFAULT '',
    duration_ms BIGINT  NOT NULL DEFAULT 0,
    node        TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX outbox_attempts_message ON outbox_attempts (message_id, attempt);
CREATE INDEX outbox_attempts_endpoint ON outbox_attempts (endpoint_id, id);

-- The in-app inbox. A row is written in the same transaction that marks its
-- outbox row delivered, so each message arrives exactly once.
CREATE TABLE messages (
    id         INTEGER PRIMARY KEY,
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    event      TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    link       TEXT    NOT NULL DEFAULT '',
    created_at BIGINT  NOT NULL,
    read_at    BIGINT
);
CREATE INDEX messages_user ON messages (user_id, id);
CREATE INDEX messages_unread ON messages (user_id, id) WHERE read_at IS NULL;
