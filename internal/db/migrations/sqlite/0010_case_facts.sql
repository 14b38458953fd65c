-- Case facts by grid and day: the counts cases.Figures adds up, kept by
-- triggers in the transaction of every change to a case, so that a street's
-- figures over a year read a few thousand rows instead of every case
-- (BENCHMARKS.md, "Cases"). A day is a day in China Standard Time: day
-- number (created_at + 8 h) / 24 h in Unix milliseconds. Each column
-- counts the cases reported in that grid on that day that have the fact
-- now; cases.Figures documents the facts.

CREATE TABLE case_facts (
    grid_path        TEXT NOT NULL,
    day              BIGINT NOT NULL,
    reported         BIGINT NOT NULL DEFAULT 0,
    registered       BIGINT NOT NULL DEFAULT 0,
    cancelled        BIGINT NOT NULL DEFAULT 0,
    dispatched       BIGINT NOT NULL DEFAULT 0,
    redispatched     BIGINT NOT NULL DEFAULT 0,
    handled          BIGINT NOT NULL DEFAULT 0,
    handled_on_time  BIGINT NOT NULL DEFAULT 0,
    handle_timed     BIGINT NOT NULL DEFAULT 0,
    closed           BIGINT NOT NULL DEFAULT 0,
    closed_on_time   BIGINT NOT NULL DEFAULT 0,
    reworked         BIGINT NOT NULL DEFAULT 0,
    extended         BIGINT NOT NULL DEFAULT 0,
    suspended        BIGINT NOT NULL DEFAULT 0,
    overdue_pending  BIGINT NOT NULL DEFAULT 0,
    rated            BIGINT NOT NULL DEFAULT 0,
    satisfied        BIGINT NOT NULL DEFAULT 0,
    basically        BIGINT NOT NULL DEFAULT 0,
    unsatisfied      BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (grid_path, day)
);

-- Cases stored before this migration.
INSERT INTO case_facts (grid_path, day, reported, registered, cancelled, dispatched, redispatched, handled, handled_on_time, handle_timed, closed, closed_on_time, reworked, extended, suspended, overdue_pending, rated, satisfied, basically, unsatisfied)
SELECT c.grid_path, (c.created_at + 28800000) / 86400000,
       COUNT(*),
       SUM(c.registered_at IS NOT NULL),
       SUM(c.state = 'cancelled' AND c.registered_at IS NOT NULL),
       SUM(c.dispatched_at IS NOT NULL),
       SUM(c.redispatches > 0),
       SUM(c.handled_at IS NOT NULL),
       SUM(c.handled_on_time IS TRUE),
       SUM(c.handled_on_time IS NOT NULL),
       SUM(c.closed_at IS NOT NULL),
       SUM(c.closed_on_time IS TRUE),
       SUM(c.reworks > 0),
       SUM(c.extensions > 0),
       SUM(c.suspensions > 0),
       SUM(c.overdue IS TRUE AND c.handled_at IS NULL AND c.state NOT IN ('rejected', 'cancelled', 'closed')),
       SUM(c.rating > 0),
       SUM(c.rating = 1),
       SUM(c.rating = 2),
       SUM(c.rating = 3)
FROM cases c
GROUP BY c.grid_path, (c.created_at + 28800000) / 86400000;

CREATE TRIGGER case_facts_insert AFTER INSERT ON cases BEGIN
    INSERT INTO case_facts (grid_path, day, reported, registered, cancelled, dispatched, redispatched, handled, handled_on_time, handle_timed, closed, closed_on_time, reworked, extended, suspended, overdue_pending, rated, satisfied, basically, unsatisfied)
    VALUES (NEW.grid_path, (NEW.created_at + 28800000) / 86400000,
        1,
        (NEW.registered_at IS NOT NULL),
        (NEW.state = 'cancelled' AND NEW.registered_at IS NOT NULL),
        (NEW.dispatched_at IS NOT NULL),
        (NEW.redispatches > 0),
        (NEW.handled_at IS NOT NULL),
        (NEW.handled_on_time IS TRUE),
        (NEW.handled_on_time IS NOT NULL),
        (NEW.closed_at IS NOT NULL),
        (NEW.closed_on_time IS TRUE),
        (NEW.reworks > 0),
        (NEW.extensions > 0),
        (NEW.suspensions > 0),
        (NEW.overdue IS TRUE AND NEW.handled_at IS NULL AND NEW.state NOT IN ('rejected', 'cancelled', 'closed')),
        (NEW.rating > 0),
        (NEW.rating = 1),
        (NEW.rating = 2),
        (NEW.rating = 3))
    ON CONFLICT (grid_path, day) DO UPDATE SET
        reported = reported + excluded.reported,
        registered = registered + excluded.registered,
        cancelled = cancelled + excluded.cancelled,
        dispatched = dispatched + excluded.dispatched,
        redispatched = redispatched + excluded.redispatched,
        handled = handled + excluded.handled,
        handled_on_time = handled_on_time + excluded.handled_on_time,
        handle_timed = handle_timed + excluded.handle_timed,
        closed = closed + excluded.closed,
        closed_on_time = closed_on_time + excluded.closed_on_time,
        reworked = reworked + excluded.reworked,
        extended = extended + excluded.extended,
        suspended = suspended + excluded.suspended,
        overdue_pending = overdue_pending + excluded.overdue_pending,
        rated = rated + excluded.rated,
        satisfied = satisfied + excluded.satisfied,
        basically = basically + excluded.basically,
        unsatisfied = unsatisfied + excluded.unsatisfied;
