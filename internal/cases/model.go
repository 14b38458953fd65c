// Package cases holds case handling: intake of reports on every channel,
// the standard's workflow as an explicit state machine, time limits on the
// working calendar, queues, the timer job, duplicates, ratings and the facts
// that evaluation counts (DOMAIN.md §4–5).
//
// The state machine is pure code in this file: Decide says whether an actor
// may take an action on a case and where it leads. The service wraps it in
// one transaction with the timeline, the stage facts, the audit entry and the
// outbox messages.
package cases

import (
	"slices"
	"strconv"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/errs"
)

// State is where a case stands in the workflow.
type State string

// The states, in workflow order.
const (
	Reported   State = "reported"   // 上报: a public report waiting to be verified
	Verified   State = "verified"   // 已核实: waiting for the centre to accept
	Accepted   State = "accepted"   // 已受理: waiting to be registered
	Rejected   State = "rejected"   // 不予受理 (final)
	Registered State = "registered" // 已立案: waiting to be dispatched
	Cancelled  State = "cancelled"  // 作废 (final); also a merged duplicate
	Dispatched State = "dispatched" // 已派遣: waiting to be signed for
	Handling   State = "handling"   // 处置中
	Handled    State = "handled"    // 已处置: waiting for the on-site check
	Checked    State = "checked"    // 已核查: waiting to be closed
	Closed     State = "closed"     // 已结案 (final, may still be rated)
	Suspended  State = "suspended"  // 挂账
)

// States lists every state.
var States = []State{Reported, Verified, Accepted, Rejected, Registered, Cancelled, Dispatched, Handling, Handled, Checked, Closed, Suspended}

// Final reports whether no work remains on a case in state s.
func (s State) Final() bool { return s == Rejected || s == Cancelled || s == Closed }

// OpenStates are the states in which a case still waits for someone.
var OpenStates = []State{Reported, Verified, Accepted, Registered, Dispatched, Handling, Handled, Checked, Suspended}

// Action is a step someone takes on a case.
type Action string

// The actions.
const (
	Verify           Action = "verify"            // 核实
	Accept           Action = "accept"            // 受理
	Reject           Action = "reject"            // 不予受理
	Register         Action = "register"          // 立案
	Cancel           Action = "cancel"            // 作废
	Dispatch         Action = "dispatch"          // 派遣
	Sign             Action = "sign"              // 签收
	Return           Action = "return"            // 回退: wrongly dispatched
	Handle           Action = "handle"            // 处置完毕, with a report and photos
	Check            Action = "check"             // 核查通过
	Rework           Action = "rework"            // 返工
	Close            Action = "close"             // 结案
	Rate             Action = "rate"              // 评价
	RequestExtension Action = "request_extension" // 申请延期
	ApproveExtension Action = "approve_extension"
	RefuseExtension  Action = "refuse_extension"
	Suspend          Action = "suspend" // 挂账
	Resume           Action = "resume"
	Urge             Action = "urge"     // 督办
	Escalate         Action = "escalate" // up the ladder
	Transfer         Action = "transfer" // 转办 to another department
	Assist           Action = "assist"   // 协办: add an assisting department
	Note             Action = "note"     // a remark on the timeline
	Merge            Action = "merge"    // into the case this one duplicates
)

// Actions lists every action.
var Actions = []Action{
	Verify, Accept, Reject, Register, Cancel, Dispatch, Sign, Return, Handle, Check, Rework, Close, Rate,
	RequestExtension, ApproveExtension, RefuseExtension, Suspend, Resume, Urge, Escalate, Transfer, Assist, Note, Merge,
}

// Channel is how a report reached GridHall.
type Channel string

// The channels.
const (
	Web     Channel = "web"     // a resident on the web page
	Patrol  Channel = "patrol"  // a grid worker's quick report (随手拍)
	Hotline Channel = "hotline" // an operator recording a call
	API     Channel = "api"     // the JSON API
	Open311 Channel = "open311" // GeoReport v2
	Device  Channel = "device"  // an IoT alarm
)

