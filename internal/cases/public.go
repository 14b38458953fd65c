package cases

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"strings"
	"time"

	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/errs"
)

// PublicFilter selects cases for open-data readers (Open311 clients): no
// account, no personal data, only what the public may know of a case.
type PublicFilter struct {
	IDs           []int64 // when set, these cases and no other condition
	Categories    []string
	From, To      time.Time // reported in [From, To)
	UpdatedAfter  time.Time
	UpdatedBefore time.Time
	Open, Closed  bool // status filters; neither means both
	// Near, when set, keeps the cases within Radius metres of a point.
	Near          *Near
	Offset, Limit int
}

// Near is a circle on the map: a WGS84 point and a radius in metres.
type Near struct {
	Lat, Lng, Radius float64
}

// where adds the circle to q: a bounding box first, which the database
// compares with plain column ranges, then the distance by the same
// equirectangular formula as the duplicate check, in arithmetic both
// engines evaluate without geometry functions.
func (n Near) where(q *sqlBuilder) {
	dLat := n.Radius / metresPerDegree
	k := math.Max(math.Cos(n.Lat*math.Pi/180), 0.01)
	dLng := dLat / k
	q.where("lat BETWEEN " + q.arg(n.Lat-dLat) + " AND " + q.arg(n.Lat+dLat))
	q.where("lng BETWEEN " + q.arg(n.Lng-dLng) + " AND " + q.arg(n.Lng+dLng))
	x, y, kk, rr := q.arg(n.Lng), q.arg(n.Lat), q.arg(k), q.arg(dLat*dLat)
	q.where("((lng - " + x + ") * " + kk + ") * ((lng - " + x + ") * " + kk + ") + (lat - " + y + ") * (lat - " + y + ") <= " + rr)
}

// metresPerDegree is the length of a degree of latitude.
const metresPerDegree = 111320

// PublicCases lists cases for open-data readers, newest first.
func (s *Service) PublicCases(ctx context.Context, f PublicFilter) ([]Case, error) {
	const op = "cases.PublicCases"
	q := &sqlBuilder{}
	if len(f.IDs) > 0 {
		ph := make([]string, len(f.IDs))
		for i, id := range f.IDs {
			ph[i] = q.arg(id)
		}
		q.where("id IN (" + strings.Join(ph, ",") + ")")
	} else {
		if len(f.Categories) > 0 {
			var ors []string
			for _, ref := range f.Categories {
				c, err := s.cat.ByRef(ctx, ref)
				if err != nil {
					continue // an unknown code matches nothing
				}
				ors = append(ors, "(category_kind = "+q.arg(string(c.Kind))+" AND category_code = "+q.arg(c.Code)+")")
			}
			if len(ors) == 0 {
				return nil, nil
			}
			q.where("(" + strings.Join(ors, " OR ") + ")")
		}
		if !f.From.IsZero() {
			q.where("created_at >= " + q.arg(db.Millis(f.From)))
		}
		if !f.To.IsZero() {
			q.where("created_at < " + q.arg(db.Millis(f.To)))
		}
		if !f.UpdatedAfter.IsZero() {
			q.where("updated_at > " + q.arg(db.Millis(f.UpdatedAfter)))
		}
		if !f.UpdatedBefore.IsZero() {
			q.where("updated_at < " + q.arg(db.Millis(f.UpdatedBefore)))
		}
		if f.Near != nil {
			f.Near.where(q)
		}
		switch {
		case f.Open && !f.Closed:
			q.where("state NOT IN ('closed', 'rejected', 'cancelled')")
		case f.Closed && !f.Open:
			q.where("state IN ('closed', 'rejected', 'cancelled')")
		}
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 1000
	}
	rows, err := s.db.QueryContext(ctx, "SELECT "+caseColumns+" FROM cases WHERE "+q.conds()+
		" ORDER BY created_at DESC, id DESC LIMIT "+q.arg(f.Limit)+" OFFSET "+q.arg(max(f.Offset, 0)), q.args...)
	if err != nil {
		return nil, errs.Wrap(op, err)
	}
	out, err := scanCases(rows)
	return out, errs.Wrap(op, err)
}

// PublicCase returns one case for open-data readers; not found for an
// unknown id.
func (s *Service) PublicCase(ctx context.Context, id int64) (Case, error) {
	c, err := s.st.caseByID(ctx, s.db, id, "")
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound("cases.PublicCase")
	}
	return c, errs.Wrap("cases.PublicCase", err)
}

// PublicIDByNumber finds a case by its number for open-data readers.
func (s *Service) PublicIDByNumber(ctx context.Context, number string) (int64, error) {
	id, err := s.st.caseIDByNumber(ctx, s.db, strings.TrimSpace(number))
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound("cases.PublicIDByNumber")
	}
	return id, errs.Wrap("cases.PublicIDByNumber", err)
}
