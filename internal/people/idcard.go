package people

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// IDCard is a parsed 18-character resident identity number (居民身份证号码,
// GB 11643-1999): 6 digits of address code, 8 of birth date, 3 of sequence
// (odd for men, even for women) and a check character.
type IDCard struct {
	Number string    // normalised: ASCII digits and an upper-case X
	Region string    // the first 6 digits, the address code where the number was issued
	Birth  time.Time // the birth date, at midnight UTC
	Female bool      // the sequence is even
}

// Problem keys of identity numbers. They are i18n message keys.
const (
	problemIDLength = "people.id.length"
	problemIDChars  = "people.id.chars"
	problemIDBirth  = "people.id.birth"
	problemIDCheck  = "people.id.check"
)

// idWeights are the GB 11643-1999 weights of the first 17 digits (2^(17-i) mod 11).
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// idCheckChars maps the weighted sum modulo 11 to the check character.
const idCheckChars = "10X98765432"

// earliestBirth is the first birth date accepted: nobody registered today was
// born before it, so an earlier date is a typing error.
var earliestBirth = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// ParseIDCard checks a mainland identity number and reads the birth date and
// gender out of it. It returns the card, or a problem key when the number is
// wrong: "people.id.length", "people.id.chars", "people.id.birth" or
// "people.id.check", checked in that order so the key names the first thing a
// person should fix.
//
// Numbers are copied from paper, Excel and Chinese input methods, so the
// input is normalised first: NFKC turns full-width digits and Ｘ into ASCII,
// spaces anywhere are dropped (people group the digits) and a lower-case x is
// accepted. A birth date after today (in today's own time zone) is wrong.
func ParseIDCard(s string, today time.Time) (IDCard, string) {
	n := normalizeIDNumber(s)
	if utf8.RuneCountInString(n) != 18 {
		return IDCard{}, problemIDLength
	}
	for i := 0; i < 17; i++ {
		if !isDigit(n[i]) {
			return IDCard{}, problemIDChars
		}
	}
	if last := n[17]; !isDigit(last) && last != 'X' {
		return IDCard{}, problemIDChars
	}
	birth, ok := parseBirth(n[6:14])
	y, m, d := today.Date()
	if !ok || birth.Before(earliestBirth) || birth.After(time.Date(y, m, d, 0, 0, 0, 0, time.UTC)) {
		return IDCard{}, problemIDBirth
	}
	if CheckChar(n[:17]) != n[17] {
		return IDCard{}, problemIDCheck
	}
	return IDCard{
		Number: n,
		Region: n[:6],
		Birth:  birth,
		Female: (n[16]-'0')%2 == 0,
	}, ""
}

// normalizeIDNumber applies NFKC, drops white space and upper-cases x.
func normalizeIDNumber(s string) string {
	s = norm.NFKC.String(s)
	return strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return -1
		case r == 'x':
			return 'X'
		}
		return r
	}, s)
}