// Channels lists every channel.
var Channels = []Channel{Web, Patrol, Hotline, API, Open311, Device}

// Level is the rung of the escalation ladder a case stands on: small matters
// stay in the grid, big matters in the community.
type Level string

// The levels, bottom to top.
const (
	GridLevel      Level = "grid"
	CommunityLevel Level = "community"
	StreetLevel    Level = "street"
	DistrictLevel  Level = "district"
)

// Levels lists the ladder bottom to top.
var Levels = []Level{GridLevel, CommunityLevel, StreetLevel, DistrictLevel}

// Next is the level above l, or "" at the top.
func (l Level) Next() Level {
	i := slices.Index(Levels, l)
	if i < 0 || i+1 >= len(Levels) {
		return ""
	}
	return Levels[i+1]
}

// Rating is the reporter's verdict on the result.
type Rating int

// The ratings of DOMAIN.md §4.
const (
	Unrated            Rating = 0
	Satisfied          Rating = 1
	BasicallySatisfied Rating = 2
	Unsatisfied        Rating = 3
)

// Assignee kinds: a case is dispatched to a department or to a person (a
// grid worker for matters that stay in the grid).
const (
	ToDepartment = "department"
	ToUser       = "user"
)

// Case is a reported problem and where it stands.
type Case struct {
	ID               int64               `json:"id"`
	Number           string              `json:"number"`
	Category         string              `json:"category"` // catalog ref, e.g. M90101
	CategoryKind     catalog.Kind        `json:"-"`
	CategoryCode     string              `json:"-"`
	Urgency          catalog.Urgency     `json:"urgency"`
	Description      string              `json:"description"`
	Address          string              `json:"address,omitempty"`
	Lng              float64             `json:"lng"`
	Lat              float64             `json:"lat"`
	Located          bool                `json:"-"`
	GridPath         string              `json:"-"`
	GridCode         string              `json:"grid_code,omitempty"`
	TerritoryVersion int64               `json:"-"`
	Channel          Channel             `json:"channel"`
	ReporterID       int64               `json:"-"`
	ReporterRole     auth.Role           `json:"-"`
	Anonymous        bool                `json:"anonymous"`
	Answers          map[string][]string `json:"answers,omitempty"`
	State            State               `json:"state"`
	Level            Level               `json:"level"`
	AssigneeKind     string              `json:"assignee_kind,omitempty"`
	Assignee         string              `json:"assignee,omitempty"`
	HandlerID        int64               `json:"-"`
	Stage            catalog.Stage       `json:"stage,omitempty"`
	StageStartedAt   time.Time           `json:"stage_started_at,omitzero"`
	StageDueAt       time.Time           `json:"stage_due_at,omitzero"`
	Overdue          bool                `json:"overdue"`
	TimerAt          time.Time           `json:"-"`
	TimerStep        int                 `json:"-"`
	HandleDueAt      time.Time           `json:"handle_due_at,omitzero"`
	SuspendedFrom    State               `json:"suspended_from,omitempty"`
	SuspendedAt      time.Time           `json:"-"`
	ExtensionPending string              `json:"extension_pending,omitempty"` // requested limit, e.g. "3 days"
	SelfHandled      bool                `json:"self_handled"`
	DuplicateOf      int64               `json:"duplicate_of,omitempty"`
	Reworks          int                 `json:"reworks"`
	Redispatches     int                 `json:"redispatches"`
	Extensions       int                 `json:"extensions"`
	Suspensions      int                 `json:"suspensions"`
	Urgings          int                 `json:"urgings"`
	Rating           Rating              `json:"rating"`
	RatingNote       string              `json:"rating_note,omitempty"`
	CreatedAt        time.Time           `json:"created_at"`
	UpdatedAt        time.Time           `json:"updated_at"`
	VerifiedAt       time.Time           `json:"verified_at,omitzero"`
	RegisteredAt     time.Time           `json:"registered_at,omitzero"`
	DispatchedAt     time.Time           `json:"dispatched_at,omitzero"`
	HandledAt        time.Time           `json:"handled_at,omitzero"`
	CheckedAt        time.Time           `json:"checked_at,omitzero"`
	ClosedAt         time.Time           `json:"closed_at,omitzero"`
	RatedAt          time.Time           `json:"rated_at,omitzero"`
	Version          int                 `json:"version"`
	// Assists are the departments assisting (协办); loaded with the case.
	Assists []string `json:"assists,omitempty"`
}

