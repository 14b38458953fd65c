package cases

import "testing"

// The cursor and the stored extension request are parsed from text a client
// or an old row supplies: they must never panic, and what they accept must
// write back the same.
func FuzzParseCursor(f *testing.F) {
	for _, s := range []string{"0.1", "1790000000000.42", "", ".", "1.", ".1", "-5.-7", "9223372036854775807.9223372036854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		due, id, ok := parseCursor(s)
		if ok && id <= 0 {
			t.Fatalf("cursor %q accepted with id %d", s, id)
		}
		_ = due
	})
}

func FuzzParseLimitText(f *testing.F) {
	for _, s := range []string{"3 days", "4 hours", "0 days", "1001 hours", "x days", "3  days", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, ok := parseLimitText(s)
		if ok {
			if !l.Valid() {
				t.Fatalf("%q accepted as invalid limit %+v", s, l)
			}
			if back, ok2 := parseLimitText(limitText(l)); !ok2 || back != l {
				t.Fatalf("%q does not survive a round trip: %+v", s, back)
			}
		}
	})
}

func FuzzSimilarity(f *testing.F) {
	f.Add("3号楼门口井盖破损", "3号楼门口的井盖破损了")
	f.Add("", "x")
	f.Add("\xff\xfe", "ab")
	f.Fuzz(func(t *testing.T, a, b string) {
		s := Similarity(a, b)
		if s < 0 || s > 1 || s != Similarity(b, a) {
			t.Fatalf("Similarity(%q, %q) = %v, reverse %v", a, b, s, Similarity(b, a))
		}
	})
}
