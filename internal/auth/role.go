package auth

import (
	"slices"
	"strings"
)

// Role is what an account is in the organisation.
type Role string

// The roles. Staff roles carry a territorial scope; residents do not.
const (
	Resident          Role = "resident"
	GridWorker        Role = "grid_worker"
	CommunityStaff    Role = "community_staff"
	StreetStaff       Role = "street_staff" // the street's dispatch centre
	DepartmentHandler Role = "department_handler"
	DistrictAdmin     Role = "district_admin"
	Auditor           Role = "auditor"
	SystemAdmin       Role = "system_admin"
)

// Roles lists every role in a stable order.
var Roles = []Role{Resident, GridWorker, CommunityStaff, StreetStaff, DepartmentHandler, DistrictAdmin, Auditor, SystemAdmin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Staff reports whether the role works inside a territorial scope.
func (r Role) Staff() bool { return r.Valid() && r != Resident }

// Action is something an actor may be allowed to do.
type Action string

// The actions. Later capabilities check these; the foundation defines them
// all now so that the permission table is complete and reviewed in one place.
const (
	ManageAccounts  Action = "account.manage"  // create, disable, reset accounts and tokens
	ManageSettings  Action = "settings.manage" // system settings
	ReadAudit       Action = "audit.read"      // read the audit log
	ReadTerritory   Action = "territory.read"  // the territory tree, grids, staff assignments
	ManageTerritory Action = "territory.manage"
	ReadPeople      Action = "people.read"   // the registry, masked
	WritePeople     Action = "people.write"  // the registry: add, edit, visits
	RevealPeople    Action = "people.reveal" // unmask personal data, with a reason
	ReportCase      Action = "case.report"
	ReadCases       Action = "case.read"
	DispatchCases   Action = "case.dispatch" // accept, register, dispatch, close
	HandleCases     Action = "case.handle"   // sign for, handle, report back
	SuperviseCases  Action = "case.supervise"
	ReadStats       Action = "stats.read"
)

// Actions lists every action in a stable order.
var Actions = []Action{
	ManageAccounts, ManageSettings, ReadAudit, ReadTerritory, ManageTerritory,
	ReadPeople, WritePeople, RevealPeople,
	ReportCase, ReadCases, DispatchCases, HandleCases, SuperviseCases, ReadStats,
}

// grant says how a role holds an action: only inside its scope, or anywhere.
type grant int

const (
	inScope grant = iota + 1
	anywhere
)

// grants is the permission matrix. Separation of duties: system_admin runs
// accounts and settings and never sees residents' data; auditor reads the
// audit log and nothing else; residents may report anywhere but their own
// records are guarded by ownership checks in the capabilities, not here.
var grants = map[Role]map[Action]grant{
	Resident: {ReportCase: anywhere},
	GridWorker: {
		ReadTerritory: inScope, ReadPeople: inScope, WritePeople: inScope,
		ReportCase: inScope, ReadCases: inScope, HandleCases: inScope, ReadStats: inScope,
	},
	CommunityStaff: {
		ReadTerritory: inScope, ReadPeople: inScope, WritePeople: inScope, RevealPeople: inScope,
		ReportCase: inScope, ReadCases: inScope, HandleCases: inScope, ReadStats: inScope,
	},
	StreetStaff: {
		ReadTerritory: inScope, ReadPeople: inScope,
		ReportCase: inScope, ReadCases: inScope, DispatchCases: inScope, SuperviseCases: inScope, ReadStats: inScope,
	},
	DepartmentHandler: {
		ReadTerritory: inScope, ReadCases: inScope, HandleCases: inScope,
	},
	DistrictAdmin: {
		ReadTerritory: inScope, ManageTerritory: inScope, ReadPeople: inScope, RevealPeople: inScope,
		ReadCases: inScope, DispatchCases: inScope, SuperviseCases: inScope, ReadStats: inScope,
	},
	Auditor:     {ReadAudit: inScope},
	SystemAdmin: {ManageAccounts: inScope, ManageSettings: inScope, ReadTerritory: inScope},
}

// Can reports whether actor may perform action on a resource that lies at
// resourceScope (a territory code path; "" for resources that belong to the
// whole installation). It is a pure function: no I/O, no clock.
func Can(actor Actor, action Action, resourceScope string) bool {
	if actor.UserID == 0 && !actor.System {
		return false
	}
	g := grants[actor.Role][action]
	switch g {
	case anywhere:
		return true
	case inScope:
		return actor.Covers(resourceScope)
	}
	return false
}

// Within reports whether the path inner lies inside (or is) the path outer.
// The root scope "" contains everything. Comparison is by whole path segments,
// so 420106/4201060011 is not inside 420106/420106001.
func Within(outer, inner string) bool {
	if outer == "" {
		return true
	}
	return inner == outer || strings.HasPrefix(inner, outer+"/")
}
