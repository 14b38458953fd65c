package export

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/cases"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/i18n"
)

// Config holds the tunable rules of exports.
type Config struct {
	// Dir is where files are written. With several nodes on one PostgreSQL
	// database it must be a directory every node shares (a network mount):
	// a job runs on one node and its download may reach any other.
	Dir string
	// TTL is how long a finished file may be downloaded before the purge
	// removes it.
	TTL time.Duration
	// Lease is how long a worker holds a job without renewing it; a node
	// that dies mid-export leaves the job to be claimed again after it.
	Lease time.Duration
	// SyncLimit is the largest export written at once, while the request
	// waits, instead of in the background: small exports are ready when the
	// answer arrives. Both take the same path; 0 makes every export wait
	// for the worker.
	SyncLimit int
	// MaxAttempts bounds how often a job is claimed, so that an export that
	// crashes its node is not retried forever.
	MaxAttempts int
	// Keep is how long the rows of expired and failed jobs stay listed.
	Keep time.Duration
}

// DefaultConfig is what an installation starts with; Dir must be set.
func DefaultConfig() Config {
	return Config{TTL: 24 * time.Hour, Lease: 2 * time.Minute, SyncLimit: 5000, MaxAttempts: 3, Keep: 30 * 24 * time.Hour}
}

// Deps are the services exports build on.
type Deps struct {
	DB    *db.DB
	Audit *audit.Log
	Clock clock.Clock
	Cases *cases.Service
	Users *auth.Service
	I18n  *i18n.Bundle
	Log   *slog.Logger
}

// Service owns bulk exports.
type Service struct {
	d    Deps
	cfg  Config
	st   store
	log  *slog.Logger
	node string        // this process's name in leases
	wake chan struct{} // a new job for the worker
}

// New returns the export service.
func New(d Deps, cfg Config) *Service {
	def := DefaultConfig()
	if cfg.TTL <= 0 {
		cfg.TTL = def.TTL
	}
	if cfg.Lease <= 0 {
		cfg.Lease = def.Lease
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = def.MaxAttempts
	}
	if cfg.Keep <= 0 {
		cfg.Keep = def.Keep
	}
	log := d.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	host, _ := os.Hostname()
	return &Service{d: d, cfg: cfg, st: store{engine: d.DB.Engine}, log: log,
		node: host + "/" + strconv.Itoa(os.Getpid()) + "/" + randomHex(4), wake: make(chan struct{}, 1)}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

var (
	errTooManyRows = errs.E(errs.Invalid, "export.xlsx", "export.error.xlsx_rows")
	errLeaseLost   = errors.New("export: the lease passed to another node")
)

// Create records an export request and, when it is small, writes it at
// once; larger ones are left to the worker. The request is checked now
// (fields, the actor's right to the cases and, for an unmasked export, to
// reveal contacts) and audited as "case.export" with its reason, in the same
// transaction as the job.
func (s *Service) Create(ctx context.Context, actor auth.Actor, req Request) (Job, error) {
	const op = "export.Create"
	if actor.UserID == 0 {
		// Jobs belong to accounts, which download them; the console writes
		// its exports straight to a file (Write).
		return Job{}, errs.E(errs.Forbidden, op, "error.forbidden")
	}
	f, bad := req.check()
	if len(bad) > 0 {
		return Job{}, errs.Fields(op, bad)
	}
	masked := req.masked()
	if err := s.d.Cases.CheckExport(ctx, actor, f, !masked); err != nil {
		return Job{}, err
	}
	lang := i18n.Supported(req.Lang)
	if lang == "" {
		lang = i18n.Chinese
	}
	now := s.d.Clock.Now()
	j := Job{UserID: actor.UserID, Username: actor.Username, ScopePath: commonScope(actor.EffectiveScopes()),
		Format: req.Format, Filter: req.Filter, Masked: masked, Lang: lang, State: Queued, CreatedAt: now}
	err := s.d.DB.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if j.ID, err = s.st.insert(ctx, tx, j); err != nil {
			return err
		}
		r := audit.Record{Action: "case.export", ObjectType: "export", ObjectID: itoa(j.ID), ScopePath: j.ScopePath,
			Detail: map[string]any{"format": j.Format, "masked": j.Masked, "filter": j.Filter}}
		if !masked {
			r.Reason = req.Reason
		}
		return s.record(ctx, tx, actor, r)
	})
	if err != nil {
		return Job{}, errs.Wrap(op, err)
	}
	if s.cfg.SyncLimit > 0 {
		n, err := s.d.Cases.CountExport(ctx, actor, f, s.cfg.SyncLimit)
		if err != nil {
			return Job{}, err
		}
		if n <= s.cfg.SyncLimit {
			if _, err := s.work(ctx, j.ID); err != nil {
				return Job{}, err
			}
			return s.load(ctx, op, j.ID)
		}
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return j, nil
}

