-- Catalog: case categories (the national catalogue of components and
-- matters plus local community-governance matters) and the departments that
-- handle cases, with their members. A category's time limits and questions
-- are JSON text: they are read and written whole, never queried inside.
-- Every node keeps the categories in memory and reloads them when it sees a
-- new catalog_version.

CREATE TABLE categories (
    kind          TEXT    NOT NULL,
    code          TEXT    NOT NULL,
    group_code    TEXT    NOT NULL,
    group_name_zh TEXT    NOT NULL,
    group_name_en TEXT    NOT NULL DEFAULT '',
    name_zh       TEXT    NOT NULL,
    name_en       TEXT    NOT NULL DEFAULT '',
    department    TEXT    NOT NULL DEFAULT '',
    public        BOOLEAN NOT NULL DEFAULT FALSE,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    limits        TEXT    NOT NULL DEFAULT '{}',
    attributes    TEXT    NOT NULL DEFAULT '[]',
    keywords      TEXT    NOT NULL DEFAULT '',
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL,
    PRIMARY KEY (kind, code)
);

-- Bumped in every transaction that changes the categories.
CREATE TABLE catalog_version (
    id         BIGINT PRIMARY KEY CHECK (id = 1),
    version    BIGINT NOT NULL,
    changed_at BIGINT NOT NULL
);
INSERT INTO catalog_version (id, version, changed_at) VALUES (1, 0, 0);

CREATE TABLE departments (
    code       TEXT    PRIMARY KEY,
    name_zh    TEXT    NOT NULL,
    name_en    TEXT    NOT NULL DEFAULT '',
    scope_path TEXT    NOT NULL DEFAULT '',
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL
);

CREATE TABLE department_members (
    department_code TEXT   NOT NULL REFERENCES departments (code),
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_at        BIGINT NOT NULL,
    PRIMARY KEY (department_code, user_id)
);
-- "Which departments is this user in", asked on every request of a
-- department handler: the index holds both columns, so it is answered from
-- the index alone.
CREATE INDEX department_members_user ON department_members (user_id, department_code);
