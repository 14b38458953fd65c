package config

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func parseWith(args []string, env map[string]string) (Config, error) {
	c := Default()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	RegisterStorage(fs, &c)
	RegisterServer(fs, &c)
	err := Parse(fs, &c, args, func(k string) string { return env[k] })
	return c, err
}

func TestDefaultsServeSQLiteOnLoopback(t *testing.T) {
	c, err := parseWith(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.IsPostgres() || c.SQLitePath() != "data/gridhall.db" {
		t.Fatalf("defaults: addr %s postgres %v path %s", c.Addr, c.IsPostgres(), c.SQLitePath())
	}
}

func TestFlagsWinOverEnvironmentWhichWinsOverDefaults(t *testing.T) {
	env := map[string]string{"GRIDHALL_ADDR": "0.0.0.0:9000", "GRIDHALL_DB": "postgres://u@h/db", "GRIDHALL_SESSION_IDLE": "45m",
		"GRIDHALL_ADMIN_PASSWORD": "from-env"}
	c, err := parseWith([]string{"--addr", "127.0.0.1:7000"}, env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:7000" || !c.IsPostgres() || c.SessionIdle != 45*time.Minute || c.AdminPassword != "from-env" {
		t.Fatalf("%+v", c)
	}
}

func TestBadSettingsNameTheirSource(t *testing.T) {
	cases := []struct {
		args []string
		env  map[string]string
		want string
	}{
		{nil, map[string]string{"GRIDHALL_SESSION_IDLE": "soon"}, "GRIDHALL_SESSION_IDLE"},
		{[]string{"--db-max-conns", "0"}, nil, "--db-max-conns"},
		{[]string{"--tls-cert", "c.pem"}, nil, "--tls-key"},
		{[]string{"--base-url", "grid.example.org"}, nil, "--base-url"},
		{[]string{"--session-idle", "13h"}, nil, "--session-idle"},
		{[]string{"--log-format", "xml"}, nil, "json or text"},
	}
	for _, c := range cases {
		_, err := parseWith(c.args, c.env)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v %v: got %v, want mention of %s", c.args, c.env, err, c.want)
		}
	}
}

func TestEnvName(t *testing.T) {
	if EnvName("admin-password-file") != "GRIDHALL_ADMIN_PASSWORD_FILE" {
		t.Fatal(EnvName("admin-password-file"))
	}
}

func TestFlagsMayFollowArguments(t *testing.T) {
	c := Default()
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	RegisterStorage(fs, &c)
	if err := Parse(fs, &c, []string{"7", "--db", "postgres://x@y/z", "8", "--", "--data-dir"}, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	if c.DB != "postgres://x@y/z" || strings.Join(fs.Args(), " ") != "7 8 --data-dir" {
		t.Fatalf("db %q args %q", c.DB, fs.Args())
	}
}