// Write writes an export straight to w, without a job: the console's
// export. It is checked and audited as Create does and takes the same path
// as a job's file. It returns the number of cases written.
func (s *Service) Write(ctx context.Context, actor auth.Actor, req Request, w io.Writer) (int, error) {
	const op = "export.Write"
	f, bad := req.check()
	if len(bad) > 0 {
		return 0, errs.Fields(op, bad)
	}
	masked := req.masked()
	if err := s.d.Cases.CheckExport(ctx, actor, f, !masked); err != nil {
		return 0, err
	}
	lang := i18n.Supported(req.Lang)
	if lang == "" {
		lang = i18n.Chinese
	}
	r := audit.Record{Action: "case.export", ObjectType: "export", ScopePath: commonScope(actor.EffectiveScopes()),
		Detail: map[string]any{"format": req.Format, "masked": masked, "filter": req.Filter, "console": true}}
	if !masked {
		r.Reason = req.Reason
	}
	// Audited before the first row: a failed audit means nothing leaves.
	if err := s.d.DB.Tx(ctx, func(tx *sql.Tx) error { return s.record(ctx, tx, actor, r) }); err != nil {
		return 0, errs.Wrap(op, err)
	}
	n, err := s.write(ctx, actor, req.Format, f, !masked, lang, w, nil)
	return n, errs.Wrap(op, err)
}

// List returns the actor's own exports, newest first, below the id before
// (0: from the newest).
func (s *Service) List(ctx context.Context, actor auth.Actor, before int64, limit int) ([]Job, error) {
	const op = "export.List"
	if actor.UserID == 0 {
		return []Job{}, nil
	}
	if limit < 1 || limit > 200 {
		limit = 50
	}
	js, err := s.st.ofUser(ctx, s.d.DB, actor.UserID, before, limit)
	return js, errs.Wrap(op, err)
}

// Get returns one export for its requester or an administrator (see
// mayAccess).
func (s *Service) Get(ctx context.Context, actor auth.Actor, id int64) (Job, error) {
	const op = "export.Get"
	j, err := s.load(ctx, op, id)
	if err != nil {
		return Job{}, err
	}
	if !mayAccess(actor, j) {
		return Job{}, errs.E(errs.Forbidden, op, "export.error.not_yours")
	}
	return j, nil
}

// Open opens a ready export's file for its requester or an administrator,
// after writing the download to the audit log ("case.export.download", with
// the row count and whether contacts are masked): a failed audit means the
// file is not served. A job not ready yet is a conflict; an expired one is
// gone. The caller closes the file.
func (s *Service) Open(ctx context.Context, actor auth.Actor, id int64) (Job, *os.File, error) {
	const op = "export.Open"
	j, err := s.Get(ctx, actor, id)
	if err != nil {
		return Job{}, nil, err
	}
	switch j.State {
	case Ready:
	case Expired:
		return Job{}, nil, errs.E(errs.Gone, op, "export.error.expired")
	case Failed:
		return Job{}, nil, errs.E(errs.Conflict, op, "export.error.failed_job")
	default:
		return Job{}, nil, errs.E(errs.Conflict, op, "export.error.not_ready")
	}
	if !j.ExpiresAt.After(s.d.Clock.Now()) {
		return Job{}, nil, errs.E(errs.Gone, op, "export.error.expired")
	}
	f, err := os.Open(filepath.Join(s.cfg.Dir, j.File))
	if errors.Is(err, fs.ErrNotExist) {
		// On several nodes without a shared export directory the file is
		// on another machine: the operator must fix --export-dir, and the
		// user is told the file cannot be reached from here for now.
		s.log.LogAttrs(ctx, slog.LevelError, "export file missing: is --export-dir shared by every node?",
			slog.Int64("export", j.ID), slog.String("file", j.File), slog.String("dir", s.cfg.Dir))
		return Job{}, nil, &errs.Error{Code: errs.Unavailable, Op: op, Msg: "export.error.file_missing", Err: err}
	}
	if err != nil {
		return Job{}, nil, errs.Wrap(op, err)
	}
	err = s.d.DB.Tx(ctx, func(tx *sql.Tx) error {
		if err := s.st.downloaded(ctx, tx, j.ID); err != nil {
			return err
		}
		return s.record(ctx, tx, actor, audit.Record{Action: "case.export.download", ObjectType: "export", ObjectID: itoa(j.ID),
			ScopePath: j.ScopePath, Detail: map[string]any{"export": j.ID, "rows": j.Rows, "masked": j.Masked,
				"format": j.Format, "sha256": j.SHA256, "requested_by": j.Username}})
	})
	if err != nil {
		f.Close()
		return Job{}, nil, errs.Wrap(op, err)
	}
	j.Downloads++
	return j, f, nil
}