// parseBirth reads YYYYMMDD, rejecting dates that do not exist (time.Date
// would quietly turn 19990229 into 1 March).
func parseBirth(s string) (time.Time, bool) {
	t, err := time.Parse("20060102", s)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

// CheckChar returns the check character ('0'–'9' or 'X') for the first 17
// digits of an identity number, or 0 when first17 is not 17 ASCII digits.
func CheckChar(first17 string) byte {
	if len(first17) != 17 {
		return 0
	}
	sum := 0
	for i := 0; i < 17; i++ {
		if !isDigit(first17[i]) {
			return 0
		}
		sum += int(first17[i]-'0') * idWeights[i]
	}
	return idCheckChars[sum%11]
}

// Age returns the full years (周岁) the holder has lived on the given day.
// Someone born on 29 February has a birthday on 1 March in common years. Before
// the birth date the age is 0.
func (c IDCard) Age(on time.Time) int {
	y, m, d := on.Date()
	age := y - c.Birth.Year()
	if m < c.Birth.Month() || m == c.Birth.Month() && d < c.Birth.Day() {
		age-- // the birthday has not come yet this year
	}
	return max(age, 0)
}

// GenerateIDNumber returns a valid identity number for demo data and tests.
// region must be 6 digits; birth is taken as a calendar date in its own time
// zone; seq (taken modulo 500) picks one of the 500 sequence numbers of the
// gender: 2·seq+1 for men (odd), 2·seq for women (even). It panics when
// region is not 6 digits, since that is a mistake in the calling code.
func GenerateIDNumber(region string, birth time.Time, female bool, seq int) string {
	if len(region) != 6 || strings.IndexFunc(region, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		panic(fmt.Sprintf("people.GenerateIDNumber: region %q is not 6 digits", region))
	}
	seq %= 500
	if seq < 0 {
		seq += 500
	}
	n := 2*seq + 1
	if female {
		n = 2 * seq
	}
	first17 := fmt.Sprintf("%s%s%03d", region, birth.Format("20060102"), n)
	return first17 + string(CheckChar(first17))
}

// The document kinds a resident may be registered with.
const (
	DocIDCard           = "id_card"           // 居民身份证
	DocPassport         = "passport"          // 护照
	DocHKMacaoPermit    = "hk_macao_permit"   // 港澳居民来往内地通行证
	DocTaiwanPermit     = "taiwan_permit"     // 台湾居民来往大陆通行证
	DocForeignPermanent = "foreign_permanent" // 外国人永久居留身份证
	DocOther            = "other"             // 其他证件
)

// DocumentKinds lists the document kinds, the identity card first.
var DocumentKinds = []string{DocIDCard, DocPassport, DocHKMacaoPermit, DocTaiwanPermit, DocForeignPermanent, DocOther}

// Problem keys of other documents. They are i18n message keys.
const (
	problemDocKind   = "people.document.kind"
	problemDocFormat = "people.document.format"
)

// farFuture stands in for today where ValidDocument has no clock: it checks
// the form of an identity number, not whether its birth date is still ahead.
var farFuture = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// ValidDocument checks the form of a document number of the given kind and
// returns "" or a problem key: "people.document.kind" for an unknown kind,
// "people.document.format" for a number that cannot be of that kind, and for
// identity cards the keys of ParseIDCard.
//
// ValidDocument has no clock, so an identity number with a birth date in the
// future passes; use ParseIDCard with today's date to catch that.
//
// The number must already be in its stored form (surrounding spaces trimmed,
// ASCII letters of either case): unlike ParseIDCard it does not normalise,
// because callers store the number they validated.
//
//   - passport: 5–17 ASCII letters and digits (Chinese passports are E or G
//     and 8 digits; foreign ones vary too much to check more);
//   - hk_macao_permit: H or M and 8 digits, or 10 on permits issued before 2013;
//   - taiwan_permit: 8 digits, or 10 on the old booklets, which may end in a
//     letter in brackets, as in 1234567890(B);
//   - foreign_permanent: 3 letters and 12 digits (issued 2004–2023), or 18
//     characters starting with 9 like an identity number (issued since 2023);
//   - other: 1–30 printable characters.
func ValidDocument(kind, number string) string {
	ok := false
	switch kind {
	case DocIDCard:
		_, p := ParseIDCard(number, farFuture)
		return p
	case DocPassport:
		ok = 5 <= len(number) && len(number) <= 17 && allASCII(number, isAlnum)
	case DocHKMacaoPermit:
		ok = (len(number) == 9 || len(number) == 11) && strings.ContainsRune("HMhm", rune(number[0])) && allASCII(number[1:], isDigit)
	case DocTaiwanPermit:
		digits := number
		if len(number) == 13 && number[10] == '(' && number[12] == ')' && isLetter(number[11]) {
			digits = number[:10]
		}
		ok = (len(digits) == 8 || len(digits) == 10) && allASCII(digits, isDigit)
	case DocForeignPermanent:
		switch len(number) {
		case 15:
			ok = allASCII(number[:3], isLetter) && allASCII(number[3:], isDigit)
		case 18:
			ok = number[0] == '9' && allASCII(number[:17], isDigit) && (isDigit(number[17]) || number[17] == 'X' || number[17] == 'x')
		}
	case DocOther:
		n := utf8.RuneCountInString(number)
		ok = 1 <= n && n <= 30 && utf8.ValidString(number) && strings.IndexFunc(number, func(r rune) bool { return !unicode.IsPrint(r) }) < 0
	default:
		return problemDocKind
	}
	if !ok {
		return problemDocFormat
	}
	return ""
}

func isLetter(b byte) bool { return 'A' <= b && b <= 'Z' || 'a' <= b && b <= 'z' }
func isAlnum(b byte) bool  { return isDigit(b) || isLetter(b) }

// allASCII reports whether every byte of s satisfies ok (so multi-byte
// characters always fail).
func allASCII(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}
