package auth

import (
	"strconv"
	"strings"
)

// ScopeSQL returns the SQL condition "column lies inside one of the scopes"
// with its arguments, numbering placeholders from first. Scope paths are
// materialised, so "inside S" is S itself or any path between "S/" and "S0"
// ('/' sorts just before '0'): a range an index serves on both engines,
// where LIKE would make SQLite scan the table. Columns compared this way
// must sort bytewise (SQLite's default; COLLATE "C" on PostgreSQL). The root
// scope ("") matches every row; no scopes match none.
func ScopeSQL(column string, scopes []string, first int) (string, []any) {
	var parts []string
	var args []any
	for _, s := range scopes {
		if s == "" {
			return "TRUE", nil
		}
		n := first + len(args)
		parts = append(parts, column+" = $"+strconv.Itoa(n)+" OR ("+column+" >= $"+strconv.Itoa(n+1)+" AND "+column+" < $"+strconv.Itoa(n+2)+")")
		args = append(args, s, s+"/", s+"0")
	}
	if len(parts) == 0 {
		return "FALSE", nil
	}
	return strings.Join(parts, " OR "), args
}
