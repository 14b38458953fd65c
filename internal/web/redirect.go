package web

import (
	"net/url"
	"strings"
)

// maxRedirectLen bounds the return paths carried in forms and links.
const maxRedirectLen = 2048

// safeRedirect returns target when it is a path on this site, else "/". It
// guards the login form's next and the preference forms' back against open
// redirects: only a single leading slash is allowed ("//host" and "/\host"
// are other sites to a browser), and no backslash, control character or
// space, which browsers strip or rewrite before resolving the URL.
func safeRedirect(target string) string {
	if !isLocalPath(target) {
		return "/"
	}
	return target
}

func isLocalPath(s string) bool {
	if len(s) == 0 || len(s) > maxRedirectLen || s[0] != '/' {
		return false
	}
	if len(s) > 1 && (s[1] == '/' || s[1] == '\\') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f || c == '\\' {
			return false
		}
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil && strings.HasPrefix(u.Path, "/")
}
