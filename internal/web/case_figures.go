package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/errs"
)

// figureRow is one line of the figures table.
type figureRow struct {
	Key   string // the indicator, for tests and styling
	Label string
	Value string
}

// figuresData is the case figures page.
type figuresData struct {
	Territory  string
	Department string
	From, To   string // dates, To included
	Places     []statsPlace
	Depts      []department
	AllArea    bool // the actor may count its whole area ("" territory)
	Found      bool
	Counts     []figureRow
	Rates      []figureRow
}

// figuresPage handles GET /cases/figures?territory=…|department=…&from=…&to=…:
// the case counts and rates of a territory node or a department over a
// period (this month in Beijing time unless chosen), as DOMAIN.md §5
// defines them.
func (w *Web) figuresPage(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.figuresPage"
	svc, err := w.caseService(op)
	if err != nil {
		return err
	}
	actor := auth.ActorFrom(r.Context())
	p := w.newPage(r, "work", "/cases/figures")
	if !p.CanSeeFigures() {
		return errs.E(errs.Forbidden, op, "error.forbidden")
	}
	q := r.URL.Query()
	d := figuresData{Territory: strings.TrimSpace(q.Get("territory")), Department: strings.TrimSpace(q.Get("department")),
		From: strings.TrimSpace(q.Get("from")), To: strings.TrimSpace(q.Get("to"))}
	if _, d.Places, err = w.casePlaces(r.Context(), actor, p.Lang, auth.ReadStats); err != nil {
		return err
	}
	d.AllArea = canSomewhere(actor, auth.ReadStats)
	all, err := w.departments(r.Context(), p.Lang)
	if err != nil {
		return err
	}
	// The service shows a department's figures to statistics readers of
	// the whole installation and to the department's own members.
	if auth.Can(actor, auth.ReadStats, "") || auth.Can(actor, auth.SuperviseCases, "") {
		d.Depts = all
	} else {
		who, err := svc.Who(r.Context(), actor)
		if err != nil {
			return err
		}
		for _, dep := range all {
			if slices.Contains(who.Departments, dep.Code) {
				d.Depts = append(d.Depts, dep)
			}
		}
		if d.Department == "" && len(d.Depts) > 0 {
			d.Department = d.Depts[0].Code
		}
	}
	now := w.clock.Now().In(beijing)
	monthStart := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, beijing)
	if d.From == "" {
		d.From = monthStart.Format(time.DateOnly)
	}
	if d.To == "" {
		d.To = monthStart.AddDate(0, 1, -1).Format(time.DateOnly)
	}
	bad := map[string]string{}
	from, err := time.ParseInLocation(time.DateOnly, d.From, beijing)
	if err != nil {
		bad["from"] = "cases.page.figures.date"
	}
	to, err := time.ParseInLocation(time.DateOnly, d.To, beijing)
	if err != nil {
		bad["to"] = "cases.page.figures.date"
	}
	status := http.StatusOK
	if len(bad) > 0 {
		p.Form, status = w.fieldErrors(r, nil, bad), http.StatusBadRequest
	} else {
		fq := cases.FiguresQuery{Department: d.Department, From: from, To: to.AddDate(0, 0, 1)}
		if d.Department == "" {
			fq.Territory = d.Territory
		}
		f, err := svc.Figures(r.Context(), actor, fq)
		if err != nil {
			fm, s, ok := w.formProblem(rw, r, err, nil)
			if !ok {
				return err
			}
			p.Form, status = fm, s
		} else {
			d.Found = true
			d.Counts, d.Rates = figureRows(p, f)
		}
	}
	p.Form.Values = map[string]string{"from": d.From, "to": d.To}
	p.Data = d
	return w.render(rw, status, "case_figures", p)
}

// figureRows names the counts and the rates (as percentages) of f.
func figureRows(p *page, f cases.Figures) (counts, rates []figureRow) {
	for _, c := range []struct {
		key string
		n   int
	}{
		{"reported", f.Reported}, {"registered", f.Registered}, {"cancelled", f.Cancelled}, {"dispatched", f.Dispatched},
		{"redispatched", f.Redispatched}, {"handled", f.Handled}, {"handled_on_time", f.HandledOnTime},
		{"to_close", f.ToClose}, {"closed", f.Closed}, {"closed_on_time", f.ClosedOnTime}, {"reworked", f.Reworked},
		{"extended", f.Extended}, {"suspended", f.Suspended}, {"overdue_pending", f.Overdue}, {"rated", f.Rated},
		{"satisfied", f.Satisfied}, {"basically_satisfied", f.Basically}, {"unsatisfied", f.Unsatisfied},
	} {
		counts = append(counts, figureRow{Key: c.key, Label: p.T("cases.page.figures.count." + c.key), Value: strconv.Itoa(c.n)})
	}
	rt := f.Rates
	for _, r := range []struct {
		key string
		v   float64
	}{
		{"valid_report", rt.ValidReport}, {"accurate_register", rt.AccurateRegister}, {"accurate_dispatch", rt.AccurateDispatch},
		{"handling", rt.Handling}, {"on_time_handling", rt.OnTimeHandling}, {"closing", rt.Closing},
		{"on_time_closing", rt.OnTimeClosing}, {"rework", rt.Rework}, {"overdue_pending", rt.OverduePending},
		{"extension", rt.Extension}, {"satisfaction", rt.Satisfaction},
	} {
		rates = append(rates, figureRow{Key: r.key, Label: p.T("cases.page.figures.rate." + r.key),
			Value: strconv.FormatFloat(r.v*100, 'f', 1, 64) + "%"})
	}
	return counts, rates
}
