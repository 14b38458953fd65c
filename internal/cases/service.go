package cases

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/i18n"
	"github.com/gridhall/gridhall/internal/media"
	"github.com/gridhall/gridhall/internal/seal"
	"github.com/gridhall/gridhall/internal/territory"
)

// Config holds the tunable rules of case handling.
type Config struct {
	// DuplicateRadius (metres) and DuplicateWindow bound where and when an
	// earlier case of the same category is offered as a likely duplicate.
	DuplicateRadius float64
	DuplicateWindow time.Duration
	// EscalateAfter is how far past a stage's deadline, as a fraction of
	// the stage's limit, an overdue case climbs one level of the ladder;
	// 0 turns automatic escalation off.
	EscalateAfter float64
	// MaxPhotos bounds the photos of one report or step.
	MaxPhotos int
	Photo     media.Limits
}

// DefaultConfig is what an installation starts with.
func DefaultConfig() Config {
	return Config{
		DuplicateRadius: 150,
		DuplicateWindow: 7 * 24 * time.Hour,
		EscalateAfter:   0.5,
		MaxPhotos:       6,
		Photo:           media.DefaultLimits(),
	}
}

// Service owns case handling.
type Service struct {
	db    *db.DB
	audit *audit.Log
	clock clock.Clock
	terr  *territory.Service
	users *auth.Service
	cat   *catalog.Service
	cal   *calendar.Service
	keys  *seal.Keyring
	tr    *i18n.Bundle
	cfg   Config
	log   *slog.Logger
	st    store
	// photoSlots bounds how many photos are decoded at once: a large photo
	// takes a few hundred megabytes while it is decoded.
	photoSlots chan struct{}
}

// Deps are the services case handling builds on.
type Deps struct {
	DB        *db.DB
	Audit     *audit.Log
	Clock     clock.Clock
	Territory *territory.Service
	Users     *auth.Service
	Catalog   *catalog.Service
	Calendar  *calendar.Service
	Keys      *seal.Keyring // may be nil: contact details are then not kept
	I18n      *i18n.Bundle
	Log       *slog.Logger
}

// NewService returns the case service.
func NewService(d Deps, cfg Config) *Service {
	if cfg.MaxPhotos == 0 {
		cfg = DefaultConfig()
	}
	log := d.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{db: d.DB, audit: d.Audit, clock: d.Clock, terr: d.Territory, users: d.Users, cat: d.Catalog, cal: d.Calendar,
		keys: d.Keys, tr: d.I18n, cfg: cfg, log: log, photoSlots: make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))}
}

// Who completes an actor with the departments its account belongs to.
func (s *Service) Who(ctx context.Context, actor auth.Actor) (Who, error) {
	w := Who{Actor: actor}
	if actor.Role == auth.DepartmentHandler && actor.UserID != 0 {
		d, err := s.cat.DepartmentsOf(ctx, actor.UserID)
		if err != nil {
			return w, errs.Wrap("cases.Who", err)
		}
		w.Departments = d
	}
	return w, nil
}

func (s *Service) record(ctx context.Context, tx *sql.Tx, actor auth.Actor, r audit.Record) error {
	r.ActorID, r.ActorName, r.ActorRole = actor.UserID, actor.Username, string(actor.Role)
	_, err := s.audit.Append(ctx, tx, s.clock.Now(), r)
	return err
}

// calendarFor is the working calendar of the district a case lies in.
func (s *Service) calendarFor(ctx context.Context, gridPath string) (*calendar.Calendar, error) {
	district, _, _ := strings.Cut(gridPath, "/")
	return s.cal.For(ctx, district)
}

// light is a case's warning light now, by working time on its district's
// calendar; None when no clock runs (final or suspended cases). Calendars
// are cached by the calendar service, so a page of cases costs no queries.
func (s *Service) light(ctx context.Context, c Case) (calendar.Light, float64, error) {
	if c.StageDueAt.IsZero() || c.State.Final() || c.State == Suspended {
		return calendar.None, 0, nil
	}
	cal, err := s.calendarFor(ctx, c.GridPath)
	if err != nil {
		return calendar.None, 0, err
	}
	l, f := cal.Status(c.StageStartedAt, c.StageDueAt, s.clock.Now())
	return l, f, nil
}

// limitOf is the time limit of a stage for a case's category and urgency;
// the close stage uses the register limit (the duty chief's window).
func limitOf(cat catalog.Category, u catalog.Urgency, st catalog.Stage) (calendar.Limit, bool) {
	if st == stageClose {
		st = catalog.Register
	}
	if l, ok := cat.Limits.For(u, st); ok {
		return l, true
	}
	return catalog.DefaultLimits().For(u, st)
}

// Upload is a file a face received, not yet checked.
type Upload struct {
	Name string
	R    io.Reader
}

type attachment = media.Photo

