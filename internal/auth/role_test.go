package auth

import (
	"strings"
	"testing"
)

// permissionSpec is the permission matrix as the product owners wrote it,
// independent of the grants table: one row per role, one column per action in
// the order of actionColumns. "-" never, "S" only inside the actor's scope,
// "A" anywhere.
var actionColumns = []Action{
	ManageAccounts, ManageSettings, ReadAudit, ReadTerritory, ManageTerritory,
	ReadPeople, WritePeople, RevealPeople,
	ReportCase, ReadCases, DispatchCases, HandleCases, SuperviseCases, ReadStats,
}

var permissionSpec = map[Role]string{
	//                 acct set aud trR trM ppR ppW ppX cRp cRd cDs cHd cSp sts
	Resident:          "-    -   -   -   -   -   -   -   A   -   -   -   -   -",
	GridWorker:        "-    -   -   S   -   S   S   -   S   S   -   S   -   S",
	CommunityStaff:    "-    -   -   S   -   S   S   S   S   S   -   S   -   S",
	StreetStaff:       "-    -   -   S   -   S   -   -   S   S   S   -   S   S",
	DepartmentHandler: "-    -   -   S   -   -   -   -   -   S   -   S   -   -",
	DistrictAdmin:     "-    -   -   S   S   S   -   S   -   S   S   -   S   S",
	Auditor:           "-    -   S   -   -   -   -   -   -   -   -   -   -   -",
	SystemAdmin:       "S    S   -   S   -   -   -   -   -   -   -   -   -   -",
}

func TestPermissionTableCoversEveryRoleActionAndScope(t *testing.T) {
	if len(actionColumns) != len(Actions) {
		t.Fatalf("the spec has %d action columns, the code defines %d actions: update the spec", len(actionColumns), len(Actions))
	}
	for i, a := range Actions {
		if actionColumns[i] != a {
			t.Fatalf("spec column %d is %s, code action %d is %s", i, actionColumns[i], i, a)
		}
	}
	const scope = "420106/420106001/420106001002"
	inside := scope + "/420106001002003"
	outside := "420106/420106001/420106001003/420106001003001"
	checked := 0
	for _, role := range Roles {
		row, ok := permissionSpec[role]
		if !ok {
			t.Fatalf("role %s has no row in the spec", role)
		}
		cells := strings.Fields(row)
		if len(cells) != len(Actions) {
			t.Fatalf("role %s: spec row has %d cells, want %d", role, len(cells), len(Actions))
		}
		actor := Actor{UserID: 7, Role: role, Scope: scope}
		if role == Resident {
			actor.Scope = ""
		}
		for i, action := range Actions {
			wantIn := cells[i] == "S" || cells[i] == "A"
			wantOut := cells[i] == "A"
			if role == Resident {
				// A resident has no scope; "inside" and "outside" are any two places.
				wantIn, wantOut = cells[i] == "A", cells[i] == "A"
			}
			if got := Can(actor, action, inside); got != wantIn {
				t.Errorf("Can(%s, %s, inside scope) = %v, want %v", role, action, got, wantIn)
			}
			if got := Can(actor, action, outside); got != wantOut {
				t.Errorf("Can(%s, %s, outside scope) = %v, want %v", role, action, got, wantOut)
			}
			checked += 2
		}
	}
	if want := len(Roles) * len(Actions) * 2; checked != want {
		t.Fatalf("checked %d cases, want %d", checked, want)
	}
}

func TestSeparationOfDuties(t *testing.T) {
	admin := Actor{UserID: 1, Role: SystemAdmin}
	for _, a := range []Action{ReadPeople, WritePeople, RevealPeople, ReadCases, ReadAudit} {
		if Can(admin, a, "420106") {
			t.Errorf("system_admin must not hold %s", a)
		}
	}
	auditor := Actor{UserID: 2, Role: Auditor}
	for _, a := range Actions {
		if a != ReadAudit && Can(auditor, a, "420106") {
			t.Errorf("auditor must hold only audit.read, also holds %s", a)
		}
	}
}

func TestAnonymousActorCanDoNothing(t *testing.T) {
	for _, role := range Roles {
		for _, a := range Actions {
			if Can(Actor{Role: role}, a, "") {
				t.Errorf("an actor without an account may %s as %s", a, role)
			}
		}
	}
}

func TestWithinComparesWholeSegments(t *testing.T) {
	cases := []struct {
		outer, inner string
		want         bool
	}{
		{"", "420106", true},
		{"", "", true},
		{"420106", "420106", true},
		{"420106", "420106/420106001", true},
		{"420106/420106001", "420106/4201060011", false},
		{"420106/420106001", "420106", false},
		{"420106", "", false},
		{"420106", "420107/420107001", false},
	}
	for _, c := range cases {
		if got := Within(c.outer, c.inner); got != c.want {
			t.Errorf("Within(%q, %q) = %v, want %v", c.outer, c.inner, got, c.want)
		}
	}
}

