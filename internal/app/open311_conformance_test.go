package app_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The team's JSON Schemas of every GeoReport v2 response shape, in
// internal/open311/testdata/schemas (draft 2020-12).
func open311Schemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	dir := filepath.Join("..", "open311", "testdata", "schemas")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) < 11 {
		t.Fatalf("schemas in %s: %v %v", dir, files, err)
	}
	c := jsonschema.NewCompiler()
	const base = "https://gridhall.example/open311/schemas/"
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := c.AddResource(base+filepath.Base(f), doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	out := map[string]*jsonschema.Schema{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		if out[name], err = c.Compile(base + filepath.Base(f)); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	return out
}

// georeport fetches one resource in both formats and checks each against
// the schema: JSON as sent; XML for well-formedness, its declaration, the
// root, no namespaces or attributes, no empty elements, and then read back
// by the Spark convention into the JSON shape, which must match the schema
// and equal what JSON said. It answers the JSON document.
type georeport struct {
	t       *testing.T
	s       site
	schemas map[string]*jsonschema.Schema
}

// get requests path (with "{fmt}" for the suffix) in both formats.
func (g georeport) get(path string, status int, schema string, hdr ...string) any {
	g.t.Helper()
	return g.both("GET", path, "", "", status, schema, hdr...)
}

func (g georeport) both(method, path, contentType, body string, status int, schema string, hdr ...string) any {
	g.t.Helper()
	var docs [2]any
	for i, f := range []string{"json", "xml"} {
		resp, out := g.s.do(g.t, method, strings.ReplaceAll(path, "{fmt}", f), "", contentType, body, hdr...)
		if resp.StatusCode != status {
			g.t.Fatalf("%s %s.%s: %d, want %d: %s", method, path, f, resp.StatusCode, status, out)
		}
		if f == "json" {
			if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				g.t.Fatalf("%s %s.json: Content-Type %s", method, path, ct)
			}
			docs[i] = g.valid(path+" json", schema, []byte(out))
			continue
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/xml; charset=utf-8" {
			g.t.Fatalf("%s %s.xml: Content-Type %s", method, path, ct)
		}
		v, err := xmlToJSON(out, rootOf[schema])
		if err != nil {
			g.t.Fatalf("%s %s.xml: %v\n%s", method, path, err, out)
		}
		b, _ := json.Marshal(v)
		docs[i] = g.valid(path+" xml", schema, b)
	}
	// A POST creates something new each time; the two answers differ in
	// their ids, so only their shapes are compared.
	if method == "GET" && !reflect.DeepEqual(docs[0], docs[1]) {
		a, _ := json.Marshal(docs[0])
		b, _ := json.Marshal(docs[1])
		g.t.Fatalf("%s: XML and JSON differ:\njson %s\nxml  %s", path, a, b)
	}
	return docs[0]
}

// valid checks a JSON document against a schema and answers it decoded.
func (g georeport) valid(what, schema string, b []byte) any {
	g.t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		g.t.Fatalf("%s: not JSON: %v\n%s", what, err, b)
	}
	sch := g.schemas[schema]
	if sch == nil {
		g.t.Fatalf("no schema %s", schema)
	}
	if err := sch.Validate(inst); err != nil {
		g.t.Fatalf("%s against %s: %v\n%s", what, schema, err, b)
	}
	var v any
	_ = json.Unmarshal(b, &v)
	return v
}

// rootOf is the XML root element of each response shape.
var rootOf = map[string]string{
	"discovery": "discovery", "services": "services", "service_definition": "service_definition",
	"requests": "service_requests", "request": "service_requests", "created": "service_requests",
	"tokens": "service_requests", "updates": "service_request_updates", "update_created": "service_request_updates",
	"errors": "errors",
}

// xmlItems are GeoReport's containers: the element each holds, repeated.
// In JSON each is an array, even of one.
var xmlItems = map[string]string{
	"services": "service", "endpoints": "endpoint", "formats": "format", "attributes": "attribute", "values": "value",
	"notes": "note", "media_urls": "media_url", "errors": "error", "service_requests": "request",
	"service_request_updates": "request_update",
}

type xmlNode struct {
	name     string
	text     string
	children []*xmlNode
}

