package load

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/gridhall/gridhall/internal/app"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/geo"
	"github.com/gridhall/gridhall/internal/territory"
)

// Plan is what a load run needs to know about its target: the street it
// plays in, an API token for each role of the case workflow, and places and
// categories a resident reports with. Setup writes it; it is JSON so that
// setup (on the installation's console) and the run (anywhere on the same
// machine) can be separate commands.
type Plan struct {
	Street     string `json:"street"`     // territory code of the street
	Department string `json:"department"` // the department the street dispatches to
	// Tokens by role: the street's dispatch centre (accept, register,
	// dispatch, close), the department's handler (sign, handle), one
	// community worker per community (verify, check) and a resident
	// (reports).
	StreetToken   string   `json:"street_token"`
	HandlerToken  string   `json:"handler_token"`
	FieldTokens   []string `json:"field_tokens"`
	ResidentToken string   `json:"resident_token"`
	// Points are [lng, lat] inside the street's grids; Categories are public
	// category refs a report may use without answering questions.
	Points     [][2]float64 `json:"points"`
	Categories []string     `json:"categories"`
}

// Validate says what a plan lacks.
func (p Plan) Validate() error {
	var missing []string
	for name, ok := range map[string]bool{"street": p.Street != "", "department": p.Department != "",
		"street_token": p.StreetToken != "", "handler_token": p.HandlerToken != "", "field_tokens": len(p.FieldTokens) > 0,
		"resident_token": p.ResidentToken != "", "points": len(p.Points) > 0, "categories": len(p.Categories) > 0} {
		if !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return fmt.Errorf("load plan lacks %s (run gridhall load --setup)", strings.Join(missing, ", "))
	}
	return nil
}

// ReadPlan reads a plan written by WritePlan.
func ReadPlan(path string) (Plan, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Plan{}, err
	}
	var p Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return Plan{}, fmt.Errorf("%s: %v", path, err)
	}
	return p, p.Validate()
}

// WritePlan writes p to path, readable by its owner only: it holds tokens.
func WritePlan(path string, p Plan) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}

// SetupOptions choose where Setup puts the load.
type SetupOptions struct {
	Street string        // a street's code; "" picks the first street by code
	Expiry time.Duration // the tokens' lifetime; 0 means 7 days
}

// Setup prepares an installation for a load run through its services, as
// the console would: it picks a street, creates (or reuses) the load
// accounts — load-street (street staff), load-handler (a department
// handler, made a member of a department serving the street), load-cs-N
// (a community worker of each of the street's communities) and
// load-resident — issues each a read/write API token, and samples report
// points inside the street's grids. It works on any installation with a
// territory and a case catalogue: `gridhall demo`'s, or one made by
// `gridhall gen`.
func Setup(ctx context.Context, a *app.App, o SetupOptions) (Plan, error) {
	if o.Expiry == 0 {
		o.Expiry = 7 * 24 * time.Hour
	}
	console := auth.SystemActor("load")
	planner := auth.SystemActorAs("load", auth.DistrictAdmin)
	nodes, err := a.Territory.Tree(ctx, planner, territory.Street)
	if err != nil {
		return Plan{}, err
	}
	street := o.Street
	if street == "" {
		for _, n := range nodes {
			if n.Level == territory.Street {
				street = n.Code // the first street: grids are counted below
				break
			}
		}
	}
	if street == "" {
		return Plan{}, fmt.Errorf("load setup: the installation has no street; import a territory first")
	}
	streetPath, err := auth.ScopeFromCode(street)
	if err != nil {
		return Plan{}, fmt.Errorf("load setup: street %q: %w", street, err)
	}
	// The street's communities and grids, seen by a reader scoped to it.
	inStreet := auth.Actor{Username: "load", DisplayName: "load", Role: auth.StreetStaff, Scope: streetPath, System: true}
	sub, err := a.Territory.Tree(ctx, inStreet, territory.Grid)
	if err != nil {
		return Plan{}, err
	}
	var comms []territory.Node
	var grids []territory.Node
	for _, n := range sub {
		switch {
		case n.Level == territory.Community && strings.HasPrefix(n.Code, street):
			comms = append(comms, n)
		case n.Level == territory.Grid && strings.HasPrefix(n.Code, street):
			grids = append(grids, n)
		}
	}
	if len(comms) == 0 || len(grids) == 0 {
		return Plan{}, fmt.Errorf("load setup: street %s has no communities or grids", street)
	}
	dept, err := departmentFor(ctx, a.Catalog, streetPath)
	if err != nil {
		return Plan{}, err
	}
	p := Plan{Street: street, Department: dept}
	district := street[:6]
	type account struct {
		name  string
		role  auth.Role
		scope string
		token *string
	}
	accounts := []account{
		{"load-street", auth.StreetStaff, street, &p.StreetToken},
		{"load-handler", auth.DepartmentHandler, district, &p.HandlerToken},
		{"load-resident", auth.Resident, "", &p.ResidentToken},
	}
	p.FieldTokens = make([]string, len(comms))
	for i, c := range comms {
		accounts = append(accounts, account{fmt.Sprintf("load-cs-%s", c.Code), auth.CommunityStaff, c.Code, &p.FieldTokens[i]})
	}
	for _, acc := range accounts {
		u, err := a.Auth.UserByName(ctx, console, acc.name)
		if errs.Is(err, errs.NotFound) {
			u, err = a.Auth.CreateUser(ctx, console, auth.NewUser{Username: acc.name, DisplayName: acc.name,
				Password: randomPassword(), Role: acc.role, Scope: acc.scope})
		}
		if err != nil {
			return Plan{}, fmt.Errorf("load setup: account %s: %w", acc.name, err)
		}
		if acc.role == auth.DepartmentHandler {
			mine, err := a.Catalog.DepartmentsOf(ctx, u.ID)
			if err != nil {
				return Plan{}, err
			}
			if !slices.Contains(mine, dept) {
				if err := a.Catalog.AddMember(ctx, console, dept, u.ID); err != nil {
					return Plan{}, fmt.Errorf("load setup: department %s: %w", dept, err)
				}
			}
		}
		_, secret, err := a.Auth.CreateToken(ctx, console, auth.NewToken{Username: acc.name, Name: "gridhall load",
			Scopes: []string{"read", "write"}, ExpiresIn: o.Expiry})
		if err != nil {
			return Plan{}, fmt.Errorf("load setup: token for %s: %w", acc.name, err)
		}
		*acc.token = secret
	}
	if p.Categories, err = reportCategories(ctx, a.Catalog); err != nil {
		return Plan{}, err
	}
	if p.Points, err = samplePoints(ctx, a.Territory, street, grids, 512); err != nil {
		return Plan{}, err
	}
	return p, p.Validate()
}

