package cases

import (
	"fmt"
	"slices"
	"testing"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/errs"
)

// The workflow as the standard describes it (DOMAIN.md §4), written out
// again independently of rules: which states an action starts from, and
// which capacity the actor needs.
type capacity int

const (
	centre     capacity = iota // the street's dispatch centre (and district admins): DispatchCases in scope
	field                      // grid workers and community staff of the area
	checkerCap                 // field staff who did not handle the case
	assigned                   // the department or person the case is dispatched to
	reviewer                   // checkers or the centre
	reporter                   // the resident who reported, once
	super                      // supervisors: SuperviseCases in scope
	climber                    // anyone working the case who may raise it
	reader                     // anyone who reads the case, except auditors
	merger                     // the centre; field staff while it is only reported
)

var spec = map[Action]struct {
	from []State
	who  capacity
}{
	Verify:           {[]State{Reported}, field},
	Accept:           {[]State{Verified}, centre},
	Reject:           {[]State{Reported, Verified}, centre},
	Register:         {[]State{Accepted}, centre},
	Cancel:           {[]State{Accepted, Registered}, centre},
	Dispatch:         {[]State{Registered}, centre},
	Sign:             {[]State{Dispatched}, assigned},
	Return:           {[]State{Dispatched, Handling}, assigned},
	Handle:           {[]State{Handling}, assigned},
	Check:            {[]State{Handled}, checkerCap},
	Rework:           {[]State{Handled, Checked}, reviewer},
	Close:            {[]State{Checked}, centre},
	Rate:             {[]State{Closed}, reporter},
	RequestExtension: {[]State{Dispatched, Handling}, assigned},
	ApproveExtension: {[]State{Dispatched, Handling}, centre},
	RefuseExtension:  {[]State{Dispatched, Handling}, centre},
	Suspend:          {[]State{Dispatched, Handling}, centre},
	Resume:           {[]State{Suspended}, centre},
	Urge:             {[]State{Verified, Accepted, Registered, Dispatched, Handling, Handled, Checked, Suspended}, super},
	Escalate:         {[]State{Reported, Verified, Accepted, Registered, Dispatched, Handling}, climber},
	Transfer:         {[]State{Dispatched, Handling}, centre},
	Assist:           {[]State{Dispatched, Handling}, centre},
	Note:             {States, reader},
	Merge:            {[]State{Reported, Verified, Accepted, Registered}, merger},
}

var next = map[Action]State{
	Verify: Verified, Accept: Accepted, Reject: Rejected, Register: Registered, Cancel: Cancelled,
	Dispatch: Dispatched, Sign: Handling, Return: Registered, Handle: Handled, Check: Checked, Rework: Handling,
	Close: Closed, Suspend: Suspended, Transfer: Dispatched, Merge: Cancelled,
}

const (
	inGrid  = "420106/420106001/420106001001/420106001001001"
	outGrid = "420106/420106002/420106002001/420106002001001"
)

// person is one of the test's actors: a role, inside or outside the case's
// area (or department), with what capacities it holds on the fixture case.
type person struct {
	name   string
	who    Who
	holds  func(c Case) []capacity
	inside bool
}

func people() []person {
	mk := func(role auth.Role, id int64, scope string, grids []string, depts []string) Who {
		return Who{Actor: auth.Actor{UserID: id, Username: fmt.Sprint(role, id), Role: role, Scope: scope, Scopes: grids}, Departments: depts}
	}
	none := func(Case) []capacity { return nil }
	fieldCaps := func(c Case) []capacity {
		caps := []capacity{field, climber, reader}
		if c.HandlerID != 11 {
			caps = append(caps, checkerCap, reviewer)
		}
		if c.State == Reported {
			caps = append(caps, merger)
		}
		return caps
	}
	var out []person
	for _, in := range []bool{true, false} {
		grid, street := inGrid, "420106/420106001"
		if !in {
			grid, street = outGrid, "420106/420106002"
		}
		district := "420106"
		if !in {
			district = "420107"
		}
		ps := []person{
			{name: "grid_worker", who: mk(auth.GridWorker, 11, street, []string{grid}, nil), holds: fieldCaps},
			{name: "community_staff", who: mk(auth.CommunityStaff, 12, street, nil, nil), holds: func(c Case) []capacity {
				caps := []capacity{field, climber, reader}
				if c.HandlerID != 12 {
					caps = append(caps, checkerCap, reviewer)
				}
				if c.State == Reported {
					caps = append(caps, merger)
				}
				return caps
			}},
			{name: "street_staff", who: mk(auth.StreetStaff, 13, street, nil, nil), holds: func(Case) []capacity {
				return []capacity{centre, reviewer, super, climber, reader, merger}
			}},
			{name: "district_admin", who: mk(auth.DistrictAdmin, 14, district, nil, nil), holds: func(Case) []capacity {
				return []capacity{centre, reviewer, super, climber, reader, merger}
			}},
			{name: "department_handler", who: mk(auth.DepartmentHandler, 15, "420106", nil, []string{map[bool]string{true: "water", false: "fire"}[in]}), holds: func(c Case) []capacity {
				if in && c.AssigneeKind == ToDepartment && c.Assignee == "water" {
					return []capacity{assigned, climber, reader}
				}
				return nil
			}},
			{name: "resident", who: mk(auth.Resident, map[bool]int64{true: 16, false: 17}[in], "", nil, nil), holds: func(Case) []capacity {
				if in {
					return []capacity{reporter, reader}
				}
				return nil
			}},
			{name: "auditor", who: mk(auth.Auditor, 18, district, nil, nil), holds: none},
			{name: "system_admin", who: mk(auth.SystemAdmin, 19, "", nil, nil), holds: none},
		}
		for _, p := range ps {
			p.inside = in
			if !in && p.who.Role != auth.DepartmentHandler && p.who.Role != auth.Resident {
				// Outside its area a staff role holds nothing on the case.
				p.holds = none
			}
			out = append(out, p)
		}
	}
	return out
}