END;

-- A change of facts in the same bucket: one update by the difference.
CREATE TRIGGER case_facts_update AFTER UPDATE ON cases
WHEN OLD.grid_path IS NEW.grid_path AND OLD.created_at IS NEW.created_at AND (
    OLD.state IS NOT NEW.state OR
    OLD.registered_at IS NOT NEW.registered_at OR
    OLD.dispatched_at IS NOT NEW.dispatched_at OR
    OLD.redispatches IS NOT NEW.redispatches OR
    OLD.handled_at IS NOT NEW.handled_at OR
    OLD.handled_on_time IS NOT NEW.handled_on_time OR
    OLD.closed_at IS NOT NEW.closed_at OR
    OLD.closed_on_time IS NOT NEW.closed_on_time OR
    OLD.reworks IS NOT NEW.reworks OR
    OLD.extensions IS NOT NEW.extensions OR
    OLD.suspensions IS NOT NEW.suspensions OR
    OLD.overdue IS NOT NEW.overdue OR
    OLD.rating IS NOT NEW.rating)
BEGIN
    UPDATE case_facts SET
        registered = registered + (NEW.registered_at IS NOT NULL) - (OLD.registered_at IS NOT NULL),
        cancelled = cancelled + (NEW.state = 'cancelled' AND NEW.registered_at IS NOT NULL) - (OLD.state = 'cancelled' AND OLD.registered_at IS NOT NULL),
        dispatched = dispatched + (NEW.dispatched_at IS NOT NULL) - (OLD.dispatched_at IS NOT NULL),
        redispatched = redispatched + (NEW.redispatches > 0) - (OLD.redispatches > 0),
        handled = handled + (NEW.handled_at IS NOT NULL) - (OLD.handled_at IS NOT NULL),
        handled_on_time = handled_on_time + (NEW.handled_on_time IS TRUE) - (OLD.handled_on_time IS TRUE),
        handle_timed = handle_timed + (NEW.handled_on_time IS NOT NULL) - (OLD.handled_on_time IS NOT NULL),
        closed = closed + (NEW.closed_at IS NOT NULL) - (OLD.closed_at IS NOT NULL),
        closed_on_time = closed_on_time + (NEW.closed_on_time IS TRUE) - (OLD.closed_on_time IS TRUE),
        reworked = reworked + (NEW.reworks > 0) - (OLD.reworks > 0),
        extended = extended + (NEW.extensions > 0) - (OLD.extensions > 0),
        suspended = suspended + (NEW.suspensions > 0) - (OLD.suspensions > 0),
        overdue_pending = overdue_pending + (NEW.overdue IS TRUE AND NEW.handled_at IS NULL AND NEW.state NOT IN ('rejected', 'cancelled', 'closed')) - (OLD.overdue IS TRUE AND OLD.handled_at IS NULL AND OLD.state NOT IN ('rejected', 'cancelled', 'closed')),
        rated = rated + (NEW.rating > 0) - (OLD.rating > 0),
        satisfied = satisfied + (NEW.rating = 1) - (OLD.rating = 1),
        basically = basically + (NEW.rating = 2) - (OLD.rating = 2),
        unsatisfied = unsatisfied + (NEW.rating = 3) - (OLD.rating = 3)
    WHERE grid_path = NEW.grid_path AND day = (NEW.created_at + 28800000) / 86400000;
END;

