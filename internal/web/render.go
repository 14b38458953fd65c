package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"strings"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/httpx"
	"github.com/gridhall/gridhall/internal/i18n"
)

//go:embed templates/*.html
var templateFS embed.FS

// layoutFile holds the page frame and the shared partials; every other file
// in templates/ is a page that defines "title" and "content".
const layoutFile = "layout.html"

// parseTemplates builds one template set per page: the layout cloned, plus
// that page's blocks, so that pages can reuse block names without clashing.
func parseTemplates() (map[string]*template.Template, error) {
	base, err := template.ParseFS(templateFS, "templates/"+layoutFile)
	if err != nil {
		return nil, fmt.Errorf("web: parse layout: %w", err)
	}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, f := range files {
		name := path.Base(f)
		if name == layoutFile {
			continue
		}
		t, err := base.Clone()
		if err == nil {
			t, err = t.ParseFS(templateFS, f)
		}
		if err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", name, err)
		}
		pages[strings.TrimSuffix(name, ".html")] = t
	}
	return pages, nil
}

// page is the data of every template: what the layout needs (language, text
// size, the actor, the anti-forgery token) and the page's own Data and Form.
// Its methods are the templates' helpers, bound to the request's language,
// so templates write {{.T "login.title"}} (or {{$.T …}} inside range/with).
type page struct {
	Lang      string
	LargeText bool
	Actor     auth.Actor
	CSRF      string // anti-forgery token for forms; "" for anonymous visitors
	Back      string // where the language and text-size forms return to
	Nav       string // which navigation entry is the current page
	Version   string
	Notice    string // translated confirmation of a finished action
	Unread    int    // the account's unread in-app messages, for the header
	Form      form
	Data      any

	bundle *i18n.Bundle
	assets map[string]string
}

// newPage prepares the data every page shares. back is where the
// preference forms return to; for GET requests it is the page itself.
func (w *Web) newPage(r *http.Request, nav, back string) *page {
	if r.Method == http.MethodGet {
		back = r.URL.RequestURI()
	}
	p := &page{
		Lang: w.lang(r), LargeText: largeText(r), Actor: auth.ActorFrom(r.Context()),
		Back: back, Nav: nav, Version: w.version,
		bundle: w.i18n, assets: w.assets,
	}
	if sid := httpx.SessionFrom(r.Context()); sid != "" {
		p.CSRF = auth.CSRFToken(sid)
	}
	if w.outbox != nil && p.SignedIn() && !p.Actor.MustChangePassword {
		// One indexed count per page; a failure costs the badge, not the
		// page.
		n, err := w.outbox.Unread(r.Context(), p.Actor.UserID)
		if err != nil {
			w.log.LogAttrs(r.Context(), slog.LevelWarn, "web: unread count", slog.String("error", err.Error()))
		}
		p.Unread = n
	}
	return p
}

// lang is the request's language: the lang cookie, else Accept-Language.
func (w *Web) lang(r *http.Request) string { return httpx.Lang(r, w.i18n.Match) }

// T translates key into the page's language.
func (p *page) T(key string, args ...any) string { return p.bundle.T(p.Lang, key, args...) }

// RoleName is the translated name of a role. A role this version does not
// know (in an old audit entry, say) is shown as it is stored.
func (p *page) RoleName(r auth.Role) string {
	if !r.Valid() {
		return string(r)
	}
	return p.T("role." + string(r))
}

// LangName is a language's name, written in that language, so that a
// visitor who cannot read the current page still finds their own.
func (p *page) LangName(lang string) string { return p.T("lang." + lang) }

// ScopeName shows a territorial scope: its code, or the whole installation.
func (p *page) ScopeName(scope string) string {
	if scope == "" {
		return p.T("scope.all")
	}
	return auth.ScopeCode(scope)
}

// SignedIn reports whether an account is viewing the page.
func (p *page) SignedIn() bool { return signedInActor(p.Actor) }

// CanManageAccounts reports whether the actor may manage accounts. It only
// decides which links the navigation offers; the services check the same
// permission again when used.
func (p *page) CanManageAccounts() bool { return auth.Can(p.Actor, auth.ManageAccounts, p.Actor.Scope) }

// CanReadAudit reports whether the actor may read the audit log.
func (p *page) CanReadAudit() bool { return auth.Can(p.Actor, auth.ReadAudit, p.Actor.Scope) }

// OtherLang is the language the language switch offers.
func (p *page) OtherLang() string {
	if p.Lang == i18n.English {
		return i18n.Chinese
	}
	return i18n.English
}

// Asset is the URL of a static file, fingerprinted so that browsers may
// cache it for a year and still fetch a new version after an upgrade.
func (p *page) Asset(name string) string {
	if sum, ok := p.assets[name]; ok {
		return "/static/" + name + "?v=" + sum
	}
	return "/static/" + name
}

// field is one labelled input as the "field" template draws it.
type field struct {
	ID, Name, Type, Label, Value, Error, Autocomplete, Hint string
	Required                                                bool
	OptionalText                                            string // the translated "optional" marker
}

// Field describes a required input named name, with its value and error
// from the page's form. Password values are never filled back in.
func (p *page) Field(name, typ, label, autocomplete string) field {
	f := field{ID: "f-" + name, Name: name, Type: typ, Label: label, Autocomplete: autocomplete,
		Error: p.Form.Errors[name], Required: true, OptionalText: p.T("form.optional")}
	if typ != "password" {
		f.Value = p.Form.Values[name]
	}
	return f
}

// Optional marks a field as not required.
func (f field) Optional() field { f.Required = false; return f }

// WithHint adds a line of help under the label.
func (f field) WithHint(hint string) field { f.Hint = hint; return f }

// render executes a page into a buffer first, so that a template failure
// becomes a clean error page instead of half a page.
func (w *Web) render(rw http.ResponseWriter, status int, name string, p *page) error {
	t, ok := w.pages[name]
	if !ok {
		return fmt.Errorf("web: no page template %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, layoutFile, p); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	h := rw.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", p.Lang)
	h.Add("Vary", "Cookie, Accept-Language")
	rw.WriteHeader(status)
	// A failed write means the client went away: there is nobody left to
	// show an error page to.
	_, _ = buf.WriteTo(rw)
	return nil
}
