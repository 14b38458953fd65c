-- The working calendar (工作日历) on which case time limits are computed. A
-- calendar belongs to a district (its 6-digit code) or, with district '', to
-- the whole installation: a district without settings of its own uses the
-- installation's, and a district that has not imported a year uses the
-- installation's exceptions of that year.
--
-- calendar_settings holds the weekly pattern and the working periods of a
-- day as JSON: they are read and written whole, never queried inside.
CREATE TABLE calendar_settings (
    district   TEXT   COLLATE "C" PRIMARY KEY,
    settings   TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);

-- One row per district and year that has been imported, even with no
-- exceptions: an imported year replaces the installation's for that year.
CREATE TABLE calendar_years (
    district   TEXT   COLLATE "C" NOT NULL,
    year       BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (district, year)
);

-- Dated exceptions: a public holiday on a weekday ('holiday') or a weekend
-- day made a working day (调休, 'workday'). day is 'YYYY-MM-DD', so a year
-- is a range of the primary key; COLLATE "C" makes that range a byte
-- comparison whatever the database's locale.
CREATE TABLE calendar_days (
    district TEXT COLLATE "C" NOT NULL,
    day      TEXT COLLATE "C" NOT NULL,
    kind     TEXT NOT NULL,
    name     TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (district, day)
);

-- Bumped by every change to any calendar. Each node caches calendars and
-- re-reads this one row every few seconds to notice changes made by other
-- nodes; writers lock it first, so calendar writes queue up.
CREATE TABLE calendar_version (
    id      BIGINT PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO calendar_version (id, version) VALUES (1, 0);
