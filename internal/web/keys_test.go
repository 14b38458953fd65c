package web

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/template/parse"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/i18n"
)

// catalogs reads the locale files as they are on disk.
func catalogs(t *testing.T) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for _, lang := range i18n.Languages {
		raw, err := os.ReadFile(filepath.Join("..", "i18n", "locales", lang+".json"))
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s.json: %v", lang, err)
		}
		out[lang] = m
	}
	return out
}

func TestLocaleCatalogsHaveIdenticalKeys(t *testing.T) {
	cats := catalogs(t)
	zh, en := cats[i18n.Chinese], cats[i18n.English]
	for k := range zh {
		if _, ok := en[k]; !ok {
			t.Errorf("key %q is in zh-CN.json but not in en.json", k)
		}
	}
	for k := range en {
		if _, ok := zh[k]; !ok {
			t.Errorf("key %q is in en.json but not in zh-CN.json", k)
		}
	}
}

// templateKeys returns every literal key the templates translate: the
// first argument of each .T or $.T call.
func templateKeys(t *testing.T) []string {
	t.Helper()
	w := newEnv(t).web
	seen := map[string]bool{}
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n != nil {
				for _, c := range n.Nodes {
					walk(c)
				}
			}
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.IfNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		case *parse.TemplateNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			if n != nil {
				for _, c := range n.Cmds {
					walk(c)
				}
			}
		case *parse.ChainNode:
			walk(n.Node)
		case *parse.CommandNode:
			if len(n.Args) > 1 && isTCall(n.Args[0]) {
				if s, ok := n.Args[1].(*parse.StringNode); ok {
					seen[s.Text] = true
				}
			}
			for _, a := range n.Args {
				walk(a)
			}
		}
	}
	for _, set := range w.pages {
		for _, tm := range set.Templates() {
			if tm.Tree != nil {
				walk(tm.Tree.Root)
			}
		}
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// isTCall reports whether a command starts with the page's T method.
func isTCall(n parse.Node) bool {
	switch n := n.(type) {
	case *parse.FieldNode:
		return slices.Equal(n.Ident, []string{"T"})
	case *parse.VariableNode:
		return slices.Equal(n.Ident, []string{"$", "T"})
	}
	return false
}

// goKeys returns the literal message keys of this package's Go code: the
// key argument of errs.E, the Msg of errs.Error literals, the values of
// errs.Fields maps, and the keys passed to T (page.T or Bundle.T) and
// fieldError.
func goKeys(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	lit := func(e ast.Expr) {
		if b, ok := e.(*ast.BasicLit); ok && b.Kind == token.STRING {
			s, _ := strconv.Unquote(b.Value)
			keys = append(keys, s)
		}
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			if kv, ok := n.(*ast.KeyValueExpr); ok {
				if id, ok := kv.Key.(*ast.Ident); ok && id.Name == "Msg" {
					lit(kv.Value)
				}
				return true
			}
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			switch sel.Sel.Name {
			case "E":
				if len(call.Args) >= 3 {
					lit(call.Args[2])
				}
			case "Fields":
				if len(call.Args) == 2 {
					if m, ok := call.Args[1].(*ast.CompositeLit); ok {
						for _, el := range m.Elts {
							lit(el.(*ast.KeyValueExpr).Value)
						}
					}
				}
			case "T":
				// page.T(key, …) or Bundle.T(lang, key, …).
				for _, a := range call.Args[:min(2, len(call.Args))] {
					lit(a)
				}
			case "fieldError":
				if len(call.Args) == 4 {
					lit(call.Args[3])
				}
			}
			return true
		})
	}
	return keys
}

func TestEveryUsedKeyIsInBothCatalogs(t *testing.T) {
	cats := catalogs(t)
	used := map[string]string{}
	for _, k := range templateKeys(t) {
		used[k] = "templates"
	}
	for _, k := range goKeys(t) {
		used[k] = "Go code"
	}
	for _, r := range auth.Roles {
		used["role."+string(r)] = "role names"
	}
	for _, l := range i18n.Languages {
		used["lang."+l] = "language names"
	}
	for _, m := range []map[string]string{homeNotices, usersNotices} {
		for _, k := range m {
			used[k] = "notices"
		}
	}
	for _, k := range errorHeadings {
		used[k] = "error headings"
	}
	used["errorpage.failed"] = "error headings"
	if len(used) < 50 {
		t.Fatalf("found only %d keys: the key scan is broken", len(used))
	}
	for k, where := range used {
		for lang, cat := range cats {
			if _, ok := cat[k]; !ok {
				t.Errorf("key %q (used in %s) is missing from %s.json", k, where, lang)
			}
		}
	}
}
