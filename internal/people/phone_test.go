package people_test

import (
	"strings"
	"testing"

	"github.com/gridhall/gridhall/internal/people"
)

func TestNormalizePhone(t *testing.T) {
	cases := []struct {
		in, want string // want "" means rejected
	}{
		// mobiles
		{"13812345678", "13812345678"},
		{"138 1234 5678", "13812345678"},
		{"138-1234-5678", "13812345678"},
		{" 19912345678 ", "19912345678"},
		{"+86 138 1234 5678", "13812345678"},
		{"+86-13812345678", "13812345678"},
		{"008613812345678", "13812345678"},
		{"8613812345678", "13812345678"},
		{"１３８１２３４５６７８", "13812345678"},
		{"138—1234—5678", "13812345678"},
		{"12345678901", ""},  // 12x is not a mobile range
		{"10086123456", ""},  // nor is 10x
		{"1381234567", ""},   // 10 digits
		{"138123456789", ""}, // 12 digits
		{"8613812345", ""},   // 86 and too few digits
		{"+1 415 555 2671", ""},
		// landlines
		{"027-87654321", "02787654321"},
		{"(027) 8765 4321", "02787654321"},
		{"（027）87654321", "02787654321"},
		{"010-12345678", ""}, // local numbers do not start with 1
		{"010-62345678", "01062345678"},
		{"0716-8123456", "07168123456"},
		{"0716-81234567", "071681234567"},
		{"+86 27 8765 4321", "02787654321"},
		{"+86 027 8765 4321", "02787654321"},
		{"0086 10 6234 5678", "01062345678"},
		{"87654321", ""},         // no area code
		{"027-0654321", ""},      // local number starting with 0
		{"011-62345678", ""},     // no area code 011
		{"0027-87654321", ""},    // 00 is the international prefix
		{"027-876543", ""},       // 6-digit local number
		{"027-876543210", ""},    // 9-digit local number
		{"027-87654321-801", ""}, // extension
		// neither
		{"", ""},
		{"12345", ""},
		{"95588", ""},
		{"400-810-8888", ""},
		{"138 1234 567８a", ""},
		{"一三八一二三四五六七八", ""},
		{"+86", ""},
	}
	for _, c := range cases {
		got, p := people.NormalizePhone(c.in)
		if c.want == "" {
			if p != "people.phone.format" || got != "" {
				t.Errorf("NormalizePhone(%q) = %q, %q; want rejected", c.in, got, p)
			}
			continue
		}
		if got != c.want || p != "" {
			t.Errorf("NormalizePhone(%q) = %q, %q; want %q", c.in, got, p, c.want)
		}
	}
}

func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"13812345678", "+86 138 1234 5678", "027-87654321", "+86 27 8765 4321", "（027）87654321", "", "+86"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, p := people.NormalizePhone(s)
		if p != "" {
			if n != "" {
				t.Fatalf("%q: problem %s with number %q", s, p, n)
			}
			return
		}
		if strings.Trim(n, "0123456789") != "" || len(n) < 10 || len(n) > 12 {
			t.Fatalf("%q normalised to %q", s, n)
		}
		// Normalising is idempotent: the stored form is its own normal form.
		if again, p := people.NormalizePhone(n); again != n || p != "" {
			t.Fatalf("%q → %q → %q, %q", s, n, again, p)
		}
	})
}
