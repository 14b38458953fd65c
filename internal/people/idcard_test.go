package people_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/people"
)

// today is the day the identity-number tests run on.
var today = time.Date(2024, 6, 15, 9, 30, 0, 0, time.FixedZone("CST", 8*3600))

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// withCheck completes 17 digits with their check character.
func withCheck(first17 string) string { return first17 + string(people.CheckChar(first17)) }

func TestCheckCharMatchesTheStandardsExamples(t *testing.T) {
	cases := []struct {
		first17 string
		want    byte
	}{
		{"11010519491231002", 'X'}, // the example printed in GB 11643-1999
		{"44052418800101001", '4'},
		{"42010619900101123", '1'},
		{"42010620000229002", '0'},
		{"31011519720304123", '8'},
		{"4201061990010112", 0},  // 16 digits
		{"420106199001011A3", 0}, // a letter
		{"420106199001011２3", 0}, // a full-width digit is not an ASCII digit
	}
	for _, c := range cases {
		if got := people.CheckChar(c.first17); got != c.want {
			t.Errorf("CheckChar(%q) = %q, want %q", c.first17, got, c.want)
		}
	}
}

func TestParseIDCardReadsBirthAndGender(t *testing.T) {
	cases := []struct {
		name   string
		in     string
		number string
		birth  time.Time
		female bool
	}{
		{"X check character", "11010519491231002X", "11010519491231002X", date(1949, 12, 31), true},
		{"lower-case x", "11010519491231002x", "11010519491231002X", date(1949, 12, 31), true},
		{"man", withCheck("42010619850615371"), withCheck("42010619850615371"), date(1985, 6, 15), false},
		{"woman", withCheck("42010619850615372"), withCheck("42010619850615372"), date(1985, 6, 15), true},
		{"leap day 2000", withCheck("42010620000229002"), withCheck("42010620000229002"), date(2000, 2, 29), true},
		{"first accepted day", withCheck("42010619000101001"), withCheck("42010619000101001"), date(1900, 1, 1), false},
		{"born today", withCheck("42010620240615001"), withCheck("42010620240615001"), date(2024, 6, 15), false},
		{"surrounding and inner spaces", "  110105 19491231 002X\t", "11010519491231002X", date(1949, 12, 31), true},
		{"full-width digits and Ｘ", "１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X", date(1949, 12, 31), true},
		{"full-width x and ideographic space", "　１１０１０５１９４９１２３１００２ｘ", "11010519491231002X", date(1949, 12, 31), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			card, p := people.ParseIDCard(c.in, today)
			if p != "" {
				t.Fatalf("ParseIDCard(%q) problem %s", c.in, p)
			}
			if card.Number != c.number || !card.Birth.Equal(c.birth) || card.Birth.Location() != time.UTC ||
				card.Female != c.female || card.Region != c.number[:6] {
				t.Errorf("ParseIDCard(%q) = %+v, want number %s birth %s female %v", c.in, card, c.number, c.birth, c.female)
			}
		})
	}
}

func TestParseIDCardNamesTheFirstProblem(t *testing.T) {
	valid := withCheck("42010619850615371")
	wrongCheck := valid[:17] + string("0123456789X"[(strings.IndexByte("0123456789X", valid[17])+1)%11])
	cases := []struct {
		name, in, want string
	}{
		{"empty", "", "people.id.length"},
		{"17 characters", valid[:17], "people.id.length"},
		{"19 characters", valid + "1", "people.id.length"},
		{"old 15-digit number", "420106850615371", "people.id.length"},
		{"letter inside", "4201061985A615371" + "1", "people.id.chars"},
		{"X not last", "42010619850615X711", "people.id.chars"},
		{"Chinese character last", valid[:17] + "号", "people.id.chars"},
		{"dash inside", "420106-19850615371", "people.id.chars"},
		{"month 13", withCheck("42010619851315371"), "people.id.birth"},
		{"30 February", withCheck("42010619850230371"), "people.id.birth"},
		{"29 February 1999", withCheck("42010619990229371"), "people.id.birth"},
		{"day 00", withCheck("42010619850600371"), "people.id.birth"},
		{"before 1900", withCheck("42010618991231371"), "people.id.birth"},
		{"tomorrow", withCheck("42010620240616371"), "people.id.birth"},
		{"next year", withCheck("42010620250101371"), "people.id.birth"},
		{"wrong check digit", wrongCheck, "people.id.check"},
		{"X where a digit belongs", "42010619900101123X", "people.id.check"},
		{"swapped digits", "11010519491321002X", "people.id.birth"},
		{"swapped sequence digits", "11010519491231020X", "people.id.check"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			card, p := people.ParseIDCard(c.in, today)
			if p != c.want {
				t.Errorf("ParseIDCard(%q) problem %q, want %q", c.in, p, c.want)
			}
			if card != (people.IDCard{}) {
				t.Errorf("ParseIDCard(%q) returned %+v with a problem", c.in, card)
			}
		})
	}
}

