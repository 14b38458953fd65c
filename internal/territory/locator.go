package territory

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paulmach/orb"

	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/geo"
)

// Locator answers point → grid from an in-memory index of the current
// boundaries. Every GridHall node keeps its own index and rebuilds it when
// the stored territory version changes, so a boundary edit on one node
// reaches all nodes on the same database within one poll interval.
type Locator struct {
	db   *db.DB
	st   store
	mu   sync.Mutex // one rebuild at a time
	snap atomic.Pointer[snapshot]
}

type snapshot struct {
	version int64
	index   *geo.Index
	refs    map[string]NodeRef
	paths   map[string]string
	ids     map[string]int64
}

// NewLocator returns a locator over d; it is empty until the first Refresh.
func NewLocator(d *db.DB) *Locator { return &Locator{db: d} }

// Version returns the territory version the index was built from (-1 before
// the first build).
func (l *Locator) Version() int64 {
	if s := l.snap.Load(); s != nil {
		return s.version
	}
	return -1
}

// Ref returns the current node a code names, from the index's snapshot:
// no query, so a bulk export can name the grid, community and street of
// every row it writes. False before the first build or for unknown codes.
func (l *Locator) Ref(code string) (NodeRef, bool) {
	s := l.snap.Load()
	if s == nil {
		return NodeRef{}, false
	}
	r, ok := s.refs[code]
	return r, ok
}

// Ensure builds the index if it has never been built.
func (l *Locator) Ensure(ctx context.Context) error {
	if l.snap.Load() != nil {
		return nil
	}
	return l.Refresh(ctx)
}

// Refresh rebuilds the index when the stored version differs from the one
// it was built from. The version is read before the nodes: a change that
// lands in between makes the next poll rebuild again, never leaves a stale
// index marked as current.
func (l *Locator) Refresh(ctx context.Context) error {
	v, err := l.st.version(ctx, l.db)
	if err != nil {
		return err
	}
	if s := l.snap.Load(); s != nil && s.version == v {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if s := l.snap.Load(); s != nil && s.version == v {
		return nil
	}
	s, err := buildSnapshot(ctx, l.st, l.db)
	if err != nil {
		return err
	}
	s.version = v
	l.snap.Store(s)
	return nil
}

func buildSnapshot(ctx context.Context, st store, q db.Querier) (*snapshot, error) {
	s := &snapshot{refs: map[string]NodeRef{}, paths: map[string]string{}, ids: map[string]int64{}}
	var fs []geo.Feature
	err := st.allCurrent(ctx, q, func(r locatorRow) error {
		fs = append(fs, geo.Feature{Code: r.Code, Level: int(r.Level), Shape: r.Boundary})
		s.refs[r.Code] = NodeRef{Code: r.Code, Kind: r.Level.String(), NameZH: r.NameZH, NameEN: r.NameEN}
		s.paths[r.Code] = r.Path
		s.ids[r.Code] = r.ID
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.index = geo.Build(fs)
	return s, nil
}

// Run refreshes the index every interval until ctx ends.
func (l *Locator) Run(ctx context.Context, every time.Duration, log *slog.Logger) {
	clock.Every(ctx, every, func() {
		if err := l.Refresh(ctx); err != nil && ctx.Err() == nil {
			log.Warn("territory index refresh failed", "err", err)
		}
	})
}

// Locate finds the lowest node containing a WGS84 point.
func (l *Locator) Locate(p orb.Point) Location {
	s := l.snap.Load()
	if s == nil {
		return Location{WGS84: p}
	}
	return s.locate(p)
}

func (s *snapshot) locate(p orb.Point) Location {
	loc := Location{WGS84: p}
	code, ok := s.index.Locate(p)
	if !ok {
		return loc
	}
	loc.Inside, loc.Code, loc.Kind, loc.Version = true, code, s.refs[code].Kind, s.ids[code]
	for _, c := range strings.Split(s.paths[code], "/") {
		if ref, ok := s.refs[c]; ok {
			loc.Path = append(loc.Path, ref)
		}
	}
	return loc
}

// ScopePath returns the scope path of the located node ("" when outside).
func (loc Location) ScopePath() string {
	if !loc.Inside {
		return ""
	}
	return pathOf(loc.Code)
}