// mayAccess lets the requester reach an export, and a district
// administrator whose scope covers the requester's (for exports of unmasked
// contacts, only one who may reveal them there). A system administrator
// never sees residents' data, so is not an administrator here.
func mayAccess(actor auth.Actor, j Job) bool {
	if actor.UserID != 0 && actor.UserID == j.UserID {
		return true
	}
	return actor.Role == auth.DistrictAdmin && auth.Can(actor, auth.ReadCases, j.ScopePath) &&
		(j.Masked || auth.Can(actor, auth.RevealPeople, j.ScopePath))
}

func (s *Service) load(ctx context.Context, op string, id int64) (Job, error) {
	j, err := s.st.byID(ctx, s.d.DB, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, errs.E(errs.NotFound, op, "export.error.not_found")
	}
	return j, errs.Wrap(op, err)
}

func (s *Service) record(ctx context.Context, tx *sql.Tx, actor auth.Actor, r audit.Record) error {
	r.ActorID, r.ActorName, r.ActorRole = actor.UserID, actor.Username, string(actor.Role)
	_, err := s.d.Audit.Append(ctx, tx, s.d.Clock.Now(), r)
	return err
}

// Run works the export queue until ctx ends: at once when this node creates
// a job, and every interval for jobs created on other nodes or left by a
// node that died. Every tenth round it purges expired files.
func (s *Service) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for round := 0; ; round++ {
		for {
			did, err := s.Work(ctx)
			if err != nil && ctx.Err() == nil {
				s.log.Warn("export worker failed", "err", err)
			}
			if !did || err != nil {
				break
			}
		}
		if round%10 == 0 {
			if _, err := s.Purge(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("export purge failed", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
	}
}

// Work claims one job and writes its file, reporting whether there was one.
// A job's own failure (a requester who lost the right to the cases, a full
// disk) is recorded on the job, not returned.
func (s *Service) Work(ctx context.Context) (bool, error) {
	return s.work(ctx, 0)
}

// work claims the job id (0: the oldest waiting) and writes it.
func (s *Service) work(ctx context.Context, id int64) (bool, error) {
	const op = "export.Work"
	now := s.d.Clock.Now()
	var j Job
	err := s.d.DB.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.st.failExhausted(ctx, tx, now, s.cfg.MaxAttempts); err != nil {
			return err
		}
		var err error
		j, err = s.st.claim(ctx, tx, s.node, now, now.Add(s.cfg.Lease), s.cfg.MaxAttempts, id)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, errs.Wrap(op, err)
	}
	return true, s.produce(ctx, j)
}

// produce writes a claimed job's file beside its final name, then renames
// it into place and marks the job ready, so that no reader ever finds a
// partial file under a job's name.
func (s *Service) produce(ctx context.Context, j Job) error {
	const op = "export.produce"
	fail := func(key string, cause error) error {
		if ctx.Err() != nil || errors.Is(cause, errLeaseLost) {
			// Shutting down, or another node has the job: leave it to the
			// lease, which lets a live node take it up.
			return nil
		}
		if key == "" {
			key = "export.error.failed"
			s.log.Error("export failed", "export", j.ID, "err", cause)
		}
		j.State, j.Error, j.FinishedAt = Failed, key, s.d.Clock.Now()
		_, err := s.st.finish(context.WithoutCancel(ctx), s.d.DB, j, s.node)
		return errs.Wrap(op, err)
	}
	actor, err := s.d.Users.ActorOf(ctx, j.UserID)
	if errs.Is(err, errs.NotFound) {
		return fail("export.error.requester", err)
	}
	if err != nil {
		return fail("", err)
	}
	req := Request{Format: j.Format, Filter: j.Filter}
	f, bad := req.check()
	if len(bad) > 0 {
		return fail("export.error.filter", errors.New("stored filter no longer valid"))
	}
	if err := os.MkdirAll(s.cfg.Dir, 0o750); err != nil {
		return fail("", err)
	}
	tmp, err := os.CreateTemp(s.cfg.Dir, ".export-*.tmp")
	if err != nil {
		return fail("", err)
	}
	defer os.Remove(tmp.Name()) // gone after the rename; removes the rest on failure
	h := sha256.New()
	size := &counter{}
	bw := bufio.NewWriterSize(io.MultiWriter(tmp, h, size), 256<<10)
	lease := j.leaseExpiry
	renew := func() error {
		// Renewed once half the lease has passed, checked every thousand
		// rows: a long export keeps its job, a dead node's lapses.
		now := s.d.Clock.Now()
		if now.Before(lease.Add(-s.cfg.Lease / 2)) {
			return nil
		}
		lease = now.Add(s.cfg.Lease)
		ok, err := s.st.renew(ctx, s.d.DB, j.ID, s.node, lease)
		if err == nil && !ok {
			err = errLeaseLost
		}
		return err
	}
	n, err := s.write(ctx, actor, j.Format, f, !j.Masked, j.Lang, bw, renew)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if e := errs.As(err); e.Code != errs.Internal && e.Msg != "" {
			return fail(e.Msg, err)
		}
		return fail("", err)
	}
	name := "export-" + itoa(j.ID) + "-" + randomHex(8) + "." + string(j.Format)
	if err := os.Rename(tmp.Name(), filepath.Join(s.cfg.Dir, name)); err != nil {
		return fail("", err)
	}
	now := s.d.Clock.Now()
	j.State, j.Rows, j.Bytes, j.File, j.SHA256 = Ready, int64(n), size.n, name, hex.EncodeToString(h.Sum(nil))
	j.FinishedAt, j.ExpiresAt = now, now.Add(s.cfg.TTL)
	ok, err := s.st.finish(context.WithoutCancel(ctx), s.d.DB, j, s.node)
	if err != nil || !ok {
		// Another node took the job over meanwhile: its file is the one.
		os.Remove(filepath.Join(s.cfg.Dir, name))
	}
	return errs.Wrap(op, err)
}

