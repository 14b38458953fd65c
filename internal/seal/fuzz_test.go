package seal

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
)

// FuzzUnseal feeds arbitrary texts and purposes to Unseal: it never panics,
// every failure wraps ErrCorrupt, and it succeeds only on a text that Seal
// produced, for the purpose it was sealed for.
func FuzzUnseal(f *testing.F) {
	k := mustOpen(f, dbtest.Open(f, db.SQLite), newMasterKey(f))
	type sealed struct{ purpose, plaintext string }
	genuine := map[string]sealed{}
	for _, v := range []sealed{
		{purposeID, "42010219900101123X"},
		{"resident.phone", "13812345678"},
		{"resident.name", "欧阳娜娜"},
		{"", "x"},
	} {
		s := mustSeal(f, k, v.purpose, v.plaintext)
		genuine[s] = v
		f.Add(v.purpose, s)
		f.Add("resident.other", s)
		f.Add(v.purpose, s[:len(s)-1])
		f.Add(v.purpose, s+"A")
		f.Add(v.purpose, strings.Replace(s, "s1.", "s1.0", 1))
		f.Add(v.purpose, s[:10]+"\n"+s[10:])
	}
	f.Add(purposeID, "")
	f.Add(purposeID, "s1.")
	f.Add(purposeID, "s1.1.")
	f.Add(purposeID, "s1.9223372036854775807."+strings.Repeat("A", 40))
	f.Add(purposeID, "s1.-1."+strings.Repeat("_", 40))
	f.Fuzz(func(t *testing.T, purpose, s string) {
		got, err := k.Unseal(purpose, s)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error does not wrap ErrCorrupt: %v", err)
			}
			if got != "" {
				t.Fatal("a failed unseal returned text")
			}
			if g, ok := genuine[s]; ok && g.purpose == purpose {
				t.Fatalf("a genuine value failed: %v", err)
			}
			return
		}
		if s == "" {
			if got != "" {
				t.Fatal("empty text unsealed to something")
			}
			return
		}
		g, ok := genuine[s]
		if !ok || g.purpose != purpose || g.plaintext != got {
			t.Fatalf("unsealed %q from a text Seal did not produce for purpose %q", got, purpose)
		}
	})
}

// FuzzParseMasterKey: never panics; an accepted key reads back from each of
// its spellings; a refusal never repeats the text.
func FuzzParseMasterKey(f *testing.F) {
	_, text := GenerateMasterKey()
	for _, s := range []string{text, text + "\n", strings.TrimRight(text, "="), strings.Repeat("ab", 32),
		strings.Repeat("0", 64), "", "=", "====", strings.Repeat("A", 43), strings.Repeat("A", 44), text[:20] + "\r\n" + text[20:]} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		mk, err := ParseMasterKey(s)
		if err != nil {
			if trimmed := strings.TrimSpace(s); len(trimmed) >= 12 && strings.Contains(err.Error(), trimmed) {
				t.Fatalf("error repeats the text: %v", err)
			}
			return
		}
		if mk == (MasterKey{}) {
			t.Fatal("accepted the all-zero key")
		}
		for _, spelling := range []string{
			hex.EncodeToString(mk[:]),
			base64.StdEncoding.EncodeToString(mk[:]),
			base64.RawStdEncoding.EncodeToString(mk[:]),
			base64.URLEncoding.EncodeToString(mk[:]),
			base64.RawURLEncoding.EncodeToString(mk[:]),
		} {
			if back, err := ParseMasterKey(spelling); err != nil || back != mk {
				t.Fatalf("spelling %q does not read back: %v", spelling, err)
			}
		}
	})
}

// FuzzMask: the masks never panic, return valid UTF-8 no longer than the
// input by more than three runes, show no more than they promise, and never
// show the middle of an 18-character identity number.
func FuzzMask(f *testing.F) {
	for _, s := range []string{"42010219900101123X", "420102199001011234", "13812345678", "张三", "欧阳娜娜",
		"John Smith", "E12345678", "", "*", "\xff\xfe", "４２０１０２１９９００１０１１２３４", "  ", "123456"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := []rune(s)
		n := len(r)
		idLimit := n / 2
		if n == 18 {
			idLimit = 8
		}
		if n < minShown && n != 18 {
			idLimit = 0
		}
		phoneLimit := n / 2
		if n < minShown {
			phoneLimit = 0
		}
		if n == 11 && r[0] == '1' && allDigits(r) {
			phoneLimit = 7
		}
		masks := []struct {
			name  string
			mask  func(string) string
			shown int
		}{
			{"MaskIDNumber", MaskIDNumber, idLimit},
			{"MaskPhone", MaskPhone, phoneLimit},
			{"MaskPassport", MaskPassport, phoneLimit},
			{"MaskName", MaskName, 1},
		}
		for _, m := range masks {
			out := m.mask(s)
			if !utf8.ValidString(out) {
				t.Fatalf("%s(%q) = %q is not UTF-8", m.name, s, out)
			}
			if c := utf8.RuneCountInString(out); c > n+3 {
				t.Fatalf("%s(%q) = %q: %d runes from %d", m.name, s, out, c, n)
			}
			if shown := utf8.RuneCountInString(strings.ReplaceAll(out, "*", "")); shown > m.shown {
				t.Fatalf("%s(%q) = %q shows %d runes, at most %d allowed", m.name, s, out, shown, m.shown)
			}
			if n == 18 {
				if middle := string(r[4:14]); strings.Trim(middle, "*") != "" && strings.Contains(out, middle) {
					t.Fatalf("%s(%q) = %q shows the middle of an identity number", m.name, s, out)
				}
			}
		}
		if n == 18 {
			if mid := []rune(MaskIDNumber(s))[4:14]; string(mid) != "**********" {
				t.Fatalf("MaskIDNumber(%q) shows %q in the middle", s, string(mid))
			}
		}
	})
}
