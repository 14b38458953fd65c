// Package config holds GridHall's typed configuration. Every setting is a
// command-line flag with a GRIDHALL_* environment variable as fallback
// (--data-dir ↔ GRIDHALL_DATA_DIR); flags win over the environment, the
// environment over defaults. The parsed Config is a value passed down to
// the composition root — there are no package-level settings.
package config

import (
	"flag"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"
)

// Config is the whole configuration of one gridhall process.
type Config struct {
	// Storage, shared by every subcommand that touches data.
	DataDir    string // directory for the SQLite file and other local state
	DB         string // "" or sqlite path for SQLite; postgres://… for PostgreSQL
	DBMaxConns int    // PostgreSQL pool size and SQLite read pool size
	ExportDir  string // directory for bulk export files, shared by every node; "" is <DataDir>/exports

	// Personal data protection.
	MasterKeyFile string // file holding the master key that wraps the field-encryption keys
	MasterKey     string // from GRIDHALL_MASTER_KEY only, never a flag
	RetentionDays int    // days after moving out before a resident's personal data is erased

	// HTTP server.
	Addr            string
	BaseURL         string // public URL, for links printed on the console and Secure cookies
	TLSCert         string
	TLSKey          string
	TrustProxy      bool // honour X-Forwarded-For / X-Forwarded-Proto from a reverse proxy
	MaxBodyBytes    int64
	MaxUploadBytes  int64
	ShutdownTimeout time.Duration

	// First start.
	AdminUser         string
	AdminPasswordFile string
	AdminPassword     string // from GRIDHALL_ADMIN_PASSWORD only; never a flag, so it stays out of ps

	// Sessions and login throttling.
	SessionIdle        time.Duration
	SessionAbsolute    time.Duration
	LoginMaxFailures   int
	LoginIPMaxFailures int
	LoginWindow        time.Duration

	// Territory.
	BoundaryTolerance float64       // metres a child may stick out of its parent or siblings overlap
	MapTileURL        string        // optional tile layer for the map page; none by default (works offline)
	TerritoryPoll     time.Duration // how often each node checks for territory changes made by other nodes

	// Cases and notifications.
	CaseTimerEvery   time.Duration // how often each node fires due case timers (warnings, overdue, escalation)
	EscalateAfter    float64       // fraction of a stage's limit past its deadline before a case climbs a level; 0 = never
	DuplicateRadius  float64       // metres within which a same-category report is offered as a duplicate
	DuplicateWindow  time.Duration // how far back duplicates are sought
	OutboxEvery      time.Duration // how often each node delivers pending notifications
	ExportTTL        time.Duration // how long a finished case export may be downloaded before it is deleted
	APIRate          float64       // requests per second each API token may make on average (0: unlimited)
	APIBurst         int           // requests an API token may make at once
	SMTPAddr         string        // host:port of the mail relay; "" sends no email
	SMTPFrom         string        // sender address of notification mail
	SMTPUser         string        // SMTP AUTH user name (optional)
	SMTPPasswordFile string        // file holding the SMTP password (or GRIDHALL_SMTP_PASSWORD)
	SMTPPassword     string        // from GRIDHALL_SMTP_PASSWORD or the file; never a flag

	// Logging.
	LogLevel  slog.Level
	LogFormat string // json or text
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		DataDir:            "./data",
		DBMaxConns:         16,
		Addr:               "127.0.0.1:8080",
		MaxBodyBytes:       1 << 20,
		MaxUploadBytes:     64 << 20,
		ShutdownTimeout:    15 * time.Second,
		AdminUser:          "admin",
		SessionIdle:        2 * time.Hour,
		SessionAbsolute:    12 * time.Hour,
		LoginMaxFailures:   5,
		LoginIPMaxFailures: 50,
		LoginWindow:        15 * time.Minute,
		RetentionDays:      3 * 365,
		BoundaryTolerance:  2,
		TerritoryPoll:      2 * time.Second,
		CaseTimerEvery:     30 * time.Second,
		EscalateAfter:      0.5,
		DuplicateRadius:    150,
		DuplicateWindow:    7 * 24 * time.Hour,
		OutboxEvery:        5 * time.Second,
		ExportTTL:          24 * time.Hour,
		APIRate:            20,
		APIBurst:           100,
		LogLevel:           slog.LevelInfo,
		LogFormat:          "json",
	}
}

// IsPostgres reports whether the configured database is PostgreSQL.
func (c Config) IsPostgres() bool {
	return strings.HasPrefix(c.DB, "postgres://") || strings.HasPrefix(c.DB, "postgresql://")
}

// SQLitePath is the SQLite database file: --db when it names a file,
// otherwise gridhall.db inside the data directory.
func (c Config) SQLitePath() string {
	if c.DB != "" && !c.IsPostgres() {
		return strings.TrimPrefix(c.DB, "sqlite:")
	}
	return filepath.Join(c.DataDir, "gridhall.db")
}

