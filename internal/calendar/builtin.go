package calendar

import (
	"bytes"
	"embed"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// holidayFiles are China's published holiday arrangements, one CSV file per
// year named YYYY.csv, in the import format. A new year's arrangement (the
// State Council publishes it each November) is a new file here, or an
// import by an administrator.
//
//go:embed holidays/*.csv
var holidayFiles embed.FS

// builtin parses the embedded arrangements once; they are immutable.
var builtin = sync.OnceValues(func() (map[int][]Day, error) {
	entries, err := holidayFiles.ReadDir("holidays")
	if err != nil {
		return nil, err
	}
	out := map[int][]Day{}
	for _, e := range entries {
		year, err := strconv.Atoi(strings.TrimSuffix(e.Name(), ".csv"))
		if err != nil {
			return nil, fmt.Errorf("built-in holidays %s: name is not YYYY.csv", e.Name())
		}
		raw, err := holidayFiles.ReadFile(path.Join("holidays", e.Name()))
		if err != nil {
			return nil, err
		}
		days, problems, err := parseDays(bytes.NewReader(raw), FormatCSV, year)
		if err != nil || len(problems) > 0 {
			return nil, fmt.Errorf("built-in holidays %s: %v %v", e.Name(), err, problems)
		}
		out[year] = days
	}
	return out, nil
})

// BuiltinYears lists the years for which China's holiday arrangement is
// built in, in order.
func BuiltinYears() []int {
	return slices.Sorted(maps.Keys(mustBuiltin()))
}

// BuiltinDays returns the built-in exceptions of a year (nil for a year
// without a built-in arrangement): public holidays and make-up working days
// as published by the State Council.
func BuiltinDays(year int) []Day {
	return slices.Clone(mustBuiltin()[year])
}

// mustBuiltin returns the built-in arrangements. They are embedded in the
// binary and checked by the tests, so failing to read them is a build
// defect, not a condition to handle at run time.
func mustBuiltin() map[int][]Day {
	m, err := builtin()
	if err != nil {
		panic(err)
	}
	return m
}

// defaultCalendar is Default's value, built once.
var defaultCalendar = sync.OnceValue(func() *Calendar {
	var days []Day
	for _, y := range BuiltinYears() {
		days = append(days, BuiltinDays(y)...)
	}
	s := DefaultSettings()
	s.Days = days
	c, err := New(s)
	if err != nil {
		panic(fmt.Sprintf("default calendar: %v", err))
	}
	return c
})

// Default returns the installation's calendar when nothing has been
// configured or imported: Monday to Friday, 09:00–12:00 and 13:00–18:00,
// with China's built-in public holidays and make-up working days.
func Default() *Calendar { return defaultCalendar() }
