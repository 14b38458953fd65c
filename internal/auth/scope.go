package auth

import (
	"strings"

	"github.com/gridhall/gridhall/internal/errs"
)

// Territory codes: a 6-digit district (GB/T 2260), then 3 more digits for the
// street, the community, the grid and an optional micro-grid.
const (
	districtDigits = 6
	levelDigits    = 3
	maxLevels      = 5
)

// ParseScope turns user input into a scope path. It accepts a path
// ("420106/420106001") or a bare code ("420106001002"), whose ancestors are
// implied because every code extends its parent's. "" and "/" mean the root
// (the whole installation).
func ParseScope(s string) (string, error) {
	s = strings.TrimSpace(s)
	s = strings.Trim(s, "/")
	if s == "" {
		return "", nil
	}
	code := s
	if strings.Contains(s, "/") {
		segs := strings.Split(s, "/")
		for i, seg := range segs {
			if i > 0 && !strings.HasPrefix(seg, segs[i-1]) {
				return "", errs.E(errs.Invalid, "auth.ParseScope", "error.scope.not_nested")
			}
		}
		code = segs[len(segs)-1]
		if p, err := ScopeFromCode(code); err != nil || p != s {
			if err != nil {
				return "", err
			}
			return "", errs.E(errs.Invalid, "auth.ParseScope", "error.scope.not_nested")
		}
		return s, nil
	}
	return ScopeFromCode(code)
}

// ScopeFromCode expands a territory code into its path of ancestors.
func ScopeFromCode(code string) (string, error) {
	if len(code) < districtDigits || (len(code)-districtDigits)%levelDigits != 0 ||
		(len(code)-districtDigits)/levelDigits >= maxLevels {
		return "", errs.E(errs.Invalid, "auth.ScopeFromCode", "error.scope.length")
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return "", errs.E(errs.Invalid, "auth.ScopeFromCode", "error.scope.digits")
		}
	}
	var b strings.Builder
	for n := districtDigits; n <= len(code); n += levelDigits {
		if n > districtDigits {
			b.WriteByte('/')
		}
		b.WriteString(code[:n])
	}
	return b.String(), nil
}

// ScopeCode returns the code of the node a scope path points to ("" for root).
func ScopeCode(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[i+1:]
	}
	return path
}
