package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"strings"

	"github.com/gridhall/gridhall/internal/errs"
)

// static holds the stylesheet, the script and the icon, plus vendor/, which
// the build fills with front-end libraries (htmx). vendor/ may be missing
// when only `go test` runs; nothing here depends on it.
//
//go:embed static
var staticEmbed embed.FS

// loadStatic returns the static files and a fingerprint of each, computed
// once at start-up from the embedded bytes.
func loadStatic() (fs.FS, map[string]string, error) {
	sub, err := fs.Sub(staticEmbed, "static")
	if err != nil {
		return nil, nil, err
	}
	sums := map[string]string{}
	err = fs.WalkDir(sub, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		sums[name] = hex.EncodeToString(sum[:6])
		return nil
	})
	return sub, sums, err
}

// serveStatic serves GET /static/{name}. Only known files are served —
// directories are not listed. A URL carrying the file's current fingerprint
// (as page.Asset writes it) may be cached for a year; any other is
// revalidated by its ETag.
func (w *Web) serveStatic(rw http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/static/")
	sum, ok := w.assets[name]
	if !ok {
		w.WriteError(rw, r, errs.E(errs.NotFound, "web.static", "error.not_found"))
		return
	}
	h := rw.Header()
	if r.URL.Query().Get("v") == sum {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	h.Set("ETag", `"`+sum+`"`)
	http.ServeFileFS(rw, r, w.staticFS, name)
}