func TestBirthDateIsComparedWithTodaysLocalDate(t *testing.T) {
	// 16 June 00:30 in Beijing is still 15 June in UTC; a child born on 16 June
	// in Beijing is valid from the first minute of that day there.
	justAfterMidnight := time.Date(2024, 6, 16, 0, 30, 0, 0, time.FixedZone("CST", 8*3600))
	if _, p := people.ParseIDCard(withCheck("42010620240616372"), justAfterMidnight); p != "" {
		t.Errorf("born today (Beijing) rejected: %s", p)
	}
}

func TestGeneratedNumbersParseWithTheirBirthAndGender(t *testing.T) {
	regions := []string{"420106", "110105", "310115", "810000"}
	births := []time.Time{date(1900, 1, 1), date(1949, 12, 31), date(1960, 2, 29), date(2000, 2, 29), date(2024, 6, 15)}
	seen := map[string]bool{}
	for _, region := range regions {
		for _, birth := range births {
			for _, female := range []bool{false, true} {
				for _, seq := range []int{0, 1, 2, 7, 250, 498, 499, 500, -1} {
					n := people.GenerateIDNumber(region, birth, female, seq)
					card, p := people.ParseIDCard(n, today)
					if p != "" {
						t.Fatalf("GenerateIDNumber(%s, %s, %v, %d) = %s: %s", region, birth.Format(time.DateOnly), female, seq, n, p)
					}
					if card.Region != region || !card.Birth.Equal(birth) || card.Female != female {
						t.Errorf("GenerateIDNumber(%s, %s, %v, %d) = %s parses as %+v", region, birth.Format(time.DateOnly), female, seq, n, card)
					}
					seen[n] = true
				}
			}
		}
	}
	// seq 500 wraps to 0 and -1 to 499, so each combination gives 7 numbers.
	if want := len(regions) * len(births) * 2 * 7; len(seen) != want {
		t.Errorf("%d distinct numbers, want %d", len(seen), want)
	}
	if got := people.GenerateIDNumber("420106", date(1990, 1, 1), true, 0)[14:17]; got != "000" {
		t.Errorf("woman seq 0 → sequence %s, want 000", got)
	}
	if got := people.GenerateIDNumber("420106", date(1990, 1, 1), false, 499)[14:17]; got != "999" {
		t.Errorf("man seq 499 → sequence %s, want 999", got)
	}
}

func TestGenerateIDNumberPanicsOnABadRegion(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic for region 42010")
		}
	}()
	people.GenerateIDNumber("42010", date(1990, 1, 1), false, 1)
}

