package sheet

import (
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestFormatDateKind(t *testing.T) {
	cases := []struct {
		code string
		want dateKind
	}{
		{"yyyy/m/d", dateOnly},
		{`yyyy"年"m"月"d"日"`, dateOnly},
		{"[$-804]yyyy年m月d日", dateOnly},
		{"[$-F800]dddd, mmmm dd, yyyy", dateOnly},
		{"mmm-yy", dateOnly},
		{"d-mmm", dateOnly},
		{`m"月"`, dateOnly},
		{"[$-404]e/m/d", dateOnly},
		{"yyyy-mm-dd hh:mm:ss", dateTime},
		{"yyyy/m/d h:mm AM/PM", dateTime},
		{"m/d/yy h:mm;@", dateTime},
		{"h:mm", notDate},
		{"h:mm AM/PM", notDate},
		{"mm:ss.0", notDate},
		{"[h]:mm:ss", notDate},
		{`上午/下午h"时"mm"分"`, notDate},
		{"General", notDate},
		{"@", notDate},
		{"0.00", notDate},
		{"0.00E+00", notDate},
		{"##0.0E+0", notDate},
		{`#,##0.00 "元"`, notDate},
		{`0 "days"`, notDate},
		{`0\d`, notDate},
		{"[Red]0.00;[Blue]-0.00", notDate},
		{`_(* #,##0_);_(* \(#,##0\);_(* "-"_);_(@_)`, notDate},
		{`0;"d"yyyy`, notDate}, // only the first section counts
	}
	for _, c := range cases {
		if got := formatDateKind(c.code); got != c.want {
			t.Errorf("formatDateKind(%q) = %d, want %d", c.code, got, c.want)
		}
	}
}

func TestBuiltInDateKind(t *testing.T) {
	for id, want := range map[int]dateKind{0: notDate, 2: notDate, 14: dateOnly, 22: dateTime, 31: dateOnly, 32: notDate, 45: notDate, 49: notDate, 58: dateOnly} {
		if got := builtInDateKind(id); got != want {
			t.Errorf("builtInDateKind(%d) = %d, want %d", id, got, want)
		}
	}
}

func TestValidUTF8AcrossReads(t *testing.T) {
	pad := strings.Repeat("a", 64<<10-1) // "中" straddles the first 64 KiB read
	cases := []struct {
		name string
		data string
		want bool
	}{
		{"empty", "", true},
		{"ASCII", "abc", true},
		{"character across two reads", pad + "中文", true},
		{"4-byte character across two reads", pad + "𠀀", true},
		{"truncated at the end", pad + "中"[:2], false},
		{"invalid byte at the boundary", pad + "\xFF" + "中", false},
		{"GB18030", "\xD6\xD0\xCE\xC4", false},
		{"lone continuation byte", "a\x80b", false},
	}
	for _, c := range cases {
		readers := map[string]io.Reader{
			"whole reads":       bytes.NewReader([]byte(c.data)),
			"half reads":        iotest.HalfReader(bytes.NewReader([]byte(c.data))),
			"one byte per read": iotest.OneByteReader(bytes.NewReader([]byte(c.data))),
		}
		for how, r := range readers {
			got, err := validUTF8(r)
			if err != nil || got != c.want {
				t.Errorf("%s, %s: %v, %v; want %v", c.name, how, got, err, c.want)
			}
		}
	}
}
