// Package openapi builds OpenAPI 3.1 documents from a table of operations
// and the Go types the handlers really encode. Schemas are derived from the
// types by reflection, following encoding/json's rules (tags, omitempty,
// embedded structs, nil slices as null), so the document cannot drift from
// the code by hand; the tests then check it against real responses too.
package openapi

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"time"
	"unicode"
)

// Schema is a JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1).
type Schema = map[string]any

// Document is an OpenAPI 3.1 document under construction.
type Document struct {
	Title, Version, Description string
	Servers                     []string
	Tags                        []Tag
	Ops                         []Op
	// SecuritySchemes are the components' security schemes by name.
	SecuritySchemes map[string]any

	schemas map[string]Schema
	names   map[reflect.Type]string
}

// Tag groups operations on the reference page.
type Tag struct {
	Name, Description string
}

// Op is one operation: a method on a path.
type Op struct {
	Method, Path string
	ID           string
	Tag          string
	Summary      string
	Description  string
	// Scope is the API token scope the operation needs ("read", "write",
	// "open311"); "" marks an operation open to anyone.
	Scope  string
	Params []Param
	// Body is the request body, nil for none.
	Body *Body
	// Responses by status code. Error responses are added by Document from
	// ErrorStatuses.
	Responses map[int]Response
	// Errors lists the error statuses the operation may answer besides the
	// ones every authenticated operation may (401, 403, 429, 503).
	Errors []int
}

// Param is a path or query parameter.
type Param struct {
	Name, In, Description string
	Required              bool
	Schema                Schema
}

// Body is a request body.
type Body struct {
	Description string
	Required    bool
	// Content by media type.
	Content map[string]Schema
}

// Response is a response: a description and, unless empty, content by
// media type.
type Response struct {
	Description string
	Content     map[string]Schema
	Headers     map[string]Schema
}

// New returns an empty document.
func New(title, version, description string) *Document {
	return &Document{Title: title, Version: version, Description: description,
		schemas: map[string]Schema{}, names: map[reflect.Type]string{}}
}

// Add appends operations.
func (d *Document) Add(ops ...Op) { d.Ops = append(d.Ops, ops...) }

// Define adds a named schema to the components, for shapes that are not Go
// types (hand-built maps), and returns a reference to it.
func (d *Document) Define(name string, s Schema) Schema {
	d.schemas[name] = s
	return Ref(name)
}

// Ref is a reference to a named component schema.
func Ref(name string) Schema { return Schema{"$ref": "#/components/schemas/" + name} }

// Of returns the schema of the JSON encoding of v's type: a reference to a
// component for named struct types, inline otherwise.
func (d *Document) Of(v any) Schema {
	return d.schemaOf(reflect.TypeOf(v))
}

var (
	timeType      = reflect.TypeFor[time.Time]()
	rawType       = reflect.TypeFor[json.RawMessage]()
	marshalerType = reflect.TypeFor[json.Marshaler]()
)

