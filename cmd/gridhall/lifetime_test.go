package main

import (
	"testing"
	"time"
)

func TestParseLifetime(t *testing.T) {
	cases := map[string]time.Duration{"90d": 90 * 24 * time.Hour, "720h": 720 * time.Hour, "never": 0, "0": 0}
	for in, want := range cases {
		if got, err := parseLifetime(in); err != nil || got != want {
			t.Errorf("parseLifetime(%q) = %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "d", "-1d", "0d", "9999d", "-5h", "1y", "1e9h"} {
		if _, err := parseLifetime(bad); err == nil {
			t.Errorf("parseLifetime(%q) accepted", bad)
		}
	}
}

func FuzzParseLifetime(f *testing.F) {
	for _, s := range []string{"90d", "720h", "never", "1h30m", "3650d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseLifetime(s)
		if err == nil && (d < 0 || d > 3650*24*time.Hour) {
			t.Fatalf("parseLifetime(%q) = %v", s, d)
		}
	})
}
