package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/i18n"
	"github.com/gridhall/gridhall/internal/people"
	"github.com/gridhall/gridhall/internal/territory"
)

// statsPlace is a place the actor may see statistics of.
type statsPlace struct {
	Code string
	Name string
}

// statsRow is one line of a statistics table (and one bar or slice of its
// chart).
type statsRow struct {
	Name  string `json:"name"`
	Value int    `json:"value"`
}

// statsCharts is what static/stats.js draws, passed in a JSON data block
// (which browsers do not execute, so the CSP allows it). The tables on the
// page carry the same figures for those who cannot see the charts.
type statsCharts struct {
	Gender       []statsRow `json:"gender"`
	Ages         []statsRow `json:"ages"`
	Registration []statsRow `json:"registration"`
	Tags         []statsRow `json:"tags"`
}

// statsData is the statistics page.
type statsData struct {
	Code   string
	Name   string
	Places []statsPlace
	Stats  people.Stats
	Charts statsCharts
	Found  bool
}

// statsPage handles GET /stats?code=…: the population of one place within
// the actor's scope (their first place when no code is given), in tables and
// charts.
func (w *Web) statsPage(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.statsPage"
	actor, err := requireSomewhere(r, op, auth.ReadStats)
	if err != nil {
		return err
	}
	svc, err := w.registry(op)
	if err != nil {
		return err
	}
	p := w.newPage(r, "stats", "/stats")
	d := statsData{Code: strings.TrimSpace(r.URL.Query().Get("code"))}
	if d.Places, err = w.statsPlaces(r, actor, p.Lang); err != nil {
		return err
	}
	if d.Code == "" && len(d.Places) > 0 {
		d.Code = d.Places[0].Code
	}
	for _, pl := range d.Places {
		if pl.Code == d.Code {
			d.Name = pl.Name
		}
	}
	status := http.StatusOK
	st, err := svc.Stats(r.Context(), actor, d.Code)
	if err != nil {
		f, s, ok := w.formProblem(rw, r, err, map[string]string{"code": d.Code})
		if !ok {
			return err
		}
		p.Form, status = f, s
	} else {
		d.Stats, d.Found = st, true
		d.Charts = statsChartsOf(p, st)
	}
	p.Data = d
	return w.render(rw, status, "stats", p)
}

// statsPlaces lists the places the actor may see statistics of, from the
// largest down to the grids, with names in lang. Without the territory
// service it offers the actor's own scopes by code.
func (w *Web) statsPlaces(r *http.Request, actor auth.Actor, lang string) ([]statsPlace, error) {
	var out []statsPlace
	if w.territory == nil {
		for _, sc := range actor.EffectiveScopes() {
			if sc != "" && auth.Can(actor, auth.ReadStats, sc) {
				out = append(out, statsPlace{Code: auth.ScopeCode(sc), Name: auth.ScopeCode(sc)})
			}
		}
		return out, nil
	}
	nodes, err := w.territory.Tree(r.Context(), actor, territory.Grid)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(nodes, func(a, b territory.Node) int { return strings.Compare(a.Path, b.Path) })
	for _, n := range nodes {
		if !auth.Can(actor, auth.ReadStats, n.Path) {
			continue
		}
		name := n.NameZH
		if lang == i18n.English && n.NameEN != "" {
			name = n.NameEN
		}
		out = append(out, statsPlace{Code: n.Code, Name: name})
	}
	return out, nil
}

// statsChartsOf turns the figures into the rows of the tables and charts,
// named in the page's language.
func statsChartsOf(p *page, st people.Stats) statsCharts {
	c := statsCharts{
		Gender: []statsRow{
			{p.Label("registry.gender.", people.Male), st.Gender[people.Male]},
			{p.Label("registry.gender.", people.Female), st.Gender[people.Female]},
		},
	}
	for _, b := range st.AgeBands {
		name := p.T("stats.band.range", b.MinAge, b.MaxAge)
		switch {
		case b.MaxAge == 0:
			name = p.T("stats.band.from", b.MinAge)
		case b.MinAge == 0:
			name = p.T("stats.band.upto", b.MaxAge)
		}
		c.Ages = append(c.Ages, statsRow{name, b.Count})
	}
	for _, reg := range people.Registrations {
		c.Registration = append(c.Registration, statsRow{p.Label("registry.registration.", reg), st.Registration[reg]})
	}
	c.Tags = []statsRow{{p.TagName(people.TagAged60), st.Aged60Plus}, {p.TagName(people.TagLivesAlone), st.LivingAlone}}
	codes := make([]string, 0, len(st.Tags))
	for code := range st.Tags {
		codes = append(codes, code)
	}
	// The dictionary's order where it is known, then any other tag by code.
	slices.SortFunc(codes, func(a, b string) int {
		ia, ib := dictionaryIndex(a), dictionaryIndex(b)
		if ia != ib {
			return ia - ib
		}
		return strings.Compare(a, b)
	})
	for _, code := range codes {
		c.Tags = append(c.Tags, statsRow{p.TagName(code), st.Tags[code]})
	}
	return c
}

// dictionaryIndex is a tag's place in the starting dictionary, or after it.
func dictionaryIndex(code string) int {
	for i, t := range dictionaryTags {
		if t.code == code {
			return i
		}
	}
	return len(dictionaryTags)
}

// statsBlock is one figure of the statistics page: a chart and its table.
type statsBlock struct {
	ID, Kind           string
	Title, Head, Count string
	Rows               []statsRow
}

// StatsBlock prepares a chart and its table for the "block" partial; kind is
// how stats.js draws it (pie, bar, hbar).
func (p *page) StatsBlock(id, kind, titleKey string, rows []statsRow) statsBlock {
	return statsBlock{ID: id, Kind: kind, Title: p.T(titleKey), Head: p.T(titleKey + ".head"), Count: p.T("stats.count"), Rows: rows}
}
