-- People and housing: houses in buildings, households, residents with their
-- sensitive fields sealed (see internal/seal) and found through blind
-- indexes, and an editable dictionary of tags. Every row carries the scope
-- path of its grid so that "inside my grids" is an indexed prefix test.

CREATE TABLE houses (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    building_id BIGINT  NOT NULL REFERENCES buildings (id),
    unit        TEXT    NOT NULL,
    number      TEXT    NOT NULL,
    floor       BIGINT  NOT NULL,
    use         TEXT    NOT NULL,
    grid_path   TEXT    COLLATE "C" NOT NULL,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);
CREATE UNIQUE INDEX houses_address ON houses (building_id, unit, number);
CREATE INDEX houses_grid_path ON houses (grid_path, id);

CREATE TABLE households (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    house_id    BIGINT  NOT NULL REFERENCES houses (id),
    head_id     BIGINT,
    grid_path   TEXT    COLLATE "C" NOT NULL,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);
CREATE INDEX households_house ON households (house_id);
CREATE INDEX households_grid_path ON households (grid_path, id);

CREATE TABLE residents (
    id              BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    household_id    BIGINT  REFERENCES households (id),
    relation        TEXT    NOT NULL,
    name            TEXT    COLLATE "C" NOT NULL,
    gender          TEXT    NOT NULL,
    birth_date      TEXT    NOT NULL,
    document_kind   TEXT    NOT NULL,
    document_sealed TEXT    NOT NULL,
    document_index  TEXT    NOT NULL,
    phone_sealed    TEXT    NOT NULL,
    phone_index     TEXT    NOT NULL,
    registration    TEXT    NOT NULL,
    move_in         TEXT    NOT NULL,
    move_out        TEXT    NOT NULL DEFAULT '',
    grid_path       TEXT    COLLATE "C" NOT NULL,
    user_id         BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    verification    TEXT    NOT NULL DEFAULT 'none',
    anonymised_at   BIGINT,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);
CREATE INDEX residents_grid_path ON residents (grid_path, id);
CREATE INDEX residents_name ON residents (name, id);
CREATE INDEX residents_household ON residents (household_id);
CREATE INDEX residents_phone_index ON residents (phone_index);
CREATE INDEX residents_user ON residents (user_id);
CREATE INDEX residents_birth ON residents (grid_path, birth_date);
-- The retention job's candidates: moved out, not yet anonymised.
CREATE INDEX residents_moved_out ON residents (move_out) WHERE anonymised_at IS NULL AND move_out <> '';
-- One live record per identity document.
CREATE UNIQUE INDEX residents_document ON residents (document_index) WHERE anonymised_at IS NULL;

CREATE TABLE tags (
    code          TEXT    PRIMARY KEY,
    name_zh       TEXT    NOT NULL,
    name_en       TEXT    NOT NULL,
    restricted    BOOLEAN NOT NULL DEFAULT FALSE,
    visit_days    BIGINT  NOT NULL DEFAULT 0,
    created_at    BIGINT  NOT NULL
);

CREATE TABLE resident_tags (
    resident_id BIGINT NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
    tag_code    TEXT   NOT NULL REFERENCES tags (code),
    PRIMARY KEY (resident_id, tag_code)
);
CREATE INDEX resident_tags_tag ON resident_tags (tag_code, resident_id);

-- The starting dictionary; administrators edit it. Restricted tags are the
-- GB/T 31000 special populations, visible only to roles that may reveal
-- personal data. visit_days > 0 puts the person on their grid worker's care
-- schedule at that interval.
INSERT INTO tags (code, name_zh, name_en, restricted, visit_days, created_at) VALUES
    ('disabled',             '残疾人',           'Person with disability',            FALSE, 30, 0),
    ('low_income',           '低保对象',         'Minimum living allowance',          FALSE, 30, 0),
    ('veteran',              '退役军人',         'Veteran',                           FALSE,  0, 0),
    ('empty_nest',           '空巢老人',         'Empty-nest elderly',                FALSE,  7, 0),
    ('key_youth',            '重点青少年',       'Key youth',                         TRUE,  30, 0),
    ('community_correction', '社区矫正对象',     'Under community correction',        TRUE,   7, 0),
    ('released_prisoner',    '刑满释放人员',     'Released from prison',              TRUE,  30, 0),
    ('drug_rehabilitation',  '社区戒毒康复人员', 'In community drug rehabilitation',  TRUE,   7, 0),
    ('mental_disorder',      '严重精神障碍患者', 'Severe mental disorder',            TRUE,   7, 0);
