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
func (s *Service) Figures(ctx context.Context, actor auth.Actor, q FiguresQuery) (Figures, error) {
	const op = "cases.Figures"
	f := map[string]string{}
	if q.From.IsZero() || q.To.IsZero() || !q.From.Before(q.To) {
		f["to"] = "case.error.period"
	}
	b := &sqlBuilder{}
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
		b.where("assignee_kind = 'department' AND assignee = " + b.arg(q.Department))
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
		cond, args := auth.ScopeSQL("grid_path", scopes, 1)
		b.args = append(b.args, args...)
		b.where("(" + cond + ")")
	}
	if len(f) > 0 {
		return Figures{}, errs.Fields(op, f)
	}
	b.where("created_at >= " + b.arg(db.Millis(q.From)) + " AND created_at < " + b.arg(db.Millis(q.To)))
	var out Figures
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*),
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
		COALESCE(SUM(CASE WHEN rating = 3 THEN 1 ELSE 0 END), 0)
		FROM cases WHERE `+b.conds(), b.args...).Scan(&out.Reported, &out.Registered, &out.Cancelled, &out.Dispatched,
		&out.Redispatched, &out.Handled, &out.HandledOnTime, &out.ToClose, &out.Closed, &out.ClosedOnTime, &out.Reworked,
		&out.Extended, &out.Suspended, &out.Overdue, &out.Rated, &out.Satisfied, &out.Basically, &out.Unsatisfied)
	if err != nil {
		return Figures{}, errs.Wrap(op, err)
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
