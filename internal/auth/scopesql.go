package auth

import (
	"strconv"
	"strings"
)

// ScopeSQL returns the SQL condition "column lies inside one of the scopes"
// with its arguments, numbering placeholders from first. Scope paths are
// materialised, so the test is equality or a LIKE prefix on whole segments,
// which an index on the column serves. The root scope ("") matches every
// row; no scopes match none.
func ScopeSQL(column string, scopes []string, first int) (string, []any) {
	var parts []string
	var args []any
	for _, s := range scopes {
		if s == "" {
			return "TRUE", nil
		}
		n := first + len(args)
		parts = append(parts, column+" = $"+strconv.Itoa(n)+" OR "+column+" LIKE $"+strconv.Itoa(n+1))
		args = append(args, s, s+"/%")
	}
	if len(parts) == 0 {
		return "FALSE", nil
	}
	return strings.Join(parts, " OR "), args
}
