package sheet

import (
	"strconv"
	"strings"
)

// CSVCell makes v safe and faithful in a CSV file that people will open in
// Excel or WPS.
//
// A long run of digits (an identity or phone number in full; longNumber
// says the column holds such numbers) gets a leading tab: a spreadsheet
// reads a cell of digits as a number, which rounds an 18-digit identity
// number and drops a landline's leading 0, and whoever saves the file
// would destroy the numbers. The tab makes it text, and imports trim it
// like any white space.
//
// Any other cell that a spreadsheet would run as a formula (CSV
// injection: one starting with =, +, -, @, a tab or a carriage return;
// descriptions and addresses are typed by anyone) gets a leading
// apostrophe, which spreadsheets show as text and imports drop. Numbers
// such as a floor of -1 or a negative longitude stay as they are.
func CSVCell(v string, longNumber bool) string {
	if longNumber && len(v) >= 7 && strings.IndexFunc(v, func(r rune) bool { return (r < '0' || r > '9') && r != 'X' }) < 0 {
		return "\t" + v
	}
	if v == "" || !strings.ContainsRune("=+-@\r\t", rune(v[0])) {
		return v
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return v
	}
	return "'" + v
}