// write streams the cases of f to w in format, calling tick every thousand
// rows.
func (s *Service) write(ctx context.Context, actor auth.Actor, format Format, f cases.ExportFilter, reveal bool, lang string,
	w io.Writer, tick func() error) (int, error) {
	out, err := newSink(format, w, s.d.I18n, lang)
	if err != nil {
		return 0, err
	}
	rows := 0
	n, err := s.d.Cases.Export(ctx, actor, f, reveal, func(r *cases.ExportRow) error {
		if err := out.row(r); err != nil {
			return err
		}
		rows++
		if tick != nil && rows%1000 == 0 {
			return tick()
		}
		return nil
	})
	if err != nil {
		out.abort()
		return n, err
	}
	return n, out.finish()
}

// Purge removes the files of exports past their expiry and marks them
// expired, and forgets jobs that ended longer ago than Keep. Every node may
// run it: removing a file twice is harmless.
func (s *Service) Purge(ctx context.Context) (int, error) {
	const op = "export.Purge"
	now := s.d.Clock.Now()
	n := 0
	for {
		js, err := s.st.expiring(ctx, s.d.DB, now, 100)
		if err != nil {
			return n, errs.Wrap(op, err)
		}
		for _, j := range js {
			if err := os.Remove(filepath.Join(s.cfg.Dir, j.File)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return n, errs.Wrap(op, err)
			}
			if err := s.st.expire(ctx, s.d.DB, j.ID); err != nil {
				return n, errs.Wrap(op, err)
			}
			n++
		}
		if len(js) < 100 {
			break
		}
	}
	_, err := s.st.forget(ctx, s.d.DB, now.Add(-s.cfg.Keep))
	return n, errs.Wrap(op, err)
}

// counter counts the bytes written through it.
type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// commonScope is the longest path, by whole segments, that contains every
// scope: where an export's audit entries are filed and whose administrators
// may see it.
func commonScope(scopes []string) string {
	if len(scopes) == 0 {
		return ""
	}
	out := scopes[0]
	for _, sc := range scopes[1:] {
		for !auth.Within(out, sc) {
			i := strings.LastIndexByte(out, '/')
			if i < 0 {
				out = ""
				break
			}
			out = out[:i]
		}
	}
	return out
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
