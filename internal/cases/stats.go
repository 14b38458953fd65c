package cases

import (
	"context"
	"strings"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/errs"
)

// FiguresQuery picks what to count: the cases of a territory node (any
// level) or of a department, reported in [From, To).
type FiguresQuery struct {
	Territory  string    `json:"territory"` // a territory code; "" is the actor's whole scope
	Department string    `json:"department"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
}

// Figures are the case facts of DOMAIN.md §5 for a territory or a
// department over a period: exact counts, and the rates derived from them.
type Figures struct {
	Reported      int `json:"reported"`
	Registered    int `json:"registered"`
	Cancelled     int `json:"cancelled"`
	Dispatched    int `json:"dispatched"` // to handle
	Redispatched  int `json:"redispatched"`
	Handled       int `json:"handled"`
	HandledOnTime int `json:"handled_on_time"`
	ToClose       int `json:"to_close"` // handled at least once: the cases that should close
	Closed        int `json:"closed"`
	ClosedOnTime  int `json:"closed_on_time"`
	Reworked      int `json:"reworked"`
	Extended      int `json:"extended"`
	Suspended     int `json:"suspended"`
	Overdue       int `json:"overdue_pending"` // overdue and not yet handled
	Rated         int `json:"rated"`
	Satisfied     int `json:"satisfied"`
	Basically     int `json:"basically_satisfied"`
	Unsatisfied   int `json:"unsatisfied"`

	Rates Rates `json:"rates"`
}

// Rates are the indicators of DOMAIN.md §5 as fractions (0–1); a rate with
// nothing to count is 0.
type Rates struct {
	ValidReport      float64 `json:"valid_report"`      // registered / reported
	AccurateRegister float64 `json:"accurate_register"` // (registered − cancelled) / registered
	AccurateDispatch float64 `json:"accurate_dispatch"` // (dispatched − re-dispatched) / dispatched
	Handling         float64 `json:"handling"`          // handled / to handle
	OnTimeHandling   float64 `json:"on_time_handling"`  // handled on time / to handle
	Closing          float64 `json:"closing"`           // closed / to close
	OnTimeClosing    float64 `json:"on_time_closing"`   // closed on time / to close
	Rework           float64 `json:"rework"`            // reworked / to close
	OverduePending   float64 `json:"overdue_pending"`   // overdue not handled / to handle
	Extension        float64 `json:"extension"`         // extended / to handle
	Satisfaction     float64 `json:"satisfaction"`      // (satisfied + basically) / rated
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Figures counts the case facts of a territory node or a department over a
// period, for someone who may read statistics there.
//
// A territory's figures add up the case_facts table, which triggers keep by
// grid and day in every transaction that changes a case, for the whole days
// (China Standard Time) of the period, and count the cases themselves only
// for the part-days at its ends: a street's year is a few thousand summary
// rows, not every case. A department's figures count its cases.
func (s *Service) Figures(ctx context.Context, actor auth.Actor, q FiguresQuery) (Figures, error) {
	const op = "cases.Figures"
	f := map[string]string{}
	if q.From.IsZero() || q.To.IsZero() || !q.From.Before(q.To) {
		f["to"] = "case.error.period"
	}
	var where func(b *sqlBuilder)
	switch {
	case q.Department != "":
		if _, err := s.cat.Department(ctx, strings.TrimSpace(q.Department)); err != nil {
			f["department"] = "case.error.target"
			break
		}
		w, err := s.Who(ctx, actor)
		if err != nil {
			return Figures{}, err
		}
		allowed := auth.Can(actor, auth.ReadStats, "") || auth.Can(actor, auth.SuperviseCases, "")
		for _, d := range w.Departments {
			allowed = allowed || d == q.Department
		}
		if !allowed {
			return Figures{}, errs.E(errs.Forbidden, op, "error.forbidden")
		}
		where = func(b *sqlBuilder) {
			b.where("assignee_kind = 'department' AND assignee = " + b.arg(q.Department))
		}
	default:
		scopes := []string{}
		if q.Territory != "" {
			path, err := auth.ScopeFromCode(strings.TrimSpace(q.Territory))
			if err != nil {
				f["territory"] = "case.error.grid"
				break
			}
			if !auth.Can(actor, auth.ReadStats, path) {
				return Figures{}, errs.E(errs.Forbidden, op, "error.forbidden")
			}
			scopes = []string{path}
		} else {
			for _, sc := range actor.EffectiveScopes() {
				if auth.Can(actor, auth.ReadStats, sc) {
					scopes = append(scopes, sc)
				}
			}
			if len(scopes) == 0 {
				return Figures{}, errs.E(errs.Forbidden, op, "error.forbidden")
			}
		}
		where = func(b *sqlBuilder) {
			cond, args := auth.ScopeSQL("grid_path", scopes, b.next())
			b.args = append(b.args, args...)
			b.where("(" + cond + ")")
		}
	}
	if len(f) > 0 {
		return Figures{}, errs.Fields(op, f)
	}
	var out Figures
	from, to := db.Millis(q.From), db.Millis(q.To)
	if q.Department != "" {
		b := &sqlBuilder{}
		where(b)
		b.where("created_at >= " + b.arg(from) + " AND created_at < " + b.arg(to))
		if err := scanFacts(s.db.QueryRowContext(ctx, `SELECT `+countedFacts+` FROM cases WHERE `+b.conds(), b.args...), &out); err != nil {
			return Figures{}, errs.Wrap(op, err)
		}
	} else {
		// Whole days from the summary; the cases only for the part-days,
		// looked up grid by grid (the grids that had cases on those days),
		// so that the index on (grid_path, created_at) seeks instead of
		// reading the territory's every case.
		first, last := dayCeil(from), dayFloor(to)
		spans := [][2]int64{{from, to}}
		if first < last {
			b := &sqlBuilder{}
			where(b)
			b.where("day >= " + b.arg(first) + " AND day < " + b.arg(last))
			if err := scanFacts(s.db.QueryRowContext(ctx, `SELECT `+summedFacts+` FROM case_facts WHERE `+b.conds(), b.args...), &out); err != nil {
				return Figures{}, errs.Wrap(op, err)
			}
			spans = [][2]int64{{from, dayStart(first)}, {dayStart(last), to}}
		}
		for _, sp := range spans {
			if sp[0] >= sp[1] {
				continue
			}
			b := &sqlBuilder{}
			where(b)
			grids := "SELECT grid_path FROM case_facts WHERE " + b.conds() +
				" AND day >= " + b.arg(dayFloor(sp[0])) + " AND day <= " + b.arg(dayFloor(sp[1]-1))
			var part Figures
			if err := scanFacts(s.db.QueryRowContext(ctx, `SELECT `+countedFacts+` FROM cases WHERE grid_path IN (`+grids+`)
				AND created_at >= `+b.arg(sp[0])+` AND created_at < `+b.arg(sp[1]), b.args...), &part); err != nil {
				return Figures{}, errs.Wrap(op, err)
			}
			out.add(part)
		}
	}
	// A case handled at least once is one that should close; self-handled
	// cases and reworked ones count once.
	out.ToClose = max(out.ToClose, out.Closed)
	out.Rates = Rates{
		ValidReport:      ratio(out.Registered, out.Reported),
		AccurateRegister: ratio(out.Registered-out.Cancelled, out.Registered),
		AccurateDispatch: ratio(out.Dispatched-out.Redispatched, out.Dispatched),
		Handling:         ratio(out.Handled, out.Dispatched),
		OnTimeHandling:   ratio(out.HandledOnTime, out.Dispatched),
		Closing:          ratio(out.Closed, out.ToClose),
		OnTimeClosing:    ratio(out.ClosedOnTime, out.ToClose),
		Rework:           ratio(out.Reworked, out.ToClose),
		OverduePending:   ratio(out.Overdue, out.Dispatched),
		Extension:        ratio(out.Extended, out.Dispatched),
		Satisfaction:     ratio(out.Satisfied+out.Basically, out.Rated),
	}
	return out, nil
}

// countedFacts counts the facts over cases; summedFacts adds up the same
// facts, in the same order, over case_facts, whose triggers (migration
// 0010) count exactly these expressions.
const (
	countedFacts = `COUNT(*),
		COUNT(registered_at),
		COALESCE(SUM(CASE WHEN state = 'cancelled' AND registered_at IS NOT NULL THEN 1 ELSE 0 END), 0),
		COUNT(dispatched_at),
		COALESCE(SUM(CASE WHEN redispatches > 0 THEN 1 ELSE 0 END), 0),
		COUNT(handled_at),
		COALESCE(SUM(CASE WHEN handled_on_time THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN handled_on_time IS NOT NULL THEN 1 ELSE 0 END), 0),
		COUNT(closed_at),
		COALESCE(SUM(CASE WHEN closed_on_time THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN reworks > 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN extensions > 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN suspensions > 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN overdue AND handled_at IS NULL AND state NOT IN ('rejected', 'cancelled', 'closed') THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN rating > 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN rating = 1 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN rating = 2 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN rating = 3 THEN 1 ELSE 0 END), 0)`
	summedFacts = `COALESCE(SUM(reported), 0), COALESCE(SUM(registered), 0), COALESCE(SUM(cancelled), 0),
		COALESCE(SUM(dispatched), 0), COALESCE(SUM(redispatched), 0), COALESCE(SUM(handled), 0),
		COALESCE(SUM(handled_on_time), 0), COALESCE(SUM(handle_timed), 0), COALESCE(SUM(closed), 0),
		COALESCE(SUM(closed_on_time), 0), COALESCE(SUM(reworked), 0), COALESCE(SUM(extended), 0),
		COALESCE(SUM(suspended), 0), COALESCE(SUM(overdue_pending), 0), COALESCE(SUM(rated), 0),
		COALESCE(SUM(satisfied), 0), COALESCE(SUM(basically), 0), COALESCE(SUM(unsatisfied), 0)`
)

// scanFacts reads a row of countedFacts or summedFacts; ToClose receives
// the cases whose handling was timed.
func scanFacts(r scanner, out *Figures) error {
	return r.Scan(&out.Reported, &out.Registered, &out.Cancelled, &out.Dispatched,
		&out.Redispatched, &out.Handled, &out.HandledOnTime, &out.ToClose, &out.Closed, &out.ClosedOnTime, &out.Reworked,
		&out.Extended, &out.Suspended, &out.Overdue, &out.Rated, &out.Satisfied, &out.Basically, &out.Unsatisfied)
}

func (f *Figures) add(o Figures) {
	f.Reported += o.Reported
	f.Registered += o.Registered
	f.Cancelled += o.Cancelled
	f.Dispatched += o.Dispatched
	f.Redispatched += o.Redispatched
	f.Handled += o.Handled
	f.HandledOnTime += o.HandledOnTime
	f.ToClose += o.ToClose
	f.Closed += o.Closed
	f.ClosedOnTime += o.ClosedOnTime
	f.Reworked += o.Reworked
	f.Extended += o.Extended
	f.Suspended += o.Suspended
	f.Overdue += o.Overdue
	f.Rated += o.Rated
	f.Satisfied += o.Satisfied
	f.Basically += o.Basically
	f.Unsatisfied += o.Unsatisfied
}

// Days of case_facts: days of China Standard Time, numbered from the Unix
// epoch, as migration 0010 computes them from Unix milliseconds.
const (
	dayMillis    = 24 * 3600 * 1000
	offsetMillis = 8 * 3600 * 1000
)

// dayFloor is the day that holds instant ms; dayCeil the first day that
// starts at or after it.
func dayFloor(ms int64) int64 { return floorDiv(ms+offsetMillis, dayMillis) }
func dayCeil(ms int64) int64  { return -floorDiv(-(ms + offsetMillis), dayMillis) }

// dayStart is the instant day d begins.
func dayStart(d int64) int64 { return d*dayMillis - offsetMillis }

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && (a < 0) != (b < 0) {
		q--
	}
	return q
}
