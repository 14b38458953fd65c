package catalog

import (
	"embed"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/gridhall/gridhall/internal/calendar"
)

// The built-in data, embedded so that a fresh installation has a catalogue
// without any file beside the binary:
//
//   - urban-management-catalogue.csv: the national catalogue of GB/T
//     47678.5 as transcribed in the project's shared data, unchanged
//     (kind,code,major_code,major_name,name);
//   - names-en.csv: English names by Chinese name, for every component and
//     for the matters of major classes 06–10; a matter of classes 01–05 is
//     "<component>异常" and becomes "<component in English> problem";
//   - groups.json: English names and default departments of the major classes;
//   - local.json and questions.json: the local community-governance matters
//     in classes 90–95 and the questions some of them ask;
//   - limits.json: handling limits of named categories (DOMAIN.md §4);
//   - departments.json: the default departments.
//
//go:embed data
var dataFiles embed.FS

// matterSuffix ends the name of a matter about a component: 路灯 → 路灯异常.
const matterSuffix = "异常"

type groupData struct {
	Kind       Kind   `json:"kind"`
	Code       string `json:"code"`
	Name       Names  `json:"name"`
	Department string `json:"department"`
}

type localGroup struct {
	Code       string `json:"code"`
	Name       Names  `json:"name"`
	Department string `json:"department"`
	Categories []struct {
		Code       string   `json:"code"`
		Name       Names    `json:"name"`
		Department string   `json:"department"`
		Keywords   string   `json:"keywords"`
		Attributes []string `json:"attributes"` // codes of questions.json
	} `json:"categories"`
}

type limitData struct {
	Name   string         `json:"name"`
	Handle calendar.Limit `json:"handle"`
}

// builtin is the parsed built-in data. It is read-only once built.
type builtin struct {
	categories  []Category
	departments []Department
	groups      map[groupKey]groupData
	handle      map[string]calendar.Limit // handling limit by Chinese category name
	en          map[string]string         // English name by Chinese name
}

type groupKey struct {
	kind Kind
	code string
}

type catKey struct {
	kind Kind
	code string
}

// loadBuiltin parses the embedded data once per process; the result is
// never changed, and callers clone what they hand out.
var loadBuiltin = sync.OnceValues(parseBuiltin)

func parseBuiltin() (*builtin, error) {
	b := &builtin{groups: map[groupKey]groupData{}, handle: map[string]calendar.Limit{}}
	var groups []groupData
	var limits []limitData
	var local []localGroup
	var questions map[string]Attribute
	for name, v := range map[string]any{"groups.json": &groups, "limits.json": &limits, "local.json": &local,
		"questions.json": &questions, "departments.json": &b.departments} {
		raw, err := dataFiles.ReadFile("data/" + name)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(raw, v); err != nil {
			return nil, fmt.Errorf("catalog data %s: %w", name, err)
		}
	}
	for i := range b.departments {
		b.departments[i].Active = true
	}
	for _, g := range groups {
		b.groups[groupKey{g.Kind, g.Code}] = g
	}
	for _, l := range limits {
		b.handle[l.Name] = l.Handle
	}
	en, err := englishNames()
	if err != nil {
		return nil, err
	}
	b.en = en

	raw, err := dataFiles.ReadFile("data/urban-management-catalogue.csv")
	if err != nil {
		return nil, err
	}
	rows, problems := parseImport(raw)
	if len(problems) > 0 {
		return nil, &ImportError{Problems: problems}
	}
	for _, r := range rows {
		c := b.complete(r.cat)
		if c.Name.En = b.english(c.Name.Zh); c.Name.En == "" {
			return nil, fmt.Errorf("catalog data: no English name for %s %s", c.Ref(), c.Name.Zh)
		}
		b.categories = append(b.categories, c)
	}

	for _, g := range local {
		b.groups[groupKey{Matter, g.Code}] = groupData{Kind: Matter, Code: g.Code, Name: g.Name, Department: g.Department}
		for _, lc := range g.Categories {
			c := b.complete(Category{Kind: Matter, Code: lc.Code, Group: g.Code, GroupName: g.Name, Name: lc.Name,
				Department: lc.Department, Keywords: lc.Keywords})
			c.Attributes = []Attribute{}
			for _, q := range lc.Attributes {
				a, ok := questions[q]
				if !ok {
					return nil, fmt.Errorf("catalog data: %s asks unknown question %q", lc.Code, q)
				}
				a.Code = q
				a.Values = slices.Clone(a.Values)
				c.Attributes = append(c.Attributes, a)
			}
			c.sortAttributes()
			b.categories = append(b.categories, c)
		}
	}
	seen := map[catKey]bool{}
	for _, c := range b.categories {
		if err := Validate(c); err != nil {
			return nil, fmt.Errorf("catalog data %s: %w", c.Ref(), err)
		}
		if seen[catKey{c.Kind, c.Code}] {
			return nil, fmt.Errorf("catalog data: %s twice", c.Ref())
		}
		seen[catKey{c.Kind, c.Code}] = true
	}
	return b, nil
}

