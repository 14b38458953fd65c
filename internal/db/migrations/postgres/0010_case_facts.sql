-- Case facts by grid and day: the counts cases.Figures adds up, kept by
-- triggers in the transaction of every change to a case, so that a street's
-- figures over a year read a few thousand rows instead of every case
-- (BENCHMARKS.md, "Cases"). A day is a day in China Standard Time: day
-- number (created_at + 8 h) / 24 h in Unix milliseconds. Each column
-- counts the cases reported in that grid on that day that have the fact
-- now; cases.Figures documents the facts.

CREATE TABLE case_facts (
    grid_path        TEXT COLLATE "C" NOT NULL,
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
       SUM((c.registered_at IS NOT NULL)::int),
       SUM((c.state = 'cancelled' AND c.registered_at IS NOT NULL)::int),
       SUM((c.dispatched_at IS NOT NULL)::int),
       SUM((c.redispatches > 0)::int),
       SUM((c.handled_at IS NOT NULL)::int),
       SUM((c.handled_on_time IS TRUE)::int),
       SUM((c.handled_on_time IS NOT NULL)::int),
       SUM((c.closed_at IS NOT NULL)::int),
       SUM((c.closed_on_time IS TRUE)::int),
       SUM((c.reworks > 0)::int),
       SUM((c.extensions > 0)::int),
       SUM((c.suspensions > 0)::int),
       SUM((c.overdue IS TRUE AND c.handled_at IS NULL AND c.state NOT IN ('rejected', 'cancelled', 'closed'))::int),
       SUM((c.rating > 0)::int),
       SUM((c.rating = 1)::int),
       SUM((c.rating = 2)::int),
       SUM((c.rating = 3)::int)
FROM cases c
GROUP BY c.grid_path, (c.created_at + 28800000) / 86400000;

CREATE FUNCTION case_facts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE case_facts SET
            reported = reported - 1,
            registered = registered - (OLD.registered_at IS NOT NULL)::int,
            cancelled = cancelled - (OLD.state = 'cancelled' AND OLD.registered_at IS NOT NULL)::int,
            dispatched = dispatched - (OLD.dispatched_at IS NOT NULL)::int,
            redispatched = redispatched - (OLD.redispatches > 0)::int,
            handled = handled - (OLD.handled_at IS NOT NULL)::int,
            handled_on_time = handled_on_time - (OLD.handled_on_time IS TRUE)::int,
            handle_timed = handle_timed - (OLD.handled_on_time IS NOT NULL)::int,
            closed = closed - (OLD.closed_at IS NOT NULL)::int,
            closed_on_time = closed_on_time - (OLD.closed_on_time IS TRUE)::int,
            reworked = reworked - (OLD.reworks > 0)::int,
            extended = extended - (OLD.extensions > 0)::int,
            suspended = suspended - (OLD.suspensions > 0)::int,
            overdue_pending = overdue_pending - (OLD.overdue IS TRUE AND OLD.handled_at IS NULL AND OLD.state NOT IN ('rejected', 'cancelled', 'closed'))::int,
            rated = rated - (OLD.rating > 0)::int,
            satisfied = satisfied - (OLD.rating = 1)::int,
            basically = basically - (OLD.rating = 2)::int,
            unsatisfied = unsatisfied - (OLD.rating = 3)::int
        WHERE grid_path = OLD.grid_path AND day = (OLD.created_at + 28800000) / 86400000;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO case_facts (grid_path, day, reported, registered, cancelled, dispatched, redispatched, handled, handled_on_time, handle_timed, closed, closed_on_time, reworked, extended, suspended, overdue_pending, rated, satisfied, basically, unsatisfied)
        VALUES (NEW.grid_path, (NEW.created_at + 28800000) / 86400000,
            1,
            (NEW.registered_at IS NOT NULL)::int,
            (NEW.state = 'cancelled' AND NEW.registered_at IS NOT NULL)::int,
            (NEW.dispatched_at IS NOT NULL)::int,
            (NEW.redispatches > 0)::int,
            (NEW.handled_at IS NOT NULL)::int,
            (NEW.handled_on_time IS TRUE)::int,
            (NEW.handled_on_time IS NOT NULL)::int,
            (NEW.closed_at IS NOT NULL)::int,
            (NEW.closed_on_time IS TRUE)::int,
            (NEW.reworks > 0)::int,
            (NEW.extensions > 0)::int,
            (NEW.suspensions > 0)::int,
            (NEW.overdue IS TRUE AND NEW.handled_at IS NULL AND NEW.state NOT IN ('rejected', 'cancelled', 'closed'))::int,
            (NEW.rating > 0)::int,
            (NEW.rating = 1)::int,
            (NEW.rating = 2)::int,
            (NEW.rating = 3)::int)
        ON CONFLICT (grid_path, day) DO UPDATE SET
            reported = case_facts.reported + excluded.reported,
            registered = case_facts.registered + excluded.registered,
            cancelled = case_facts.cancelled + excluded.cancelled,
            dispatched = case_facts.dispatched + excluded.dispatched,
            redispatched = case_facts.redispatched + excluded.redispatched,
            handled = case_facts.handled + excluded.handled,
            handled_on_time = case_facts.handled_on_time + excluded.handled_on_time,
            handle_timed = case_facts.handle_timed + excluded.handle_timed,
            closed = case_facts.closed + excluded.closed,
            closed_on_time = case_facts.closed_on_time + excluded.closed_on_time,
            reworked = case_facts.reworked + excluded.reworked,
            extended = case_facts.extended + excluded.extended,
            suspended = case_facts.suspended + excluded.suspended,
            overdue_pending = case_facts.overdue_pending + excluded.overdue_pending,
            rated = case_facts.rated + excluded.rated,
            satisfied = case_facts.satisfied + excluded.satisfied,
            basically = case_facts.basically + excluded.basically,
            unsatisfied = case_facts.unsatisfied + excluded.unsatisfied;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER case_facts_insert_delete AFTER INSERT OR DELETE ON cases
FOR EACH ROW EXECUTE FUNCTION case_facts_apply();

-- Only changes of what is counted touch the facts.
CREATE TRIGGER case_facts_update AFTER UPDATE ON cases
FOR EACH ROW WHEN ((OLD.grid_path, OLD.created_at, OLD.state, OLD.registered_at, OLD.dispatched_at, OLD.redispatches, OLD.handled_at, OLD.handled_on_time, OLD.closed_at, OLD.closed_on_time, OLD.reworks, OLD.extensions, OLD.suspensions, OLD.overdue, OLD.rating)
    IS DISTINCT FROM (NEW.grid_path, NEW.created_at, NEW.state, NEW.registered_at, NEW.dispatched_at, NEW.redispatches, NEW.handled_at, NEW.handled_on_time, NEW.closed_at, NEW.closed_on_time, NEW.reworks, NEW.extensions, NEW.suspensions, NEW.overdue, NEW.rating))
EXECUTE FUNCTION case_facts_apply();

-- Running stages: the open cases (a final case's deadline is NULL), a few
-- per cent of a city's cases. Queues sorted by deadline read this index
-- within the actor's territory and, for the page's ids, nothing else; the
-- overdue queue filters on it too (cases.List).
CREATE INDEX cases_open ON cases (grid_path, state, overdue, stage_due_at, id) WHERE stage_due_at IS NOT NULL;