// ExportDirectory is where bulk export files go: --export-dir, else
// "exports" inside the data directory. With several nodes on PostgreSQL it
// must be a directory they all share, since any node may serve a download.
func (c Config) ExportDirectory() string {
	if c.ExportDir != "" {
		return c.ExportDir
	}
	return filepath.Join(c.DataDir, "exports")
}

// RegisterStorage adds the flags every data-touching subcommand shares.
func RegisterStorage(fs *flag.FlagSet, c *Config) {
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory for the embedded database and local files")
	fs.StringVar(&c.ExportDir, "export-dir", c.ExportDir, "directory for case export files (default DATA-DIR/exports); with several nodes, a directory all of them share")
	fs.StringVar(&c.DB, "db", c.DB, "database: empty or a file path for SQLite, postgres://user@host/db for PostgreSQL")
	fs.IntVar(&c.DBMaxConns, "db-max-conns", c.DBMaxConns, "maximum open connections (PostgreSQL pool, SQLite read pool)")
	fs.StringVar(&c.MasterKeyFile, "master-key-file", c.MasterKeyFile, "file with the master key (base64 or hex, 32 bytes) protecting personal data; or set GRIDHALL_MASTER_KEY")
	fs.IntVar(&c.RetentionDays, "retention-days", c.RetentionDays, "days after a resident moves out before their personal data is erased")
	fs.Float64Var(&c.BoundaryTolerance, "boundary-tolerance", c.BoundaryTolerance, "metres a boundary may stick out of its parent or overlap a sibling")
	fs.TextVar(&c.LogLevel, "log-level", c.LogLevel, "log level: debug, info, warn, error")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "log format: json or text")
}

// RegisterServer adds the flags of the HTTP server (serve, demo).
func RegisterServer(fs *flag.FlagSet, c *Config) {
	fs.StringVar(&c.Addr, "addr", c.Addr, "address to listen on (host:port)")
	fs.StringVar(&c.BaseURL, "base-url", c.BaseURL, "public URL of this site, e.g. https://grid.example.org (default http://ADDR)")
	fs.StringVar(&c.TLSCert, "tls-cert", c.TLSCert, "TLS certificate file (serve HTTPS directly)")
	fs.StringVar(&c.TLSKey, "tls-key", c.TLSKey, "TLS private key file")
	fs.BoolVar(&c.TrustProxy, "trust-proxy", c.TrustProxy, "trust X-Forwarded-For and X-Forwarded-Proto from a reverse proxy")
	fs.Int64Var(&c.MaxBodyBytes, "max-body-bytes", c.MaxBodyBytes, "largest accepted request body")
	fs.Int64Var(&c.MaxUploadBytes, "max-upload-bytes", c.MaxUploadBytes, "largest accepted file upload (territory and registry imports)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "time allowed for in-flight requests on SIGTERM")
	fs.StringVar(&c.AdminUser, "admin-user", c.AdminUser, "user name of the first administrator created on an empty database")
	fs.StringVar(&c.AdminPasswordFile, "admin-password-file", c.AdminPasswordFile, "file holding the first administrator's password (or set GRIDHALL_ADMIN_PASSWORD)")
	fs.DurationVar(&c.SessionIdle, "session-idle", c.SessionIdle, "sign out after this long without activity")
	fs.DurationVar(&c.SessionAbsolute, "session-absolute", c.SessionAbsolute, "sign out this long after login whatever the activity")
	fs.IntVar(&c.LoginMaxFailures, "login-max-failures", c.LoginMaxFailures, "failed logins per account within the window before it is throttled")
	fs.IntVar(&c.LoginIPMaxFailures, "login-ip-max-failures", c.LoginIPMaxFailures, "failed logins per client address within the window before it is throttled")
	fs.DurationVar(&c.LoginWindow, "login-window", c.LoginWindow, "login throttling window")
	fs.StringVar(&c.MapTileURL, "map-tile-url", c.MapTileURL, "tile layer for the map page, e.g. https://{s}.tile.example.org/{z}/{x}/{y}.png (default none: boundaries on a plain background)")
	fs.DurationVar(&c.TerritoryPoll, "territory-poll", c.TerritoryPoll, "how often to check for territory changes made on other nodes")
	fs.DurationVar(&c.CaseTimerEvery, "case-timer-every", c.CaseTimerEvery, "how often to fire due case timers (warnings at 80%, overdue marks, escalation)")
	fs.Float64Var(&c.EscalateAfter, "escalate-after", c.EscalateAfter, "escalate an overdue case one level when this fraction of its stage limit has passed beyond the deadline (0: never)")
	fs.Float64Var(&c.DuplicateRadius, "duplicate-radius", c.DuplicateRadius, "metres within which an open case of the same category is offered as a likely duplicate")
	fs.DurationVar(&c.DuplicateWindow, "duplicate-window", c.DuplicateWindow, "how far back likely duplicates are sought")
	fs.DurationVar(&c.ExportTTL, "export-ttl", c.ExportTTL, "how long a finished case export may be downloaded before its file is deleted")
	fs.DurationVar(&c.OutboxEvery, "outbox-every", c.OutboxEvery, "how often to deliver pending notifications (in-app, email, webhooks)")
	fs.Float64Var(&c.APIRate, "api-rate", c.APIRate, "requests per second each API token may make on average, per node (0 = unlimited)")
	fs.IntVar(&c.APIBurst, "api-burst", c.APIBurst, "requests an API token may make at once before --api-rate applies")
	fs.StringVar(&c.SMTPAddr, "smtp-addr", c.SMTPAddr, "mail relay host:port for notification email (default none: no email)")
	fs.StringVar(&c.SMTPFrom, "smtp-from", c.SMTPFrom, "sender address of notification email")
	fs.StringVar(&c.SMTPUser, "smtp-user", c.SMTPUser, "SMTP user name, when the relay wants authentication")
	fs.StringVar(&c.SMTPPasswordFile, "smtp-password-file", c.SMTPPasswordFile, "file holding the SMTP password (or set GRIDHALL_SMTP_PASSWORD)")
}

// EnvName is the environment variable that backs a flag.
func EnvName(flagName string) string {
	return "GRIDHALL_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Parse parses args into fs, then fills every flag not given on the command
// line from its GRIDHALL_* environment variable. getenv is os.Getenv in
// production and a map lookup in tests.
func Parse(fs *flag.FlagSet, c *Config, args []string, getenv func(string) string) error {
	// Accept flags after positional arguments too ("token revoke 7 --db …"),
	// as operators type them; "--" still ends flag parsing.
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			break
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	if err := fs.Parse(append([]string{"--"}, positional...)); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || given[f.Name] {
			return
		}
		if v := getenv(EnvName(f.Name)); v != "" {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("environment variable %s: %v", EnvName(f.Name), e)
			}
		}
	})
	if err != nil {
		return err
	}
	if c.AdminPassword == "" {
		c.AdminPassword = getenv("GRIDHALL_ADMIN_PASSWORD")
	}
	if c.MasterKey == "" {
		c.MasterKey = getenv("GRIDHALL_MASTER_KEY")
		c.SMTPPassword = getenv("GRIDHALL_SMTP_PASSWORD")
	}
	return c.Validate()
}