-- A case moved to another grid or day (not done by GridHall, but kept
-- right): out of the old bucket, into the new one.
CREATE TRIGGER case_facts_move AFTER UPDATE ON cases
WHEN OLD.grid_path IS NOT NEW.grid_path OR OLD.created_at IS NOT NEW.created_at
BEGIN
    UPDATE case_facts SET
        reported = reported - 1,
        registered = registered - (OLD.registered_at IS NOT NULL),
        cancelled = cancelled - (OLD.state = 'cancelled' AND OLD.registered_at IS NOT NULL),
        dispatched = dispatched - (OLD.dispatched_at IS NOT NULL),
        redispatched = redispatched - (OLD.redispatches > 0),
        handled = handled - (OLD.handled_at IS NOT NULL),
        handled_on_time = handled_on_time - (OLD.handled_on_time IS TRUE),
        handle_timed = handle_timed - (OLD.handled_on_time IS NOT NULL),
        closed = closed - (OLD.closed_at IS NOT NULL),
        closed_on_time = closed_on_time - (OLD.closed_on_time IS TRUE),
        reworked = reworked - (OLD.reworks > 0),
        extended = extended - (OLD.extensions > 0),
        suspended = suspended - (OLD.suspensions > 0),
        overdue_pending = overdue_pending - (OLD.overdue IS TRUE AND OLD.handled_at IS NULL AND OLD.state NOT IN ('rejected', 'cancelled', 'closed')),
        rated = rated - (OLD.rating > 0),
        satisfied = satisfied - (OLD.rating = 1),
        basically = basically - (OLD.rating = 2),
        unsatisfied = unsatisfied - (OLD.rating = 3)
    WHERE grid_path = OLD.grid_path AND day = (OLD.created_at + 28800000) / 86400000;
    INSERT INTO case_facts (grid_path, day, reported, registered, cancelled, dispatched, redispatched, handled, handled_on_time, handle_timed, closed, closed_on_time, reworked, extended, suspended, overdue_pending, rated, satisfied, basically, unsatisfied)
    VALUES (NEW.grid_path, (NEW.created_at + 28800000) / 86400000,
        1,
        (NEW.registered_at IS NOT NULL),
        (NEW.state = 'cancelled' AND NEW.registered_at IS NOT NULL),
        (NEW.dispatched_at IS NOT NULL),
        (NEW.redispatches > 0),
        (NEW.handled_at IS NOT NULL),
        (NEW.handled_on_time IS TRUE),
        (NEW.handled_on_time IS NOT NULL),
        (NEW.closed_at IS NOT NULL),
        (NEW.closed_on_time IS TRUE),
        (NEW.reworks > 0),
        (NEW.extensions > 0),
        (NEW.suspensions > 0),
        (NEW.overdue IS TRUE AND NEW.handled_at IS NULL AND NEW.state NOT IN ('rejected', 'cancelled', 'closed')),
        (NEW.rating > 0),
        (NEW.rating = 1),
        (NEW.rating = 2),
        (NEW.rating = 3))
    ON CONFLICT (grid_path, day) DO UPDATE SET
        reported = reported + excluded.reported,
        registered = registered + excluded.registered,
        cancelled = cancelled + excluded.cancelled,
        dispatched = dispatched + excluded.dispatched,
        redispatched = redispatched + excluded.redispatched,
        handled = handled + excluded.handled,
        handled_on_time = handled_on_time + excluded.handled_on_time,
        handle_timed = handle_timed + excluded.handle_timed,
        closed = closed + excluded.closed,
        closed_on_time = closed_on_time + excluded.closed_on_time,
        reworked = reworked + excluded.reworked,
        extended = extended + excluded.extended,
        suspended = suspended + excluded.suspended,
        overdue_pending = overdue_pending + excluded.overdue_pending,
        rated = rated + excluded.rated,
        satisfied = satisfied + excluded.satisfied,
        basically = basically + excluded.basically,
        unsatisfied = unsatisfied + excluded.unsatisfied;
END;

CREATE TRIGGER case_facts_delete AFTER DELETE ON cases BEGIN
    UPDATE case_facts SET
        reported = reported - 1,
        registered = registered - (OLD.registered_at IS NOT NULL),
        cancelled = cancelled - (OLD.state = 'cancelled' AND OLD.registered_at IS NOT NULL),
        dispatched = dispatched - (OLD.dispatched_at IS NOT NULL),
        redispatched = redispatched - (OLD.redispatches > 0),
        handled = handled - (OLD.handled_at IS NOT NULL),
        handled_on_time = handled_on_time - (OLD.handled_on_time IS TRUE),
        handle_timed = handle_timed - (OLD.handled_on_time IS NOT NULL),
        closed = closed - (OLD.closed_at IS NOT NULL),
        closed_on_time = closed_on_time - (OLD.closed_on_time IS TRUE),
        reworked = reworked - (OLD.reworks > 0),
        extended = extended - (OLD.extensions > 0),
        suspended = suspended - (OLD.suspensions > 0),
        overdue_pending = overdue_pending - (OLD.overdue IS TRUE AND OLD.handled_at IS NULL AND OLD.state NOT IN ('rejected', 'cancelled', 'closed')),
        rated = rated - (OLD.rating > 0),
        satisfied = satisfied - (OLD.rating = 1),
        basically = basically - (OLD.rating = 2),
        unsatisfied = unsatisfied - (OLD.rating = 3)
    WHERE grid_path = OLD.grid_path AND day = (OLD.created_at + 28800000) / 86400000;
END;

-- Running stages: the open cases (a final case's deadline is NULL), a few
-- per cent of a city's cases. Queues sorted by deadline read this index
-- within the actor's territory and, for the page's ids, nothing else; the
-- overdue queue filters on it too (cases.List).
CREATE INDEX cases_open ON cases (grid_path, state, overdue, stage_due_at, id) WHERE stage_due_at IS NOT NULL;
