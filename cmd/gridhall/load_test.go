package main

import (
	"strings"
	"testing"
)

func TestLoadCommandRefusesRemoteTargetsAndUnboundedRuns(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"load", "--target", "http://203.0.113.7:8080", "--duration", "10s"}, "not this machine"},
		{[]string{"load", "--target", "http://example.com", "--duration", "10s"}, "not this machine"},
		{[]string{"load", "--target", "http://127.0.0.1:1"}, "--duration"},
		{[]string{"load", "--target", "http://127.0.0.1:1", "--duration", "25h"}, "--duration"},
		{[]string{"load", "--target", "http://127.0.0.1:1", "--duration", "1s", "--max-requests", "0"}, "--max-requests"},
		{[]string{"load", "--target", "http://127.0.0.1:1", "--duration", "1s", "--mix", "report=1,buy=2"}, "unknown kind"},
		{[]string{"load", "--duration", "1s"}, "--target"},
	} {
		code, _, errOut := cli(t, "", tc.args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
	if code, _, errOut := cli(t, "", "load", "--help"); code != 0 || !strings.Contains(errOut, "--setup") {
		t.Errorf("load --help: %d %q", code, errOut)
	}
	if code, _, errOut := cli(t, "", "bench", "--help"); code != 0 || !strings.Contains(errOut, "--quick") {
		t.Errorf("bench --help: %d %q", code, errOut)
	}
}
