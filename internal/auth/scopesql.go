package auth

import (
	"strconv"
	"strings"
)

// ScopeSQL returns the SQL condition "column lies inside one of the scopes"
// with its arguments, numbering placeholders from first. Scope paths are
// materialised, so "inside S" is any path from S up to (not including) "S0"
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
		// [S, S0) holds S itself and every path below it ("S/…"): paths are
		// digits and '/', and '/' is the only one that sorts before '0'.
		// One range, not "= S OR range", lets the planner use partial and
		// composite indexes (an OR makes SQLite plan each branch apart).
		parts = append(parts, "("+column+" >= $"+strconv.Itoa(n)+" AND "+column+" < $"+strconv.Itoa(n+1)+")")
		args = append(args, s, s+"0")
	}
	if len(parts) == 0 {
		return "FALSE", nil
	}
	return strings.Join(parts, " OR "), args
}
