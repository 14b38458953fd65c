package web

import (
	"net/http"
	"time"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/httpx"
	"github.com/gridhall/gridhall/internal/i18n"
)

// Preference cookies. They outlive sessions on purpose: the language and
// text size belong to the person at the device, also before signing in.
const (
	langCookie = "lang"
	textCookie = "text"
	prefMaxAge = 365 * 24 * time.Hour
)

// largeText reports whether the visitor chose large text.
func largeText(r *http.Request) bool {
	c, err := r.Cookie(textCookie)
	return err == nil && c.Value == "large"
}

// prefs handles POST /prefs: the language switch and the large-text toggle
// shown on every page. It stores the choice in cookies (and the language in
// the account, for signed-in users) and returns to the page it came from.
func (w *Web) prefs(rw http.ResponseWriter, r *http.Request) error {
	const op = "web.prefs"
	lang, text := r.PostFormValue("lang"), r.PostFormValue("text")
	if lang != "" && i18n.Supported(lang) != lang {
		return errs.Fields(op, map[string]string{"lang": "error.locale.unknown"})
	}
	if text != "" && text != "normal" && text != "large" {
		return errs.Fields(op, map[string]string{"text": "error.text_size.unknown"})
	}
	if lang != "" {
		if actor := auth.ActorFrom(r.Context()); signedInActor(actor) {
			if err := w.auth.SetLocale(r.Context(), actor, lang); err != nil {
				return err
			}
		}
		w.setPrefCookie(rw, r, langCookie, lang)
	}
	if text != "" {
		w.setPrefCookie(rw, r, textCookie, text)
	}
	return redirect(rw, r, safeRedirect(r.PostFormValue("back")))
}

// setPrefCookie stores a preference for a year. HttpOnly because no script
// needs it; Expires beside Max-Age for old browsers that know only Expires.
func (w *Web) setPrefCookie(rw http.ResponseWriter, r *http.Request, name, value string) {
	http.SetCookie(rw, &http.Cookie{
		Name: name, Value: value, Path: "/",
		MaxAge: int(prefMaxAge.Seconds()), Expires: w.clock.Now().Add(prefMaxAge),
		HttpOnly: true, Secure: httpx.IsTLS(r, w.trustProxy), SameSite: http.SameSiteLaxMode,
	})
}
