package sheet

import "testing"

func TestCSVCellKeepsNumbersAsTextAndDefusesFormulas(t *testing.T) {
	for _, c := range []struct {
		in         string
		longNumber bool
		want       string
	}{
		{"13912345678", true, "\t13912345678"},
		{"42010619480504002X", true, "\t42010619480504002X"},
		{"027-8888", true, "027-8888"},
		{"123456", true, "123456"}, // too short to be mangled
		{"13912345678", false, "13912345678"},
		{"=HYPERLINK(\"http://x\")", false, "'=HYPERLINK(\"http://x\")"},
		{"+86 139", false, "'+86 139"},
		{"@SUM(A1)", false, "'@SUM(A1)"},
		{"\t=1+1", false, "'\t=1+1"},
		{"\r=1", true, "'\r=1"},
		{"-1", false, "-1"},
		{"-114.3", false, "-114.3"},
		{"-", false, "'-"},
		{"", false, ""},
		{"水管漏水", false, "水管漏水"},
	} {
		if got := CSVCell(c.in, c.longNumber); got != c.want {
			t.Errorf("CSVCell(%q, %v) = %q, want %q", c.in, c.longNumber, got, c.want)
		}
	}
}