// xmlToJSON checks an XML response and reads it by the Spark convention:
// containers become arrays, other elements with children objects, leaves
// strings, except the booleans, integers and numbers the standard types.
func xmlToJSON(body, root string) (any, error) {
	const decl = `<?xml version="1.0" encoding="UTF-8"?>`
	if !strings.HasPrefix(body, decl) {
		return nil, fmt.Errorf("no XML declaration")
	}
	d := xml.NewDecoder(strings.NewReader(body))
	d.Strict = true
	var stack []*xmlNode
	var top *xmlNode
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("not well-formed: %w", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if tok.Name.Space != "" || len(tok.Attr) > 0 {
				return nil, fmt.Errorf("<%s>: namespaces or attributes %v", tok.Name.Local, tok.Attr)
			}
			n := &xmlNode{name: tok.Name.Local}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			} else if top != nil {
				return nil, fmt.Errorf("two root elements")
			} else {
				top = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(tok)
			} else if strings.TrimSpace(string(tok)) != "" {
				return nil, fmt.Errorf("text outside the root")
			}
		case xml.ProcInst:
			if tok.Target != "xml" {
				return nil, fmt.Errorf("processing instruction %s", tok.Target)
			}
		case xml.Directive, xml.Comment:
			return nil, fmt.Errorf("foreign markup %T", tok)
		}
	}
	if top == nil || top.name != root {
		return nil, fmt.Errorf("root element is not <%s>", root)
	}
	v, err := xmlValue(top, "", true)
	if err == nil && root == "service_definition" {
		// A service without questions has no <attributes> in XML and an
		// empty list in JSON.
		if m := v.(map[string]any); m["attributes"] == nil {
			m["attributes"] = []any{}
		}
	}
	return v, err
}

func xmlValue(n *xmlNode, parent string, root bool) (any, error) {
	if item, ok := xmlItems[n.name]; ok && !(n.name == "values" && parent != "attribute") {
		// Only the root and a definition's attributes (which JSON always
		// lists) may be empty lists; other empty lists are omitted.
		if len(n.children) == 0 && !root && n.name != "attributes" {
			return nil, fmt.Errorf("empty container <%s>", n.name)
		}
		out := []any{}
		for _, c := range n.children {
			if c.name != item {
				return nil, fmt.Errorf("<%s> holds <%s>, not <%s>", n.name, c.name, item)
			}
			v, err := xmlValue(c, n.name, false)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	}
	if len(n.children) > 0 {
		if strings.TrimSpace(n.text) != "" {
			return nil, fmt.Errorf("<%s> mixes text and elements", n.name)
		}
		out := map[string]any{}
		for _, c := range n.children {
			if _, dup := out[c.name]; dup {
				return nil, fmt.Errorf("<%s> repeats <%s> outside a container", n.name, c.name)
			}
			v, err := xmlValue(c, n.name, false)
			if err != nil {
				return nil, err
			}
			out[c.name] = v
		}
		return out, nil
	}
	if n.text == "" {
		return nil, fmt.Errorf("empty element <%s> in <%s>: empty fields are omitted", n.name, parent)
	}
	switch {
	case n.name == "metadata" || n.name == "variable" || n.name == "required":
		switch n.text {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	case n.name == "order" || (n.name == "code" && parent == "error"):
		if v, err := strconv.Atoi(n.text); err == nil {
			return float64(v), nil
		}
	case n.name == "lat" || n.name == "long":
		if v, err := strconv.ParseFloat(n.text, 64); err == nil {
			return v, nil
		}
	}
	// Anything else, or a typed field that does not parse, stays a string
	// and the schema says what is wrong.
	return n.text, nil
}

// pngPhoto is a small photo for media uploads.
func pngPhoto(t *testing.T) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewRGBA(image.Rect(0, 0, 40, 30))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// multipartForm encodes fields (repeatable) and media[] photos.
func multipartForm(t *testing.T, fields [][2]string, photos int) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, f := range fields {
		if err := mw.WriteField(f[0], f[1]); err != nil {
			t.Fatal(err)
		}
	}
	for i := range photos {
		w, _ := mw.CreateFormFile("media[]", fmt.Sprintf("p%d.png", i))
		_, _ = w.Write(pngPhoto(t))
	}
	mw.Close()
	return mw.FormDataContentType(), buf.String()
}

// field reads a nested field of a decoded JSON document: keys and indexes.
func field(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}