// fixture is a case in state st as the workflow would leave it there.
func fixture(st State) Case {
	c := Case{ID: 1, State: st, GridPath: inGrid, Level: GridLevel, ReporterID: 16, ReporterRole: auth.Resident}
	switch st {
	case Dispatched, Handling, Handled, Checked, Closed, Suspended:
		c.AssigneeKind, c.Assignee = ToDepartment, "water"
	}
	if st == Handled || st == Checked || st == Closed {
		c.HandlerID = 15
	}
	if st == Suspended {
		c.SuspendedFrom = Handling
	}
	return c
}

// extension pending matters for approve/refuse/request; the fixture for
// those actions carries one when the spec needs it.
func fixtureFor(st State, a Action) Case {
	c := fixture(st)
	if a == ApproveExtension || a == RefuseExtension {
		c.ExtensionPending = "3 days"
	}
	return c
}

func TestEveryStateActionAndRoleInsideAndOutsideScopeIsDecidedByTheStandard(t *testing.T) {
	if len(spec) != len(Actions) {
		t.Fatalf("the spec covers %d actions, the workflow has %d: add the new action to the spec", len(spec), len(Actions))
	}
	n := 0
	for _, st := range States {
		for _, a := range Actions {
			for _, p := range people() {
				c := fixtureFor(st, a)
				sp := spec[a]
				want := slices.Contains(sp.from, st) && slices.Contains(p.holds(c), sp.who)
				to, err := Decide(p.who, c, a)
				n++
				name := fmt.Sprintf("%s/%s/%s(inside=%v)", st, a, p.name, p.inside)
				if want {
					if err != nil {
						t.Errorf("%s: refused (%v), the standard allows it", name, err)
						continue
					}
					wantTo := st
					if s, ok := next[a]; ok {
						wantTo = s
					}
					if a == Resume {
						wantTo = c.SuspendedFrom
					}
					if to != wantTo {
						t.Errorf("%s: leads to %s, want %s", name, to, wantTo)
					}
					continue
				}
				if err == nil {
					t.Errorf("%s: allowed, the standard refuses it", name)
					continue
				}
				e := errs.As(err)
				switch {
				case !slices.Contains(sp.from, st):
					if e.Code != errs.Conflict || e.Msg != "case.error.state" {
						t.Errorf("%s: refused with %s/%s, want the state conflict", name, e.Code, e.Msg)
					}
				default:
					if e.Code != errs.Forbidden || e.Msg != "case.error.not_allowed" {
						t.Errorf("%s: refused with %s/%s, want forbidden", name, e.Code, e.Msg)
					}
				}
			}
		}
	}
	if want := len(States) * len(Actions) * 16; n != want {
		t.Fatalf("checked %d combinations, want %d", n, want)
	}
}

func TestNobodyChecksTheirOwnWork(t *testing.T) {
	gw := Who{Actor: auth.Actor{UserID: 11, Role: auth.GridWorker, Scope: "420106/420106001", Scopes: []string{inGrid}}}
	c := fixture(Handled)
	c.AssigneeKind, c.Assignee, c.HandlerID, c.SelfHandled = ToUser, "11", 11, true
	if _, err := Decide(gw, c, Check); !errs.Is(err, errs.Forbidden) {
		t.Fatalf("a grid worker checked the case he fixed himself: %v", err)
	}
	other := Who{Actor: auth.Actor{UserID: 21, Role: auth.GridWorker, Scope: "420106/420106001", Scopes: []string{inGrid}}}
	if to, err := Decide(other, c, Check); err != nil || to != Checked {
		t.Fatalf("another grid worker of the grid could not check: %v", err)
	}
}

func TestARatedCaseCannotBeRatedAgain(t *testing.T) {
	r := Who{Actor: auth.Actor{UserID: 16, Role: auth.Resident}}
	c := fixture(Closed)
	c.Rating = Satisfied
	if _, err := Decide(r, c, Rate); !errs.Is(err, errs.Forbidden) {
		t.Fatalf("rated twice: %v", err)
	}
}

func TestTheLadderEndsAtTheDistrict(t *testing.T) {
	for l, want := range map[Level]Level{GridLevel: CommunityLevel, CommunityLevel: StreetLevel, StreetLevel: DistrictLevel, DistrictLevel: ""} {
		if got := l.Next(); got != want {
			t.Errorf("%s.Next() = %q, want %q", l, got, want)
		}
	}
}

func TestSimilarityFindsTheSameProblemInOtherWords(t *testing.T) {
	a := "3号楼门口井盖破损，有人差点摔倒"
	if s := Similarity(a, "3号楼门口的井盖破损了"); s < 0.4 {
		t.Errorf("same problem scored %.2f", s)
	}
	if s := Similarity(a, "小区东门垃圾没有清运"); s > 0.15 {
		t.Errorf("different problem scored %.2f", s)
	}
	if s := Similarity("", a); s != 0 {
		t.Errorf("empty text scored %.2f", s)
	}
}
