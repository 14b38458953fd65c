package territory

import (
	"sort"

	"github.com/paulmach/orb"

	"github.com/gridhall/gridhall/internal/geo"
)

// DefaultTolerance is how far, in metres, a child may stick out of its parent
// and siblings may overlap before it counts: hand-drawn boundaries from
// different sources never meet exactly.
const DefaultTolerance = 2.0

// plan is a validated set of changes: the features of a file (or one edited
// boundary) checked against each other and against the current tree.
type plan struct {
	features []Feature
	problems []Problem
}

// validate checks features against the current tree. current returns the
// current nodes for the given codes and children returns the current children
// of the given parents; both come from the store inside the transaction that
// will apply the plan, so what is checked is what is changed.
func validate(features []Feature, tol float64,
	current func(codes []string) ([]Node, error), children func(parents []string) ([]Node, error)) (plan, error) {
	p := plan{}
	seen := map[string]bool{}
	var ok []Feature
	for _, f := range features {
		switch {
		case seen[f.Code]:
			p.problems = append(p.problems, Problem{Index: f.Index, Code: f.Code, Reason: "territory.problem.duplicate_code"})
			continue
		case f.Parent != "" && f.Parent != ParentCode(f.Code):
			p.problems = append(p.problems, Problem{Index: f.Index, Code: f.Code, Reason: "territory.problem.code_not_extending_parent", Other: f.Parent})
			continue
		}
		seen[f.Code] = true
		if prob := geo.CheckShape(f.Shape); prob != nil {
			p.problems = append(p.problems, Problem{Index: f.Index, Code: f.Code, Reason: "territory.problem." + prob.Reason})
			continue
		}
		ok = append(ok, f)
	}

	// The tree as it will be: the file's shapes over the current ones.
	after := map[string]orb.MultiPolygon{}
	var parentCodes []string
	for _, f := range ok {
		after[f.Code] = f.Shape
		if pc := ParentCode(f.Code); pc != "" {
			parentCodes = append(parentCodes, pc)
		}
	}
	parentCodes = unique(parentCodes)
	var missing []string
	for _, pc := range parentCodes {
		if _, inFile := after[pc]; !inFile {
			missing = append(missing, pc)
		}
	}
	parents, err := current(missing)
	if err != nil {
		return p, err
	}
	for _, n := range parents {
		after[n.Code] = n.Boundary
	}

	// Every child lies within its parent.
	for _, f := range ok {
		pc := ParentCode(f.Code)
		if pc == "" {
			continue
		}
		parent, found := after[pc]
		switch {
		case !found:
			p.problems = append(p.problems, Problem{Index: f.Index, Code: f.Code, Reason: "territory.problem.parent_missing", Other: pc})
		case !geo.Within(f.Shape, parent, tol):
			p.problems = append(p.problems, Problem{Index: f.Index, Code: f.Code, Reason: "territory.problem.not_within_parent", Other: pc})
		}
	}

	// Existing children of a changed node must still fit inside it.
	var changed []string
	for _, f := range ok {
		changed = append(changed, f.Code)
	}
	kids, err := children(changed)
	if err != nil {
		return p, err
	}
	byIndex := map[string]int{}
	for _, f := range ok {
		byIndex[f.Code] = f.Index
	}
	for _, k := range kids {
		if _, inFile := after[k.Code]; inFile {
			continue // checked above against the new parent
		}
		if !geo.Within(k.Boundary, after[k.ParentCode], tol) {
			p.problems = append(p.problems, Problem{Index: byIndex[k.ParentCode], Code: k.ParentCode, Reason: "territory.problem.child_outside", Other: k.Code})
		}
	}

	// Siblings do not overlap: the file's nodes against each other and
	// against the current siblings they do not replace.
	siblings, err := children(parentCodes)
	if err != nil {
		return p, err
	}
	groups := map[string][]sibling{}
	for _, f := range ok {
		groups[ParentCode(f.Code)] = append(groups[ParentCode(f.Code)], sibling{code: f.Code, index: f.Index, shape: f.Shape, bound: geo.Bound(f.Shape), inFile: true})
	}
	for _, n := range siblings {
		if seen[n.Code] {
			continue // replaced by the file's version
		}
		groups[n.ParentCode] = append(groups[n.ParentCode], sibling{code: n.Code, index: -1, shape: n.Boundary, bound: geo.Bound(n.Boundary)})
	}
	reported := map[[2]string]bool{}
	for _, g := range groups {
		sort.Slice(g, func(i, j int) bool { return g[i].code < g[j].code })
		for i := range g {
			for j := i + 1; j < len(g); j++ {
				a, b := g[i], g[j]
				if !a.inFile && !b.inFile || !a.bound.Intersects(b.bound) || !geo.Overlaps(a.shape, b.shape, tol) {
					continue
				}
				if reported[[2]string{a.code, b.code}] {
					continue
				}
				reported[[2]string{a.code, b.code}] = true
				at, other := a, b
				if !a.inFile || (b.inFile && b.index > a.index) {
					at, other = b, a
				}
				p.problems = append(p.problems, Problem{Index: at.index, Code: at.code, Reason: "territory.problem.overlaps_sibling", Other: other.code})
			}
		}
	}
	sort.SliceStable(p.problems, func(i, j int) bool { return p.problems[i].Index < p.problems[j].Index })
	p.features = ok
	return p, nil
}

type sibling struct {
	code   string
	index  int
	shape  orb.MultiPolygon
	bound  orb.Bound
	inFile bool
}

func unique(s []string) []string {
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
