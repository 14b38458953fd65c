// Package catalog holds what a case can be about and who handles it: the
// national catalogue of managed components (部件) and matters (事项) of
// GB/T 47678.5 with the community-governance categories a platform adds in
// a reserved range, each with its time limits, its questions to the
// reporter and its default department; and the departments with their
// members. Every intake reads a category, so the service keeps an in-memory
// snapshot that follows changes made on any node.
package catalog

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/errs"
)

// Kind says whether a category is a component (a thing in the street, 部件)
// or a matter (an event or behaviour, 事项). The same code exists for a
// component and for the matter about it, so (kind, code) is the key.
type Kind string

// The kinds.
const (
	Component Kind = "component" // 部件
	Matter    Kind = "matter"    // 事项
)

// Kinds lists the kinds in their display order.
var Kinds = []Kind{Component, Matter}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return k == Component || k == Matter }

// refPrefix is the letter that starts a Ref of a kind.
func (k Kind) refPrefix() string {
	if k == Component {
		return "C"
	}
	return "M"
}

// Codes: 2 digits of major class and 3 of minor class. Major classes 90–99
// are reserved for local (community-governance) matters, which the national
// standard leaves free.
const (
	codeDigits  = 5
	groupDigits = 2
	localFirst  = 90
)

// ValidCode reports whether code is a 5-digit category code.
func ValidCode(code string) bool { return len(code) == codeDigits && digits(code) }