func (d *Document) schemaOf(t reflect.Type) Schema {
	if t == nil {
		return Schema{}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return Schema{"type": "string", "format": "date-time"}
	case t == rawType:
		return Schema{}
	case t.Implements(marshalerType) || reflect.PointerTo(t).Implements(marshalerType):
		// A type that encodes itself could be anything; say so rather
		// than guess.
		return Schema{}
	}
	switch t.Kind() {
	case reflect.Bool:
		return Schema{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return Schema{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return Schema{"type": "number"}
	case reflect.String:
		return Schema{"type": "string"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return Schema{"type": "string", "contentEncoding": "base64"}
		}
		return Schema{"type": "array", "items": d.schemaOf(t.Elem())}
	case reflect.Map:
		return Schema{"type": "object", "additionalProperties": d.schemaOf(t.Elem())}
	case reflect.Interface:
		return Schema{}
	case reflect.Struct:
		if t.Name() == "" {
			return d.structSchema(t)
		}
		name := d.nameOf(t)
		if _, ok := d.schemas[name]; !ok {
			d.schemas[name] = Schema{} // a placeholder stops recursion
			d.schemas[name] = d.structSchema(t)
		}
		return Ref(name)
	}
	panic(fmt.Sprintf("openapi: no schema for %s", t))
}

// nameOf names a struct type's component after its package and name:
// cases.Item is CasesItem. Two types with one name is a programming error.
func (d *Document) nameOf(t reflect.Type) string {
	if n, ok := d.names[t]; ok {
		return n
	}
	pkg := t.PkgPath()
	if i := strings.LastIndexByte(pkg, '/'); i >= 0 {
		pkg = pkg[i+1:]
	}
	name := t.Name()
	if i := strings.IndexByte(name, '['); i >= 0 {
		name = name[:i] // generic instances are named by their callers
	}
	n := upperFirst(pkg) + upperFirst(name)
	for other, on := range d.names {
		if on == n && other != t {
			panic("openapi: two types named " + n)
		}
	}
	d.names[t] = n
	return n
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// structSchema follows encoding/json: exported fields by their tag names,
// embedded structs' fields promoted, omitempty fields optional, fields that
// encode nil (slices, maps, pointers without omitempty) nullable.
func (d *Document) structSchema(t reflect.Type) Schema {
	type field struct {
		schema   Schema
		required bool
		depth    int
		tagged   bool
		clash    bool
	}
	fields := map[string]*field{}
	var walk func(t reflect.Type, depth int)
	walk = func(t reflect.Type, depth int) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			ft := f.Type
			if f.Anonymous && name == "" {
				et := ft
				if et.Kind() == reflect.Pointer {
					et = et.Elem()
				}
				if et.Kind() == reflect.Struct {
					walk(et, depth+1)
					continue
				}
			}
			if !f.IsExported() {
				continue
			}
			tagged := name != ""
			if name == "" {
				name = f.Name
			}
			// encoding/json: the shallowest field of a name wins, a tagged
			// one over an untagged one at the same depth; two equals cancel
			// each other out.
			if prev, ok := fields[name]; ok {
				switch {
				case prev.depth < depth, prev.depth == depth && prev.tagged && !tagged:
					continue
				case prev.depth == depth && prev.tagged == tagged:
					prev.clash = true
					continue
				}
			}
			omit := strings.Contains(","+opts+",", ",omitempty,") || strings.Contains(","+opts+",", ",omitzero,")
			var s Schema
			if strings.Contains(","+opts+",", ",string,") {
				s = Schema{"type": "string"}
			} else {
				s = d.schemaOf(ft)
			}
			if !omit && nilable(ft) {
				s = Nullable(s)
			}
			if doc := f.Tag.Get("doc"); doc != "" {
				s = withDescription(s, doc)
			}
			fields[name] = &field{schema: s, required: !omit, depth: depth, tagged: tagged}
		}
	}
	walk(t, 0)
	props := Schema{}
	var required []string
	for name, f := range fields {
		if f.clash {
			continue
		}
		props[name] = f.schema
		if f.required {
			required = append(required, name)
		}
	}
	out := Schema{"type": "object", "properties": props, "additionalProperties": false}
	if len(required) > 0 {
		sort.Strings(required)
		out["required"] = required
	}
	return out
}

func nilable(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		return t != rawType // RawMessage is described as anything already
	}
	return false
}

// Nullable lets s also be null.
func Nullable(s Schema) Schema {
	if len(s) == 0 {
		return s // anything already includes null
	}
	if typ, ok := s["type"].(string); ok && len(s) <= 3 {
		c := Schema{}
		for k, v := range s {
			c[k] = v
		}
		c["type"] = []string{typ, "null"}
		return c
	}
	return Schema{"anyOf": []any{s, Schema{"type": "null"}}}
}

func withDescription(s Schema, doc string) Schema {
	if _, isRef := s["$ref"]; isRef {
		// Siblings of $ref are allowed in 3.1; keep the reference intact.
		return Schema{"allOf": []any{s}, "description": doc}
	}
	c := Schema{}
	for k, v := range s {
		c[k] = v
	}
	c["description"] = doc
	return c
}

// Object builds an inline object schema from properties; the names in
// required must be present, and no others are allowed.
func Object(props map[string]Schema, required ...string) Schema {
	p := Schema{}
	for k, v := range props {
		p[k] = v
	}
	out := Schema{"type": "object", "properties": p, "additionalProperties": false}
	if len(required) > 0 {
		sort.Strings(required)
		out["required"] = required
	}
	return out
}

// Array is a list of items.
func Array(items Schema) Schema { return Schema{"type": "array", "items": items} }

// String, Integer, Boolean and Number are the simple types; String may
// carry a format.
func String(format ...string) Schema {
	s := Schema{"type": "string"}
	if len(format) > 0 {
		s["format"] = format[0]
	}
	return s
}

// Integer is the integer type.
func Integer() Schema { return Schema{"type": "integer"} }

// Boolean is the boolean type.
func Boolean() Schema { return Schema{"type": "boolean"} }

// Number is the number type.
func Number() Schema { return Schema{"type": "number"} }

// Enum is a string from a fixed set.
func Enum(values ...string) Schema { return Schema{"type": "string", "enum": values} }

// Schemas returns the named component schemas collected so far.
func (d *Document) Schemas() map[string]Schema { return d.schemas }

// Operation finds an operation by method and path.
func (d *Document) Operation(method, path string) (Op, bool) {
	for _, o := range d.Ops {
		if o.Method == method && o.Path == path {
			return o, true
		}
	}
	return Op{}, false
}