// englishNames reads names-en.csv: Chinese name → English name.
func englishNames() (map[string]string, error) {
	f, err := dataFiles.Open("data/names-en.csv")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = 2
	out := map[string]string{}
	for first := true; ; first = false {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("catalog data names-en.csv: %w", err)
		}
		if !first {
			out[rec[0]] = rec[1]
		}
	}
}

// english returns the English name of a category named zh in Chinese, or
// "" when the built-in data has none.
func (b *builtin) english(zh string) string {
	if n, ok := b.en[zh]; ok {
		return n
	}
	if stem, ok := strings.CutSuffix(zh, matterSuffix); ok && b.en[stem] != "" {
		return b.en[stem] + " problem"
	}
	return ""
}

// groupEnglish returns the English name of a group when the built-in data
// knows the group under the same Chinese name, else "".
func (b *builtin) groupEnglish(kind Kind, code, zh string) string {
	if g, ok := b.groups[groupKey{kind, code}]; ok && g.Name.Zh == zh {
		return g.Name.En
	}
	return ""
}

// complete fills in what a category takes from the built-in data when its
// source does not say: the group's English name and department, whether
// residents may choose it (every matter, no component: residents report
// problems, and each component has a matter about it), and its time limits.
func (b *builtin) complete(c Category) Category {
	if c.GroupName.En == "" {
		c.GroupName.En = b.groupEnglish(c.Kind, c.Group, c.GroupName.Zh)
	}
	if g, known := b.groups[groupKey{c.Kind, c.Group}]; known && c.Department == "" {
		c.Department = g.Department
	}
	c.Public = c.Kind == Matter
	c.Active = true
	if c.Limits == nil {
		c.Limits = b.limitsFor(c.Name.Zh)
	}
	if c.Attributes == nil {
		c.Attributes = []Attribute{}
	}
	return c
}

// limitsFor returns the default limits, with the handling limit of
// limits.json when the category's name is listed there. That limit is the
// normal one; pressing and urgent cases keep their own unless it is
// shorter, so that a more urgent case never gets more time.
func (b *builtin) limitsFor(nameZh string) Limits {
	l := DefaultLimits()
	h, ok := b.handle[nameZh]
	if !ok {
		return l
	}
	l.set(Normal, Handle, h)
	for _, u := range []Urgency{Pressing, Urgent} {
		// Duration(nil) counts eight-hour days: enough to order limits;
		// deadlines come from the real calendar.
		if cur, _ := l.For(u, Handle); h.Duration(nil) < cur.Duration(nil) {
			l.set(u, Handle, h)
		}
	}
	return l
}

// BuiltinCategories returns the built-in catalogue: the national
// catalogue's components and matters and the local matters, as Seed loads
// them.
func BuiltinCategories() ([]Category, error) {
	b, err := loadBuiltin()
	if err != nil {
		return nil, err
	}
	out := make([]Category, len(b.categories))
	for i, c := range b.categories {
		out[i] = c.clone()
	}
	return out, nil
}

// BuiltinDepartments returns the default departments Seed loads.
func BuiltinDepartments() ([]Department, error) {
	b, err := loadBuiltin()
	if err != nil {
		return nil, err
	}
	return slices.Clone(b.departments), nil
}