// Who is an actor together with the departments the account belongs to:
// a department handler acts on the cases dispatched to its department.
type Who struct {
	auth.Actor
	Departments []string
}

// IsAssignee reports whether w is the case's current assignee.
func (w Who) IsAssignee(c Case) bool {
	switch c.AssigneeKind {
	case ToDepartment:
		return slices.Contains(w.Departments, c.Assignee)
	case ToUser:
		return w.UserID != 0 && c.Assignee == strconv.FormatInt(w.UserID, 10)
	}
	return false
}

// IsAssisting reports whether one of w's departments assists on the case.
func (w Who) IsAssisting(c Case) bool {
	for _, d := range c.Assists {
		if slices.Contains(w.Departments, d) {
			return true
		}
	}
	return false
}

// IsReporter reports whether w reported the case.
func (w Who) IsReporter(c Case) bool { return w.UserID != 0 && c.ReporterID == w.UserID }

// CanRead reports whether w may see the case at all: staff who read cases in
// its territory, the assignee and assisting departments, and its reporter.
func (w Who) CanRead(c Case) bool {
	if w.Role == auth.DepartmentHandler {
		// A department sees the cases it holds or assists on now; one that
		// transferred or returned a case no longer does.
		return w.IsAssignee(c) || w.IsAssisting(c)
	}
	if w.Role != auth.Resident && auth.Can(w.Actor, auth.ReadCases, c.GridPath) {
		return true
	}
	return w.IsAssignee(c) || w.IsReporter(c)
}

// rule is one row of the workflow table.
type rule struct {
	from []State
	to   State // "" keeps the state
	who  func(w Who, c Case) bool
}

func dispatcher(w Who, c Case) bool { return auth.Can(w.Actor, auth.DispatchCases, c.GridPath) }

func supervisor(w Who, c Case) bool { return auth.Can(w.Actor, auth.SuperviseCases, c.GridPath) }

// fieldStaff are the grid workers and community staff of the case's area:
// they verify reports and check results on site.
func fieldStaff(w Who, c Case) bool {
	return (w.Role == auth.GridWorker || w.Role == auth.CommunityStaff) && auth.Can(w.Actor, auth.HandleCases, c.GridPath)
}

func assignee(w Who, c Case) bool {
	return w.IsAssignee(c) && auth.Can(w.Actor, auth.HandleCases, c.GridPath)
}

// checker checks a result on site; nobody checks their own work.
func checker(w Who, c Case) bool { return fieldStaff(w, c) && c.HandlerID != w.UserID }