// departmentFor picks an active department serving the street: the one of
// widest scope, so that any category dispatched to it is in its remit.
func departmentFor(ctx context.Context, cat *catalog.Service, streetPath string) (string, error) {
	ds, err := cat.Departments(ctx)
	if err != nil {
		return "", err
	}
	best := ""
	bestLen := 1 << 30
	for _, d := range ds {
		if !d.Active || (d.ScopePath != "" && !strings.HasPrefix(streetPath, d.ScopePath)) {
			continue
		}
		if len(d.ScopePath) < bestLen || (len(d.ScopePath) == bestLen && d.Code < best) {
			best, bestLen = d.Code, len(d.ScopePath)
		}
	}
	if best == "" {
		return "", fmt.Errorf("load setup: no active department serves %s", streetPath)
	}
	return best, nil
}

// reportCategories are the public, active categories without required
// questions: what a resident can report with a description and a point.
func reportCategories(ctx context.Context, cat *catalog.Service) ([]string, error) {
	cs, err := cat.Categories(ctx, catalog.Filter{PublicOnly: true, ActiveOnly: true})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range cs {
		if !slices.ContainsFunc(c.Attributes, func(a catalog.Attribute) bool { return a.Required }) {
			out = append(out, c.Ref())
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("load setup: no public category without required questions")
	}
	return out, nil
}

// samplePoints draws n points spread over the grids, each checked with the
// locator to fall inside a grid of the street (a grid's bounding box holds
// parts of its neighbours, and gaps between grids route nowhere).
func samplePoints(ctx context.Context, terr *territory.Service, street string, grids []territory.Node, n int) ([][2]float64, error) {
	rng := rand.New(rand.NewPCG(7, 11))
	var out [][2]float64
	for tries := 0; len(out) < n && tries < 50*n; tries++ {
		g := grids[rng.IntN(len(grids))]
		b := g.Bound
		lng := b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0])
		lat := b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])
		loc, err := terr.Locate(ctx, lng, lat, geo.WGS84)
		if err != nil {
			return nil, err
		}
		if loc.Inside && strings.HasPrefix(loc.Code, street) && len(loc.Code) >= len(g.Code) {
			out = append(out, [2]float64{lng, lat})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("load setup: found no point inside the street's grids")
	}
	return out, nil
}

func randomPassword() string {
	b := make([]byte, 18)
	crand.Read(b)
	return "load-" + hex.EncodeToString(b)
}
