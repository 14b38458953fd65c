package openapi

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

type inner struct {
	N int `json:"n"`
}

type sample struct {
	inner
	Name    string            `json:"name"`
	Note    string            `json:"note,omitempty"`
	At      time.Time         `json:"at"`
	When    *time.Time        `json:"when,omitempty"`
	Tags    []string          `json:"tags"`
	Counts  map[string]int    `json:"counts,omitempty"`
	Next    *inner            `json:"next"`
	Raw     json.RawMessage   `json:"raw,omitempty"`
	Skipped string            `json:"-"`
	NoTag   bool              // untagged: the Go name is the JSON name
	ID      int64             `json:"id,string"`
	Fields  map[string]string `json:"fields"`
	hidden  int               // unexported: never encoded
}

var _ = sample{hidden: 0}

// The schemas follow encoding/json: promoted fields, tag names, optional
// omitempty fields, nullable nil-able fields, and nothing else allowed.
func TestSchemasFollowEncodingJSON(t *testing.T) {
	d := New("t", "1", "")
	ref := d.Of(sample{})
	if ref["$ref"] != "#/components/schemas/OpenapiSample" {
		t.Fatalf("ref %v", ref)
	}
	s := d.Schemas()["OpenapiSample"]
	props := s["properties"].(Schema)
	want := map[string]Schema{
		"n":      {"type": "integer"},
		"name":   {"type": "string"},
		"note":   {"type": "string"},
		"at":     {"type": "string", "format": "date-time"},
		"when":   {"type": "string", "format": "date-time"},
		"tags":   {"type": []string{"array", "null"}, "items": Schema{"type": "string"}},
		"counts": {"type": "object", "additionalProperties": Schema{"type": "integer"}},
		"next":   {"anyOf": []any{Ref("OpenapiInner"), Schema{"type": "null"}}},
		"raw":    {},
		"NoTag":  {"type": "boolean"},
		"id":     {"type": "string"},
		"fields": {"type": []string{"object", "null"}, "additionalProperties": Schema{"type": "string"}},
	}
	if len(props) != len(want) {
		t.Fatalf("properties %v", props)
	}
	for k, w := range want {
		if !reflect.DeepEqual(props[k], w) {
			t.Errorf("%s: %#v, want %#v", k, props[k], w)
		}
	}
	req := s["required"].([]string)
	if !reflect.DeepEqual(req, []string{"NoTag", "at", "fields", "id", "n", "name", "next", "tags"}) {
		t.Errorf("required %v", req)
	}
	if s["additionalProperties"] != false {
		t.Error("a struct schema allows unknown properties")
	}
}

type node struct {
	Children []node `json:"children,omitempty"`
}

func TestRecursiveTypesEndInReferences(t *testing.T) {
	d := New("t", "1", "")
	d.Of(node{})
	items := d.Schemas()["OpenapiNode"]["properties"].(Schema)["children"].(Schema)["items"]
	if !reflect.DeepEqual(items, Ref("OpenapiNode")) {
		t.Fatalf("items %v", items)
	}
}

func TestEveryPathParameterIsDeclaredAndErrorsAreAdded(t *testing.T) {
	d := New("t", "1", "")
	d.Add(Op{Method: "GET", Path: "/a/{id}/b/{name}", ID: "x", Tag: "t", Scope: "read",
		Params: []Param{{Name: "id", In: "path", Schema: Integer()}}, Responses: map[int]Response{200: {Description: "ok"}}})
	m := d.Map()
	op := m["paths"].(map[string]any)["/a/{id}/b/{name}"].(map[string]any)["get"].(map[string]any)
	ps := op["parameters"].([]any)
	if len(ps) != 2 || ps[1].(map[string]any)["name"] != "name" || ps[1].(map[string]any)["required"] != true {
		t.Fatalf("parameters %v", ps)
	}
	rs := op["responses"].(map[string]any)
	for _, c := range []string{"200", "401", "403", "429", "503"} {
		if rs[c] == nil {
			t.Errorf("no %s response", c)
		}
	}
	if got := PathParams("/x/{a}/y/{b...}"); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("PathParams %v", got)
	}
}

type base struct {
	ID    int    `json:"id"`
	Phone string `json:"phone"`
}

type shadow struct {
	base
	Phone string `json:"phone"` // the shallower field wins
}

func TestAShallowerFieldShadowsAnEmbeddedOne(t *testing.T) {
	d := New("t", "1", "")
	d.Of(shadow{})
	s := d.Schemas()["OpenapiShadow"]
	if req := s["required"].([]string); !reflect.DeepEqual(req, []string{"id", "phone"}) {
		t.Fatalf("required %v", req)
	}
}
