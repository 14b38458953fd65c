package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/i18n"
	"github.com/gridhall/gridhall/internal/people"
	"github.com/gridhall/gridhall/internal/territory"
)

// This file holds what the registry pages share: the service check, the
// permission helpers the navigation uses, and the translated labels of the
// registry's codes (genders, relations, tags, …).

// registry returns the people service, or Unavailable when this
// installation runs without it.
func (w *Web) registry(op string) (*people.Service, error) {
	if w.people == nil {
		return nil, errs.E(errs.Unavailable, op, "error.unavailable")
	}
	return w.people, nil
}

// canSomewhere reports whether the actor may perform action in at least one
// of its scopes. Like CanReadTerritory it only decides what the pages
// offer; the services check the permission again on every use.
func canSomewhere(a auth.Actor, action auth.Action) bool {
	return slices.ContainsFunc(a.EffectiveScopes(), func(sc string) bool { return auth.Can(a, action, sc) })
}

// requireSomewhere refuses actors who may not perform action anywhere.
func requireSomewhere(r *http.Request, op string, action auth.Action) (auth.Actor, error) {
	actor := auth.ActorFrom(r.Context())
	if !canSomewhere(actor, action) {
		return actor, errs.E(errs.Forbidden, op, "error.forbidden")
	}
	return actor, nil
}

// CanReadPeople reports whether the actor may search the registry.
func (p *page) CanReadPeople() bool { return canSomewhere(p.Actor, auth.ReadPeople) }

// CanWritePeople reports whether the actor may import residents and record
// visits.
func (p *page) CanWritePeople() bool { return canSomewhere(p.Actor, auth.WritePeople) }

// CanReadStats reports whether the actor may see population statistics.
func (p *page) CanReadStats() bool { return canSomewhere(p.Actor, auth.ReadStats) }

// IsResident reports whether a resident (not staff) is signed in: they get
// their own record instead of the registry.
func (p *page) IsResident() bool { return p.SignedIn() && p.Actor.Role == auth.Resident }

// Label translates a code of the registry by its family (the key prefix,
// such as "registry.gender."). A code this version has no name for (a tag an
// administrator added to the dictionary, say) is shown as it is stored.
func (p *page) Label(prefix string, code any) string {
	c := fmt.Sprint(code)
	if c == "" {
		return ""
	}
	if s := p.T(prefix + c); s != prefix+c {
		return s
	}
	return c
}

// TagName is a tag's name in the page's language.
func (p *page) TagName(code string) string { return p.Label("registry.tag.", code) }

// DerivedTag reports whether a tag is computed from the record (aged 60+,
// living alone) rather than typed by staff; such badges look different.
func (p *page) DerivedTag(code string) bool {
	return code == people.TagAged60 || code == people.TagLivesAlone
}

// dictionaryTags are the tags of the registry's starting dictionary, in the
// order the filter offers them, and whether each is restricted (a special
// population, shown only to those who may reveal personal data).
var dictionaryTags = []struct {
	code       string
	restricted bool
}{
	{"disabled", false}, {"low_income", false}, {"veteran", false}, {"empty_nest", false},
	{"key_youth", true}, {"community_correction", true}, {"released_prisoner", true},
	{"drug_rehabilitation", true}, {"mental_disorder", true},
}

// filterTags returns the tags the actor may filter by: restricted ones only
// for those who may reveal personal data somewhere.
func filterTags(a auth.Actor) []string {
	reveal := canSomewhere(a, auth.RevealPeople)
	var out []string
	for _, t := range dictionaryTags {
		if !t.restricted || reveal {
			out = append(out, t.code)
		}
	}
	return out
}

// residentID reads the {id} of a resident's URL. A malformed id names no
// resident, so it is answered like an unknown one.
func residentID(r *http.Request, op string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, errs.E(errs.NotFound, op, "people.resident.unknown")
	}
	return id, nil
}

// formInt parses an optional positive number from a form or query value; ""
// and anything unparsable are 0, which the filters read as "not given".
func formInt(s string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// tagBadge is a tag as the "tags" partial draws it.
type tagBadge struct {
	Name    string
	Derived bool
}

// TagBadges names the tags of a resident for the "tags" partial.
func (p *page) TagBadges(codes []string) []tagBadge {
	out := make([]tagBadge, len(codes))
	for i, c := range codes {
		out[i] = tagBadge{Name: p.TagName(c), Derived: p.DerivedTag(c)}
	}
	return out
}

// placeNames names the territory nodes the actor may read, by code, in the
// page's language, so that pages show "Y社区第1网格" rather than a 15-digit
// code. It is empty without the territory service or for an actor who may
// not read the territory; the pages then show the codes.
func (w *Web) placeNames(ctx context.Context, actor auth.Actor, lang string) (map[string]string, error) {
	names := map[string]string{}
	if w.territory == nil || !canReadTerritory(actor) {
		return names, nil
	}
	nodes, err := w.territory.Tree(ctx, actor, territory.Grid)
	if err != nil {
		return nil, err
	}
	for _, n := range nodes {
		names[n.Code] = n.NameZH
		if lang == i18n.English && n.NameEN != "" {
			names[n.Code] = n.NameEN
		}
	}
	return names, nil
}

// PlaceName is the name of a territory code from names, else the code.
func (p *page) PlaceName(names map[string]string, code string) string {
	if n, ok := names[code]; ok && n != "" {
		return n
	}
	return code
}
