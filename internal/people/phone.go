package people

import (
	"strings"

	"golang.org/x/text/unicode/norm"
)

// problemPhoneFormat is the i18n key of a number that is neither a mainland
// mobile nor a landline.
const problemPhoneFormat = "people.phone.format"

// NormalizePhone turns a mainland phone number as people write it into
// digits only, the form that is stored, indexed and compared. It returns the
// number, or "" and the problem key "people.phone.format".
//
// Accepted are mobiles, 11 digits starting with 13–19, optionally after +86,
// 0086 or 86; and landlines, an area code (010, 02x, or 0 and three digits for
// the other cities) followed by a local number of 7 or 8 digits that does not
// start with 0 or 1, such as 027-87654321 → 02787654321. A landline written
// internationally (+86 27 8765 4321) gets its leading 0 back. Spaces, dashes
// and the brackets people put around area codes are dropped; full-width
// digits are read as digits. Service numbers (12345, 95588, 400…),
// extensions and foreign numbers are rejected: they do not identify a person.
func NormalizePhone(s string) (string, string) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '-', '‐', '‑', '–', '—', '(', ')', '.':
			return -1
		}
		return r
	}, norm.NFKC.String(s))
	international := false
	switch {
	case strings.HasPrefix(s, "+86"):
		s, international = s[3:], true
	case strings.HasPrefix(s, "0086"):
		s, international = s[4:], true
	case len(s) == 13 && strings.HasPrefix(s, "86"):
		// Without + or 00, 86 is read as the country code only where the
		// number has 13 digits: no mainland number is that long by itself.
		s = s[2:]
	}
	if !allASCII(s, isDigit) {
		return "", problemPhoneFormat
	}
	if isMobile(s) {
		return s, ""
	}
	if international && !strings.HasPrefix(s, "0") {
		s = "0" + s // +86 27… drops the trunk prefix that mainland dialling needs
	}
	if isLandline(s) {
		return s, ""
	}
	return "", problemPhoneFormat
}

// isMobile: 11 digits, 1 then 3–9 (the ranges the ministry assigns to mobile
// networks; 10–12 are service and data numbers).
func isMobile(s string) bool {
	return len(s) == 11 && s[0] == '1' && s[1] >= '3'
}

// isLandline: an area code and a local number. Area codes are 010 and 02x
// (3 digits) or 0 and 3 digits starting 3–9; no area code starts 00 (the
// international prefix) or 01 other than Beijing's 010. Local numbers have 7
// or 8 digits and start 2–9: 0 would be a trunk prefix, 1 a service number.
func isLandline(s string) bool {
	if len(s) < 3 || s[0] != '0' {
		return false
	}
	area := 4
	switch {
	case s[1] == '1' && s[2] == '0', s[1] == '2':
		area = 3
	case s[1] == '0' || s[1] == '1':
		return false
	}
	local := len(s) - area
	return (local == 7 || local == 8) && s[area] >= '2'
}
