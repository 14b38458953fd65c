package seal

import (
	"strings"
	"unicode"
)

// minShown is the shortest value of which anything is shown: below it, even
// one character is a large share of the value.
const minShown = 6

// MaskIDNumber masks an identity number for display. An 18-character number
// (the resident identity card) shows its first 4 and last 4 characters:
// "420102199001011234" → "4201**********1234". Other lengths show at most the
// first 2 and last 2, and never more than half; values shorter than six
// characters are masked whole.
func MaskIDNumber(s string) string {
	r := []rune(s)
	if len(r) == 18 {
		return keep(r, 4, 4)
	}
	return keepHalf(r, 2, 2)
}

// MaskPhone masks a phone number for display. An 11-digit mobile number
// shows its first 3 and last 4 digits: "13812345678" → "138****5678". Other
// numbers show at most the last 4 characters, and never more than half;
// values shorter than six characters are masked whole. Mask the normalised
// number (digits only), or separators count as characters.
func MaskPhone(s string) string {
	r := []rune(s)
	if len(r) == 11 && r[0] == '1' && allDigits(r) {
		return keep(r, 3, 4)
	}
	return keepHalf(r, 0, 4)
}

// MaskName masks a person's name for display. A Chinese name keeps its first
// character and masks each other one: "张三" → "张*", "欧阳娜娜" → "欧***". Any
// other name keeps its first letter followed by "***", which hides its
// length: "Smith" → "S***". A one-character name is masked whole.
func MaskName(s string) string {
	r := []rune(strings.TrimSpace(s))
	switch {
	case len(r) == 0:
		return ""
	case len(r) == 1:
		return "*"
	case unicode.Is(unicode.Han, r[0]):
		return keep(r, 1, 0)
	case unicode.IsLetter(r[0]):
		return string(r[0]) + "***"
	}
	return "***"
}

// MaskPassport masks a passport number for display: the first character and
// the last 3 ("E12345678" → "E*****678"), never more than half; values
// shorter than six characters are masked whole.
func MaskPassport(s string) string {
	return keepHalf([]rune(s), 1, 3)
}

// keepHalf shows at most head leading and tail trailing runes, shrinking the
// larger of the two (the tail on a tie) until at least half of r is masked.
func keepHalf(r []rune, head, tail int) string {
	if len(r) < minShown {
		head, tail = 0, 0
	}
	for head+tail > len(r)/2 {
		if tail >= head {
			tail--
		} else {
			head--
		}
	}
	return keep(r, head, tail)
}

// keep masks every rune of r except the first head and the last tail.
func keep(r []rune, head, tail int) string {
	var b strings.Builder
	b.Grow(len(r) + 2*(head+tail))
	for i, c := range r {
		if i < head || i >= len(r)-tail {
			b.WriteRune(c)
		} else {
			b.WriteByte('*')
		}
	}
	return b.String()
}

func allDigits(r []rune) bool {
	for _, c := range r {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
