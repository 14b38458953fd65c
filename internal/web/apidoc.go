package web

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/openapi"
)

// apiDocData is the API reference page: the OpenAPI document as people
// read it, grouped by tag, with every schema it names.
type apiDocData struct {
	Title, Description, JSONURL string
	Groups                      []apiDocGroup
	Schemas                     []apiDocSchema
}

type apiDocGroup struct {
	Name, Description string
	Ops               []apiDocOp
}

type apiDocOp struct {
	Anchor, Method, Path, Summary, Description, Scope string
	Params                                            []apiDocField
	Body                                              []apiDocContent
	Responses                                         []apiDocResponse
}

type apiDocField struct {
	Name, In, Type, Description string
	Required                    bool
}

type apiDocContent struct {
	MediaType string
	Type      apiDocType
}

type apiDocResponse struct {
	Status      string
	Description string
	Content     []apiDocContent
}

// apiDocType is a schema's name in prose, with a link when it names a
// component schema.
type apiDocType struct {
	Text, Link string
}

type apiDocSchema struct {
	Name   string
	Fields []apiDocSchemaField
}

type apiDocSchemaField struct {
	Name     string
	Type     apiDocType
	Required bool
	Note     string
}

// apiDocPage handles GET /developers/api: the reference of /api/v1, from
// the same document that /api/v1/openapi.json serves.
func (w *Web) apiDocPage(rw http.ResponseWriter, r *http.Request) error {
	if w.apiDoc == nil {
		return errs.E(errs.Unavailable, "web.apiDocPage", "error.unavailable")
	}
	p := w.newPage(r, "apidoc", "/developers/api")
	p.Data = buildAPIDoc(w.apiDoc)
	return w.render(rw, http.StatusOK, "apidoc", p)
}

func buildAPIDoc(d *openapi.Document) apiDocData {
	out := apiDocData{Title: d.Title, Description: d.Description, JSONURL: "/api/v1/openapi.json"}
	byTag := map[string]*apiDocGroup{}
	for _, t := range d.Tags {
		out.Groups = append(out.Groups, apiDocGroup{Name: t.Name, Description: t.Description})
	}
	for i := range out.Groups {
		byTag[out.Groups[i].Name] = &out.Groups[i]
	}
	for _, o := range d.Ops {
		g := byTag[o.Tag]
		if g == nil {
			out.Groups = append(out.Groups, apiDocGroup{Name: o.Tag})
			g = &out.Groups[len(out.Groups)-1]
			byTag[o.Tag] = g
		}
		op := apiDocOp{Anchor: "op-" + o.ID, Method: o.Method, Path: o.Path, Summary: o.Summary, Description: o.Description, Scope: o.Scope}
		for _, p := range o.Params {
			op.Params = append(op.Params, apiDocField{Name: p.Name, In: p.In, Type: typeOf(p.Schema).Text,
				Description: p.Description, Required: p.Required || p.In == "path"})
		}
		for _, name := range openapi.PathParams(o.Path) {
			if !hasParam(op.Params, name) {
				op.Params = append(op.Params, apiDocField{Name: name, In: "path", Type: "string", Required: true})
			}
		}
		if o.Body != nil {
			op.Body = contents(o.Body.Content)
		}
		resps := d.Responses(o)
		codes := make([]int, 0, len(resps))
		for c := range resps {
			codes = append(codes, c)
		}
		sort.Ints(codes)
		for _, c := range codes {
			rs := resps[c]
			op.Responses = append(op.Responses, apiDocResponse{Status: strconv.Itoa(c), Description: rs.Description, Content: contents(rs.Content)})
		}
		g.Ops = append(g.Ops, op)
		// Re-take the pointers: appending to out.Groups may have moved them.
		for i := range out.Groups {
			byTag[out.Groups[i].Name] = &out.Groups[i]
		}
	}
	names := make([]string, 0, len(d.Schemas()))
	for n := range d.Schemas() {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := d.Schemas()[n]
		sc := apiDocSchema{Name: n}
		props, _ := s["properties"].(openapi.Schema)
		req := map[string]bool{}
		if rs, ok := s["required"].([]string); ok {
			for _, r := range rs {
				req[r] = true
			}
		}
		fields := make([]string, 0, len(props))
		for f := range props {
			fields = append(fields, f)
		}
		sort.Strings(fields)
		for _, f := range fields {
			ps, _ := props[f].(openapi.Schema)
			note, _ := ps["description"].(string)
			sc.Fields = append(sc.Fields, apiDocSchemaField{Name: f, Type: typeOf(ps), Required: req[f], Note: note})
		}
		out.Schemas = append(out.Schemas, sc)
	}
	return out
}

func hasParam(ps []apiDocField, name string) bool {
	for _, p := range ps {
		if p.Name == name && p.In == "path" {
			return true
		}
	}
	return false
}

func contents(m map[string]openapi.Schema) []apiDocContent {
	mts := make([]string, 0, len(m))
	for mt := range m {
		mts = append(mts, mt)
	}
	sort.Strings(mts)
	out := make([]apiDocContent, 0, len(mts))
	for _, mt := range mts {
		out = append(out, apiDocContent{MediaType: mt, Type: typeOf(m[mt])})
	}
	return out
}

// typeOf names a schema for a reader: a component's name, "array of X",
// "string (date-time)", "one of a | b".
func typeOf(s openapi.Schema) apiDocType {
	if s == nil {
		return apiDocType{Text: "any"}
	}
	if ref, ok := s["$ref"].(string); ok {
		name := ref[strings.LastIndexByte(ref, '/')+1:]
		return apiDocType{Text: name, Link: "#schema-" + name}
	}
	for _, k := range []string{"anyOf", "oneOf", "allOf"} {
		if alts, ok := s[k].([]any); ok {
			var parts []string
			link := ""
			for _, a := range alts {
				as, _ := a.(openapi.Schema)
				t := typeOf(as)
				if t.Text == "null" {
					continue
				}
				parts = append(parts, t.Text)
				if link == "" {
					link = t.Link
				}
			}
			sep := " | "
			if k == "allOf" {
				sep = " & "
			}
			return apiDocType{Text: strings.Join(parts, sep), Link: link}
		}
	}
	var text string
	switch t := s["type"].(type) {
	case string:
		text = t
	case []string:
		text = strings.Join(t, " | ")
	default:
		text = "any"
	}
	switch {
	case s["enum"] != nil:
		if vs, ok := s["enum"].([]string); ok {
			text = "one of " + strings.Join(vs, ", ")
		}
	case strings.HasPrefix(text, "array"):
		items, _ := s["items"].(openapi.Schema)
		it := typeOf(items)
		return apiDocType{Text: strings.Replace(text, "array", "array of "+it.Text, 1), Link: it.Link}
	case text == "object" && s["additionalProperties"] != nil && s["properties"] == nil:
		if ap, ok := s["additionalProperties"].(openapi.Schema); ok {
			it := typeOf(ap)
			return apiDocType{Text: "map of " + it.Text, Link: it.Link}
		}
	}
	if f, ok := s["format"].(string); ok {
		text = fmt.Sprintf("%s (%s)", text, f)
	}
	return apiDocType{Text: text}
}