func TestParseScope(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"", "", true},
		{"/", "", true},
		{"420106", "420106", true},
		{"420106001", "420106/420106001", true},
		{"420106001002003", "420106/420106001/420106001002/420106001002003", true},
		{"420106/420106001", "420106/420106001", true},
		{" 420106001002 ", "420106/420106001/420106001002", true},
		{"42010", "", false},
		{"4201060", "", false},
		{"42010a", "", false},
		{"420106/420107001", "", false},
		{"420106/420106001/420106001", "", false},
		{"420106001002003004005", "", false},
	}
	for _, c := range cases {
		got, err := ParseScope(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseScope(%q) = %q, %v; want %q, ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

func FuzzParseScope(f *testing.F) {
	for _, s := range []string{"", "420106", "420106001002", "420106/420106001", "a/b", "////", "420106/4201060"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseScope(s)
		if err != nil {
			return
		}
		// A parsed scope is canonical: parsing it again gives itself, and it
		// lies within every prefix path of its own.
		again, err := ParseScope(p)
		if err != nil || again != p {
			t.Fatalf("ParseScope(%q) = %q, reparsed %q, %v", s, p, again, err)
		}
		if p != "" && !Within(p[:strings.IndexByte(p+"/", '/')], p) {
			t.Fatalf("%q is not within its own district", p)
		}
	})
}

func FuzzParseToken(f *testing.F) {
	f.Add("gh_" + strings.Repeat("A", 43))
	f.Add("gh_")
	f.Add("Bearer x")
	f.Fuzz(func(t *testing.T, s string) {
		tok, ok := ParseToken(s)
		if ok && (!strings.HasPrefix(tok, TokenPrefix) || len(tok) != len(TokenPrefix)+43) {
			t.Fatalf("ParseToken accepted %q", s)
		}
	})
}

func TestPasswordHashRoundTrip(t *testing.T) {
	p := Argon2Params{Memory: 1024, Time: 1, Threads: 1}
	h := HashPassword("correct horse battery", p)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("unexpected hash format %q", h)
	}
	if strings.Contains(h, "correct horse") {
		t.Fatal("hash contains the password")
	}
	if !CheckPassword(h, "correct horse battery") {
		t.Fatal("right password rejected")
	}
	if CheckPassword(h, "correct horse batterY") {
		t.Fatal("wrong password accepted")
	}
	if HashPassword("correct horse battery", p) == h {
		t.Fatal("two hashes of one password are equal: salt missing")
	}
	for _, bad := range []string{"", "$argon2id$", "$argon2i$v=19$m=1024,t=1,p=1$AAAA$AAAA", "$argon2id$v=19$m=99999999,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA"} {
		if CheckPassword(bad, "x") {
			t.Errorf("malformed hash %q matched", bad)
		}
	}
}

func FuzzCheckPassword(f *testing.F) {
	f.Add(HashPassword("pw", Argon2Params{Memory: 64, Time: 1, Threads: 1}), "pw")
	f.Add("$argon2id$v=19$m=64,t=1,p=1$$", "")
	f.Fuzz(func(t *testing.T, hash, pw string) {
		CheckPassword(hash, pw) // must never panic on stored garbage
	})
}

func TestAGridWorkerActsInExactlyTheAssignedGrids(t *testing.T) {
	w := Actor{UserID: 3, Role: GridWorker, Scope: "420106/420106001/420106001002",
		Scopes: []string{"420106/420106001/420106001002/420106001002003", "420106/420106001/420106001005/420106001005001"}}
	for res, want := range map[string]bool{
		"420106/420106001/420106001002/420106001002003":                    true,
		"420106/420106001/420106001005/420106001005001/420106001005001001": true,
		"420106/420106001/420106001002/420106001002004":                    false,
		"420106/420106001/420106001002":                                    false,
	} {
		if got := Can(w, ReadPeople, res); got != want {
			t.Errorf("Can(worker, people.read, %s) = %v, want %v", res, got, want)
		}
	}
}

func TestScopeSQL(t *testing.T) {
	cases := []struct {
		scopes []string
		sql    string
		args   int
	}{
		{nil, "FALSE", 0},
		{[]string{""}, "TRUE", 0},
		{[]string{"420106", ""}, "TRUE", 0},
		{[]string{"420106/420106001"}, "(p >= $3 AND p < $4)", 2},
		{[]string{"a", "b"}, "(p >= $3 AND p < $4) OR (p >= $5 AND p < $6)", 4},
	}
	for _, c := range cases {
		sql, args := ScopeSQL("p", c.scopes, 3)
		if sql != c.sql || len(args) != c.args {
			t.Errorf("ScopeSQL(%v) = %q %v", c.scopes, sql, args)
		}
	}
	// The range, compared bytewise as the database does, holds exactly the
	// paths Within holds.
	_, args := ScopeSQL("p", []string{"420106/420106001"}, 1)
	lo, hi := args[0].(string), args[1].(string)
	for _, path := range []string{"420106/420106001", "420106/420106001/420106001002", "420106/420106001/420106001002/420106001002003",
		"420106/4201060011", "420106/420106002", "420106/4201060010/x", "420106", "420106/42010600", ""} {
		if got, want := path >= lo && path < hi, Within("420106/420106001", path); got != want {
			t.Errorf("%q inside by the range: %v, by Within: %v", path, got, want)
		}
	}
}
