-- Bulk exports of cases: one row per requested file. The worker that claims
-- a queued row holds it by a lease (lease_owner, lease_until), so a crashed
-- node's export is taken up again when the lease runs out. file is a name
-- inside the export directory, not a path: nodes may mount a shared
-- directory at different places.
CREATE TABLE exports (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     BIGINT  NOT NULL,
    username    TEXT    NOT NULL,
    scope_path  TEXT    NOT NULL DEFAULT '',
    format      TEXT    NOT NULL,
    filter      TEXT    NOT NULL DEFAULT '{}',
    masked      BOOLEAN NOT NULL DEFAULT TRUE,
    lang        TEXT    NOT NULL DEFAULT 'zh-CN',
    state       TEXT    NOT NULL,
    row_count   BIGINT  NOT NULL DEFAULT 0,
    byte_size   BIGINT  NOT NULL DEFAULT 0,
    file        TEXT    NOT NULL DEFAULT '',
    sha256      TEXT    NOT NULL DEFAULT '',
    error       TEXT    NOT NULL DEFAULT '',
    attempts    INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT    NOT NULL DEFAULT '',
    lease_until BIGINT,
    downloads   INTEGER NOT NULL DEFAULT 0,
    created_at  BIGINT  NOT NULL,
    started_at  BIGINT,
    finished_at BIGINT,
    expires_at  BIGINT
);
-- A user's own exports, newest first.
CREATE INDEX exports_user ON exports (user_id, id);
-- The worker's claim: queued rows and running rows whose lease ran out.
CREATE INDEX exports_work ON exports (state, lease_until, id);
-- The purge of files past their expiry.
CREATE INDEX exports_expires ON exports (expires_at) WHERE expires_at IS NOT NULL;
