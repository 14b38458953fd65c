package openapi

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// ErrorSchema is the name of the error body's component, set by the caller
// with Define before rendering.
const ErrorSchema = "Error"

// commonErrors are the statuses any operation behind a token may answer.
var commonErrors = []int{http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests, http.StatusServiceUnavailable}

// MarshalJSON renders the document as OpenAPI 3.1.
func (d *Document) MarshalJSON() ([]byte, error) {
	return json.Marshal(d.Map())
}

// Map is the document as plain JSON values.
func (d *Document) Map() map[string]any {
	paths := map[string]any{}
	for _, o := range d.Ops {
		item, _ := paths[o.Path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[o.Path] = item
		}
		item[strings.ToLower(o.Method)] = d.operation(o)
	}
	tags := make([]any, 0, len(d.Tags))
	for _, t := range d.Tags {
		tags = append(tags, map[string]any{"name": t.Name, "description": t.Description})
	}
	servers := make([]any, 0, len(d.Servers))
	for _, s := range d.Servers {
		servers = append(servers, map[string]any{"url": s})
	}
	schemas := map[string]any{}
	for k, v := range d.schemas {
		schemas[k] = v
	}
	comps := map[string]any{"schemas": schemas}
	if len(d.SecuritySchemes) > 0 {
		comps["securitySchemes"] = d.SecuritySchemes
	}
	out := map[string]any{
		"openapi":           "3.1.0",
		"jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
		"info":              map[string]any{"title": d.Title, "version": d.Version, "description": d.Description},
		"paths":             paths,
		"components":        comps,
		"tags":              tags,
	}
	if len(servers) > 0 {
		out["servers"] = servers
	}
	return out
}

func (d *Document) operation(o Op) map[string]any {
	op := map[string]any{"operationId": o.ID, "summary": o.Summary, "tags": []string{o.Tag}}
	if o.Description != "" {
		op["description"] = o.Description
	}
	if o.Scope == "" {
		op["security"] = []any{}
	} else {
		op["security"] = []any{
			map[string]any{"bearer": []string{o.Scope}},
			map[string]any{"session": []string{}},
		}
	}
	var params []any
	for _, p := range d.allParams(o) {
		m := map[string]any{"name": p.Name, "in": p.In, "schema": p.Schema}
		if p.Description != "" {
			m["description"] = p.Description
		}
		if p.Required || p.In == "path" {
			m["required"] = true
		}
		params = append(params, m)
	}
	if len(params) > 0 {
		op["parameters"] = params
	}
	if o.Body != nil {
		content := map[string]any{}
		for mt, s := range o.Body.Content {
			content[mt] = map[string]any{"schema": s}
		}
		b := map[string]any{"content": content, "required": o.Body.Required}
		if o.Body.Description != "" {
			b["description"] = o.Body.Description
		}
		op["requestBody"] = b
	}
	resps := map[string]any{}
	for code, r := range d.responses(o) {
		m := map[string]any{"description": r.Description}
		if len(r.Content) > 0 {
			content := map[string]any{}
			for mt, s := range r.Content {
				content[mt] = map[string]any{"schema": s}
			}
			m["content"] = content
		}
		if len(r.Headers) > 0 {
			hs := map[string]any{}
			for h, s := range r.Headers {
				hs[h] = map[string]any{"schema": s}
			}
			m["headers"] = hs
		}
		resps[strconv.Itoa(code)] = m
	}
	op["responses"] = resps
	return op
}

// allParams adds the path parameters the path names but the operation does
// not describe, so that every {name} is declared.
func (d *Document) allParams(o Op) []Param {
	have := map[string]bool{}
	for _, p := range o.Params {
		if p.In == "path" {
			have[p.Name] = true
		}
	}
	out := append([]Param(nil), o.Params...)
	for _, name := range PathParams(o.Path) {
		if !have[name] {
			out = append(out, Param{Name: name, In: "path", Required: true, Schema: String()})
		}
	}
	return out
}

// PathParams are the {names} of a path, in order.
func PathParams(path string) []string {
	var out []string
	for {
		i := strings.IndexByte(path, '{')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(path[i:], '}')
		if j < 0 {
			return out
		}
		out = append(out, strings.TrimSuffix(path[i+1:i+j], "..."))
		path = path[i+j+1:]
	}
}

// Responses is every response the operation documents, errors included.
func (d *Document) Responses(o Op) map[int]Response { return d.responses(o) }

func (d *Document) responses(o Op) map[int]Response {
	out := map[int]Response{}
	for c, r := range o.Responses {
		out[c] = r
	}
	errStatuses := append([]int{}, o.Errors...)
	if o.Scope != "" {
		errStatuses = append(errStatuses, commonErrors...)
	} else {
		errStatuses = append(errStatuses, http.StatusTooManyRequests, http.StatusServiceUnavailable)
	}
	sort.Ints(errStatuses)
	for _, c := range errStatuses {
		if _, ok := out[c]; ok {
			continue
		}
		r := Response{Description: http.StatusText(c), Content: map[string]Schema{"application/json": Ref(ErrorSchema)}}
		if c == http.StatusTooManyRequests || c == http.StatusServiceUnavailable {
			r.Headers = map[string]Schema{"Retry-After": Integer()}
		}
		out[c] = r
	}
	return out
}