// Validate checks the settings that have rules beyond their type.
func (c Config) Validate() error {
	switch {
	case c.DataDir == "" && !c.IsPostgres():
		return fmt.Errorf("--data-dir must not be empty")
	case c.LogFormat != "json" && c.LogFormat != "text":
		return fmt.Errorf("--log-format must be json or text")
	case c.DBMaxConns < 1:
		return fmt.Errorf("--db-max-conns must be at least 1")
	case c.MaxBodyBytes < 1024:
		return fmt.Errorf("--max-body-bytes must be at least 1024")
	case c.MaxUploadBytes < c.MaxBodyBytes:
		return fmt.Errorf("--max-upload-bytes must be at least --max-body-bytes")
	case (c.TLSCert == "") != (c.TLSKey == ""):
		return fmt.Errorf("--tls-cert and --tls-key go together")
	case c.SessionIdle <= 0 || c.SessionAbsolute < c.SessionIdle:
		return fmt.Errorf("--session-idle must be positive and not longer than --session-absolute")
	case c.RetentionDays < 1:
		return fmt.Errorf("--retention-days must be at least 1")
	case c.BoundaryTolerance < 0 || c.BoundaryTolerance > 1000:
		return fmt.Errorf("--boundary-tolerance must be between 0 and 1000 metres")
	case c.MapTileURL != "" && !strings.HasPrefix(c.MapTileURL, "https://") && !strings.HasPrefix(c.MapTileURL, "http://"):
		return fmt.Errorf("--map-tile-url must start with http:// or https://")
	case c.CaseTimerEvery < 100*time.Millisecond || c.OutboxEvery < 100*time.Millisecond:
		return fmt.Errorf("--case-timer-every and --outbox-every must be at least 100ms")
	case c.APIRate < 0 || c.APIBurst < 1:
		return fmt.Errorf("--api-rate must not be negative and --api-burst must be at least 1")
	case c.EscalateAfter < 0 || c.EscalateAfter > 100:
		return fmt.Errorf("--escalate-after must be between 0 and 100")
	case c.DuplicateRadius < 0 || c.DuplicateRadius > 5000 || c.DuplicateWindow < 0:
		return fmt.Errorf("--duplicate-radius must be between 0 and 5000 metres and --duplicate-window not negative")
	case c.SMTPAddr != "" && c.SMTPFrom == "":
		return fmt.Errorf("--smtp-addr needs --smtp-from")
	case c.ExportTTL < time.Minute:
		return fmt.Errorf("--export-ttl must be at least 1m")
	case c.TerritoryPoll < 100*time.Millisecond:
		return fmt.Errorf("--territory-poll must be at least 100ms")
	case c.LoginMaxFailures < 1 || c.LoginIPMaxFailures < 1 || c.LoginWindow <= 0:
		return fmt.Errorf("login throttling limits must be positive")
	case c.BaseURL != "" && !strings.HasPrefix(c.BaseURL, "http://") && !strings.HasPrefix(c.BaseURL, "https://"):
		return fmt.Errorf("--base-url must start with http:// or https://")
	}
	return nil
}