func TestAgeCountsFullYears(t *testing.T) {
	card, _ := people.ParseIDCard(people.GenerateIDNumber("420106", date(1964, 6, 15), true, 3), today)
	leap, _ := people.ParseIDCard(people.GenerateIDNumber("420106", date(2000, 2, 29), false, 3), today)
	cases := []struct {
		name string
		card people.IDCard
		on   time.Time
		want int
	}{
		{"the day before the 60th birthday", card, date(2024, 6, 14), 59},
		{"on the 60th birthday", card, date(2024, 6, 15), 60},
		{"on the birthday, late evening in Beijing", card, time.Date(2024, 6, 15, 23, 0, 0, 0, time.FixedZone("CST", 8*3600)), 60},
		{"a month later", card, date(2024, 7, 1), 60},
		{"on the birth day", card, date(1964, 6, 15), 0},
		{"before birth", card, date(1960, 1, 1), 0},
		{"leap-day birth, 28 February of a common year", leap, date(2023, 2, 28), 22},
		{"leap-day birth, 1 March of a common year", leap, date(2023, 3, 1), 23},
		{"leap-day birth, leap day", leap, date(2024, 2, 29), 24},
	}
	for _, c := range cases {
		if got := c.card.Age(c.on); got != c.want {
			t.Errorf("%s: Age(%s) = %d, want %d", c.name, c.on, got, c.want)
		}
	}
}

func TestValidDocument(t *testing.T) {
	cases := []struct {
		kind, number, want string
	}{
		{"id_card", "11010519491231002X", ""},
		{"id_card", "11010519491231002x", ""},
		{"id_card", "11010519491231003X", "people.id.check"},
		{"id_card", "1101051949123100", "people.id.length"},
		{"id_card", withCheck("42010620990101371"), ""}, // no clock here: the future is ParseIDCard's to catch
		{"passport", "E12345678", ""},
		{"passport", "g1234567", ""},
		{"passport", "AB12", "people.document.format"},
		{"passport", "123456789012345678", "people.document.format"},
		{"passport", "E1234-5678", "people.document.format"},
		{"passport", "Ｅ12345678", "people.document.format"},
		{"hk_macao_permit", "H12345678", ""},
		{"hk_macao_permit", "M1234567890", ""},
		{"hk_macao_permit", "C12345678", "people.document.format"},
		{"hk_macao_permit", "H1234567", "people.document.format"},
		{"hk_macao_permit", "", "people.document.format"},
		{"taiwan_permit", "12345678", ""},
		{"taiwan_permit", "1234567890", ""},
		{"taiwan_permit", "1234567890(B)", ""},
		{"taiwan_permit", "1234567", "people.document.format"},
		{"taiwan_permit", "T1234567", "people.document.format"},
		{"foreign_permanent", "USA110085060001", ""},
		{"foreign_permanent", "911840199001010011", ""},
		{"foreign_permanent", "91184019900101001X", ""},
		{"foreign_permanent", "420106199001010011", "people.document.format"},
		{"foreign_permanent", "US1100850600012", "people.document.format"},
		{"other", "军官证 第123号", ""},
		{"other", "x", ""},
		{"other", "", "people.document.format"},
		{"other", strings.Repeat("证", 31), "people.document.format"},
		{"other", "abc\x00def", "people.document.format"},
		{"other", "abc\ndef", "people.document.format"},
		{"driving_licence", "123456", "people.document.kind"},
		{"", "123456", "people.document.kind"},
	}
	for _, c := range cases {
		if got := people.ValidDocument(c.kind, c.number); got != c.want {
			t.Errorf("ValidDocument(%q, %q) = %q, want %q", c.kind, c.number, got, c.want)
		}
	}
}

func FuzzParseIDCard(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "１１０１０５１９４９１２３１００２Ｘ", withCheck("42010620000229002"), "", "x", "420106199902293712"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		card, p := people.ParseIDCard(s, today)
		if p != "" {
			return
		}
		// A parsed number is canonical: parsing it again gives the same card.
		again, p := people.ParseIDCard(card.Number, today)
		if p != "" || again != card {
			t.Fatalf("%q parsed to %+v, which reparses to %+v, %q", s, card, again, p)
		}
		if len(card.Number) != 18 || people.CheckChar(card.Number[:17]) != card.Number[17] {
			t.Fatalf("%q parsed to bad number %q", s, card.Number)
		}
		if card.Birth.Year() < 1900 || card.Birth.After(today) {
			t.Fatalf("%q: birth %s out of range", s, card.Birth)
		}
	})
}
