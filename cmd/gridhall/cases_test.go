package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gridhall/gridhall/internal/db"
)

func TestCalendarAndCategoriesFromTheConsole(t *testing.T) {
	store := storageArgs(t, db.SQLite)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("date,kind,name\n2027-02-30,holiday,x\n2027-03-01,nap,y\n"), 0o600)
	code, _, errOut := cli(t, "", append([]string{"calendar", "import", "--year", "2027", bad}, store...)...)
	if code != 1 || !strings.Contains(errOut, "line 2") || !strings.Contains(errOut, "line 3") {
		t.Fatalf("bad calendar: exit %d %q", code, errOut)
	}
	good := filepath.Join(dir, "2027.csv")
	os.WriteFile(good, []byte("date,kind,name\n2027-01-01,休,元旦\n2027-01-02,holiday,元旦\n2027-01-04,班,调休\n"), 0o600)
	code, out, errOut := cli(t, "", append([]string{"calendar", "import", "--year", "2027", good}, store...)...)
	if code != 0 || !strings.Contains(out, "2 holidays and 1 make-up") {
		t.Fatalf("calendar import: exit %d %q %q", code, out, errOut)
	}
	code, out, _ = cli(t, "", append([]string{"calendar", "export", "--year", "2027"}, store...)...)
	if code != 0 || !strings.Contains(out, "2027-01-04,workday") {
		t.Fatalf("calendar export: exit %d %q", code, out)
	}
	code, out, _ = cli(t, "", append([]string{"categories", "export"}, store...)...)
	if code != 0 || !strings.Contains(out, "供水井盖") || strings.Count(out, "\n") < 400 {
		t.Fatalf("categories export: exit %d, %d lines", code, strings.Count(out, "\n"))
	}
	cats := filepath.Join(dir, "cats.csv")
	os.WriteFile(cats, []byte(out), 0o600)
	code, out, errOut = cli(t, "", append([]string{"categories", "import", cats}, store...)...)
	if code != 0 || !strings.Contains(out, "categories imported") {
		t.Fatalf("categories import: exit %d %q %q", code, out, errOut)
	}
	badCats := filepath.Join(dir, "badcats.csv")
	os.WriteFile(badCats, []byte("kind,code,major_code,major_name,name\ncomponent,1x001,01,市政公用设施,井盖\n"), 0o600)
	if code, _, errOut := cli(t, "", append([]string{"categories", "import", badCats}, store...)...); code != 1 || !strings.Contains(errOut, "line 2") {
		t.Fatalf("bad categories: exit %d %q", code, errOut)
	}
}
