-- The visits log (民情日志): a grid worker's or community worker's visit to
-- one or more households, with what they found there. A visit carries the
-- scope path of its first household's grid so that "visits inside my grids"
-- is an indexed range test, like every other scoped list. The care schedule
-- reads the last visit of each household through visit_households.
-- worker_id has no ON DELETE: accounts are disabled, never deleted, and a
-- log must not lose its entries with their author.

CREATE TABLE visits (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    worker_id   BIGINT  NOT NULL REFERENCES users (id),
    grid_path   TEXT    COLLATE "C" NOT NULL,
    started_at  BIGINT  NOT NULL,
    ended_at    BIGINT  NOT NULL,
    companions  TEXT    NOT NULL DEFAULT '',
    created_at  BIGINT  NOT NULL
);
CREATE INDEX visits_grid_path ON visits (grid_path, id);
CREATE INDEX visits_worker ON visits (worker_id, id);

CREATE TABLE visit_households (
    visit_id     BIGINT NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
    household_id BIGINT NOT NULL REFERENCES households (id),
    PRIMARY KEY (visit_id, household_id)
);
-- Serves both "visits of this household" and the care schedule's
-- last-visit-per-household grouping.
CREATE INDEX visit_households_household ON visit_households (household_id, visit_id);

CREATE TABLE visit_findings (
    id          BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    visit_id    BIGINT  NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
    kind        TEXT    NOT NULL,
    description TEXT    NOT NULL
);
CREATE INDEX visit_findings_visit ON visit_findings (visit_id, id);

-- Population statistics and the care schedule read current residents by
-- place. This partial index holds only current residents, with every column
-- those grouped queries read, so that they are index-only range scans rather
-- than one table row per resident: a community of ten thousand costs a few
-- milliseconds in a registry of millions. move_out and anonymised_at are
-- constant in it; they are listed because SQLite counts an index as covering
-- only when it holds every column the query names, its WHERE clause's too.
-- household_id comes second so that residents arrive grouped by household;
-- the id serves the join to resident_tags.
CREATE INDEX residents_current ON residents (grid_path, household_id, birth_date, gender, registration, id, move_out, anonymised_at)
    WHERE move_out = '' AND anonymised_at IS NULL;
