-- Cases: reports of problems and their workflow (DOMAIN.md §4).
-- Instants are Unix milliseconds. A case's place in the territory is its grid
-- path; queues are index range scans over it.

CREATE TABLE case_numbers (
    day  TEXT   PRIMARY KEY,
    last BIGINT NOT NULL
);

CREATE TABLE cases (
    id               BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number           TEXT    NOT NULL UNIQUE,
    category_kind    TEXT    NOT NULL,
    category_code    TEXT    NOT NULL,
    urgency          TEXT    NOT NULL,
    description      TEXT    NOT NULL,
    address          TEXT    NOT NULL DEFAULT '',
    lng              DOUBLE PRECISION,
    lat              DOUBLE PRECISION,
    grid_path        TEXT    COLLATE "C" NOT NULL DEFAULT '',
    territory_version BIGINT NOT NULL DEFAULT 0,
    channel          TEXT    NOT NULL,
    reporter_id      BIGINT,
    reporter_role    TEXT    NOT NULL DEFAULT '',
    reporter_contact TEXT    NOT NULL DEFAULT '',
    anonymous        BOOLEAN NOT NULL DEFAULT FALSE,
    answers          TEXT    NOT NULL DEFAULT '{}',
    state            TEXT    NOT NULL,
    level            TEXT    NOT NULL DEFAULT 'grid',
    assignee_kind    TEXT    NOT NULL DEFAULT '',
    assignee         TEXT    NOT NULL DEFAULT '',
    handler_id       BIGINT,
    stage            TEXT    NOT NULL DEFAULT '',
    stage_started_at BIGINT,
    stage_due_at     BIGINT,
    overdue          BOOLEAN NOT NULL DEFAULT FALSE,
    timer_at         BIGINT,
    timer_step       INTEGER NOT NULL DEFAULT 0,
    handle_due_at    BIGINT,
    suspended_from   TEXT    NOT NULL DEFAULT '',
    suspended_at     BIGINT,
    extension_pending TEXT   NOT NULL DEFAULT '',
    self_handled     BOOLEAN NOT NULL DEFAULT FALSE,
    duplicate_of     BIGINT,
    reworks          INTEGER NOT NULL DEFAULT 0,
    redispatches     INTEGER NOT NULL DEFAULT 0,
    extensions       INTEGER NOT NULL DEFAULT 0,
    suspensions      INTEGER NOT NULL DEFAULT 0,
    urgings          INTEGER NOT NULL DEFAULT 0,
    rating           INTEGER NOT NULL DEFAULT 0,
    rating_note      TEXT    NOT NULL DEFAULT '',
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL,
    verified_at      BIGINT,
    registered_at    BIGINT,
    dispatched_at    BIGINT,
    handled_at       BIGINT,
    handled_on_time  BOOLEAN,
    checked_at       BIGINT,
    closed_at        BIGINT,
    closed_on_time   BOOLEAN,
    rated_at         BIGINT,
    version          INTEGER NOT NULL DEFAULT 1
);
-- Work queues: cases in a state inside a territory range, by deadline.
CREATE INDEX cases_queue ON cases (state, grid_path, stage_due_at, id);
CREATE INDEX cases_state_due ON cases (state, stage_due_at, id);
-- A department's or worker's own queue.
CREATE INDEX cases_assignee ON cases (assignee_kind, assignee, state, stage_due_at, id);
-- The timer job: the next timer of every open case.
CREATE INDEX cases_timer ON cases (timer_at) WHERE timer_at IS NOT NULL;
-- Residents' own cases, and evaluation by territory and period.
CREATE INDEX cases_reporter ON cases (reporter_id, created_at);
CREATE INDEX cases_territory_created ON cases (grid_path, created_at);
-- Likely duplicates: same category, recent.
CREATE INDEX cases_category_created ON cases (category_kind, category_code, created_at);

CREATE TABLE case_events (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id     BIGINT  NOT NULL REFERENCES cases (id),
    at          BIGINT  NOT NULL,
    actor_id    BIGINT,
    actor_name  TEXT    NOT NULL,
    actor_role  TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    from_state  TEXT    NOT NULL,
    to_state    TEXT    NOT NULL,
    note        TEXT    NOT NULL DEFAULT '',
    detail      TEXT    NOT NULL DEFAULT '{}',
    public      BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE INDEX case_events_case ON case_events (case_id, id);
CREATE INDEX case_events_at ON case_events (at);

CREATE TABLE case_stages (
    case_id    BIGINT  NOT NULL REFERENCES cases (id),
    seq        INTEGER NOT NULL,
    stage      TEXT    NOT NULL,
    started_at BIGINT  NOT NULL,
    due_at     BIGINT,
    done_at    BIGINT,
    on_time    BOOLEAN,
    grid_path  TEXT    COLLATE "C" NOT NULL DEFAULT '',
    assignee   TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (case_id, seq)
);
CREATE INDEX case_stages_territory ON case_stages (stage, grid_path, done_at);

CREATE TABLE case_attachments (
    id           BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id      BIGINT  NOT NULL REFERENCES cases (id),
    event_id     BIGINT,
    content_type TEXT    NOT NULL,
    data         BYTEA    NOT NULL,
    thumb        BYTEA    NOT NULL,
    thumb_type   TEXT    NOT NULL,
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    sha256       TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL
);
CREATE INDEX case_attachments_case ON case_attachments (case_id, id);

CREATE TABLE case_followers (
    case_id BIGINT NOT NULL REFERENCES cases (id),
    user_id BIGINT NOT NULL,
    PRIMARY KEY (case_id, user_id)
);
CREATE INDEX case_followers_user ON case_followers (user_id, case_id);

CREATE TABLE case_assists (
    case_id    BIGINT NOT NULL REFERENCES cases (id),
    department TEXT   NOT NULL,
    PRIMARY KEY (case_id, department)
);
CREATE INDEX case_assists_department ON case_assists (department, case_id);