// LocalCode reports whether a category code lies in the local range 90–99.
func LocalCode(code string) bool {
	if len(code) < groupDigits || !digits(code[:groupDigits]) {
		return false
	}
	n, _ := strconv.Atoi(code[:groupDigits])
	return n >= localFirst
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// ParseRef splits a Ref ("C01001", "M06010") into its kind and code.
func ParseRef(ref string) (Kind, string, bool) {
	if len(ref) != 1+codeDigits || !ValidCode(ref[1:]) {
		return "", "", false
	}
	switch ref[0] {
	case 'C', 'c':
		return Component, ref[1:], true
	case 'M', 'm':
		return Matter, ref[1:], true
	}
	return "", "", false
}

// Urgency picks a set of time limits: more urgent cases get less time.
type Urgency string

// The urgency levels.
const (
	Urgent   Urgency = "urgent"   // 特急
	Pressing Urgency = "pressing" // 紧急
	Normal   Urgency = "normal"   // 一般
)

// Urgencies lists the urgency levels from the most urgent.
var Urgencies = []Urgency{Urgent, Pressing, Normal}

// Valid reports whether u is a known urgency.
func (u Urgency) Valid() bool { return slices.Contains(Urgencies, u) }

// Stage is a timed stage of a case: each has its own time limit.
type Stage string

// The timed stages, in workflow order (DOMAIN.md §4).
const (
	Verify   Stage = "verify"   // 核实: the grid worker confirms a public report
	Register Stage = "register" // 立案: the centre accepts and registers it
	Dispatch Stage = "dispatch" // 派遣: the dispatcher sends it to a department
	Sign     Stage = "sign"     // 签收: the department signs for it
	Handle   Stage = "handle"   // 处置: the department handles it
	Check    Stage = "check"    // 核查: the grid worker checks the result on site
)

// Stages lists the timed stages in workflow order.
var Stages = []Stage{Verify, Register, Dispatch, Sign, Handle, Check}

// Valid reports whether s is a known stage.
func (s Stage) Valid() bool { return slices.Contains(Stages, s) }

// Limits are a category's time limits by urgency and stage, counted on the
// working calendar.
type Limits map[Urgency]map[Stage]calendar.Limit

// For returns the limit of a stage at an urgency; false when there is none.
func (l Limits) For(u Urgency, s Stage) (calendar.Limit, bool) {
	lim, ok := l[u][s]
	return lim, ok
}

func (l Limits) set(u Urgency, s Stage, lim calendar.Limit) {
	if l[u] == nil {
		l[u] = map[Stage]calendar.Limit{}
	}
	l[u][s] = lim
}

func (l Limits) clone() Limits {
	if l == nil {
		return nil
	}
	out := make(Limits, len(l))
	for u, m := range l {
		mm := make(map[Stage]calendar.Limit, len(m))
		for s, lim := range m {
			mm[s] = lim
		}
		out[u] = mm
	}
	return out
}

// withDefaults returns l completed with the default limits for every
// urgency and stage it lacks, so that a stored category always has a full
// table and the workflow never has to guess.
func (l Limits) withDefaults() Limits {
	out := DefaultLimits()
	for u, m := range l {
		for s, lim := range m {
			out.set(u, s, lim)
		}
	}
	return out
}

func hours(n int) calendar.Limit { return calendar.Limit{Amount: n, Unit: calendar.Hours} }
func days(n int) calendar.Limit  { return calendar.Limit{Amount: n, Unit: calendar.Days} }

// DefaultLimits returns the time limits a category has unless it sets its
// own, in working time on the calendar (a fresh map each call):
//
//	stage      normal           pressing        urgent
//	verify     2 working hours  1 hour          1 hour
//	register   2 hours          1 hour          1 hour
//	dispatch   2 hours          1 hour          1 hour
//	sign       1 hour           1 hour          1 hour
//	handle     5 working days   1 working day   4 working hours
//	check      4 hours          2 hours         1 hour
//
// Register covers both accepting (受理) and registering (立案). Categories
// may override any entry; the built-in catalogue does so for the handling
// limits DOMAIN.md §4 names (see data/limits.json).
func DefaultLimits() Limits {
	return Limits{
		Normal:   {Verify: hours(2), Register: hours(2), Dispatch: hours(2), Sign: hours(1), Handle: days(5), Check: hours(4)},
		Pressing: {Verify: hours(1), Register: hours(1), Dispatch: hours(1), Sign: hours(1), Handle: days(1), Check: hours(2)},
		Urgent:   {Verify: hours(1), Register: hours(1), Dispatch: hours(1), Sign: hours(1), Handle: hours(4), Check: hours(1)},
	}
}

// Names is a name in Chinese and English.
type Names struct {
	Zh string `json:"zh"`
	En string `json:"en,omitempty"`
}

// In returns the name in lang ("zh-CN" or "en"), falling back to the other
// language when that one is empty.
func (n Names) In(lang string) string {
	if strings.HasPrefix(strings.ToLower(lang), "en") {
		if n.En != "" {
			return n.En
		}
		return n.Zh
	}
	if n.Zh != "" {
		return n.Zh
	}
	return n.En
}

// Category is a kind of case: a component or matter of the national
// catalogue, or a local matter.
type Category struct {
	Kind       Kind        `json:"kind"`
	Code       string      `json:"code"`
	Group      string      `json:"group"` // major class code: the first two digits of Code
	GroupName  Names       `json:"group_name"`
	Name       Names       `json:"name"`
	Department string      `json:"department"` // default responsible department's code; "" for none
	Public     bool        `json:"public"`     // residents may choose it when they report
	Active     bool        `json:"active"`     // inactive categories take no new cases
	Limits     Limits      `json:"limits"`
	Attributes []Attribute `json:"attributes"`
	Keywords   string      `json:"keywords,omitempty"` // extra words for search, comma-separated
}

// Ref is the category's reference: "C" + code for a component, "M" + code
// for a matter. It is the Open311 service_code and the key in URLs.
func (c Category) Ref() string { return c.Kind.refPrefix() + c.Code }

// Local reports whether the category is a local community-governance matter.
func (c Category) Local() bool { return c.Kind == Matter && LocalCode(c.Code) }

// clone copies the category deeply, so that callers can change what they
// receive without touching the shared snapshot.
func (c Category) clone() Category {
	c.Limits = c.Limits.clone()
	if c.Attributes != nil {
		attrs := make([]Attribute, len(c.Attributes))
		for i, a := range c.Attributes {
			a.Values = slices.Clone(a.Values)
			attrs[i] = a
		}
		c.Attributes = attrs
	}
	return c
}

// Datatype is the type of an answer, as Open311 GeoReport v2 names them.
type Datatype string

// The Open311 datatypes.
const (
	String          Datatype = "string"          // one line, at most 200 characters
	Number          Datatype = "number"          // a decimal number
	Datetime        Datatype = "datetime"        // RFC 3339, or "2006-01-02 15:04" in China time
	Text            Datatype = "text"            // several lines, at most 2,000 characters
	SingleValueList Datatype = "singlevaluelist" // one key of Values
	MultiValueList  Datatype = "multivaluelist"  // any keys of Values
)

// Datatypes lists the datatypes.
var Datatypes = []Datatype{String, Number, Datetime, Text, SingleValueList, MultiValueList}

// Valid reports whether d is a known datatype.
func (d Datatype) Valid() bool { return slices.Contains(Datatypes, d) }

// List reports whether answers are keys of a list of values.
func (d Datatype) List() bool { return d == SingleValueList || d == MultiValueList }

// Attribute is a question a category asks the reporter (an Open311 service
// definition attribute). A non-variable attribute is information shown to
// the reporter, not a question: it takes no answer.
type Attribute struct {
	Code        string   `json:"code"`
	Datatype    Datatype `json:"datatype"`
	Required    bool     `json:"required"`
	Variable    bool     `json:"variable"`
	Order       int      `json:"order"`
	Description Names    `json:"description"`
	Values      []Value  `json:"values,omitempty"`
}

// Value is one choice of a list attribute.
type Value struct {
	Key  string `json:"key"`
	Name Names  `json:"name"`
}

// Answer limits, in characters.
const (
	MaxStringAnswer = 200
	MaxTextAnswer   = 2000
	maxNumberAnswer = 40
)

var numberRE = regexp.MustCompile(`^[-+]?[0-9]+(\.[0-9]+)?$`)

// localDatetimeLayouts are the zone-less forms a datetime may take: typed by
// hand, and sent by an HTML datetime-local input.
var localDatetimeLayouts = []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05"}

// AnswerField is the name under which CheckAnswers reports a problem with
// the answer to attribute code, as Open311 names the form field.
func AnswerField(code string) string { return "attribute[" + code + "]" }

// CheckAnswers validates a reporter's answers to the category's questions,
// keyed by attribute code. It returns the answers normalized — trimmed,
// empty ones dropped, numbers without a plus sign, datetimes in RFC 3339,
// list keys without repeats — and the problems keyed by AnswerField(code)
// with an i18n message key; problems is nil when there are none. Answers to
// codes the category does not ask, or to non-variable attributes, are
// ignored, as Open311 servers do.
func (c Category) CheckAnswers(in map[string][]string) (map[string][]string, map[string]string) {
	out := map[string][]string{}
	var problems map[string]string
	bad := func(code, key string) {
		if problems == nil {
			problems = map[string]string{}
		}
		problems[AnswerField(code)] = key
	}
	for _, a := range c.Attributes {
		if !a.Variable {
			continue
		}
		var vals []string
		for _, v := range in[a.Code] {
			if v = strings.TrimSpace(v); v != "" {
				vals = append(vals, v)
			}
		}
		if len(vals) == 0 {
			if a.Required {
				bad(a.Code, "error.field.required")
			}
			continue
		}
		if len(vals) > 1 && a.Datatype != MultiValueList {
			bad(a.Code, "catalog.answer.single")
			continue
		}
		norm, key := a.check(vals)
		if key != "" {
			bad(a.Code, key)
			continue
		}
		out[a.Code] = norm
	}
	return out, problems
}

// check validates the non-empty answers to one attribute.
func (a Attribute) check(vals []string) ([]string, string) {
	for _, v := range vals {
		if !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return nil, "catalog.answer.invalid_text"
		}
	}
	v := vals[0]
	switch a.Datatype {
	case String:
		if utf8.RuneCountInString(v) > MaxStringAnswer {
			return nil, "error.field.too_long"
		}
		if strings.ContainsAny(v, "\r\n") {
			return nil, "catalog.answer.one_line"
		}
	case Text:
		if utf8.RuneCountInString(v) > MaxTextAnswer {
			return nil, "error.field.too_long"
		}
	case Number:
		if len(v) > maxNumberAnswer || !numberRE.MatchString(v) {
			return nil, "catalog.answer.number"
		}
		v = strings.TrimPrefix(v, "+")
	case Datetime:
		t, ok := parseDatetime(v)
		if !ok {
			return nil, "catalog.answer.datetime"
		}
		v = t.Format(time.RFC3339)
	case SingleValueList, MultiValueList:
		var keys []string
		for _, k := range vals {
			if !slices.ContainsFunc(a.Values, func(x Value) bool { return x.Key == k }) {
				return nil, "catalog.answer.unknown_value"
			}
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
		return keys, ""
	default:
		return nil, "catalog.answer.unknown_value"
	}
	return []string{v}, ""
}

// parseDatetime reads RFC 3339 (any offset) or a zone-less form in China
// Standard Time, the calendar's zone: reporters are in China.
func parseDatetime(s string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, t.Year() >= 1900
	}
	for _, layout := range localDatetimeLayouts {
		if t, err := time.ParseInLocation(layout, s, calendar.Location()); err == nil {
			return t, t.Year() >= 1900
		}
	}
	return time.Time{}, false
}