var rules = map[Action]rule{
	Verify:   {from: []State{Reported}, to: Verified, who: fieldStaff},
	Accept:   {from: []State{Verified}, to: Accepted, who: dispatcher},
	Reject:   {from: []State{Reported, Verified}, to: Rejected, who: dispatcher},
	Register: {from: []State{Accepted}, to: Registered, who: dispatcher},
	Cancel:   {from: []State{Accepted, Registered}, to: Cancelled, who: dispatcher},
	Dispatch: {from: []State{Registered}, to: Dispatched, who: dispatcher},
	Sign:     {from: []State{Dispatched}, to: Handling, who: assignee},
	Return:   {from: []State{Dispatched, Handling}, to: Registered, who: assignee},
	Handle:   {from: []State{Handling}, to: Handled, who: assignee},
	Check:    {from: []State{Handled}, to: Checked, who: checker},
	Rework: {from: []State{Handled, Checked}, to: Handling, who: func(w Who, c Case) bool {
		return checker(w, c) || dispatcher(w, c)
	}},
	Close: {from: []State{Checked}, to: Closed, who: dispatcher},
	Rate: {from: []State{Closed}, who: func(w Who, c Case) bool {
		return w.IsReporter(c) && c.Rating == Unrated
	}},
	RequestExtension: {from: []State{Dispatched, Handling}, who: func(w Who, c Case) bool {
		return assignee(w, c) && c.ExtensionPending == ""
	}},
	ApproveExtension: {from: []State{Dispatched, Handling}, who: func(w Who, c Case) bool {
		return dispatcher(w, c) && c.ExtensionPending != ""
	}},
	RefuseExtension: {from: []State{Dispatched, Handling}, who: func(w Who, c Case) bool {
		return dispatcher(w, c) && c.ExtensionPending != ""
	}},
	Suspend: {from: []State{Dispatched, Handling}, to: Suspended, who: dispatcher},
	Resume:  {from: []State{Suspended}, who: dispatcher}, // to: the state it was suspended from
	Urge:    {from: []State{Verified, Accepted, Registered, Dispatched, Handling, Handled, Checked, Suspended}, who: supervisor},
	Escalate: {from: []State{Reported, Verified, Accepted, Registered, Dispatched, Handling}, who: func(w Who, c Case) bool {
		if c.Level.Next() == "" {
			return false
		}
		if w.Role == auth.DepartmentHandler {
			return assignee(w, c)
		}
		return w.Role != auth.Resident && auth.Can(w.Actor, auth.ReadCases, c.GridPath) &&
			(auth.Can(w.Actor, auth.HandleCases, c.GridPath) || auth.Can(w.Actor, auth.DispatchCases, c.GridPath))
	}},
	Transfer: {from: []State{Dispatched, Handling}, to: Dispatched, who: dispatcher},
	Assist:   {from: []State{Dispatched, Handling}, who: dispatcher},
	Note: {from: States, who: func(w Who, c Case) bool {
		return w.Role != auth.Auditor && w.CanRead(c)
	}},
	Merge: {from: []State{Reported, Verified, Accepted, Registered}, to: Cancelled, who: func(w Who, c Case) bool {
		return dispatcher(w, c) || (c.State == Reported && fieldStaff(w, c))
	}},
}

// Allowed reports the actions w may take on c now, in the order of Actions.
func Allowed(w Who, c Case) []Action {
	var out []Action
	for _, a := range Actions {
		if _, err := Decide(w, c, a); err == nil {
			out = append(out, a)
		}
	}
	return out
}

// Decide says where action a by w takes case c, or why it may not be taken:
// a conflict when the case's state does not allow the action, forbidden
// when the state does but w may not take it. It checks who and when, not
// the input; see Input.check.
func Decide(w Who, c Case, a Action) (State, error) {
	const op = "cases.Decide"
	r, ok := rules[a]
	if !ok {
		return "", errs.Fields(op, map[string]string{"action": "case.error.action"})
	}
	if !slices.Contains(r.from, c.State) {
		return "", errs.E(errs.Conflict, op, "case.error.state", errs.Key("case.action."+string(a)), errs.Key("case.state."+string(c.State)))
	}
	if !r.who(w, c) {
		return "", errs.E(errs.Forbidden, op, "case.error.not_allowed", errs.Key("case.action."+string(a)))
	}
	switch {
	case a == Resume:
		return c.SuspendedFrom, nil
	case r.to == "":
		return c.State, nil
	}
	return r.to, nil
}

// stageOf is the timed stage a case in state s is in, "" when no clock runs.
func stageOf(s State) catalog.Stage {
	switch s {
	case Reported:
		return catalog.Verify
	case Verified, Accepted:
		return catalog.Register
	case Registered:
		return catalog.Dispatch
	case Dispatched:
		return catalog.Sign
	case Handling:
		return catalog.Handle
	case Handled:
		return catalog.Check
	case Checked:
		return stageClose
	}
	return ""
}

// stageClose is the duty chief's window for closing a checked case; it uses
// the category's register limit.
const stageClose catalog.Stage = "close"