// photos checks and cleans uploads: type and size limits, metadata (EXIF
// location) stripped, thumbnails made.
func (s *Service) photos(op string, ups []Upload) ([]attachment, error) {
	if len(ups) > s.cfg.MaxPhotos {
		return nil, errs.Fields(op, map[string]string{"photos": "case.error.too_many_photos"})
	}
	out := make([]attachment, 0, len(ups))
	for _, u := range ups {
		s.photoSlots <- struct{}{}
		p, err := media.Process(u.R, s.cfg.Photo)
		<-s.photoSlots
		if err != nil {
			if e := errs.As(err); e.Code == errs.Invalid {
				key := e.Fields["photo"]
				if key == "" {
					key = "media.error.corrupt"
				}
				return nil, errs.Fields(op, map[string]string{"photos": key})
			}
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// notFound hides whether a case exists from someone who may not read it.
func notFound(op string) error { return errs.E(errs.NotFound, op, "case.error.not_found") }

// load reads a case for w, or not-found when w may not read it.
func (s *Service) load(ctx context.Context, q db.Querier, op string, w Who, id int64, lock string) (Case, error) {
	c, err := s.st.caseByID(ctx, q, id, lock)
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound(op)
	}
	if err != nil {
		return c, errs.Wrap(op, err)
	}
	if !w.CanRead(c) {
		// Reporters of duplicates merged into this case follow it.
		ok, err := s.st.follows(ctx, q, id, w.UserID)
		if err != nil {
			return Case{}, errs.Wrap(op, err)
		}
		if !ok || w.Role != auth.Resident {
			return Case{}, notFound(op)
		}
	}
	return c, nil
}

// Detail is a case with everything its page shows.
type Detail struct {
	Case     Case             `json:"case"`
	Events   []Event          `json:"events"`
	Allowed  []Action         `json:"allowed"`
	Light    calendar.Light   `json:"light"`
	Fraction float64          `json:"fraction"`
	Category catalog.Category `json:"-"`
	// Contact is the reporter's contact, unmasked for staff only when the
	// reporter did not ask for anonymity; masked otherwise.
	Contact Contact `json:"contact,omitzero"`
}

// Get returns a case with its timeline for someone who may read it.
// Residents see the public steps only.
func (s *Service) Get(ctx context.Context, actor auth.Actor, id int64) (Detail, error) {
	const op = "cases.Get"
	w, err := s.Who(ctx, actor)
	if err != nil {
		return Detail{}, err
	}
	c, err := s.load(ctx, s.db, op, w, id, "")
	if err != nil {
		return Detail{}, err
	}
	evs, err := s.st.events(ctx, s.db, id)
	if err != nil {
		return Detail{}, errs.Wrap(op, err)
	}
	atts, err := s.st.attachmentIDs(ctx, s.db, id)
	if err != nil {
		return Detail{}, errs.Wrap(op, err)
	}
	staff := actor.Role != auth.Resident
	out := evs[:0]
	for _, e := range evs {
		if !e.Public && !staff {
			continue
		}
		e.Attachments = atts[e.ID]
		if !staff && e.ActorRole != auth.Resident {
			// Residents see what was done and by which office, not who.
			e.ActorName = ""
		}
		out = append(out, e)
	}
	d := Detail{Case: c, Events: out, Allowed: Allowed(w, c)}
	d.Category, _ = s.cat.ByRef(ctx, c.Category)
	if d.Light, d.Fraction, err = s.light(ctx, c); err != nil {
		return Detail{}, errs.Wrap(op, err)
	}
	if staff {
		d.Contact, err = s.contactOf(ctx, c, false)
		if err != nil {
			return Detail{}, errs.Wrap(op, err)
		}
	}
	return d, nil
}

// Photo returns an attachment's bytes (or its thumbnail) for someone who may
// read its case.
func (s *Service) Photo(ctx context.Context, actor auth.Actor, id int64, thumb bool) (contentType string, data []byte, err error) {
	const op = "cases.Photo"
	w, err := s.Who(ctx, actor)
	if err != nil {
		return "", nil, err
	}
	caseID, ct, b, public, err := s.st.attachment(ctx, s.db, id, thumb)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !public && actor.Role == auth.Resident) {
		// Residents see the photos of the steps on their timeline only.
		return "", nil, notFound(op)
	}
	if err != nil {
		return "", nil, errs.Wrap(op, err)
	}
	if _, err := s.load(ctx, s.db, op, w, caseID, ""); err != nil {
		return "", nil, err
	}
	return ct, b, nil
}

// ByNumber finds a case's id by its number for someone who may read it.
func (s *Service) ByNumber(ctx context.Context, actor auth.Actor, number string) (int64, error) {
	const op = "cases.ByNumber"
	id, err := s.st.caseIDByNumber(ctx, s.db, strings.TrimSpace(number))
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound(op)
	}
	if err != nil {
		return 0, errs.Wrap(op, err)
	}
	w, err := s.Who(ctx, actor)
	if err != nil {
		return 0, err
	}
	if _, err := s.load(ctx, s.db, op, w, id, ""); err != nil {
		return 0, err
	}
	return id, nil
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
