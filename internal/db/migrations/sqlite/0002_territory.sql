-- Territory: the district → street → community → grid tree with boundaries and
-- history, the version counter every node polls, buildings, grid staff, and the
-- extra scopes of accounts (a grid worker acts in the grids assigned to them).

CREATE TABLE territory_nodes (
    id          INTEGER PRIMARY KEY,
    code        TEXT    NOT NULL,
    path        TEXT    NOT NULL,
    parent_code TEXT    NOT NULL,
    level       BIGINT  NOT NULL,
    name_zh     TEXT    NOT NULL,
    name_en     TEXT    NOT NULL,
    boundary    TEXT    NOT NULL,
    min_lng     REAL    NOT NULL,
    min_lat     REAL    NOT NULL,
    max_lng     REAL    NOT NULL,
    max_lat     REAL    NOT NULL,
    population  BIGINT  NOT NULL DEFAULT 0,
    households  BIGINT  NOT NULL DEFAULT 0,
    valid_from  BIGINT  NOT NULL,
    valid_to    BIGINT
);
-- One current version per code; closed versions stay for history.
CREATE UNIQUE INDEX territory_nodes_current ON territory_nodes (code) WHERE valid_to IS NULL;
CREATE INDEX territory_nodes_parent ON territory_nodes (parent_code, code) WHERE valid_to IS NULL;
CREATE INDEX territory_nodes_path ON territory_nodes (path) WHERE valid_to IS NULL;
CREATE INDEX territory_nodes_history ON territory_nodes (code, valid_from);

-- Bumped in every transaction that changes the territory; each node rebuilds
-- its locator index when it sees a new value.
CREATE TABLE territory_version (
    id         BIGINT PRIMARY KEY CHECK (id = 1),
    version    BIGINT NOT NULL,
    changed_at BIGINT NOT NULL
);
INSERT INTO territory_version (id, version, changed_at) VALUES (1, 0, 0);

CREATE TABLE buildings (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL,
    address      TEXT    NOT NULL,
    address_key  TEXT    NOT NULL,
    lng          REAL    NOT NULL,
    lat          REAL    NOT NULL,
    units        BIGINT  NOT NULL DEFAULT 1,
    floors       BIGINT  NOT NULL DEFAULT 1,
    households   BIGINT  NOT NULL DEFAULT 0,
    grid_code    TEXT    NOT NULL,
    grid_path    TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL
);
CREATE INDEX buildings_grid_path ON buildings (grid_path, id);
CREATE UNIQUE INDEX buildings_address_unique ON buildings (address_key);
CREATE INDEX buildings_point ON buildings (lng, lat);

CREATE TABLE grid_staff (
    grid_code   TEXT   NOT NULL,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    duty        TEXT   NOT NULL,
    assigned_at BIGINT NOT NULL,
    PRIMARY KEY (grid_code, user_id)
);
CREATE INDEX grid_staff_user ON grid_staff (user_id);

CREATE TABLE user_scopes (
    user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scope_path TEXT   NOT NULL,
    PRIMARY KEY (user_id, scope_path)
);