// Field limits of a category.
const (
	maxNameRunes     = 100
	maxNameEnRunes   = 200
	maxKeywordsRunes = 500
	maxAttributes    = 50
	maxValues        = 100
	maxValueKeyRunes = 100
	maxDescRunes     = 500
)

var (
	attributeCodeRE  = regexp.MustCompile(`^[A-Za-z0-9_]{1,40}$`)
	departmentCodeRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,39}$`)
)

// ValidDepartmentCode reports whether code has the form of a department
// code: lower-case letters, digits and hyphens, at most 40.
func ValidDepartmentCode(code string) bool { return departmentCodeRE.MatchString(code) }

// Validate checks a category as an administrator edits it; the error is
// errs.Invalid naming each bad field, or nil. Whether its department exists
// is checked by Service.Save, which can look it up.
func Validate(c Category) error {
	if f := validate(c); len(f) > 0 {
		return errs.Fields("catalog.Validate", f)
	}
	return nil
}

// validate returns the problems of a category by field name.
func validate(c Category) map[string]string {
	f := map[string]string{}
	if !c.Kind.Valid() {
		f["kind"] = "catalog.kind.unknown"
	}
	switch {
	case !ValidCode(c.Code):
		f["code"] = "catalog.code.format"
	case c.Kind == Component && LocalCode(c.Code):
		f["code"] = "catalog.code.local_component"
	case c.Group != c.Code[:groupDigits]:
		f["group"] = "catalog.group.mismatch"
	}
	checkNames(f, "group_name", c.GroupName)
	checkNames(f, "name", c.Name)
	if c.Department != "" && !ValidDepartmentCode(c.Department) {
		f["department"] = "catalog.department.unknown"
	}
	if utf8.RuneCountInString(c.Keywords) > maxKeywordsRunes {
		f["keywords"] = "error.field.too_long"
	}
	for u, m := range c.Limits {
		for s, lim := range m {
			if !u.Valid() || !s.Valid() || !lim.Valid() {
				f[fmt.Sprintf("limits.%s.%s", u, s)] = "catalog.limit.invalid"
			}
		}
	}
	if len(c.Attributes) > maxAttributes {
		f["attributes"] = "catalog.attribute.too_many"
		return f
	}
	seen := map[string]bool{}
	for i, a := range c.Attributes {
		p := fmt.Sprintf("attributes[%d].", i)
		switch {
		case !attributeCodeRE.MatchString(a.Code):
			f[p+"code"] = "catalog.attribute.code"
		case seen[a.Code]:
			f[p+"code"] = "catalog.attribute.duplicate"
		}
		seen[a.Code] = true
		if !a.Datatype.Valid() {
			f[p+"datatype"] = "catalog.attribute.datatype"
		}
		if a.Description.Zh == "" && a.Description.En == "" {
			f[p+"description"] = "error.field.required"
		} else if utf8.RuneCountInString(a.Description.Zh) > maxDescRunes || utf8.RuneCountInString(a.Description.En) > maxDescRunes {
			f[p+"description"] = "error.field.too_long"
		}
		switch {
		case a.Datatype.List() && len(a.Values) == 0:
			f[p+"values"] = "catalog.attribute.no_values"
		case !a.Datatype.List() && len(a.Values) > 0:
			f[p+"values"] = "catalog.attribute.values_not_list"
		case len(a.Values) > maxValues:
			f[p+"values"] = "catalog.attribute.too_many_values"
		}
		keys := map[string]bool{}
		for j, v := range a.Values {
			q := fmt.Sprintf("%svalues[%d].", p, j)
			switch {
			case v.Key == "" || v.Key != strings.TrimSpace(v.Key) || utf8.RuneCountInString(v.Key) > maxValueKeyRunes:
				f[q+"key"] = "catalog.value.key"
			case keys[v.Key]:
				f[q+"key"] = "catalog.value.duplicate"
			}
			keys[v.Key] = true
			checkNames(f, q+"name", v.Name)
		}
	}
	return f
}

// checkNames requires a Chinese name and bounds both.
func checkNames(f map[string]string, field string, n Names) {
	switch {
	case strings.TrimSpace(n.Zh) == "":
		f[field] = "error.field.required"
	case utf8.RuneCountInString(n.Zh) > maxNameRunes || utf8.RuneCountInString(n.En) > maxNameEnRunes:
		f[field] = "error.field.too_long"
	case !utf8.ValidString(n.Zh) || !utf8.ValidString(n.En):
		f[field] = "catalog.answer.invalid_text"
	}
}

// normalize trims what an editor typed and completes what may be left out:
// the group from the code, missing time limits from the defaults.
func (c Category) normalize() Category {
	c = c.clone()
	c.Code = strings.TrimSpace(c.Code)
	if c.Group == "" && len(c.Code) >= groupDigits {
		c.Group = c.Code[:groupDigits]
	}
	c.Name = trimNames(c.Name)
	c.GroupName = trimNames(c.GroupName)
	c.Department = strings.TrimSpace(c.Department)
	c.Keywords = strings.TrimSpace(c.Keywords)
	c.Limits = c.Limits.withDefaults()
	if c.Attributes == nil {
		c.Attributes = []Attribute{}
	}
	for i := range c.Attributes {
		a := &c.Attributes[i]
		a.Code = strings.TrimSpace(a.Code)
		a.Description = trimNames(a.Description)
		for j := range a.Values {
			a.Values[j].Name = trimNames(a.Values[j].Name)
		}
	}
	return c
}

// sortAttributes puts the questions in the order the reporter sees them.
// It runs after validation, whose field names index the attributes as the
// editor sent them.
func (c *Category) sortAttributes() {
	slices.SortStableFunc(c.Attributes, func(a, b Attribute) int { return a.Order - b.Order })
}

func trimNames(n Names) Names {
	return Names{Zh: strings.TrimSpace(n.Zh), En: strings.TrimSpace(n.En)}
}

// Group is a major class of one kind, as the catalogue lists it.
type Group struct {
	Kind  Kind   `json:"kind"`
	Code  string `json:"code"`
	Name  Names  `json:"name"`
	Local bool   `json:"local"`
	Count int    `json:"count"` // categories in the group, inactive ones included
}

// Department is an organisation that handles cases: a government bureau,
// the residents' committee, the property companies.
type Department struct {
	Code      string `json:"code"`
	Name      Names  `json:"name"`
	ScopePath string `json:"scope_path"` // the territory it serves; "" for the whole installation
	Active    bool   `json:"active"`
}
