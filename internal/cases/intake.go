package cases

import (
	"context"
	"database/sql"
	"encoding/json"
	"math"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/calendar"
	"github.com/gridhall/gridhall/internal/catalog"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/geo"
	"github.com/gridhall/gridhall/internal/seal"
)

// Contact is how the reporter of a case can be reached. It is personal data:
// sealed at rest, shown to staff only, never in public output.
type Contact struct {
	Name  string `json:"name,omitempty"`
	Phone string `json:"phone,omitempty"`
	Email string `json:"email,omitempty"`
}

// NewCase is a report as any channel delivers it.
type NewCase struct {
	Category    string              `json:"category"` // catalog ref, e.g. M90101
	Urgency     catalog.Urgency     `json:"urgency"`
	Description string              `json:"description"`
	Address     string              `json:"address"`
	Lng         *float64            `json:"lng"`
	Lat         *float64            `json:"lat"`
	CRS         string              `json:"crs"` // wgs84 (default), gcj02, bd09
	Channel     Channel             `json:"channel"`
	Anonymous   bool                `json:"anonymous"`
	Contact     Contact             `json:"contact"`
	Answers     map[string][]string `json:"answers"`
	// SelfHandled marks a grid worker's report of a problem fixed on the
	// spot (自行处置): the case goes straight to the on-site check, with
	// Result as the handling report.
	SelfHandled bool     `json:"self_handled"`
	Result      string   `json:"result"`
	Photos      []Upload `json:"-"`
	// ResultPhotos show the fix of a self-handled case.
	ResultPhotos []Upload `json:"-"`
	// Links are media URLs a client sent instead of photos (Open311
	// media_url): kept on the report step and shown back, never fetched.
	Links []string `json:"links,omitempty"`
	// AddressID is the client's id of the address (Open311 address_id),
	// kept on the report step.
	AddressID string `json:"address_id,omitempty"`
}

// Intake is the answer to a report: the new case and the open cases it
// probably duplicates.
type Intake struct {
	Case       Case        `json:"case"`
	Duplicates []Candidate `json:"duplicates"`
}

const (
	minDescription = 4
	// maxDescription is Open311's limit, the longest any channel sends.
	maxDescription = 4000
	maxAddress     = 200
	maxNote        = 2000
)

// Report takes in a report from any channel: it checks the input, locates
// the case to its grid (by the point, else by the typed address), starts
// the first stage's clock and, in one transaction, stores the case with its
// photos, timeline entry, audit entry and notifications.
func (s *Service) Report(ctx context.Context, actor auth.Actor, in NewCase) (Intake, error) {
	const op = "cases.Report"
	if !actor.Authenticated() {
		return Intake{}, errs.E(errs.Unauthenticated, op, "error.unauthenticated")
	}
	now := s.clock.Now()
	f := map[string]string{}
	in.Description = strings.TrimSpace(in.Description)
	in.Address = strings.TrimSpace(in.Address)
	if n := utf8.RuneCountInString(in.Description); n < minDescription {
		f["description"] = "case.error.description_short"
	} else if n > maxDescription {
		f["description"] = "error.field.too_long"
	}
	if utf8.RuneCountInString(in.Address) > maxAddress {
		f["address"] = "error.field.too_long"
	}
	if in.Urgency == "" {
		in.Urgency = catalog.Normal
	}
	if !slices.Contains([]catalog.Urgency{catalog.Urgent, catalog.Pressing, catalog.Normal}, in.Urgency) {
		f["urgency"] = "case.error.urgency"
	}
	if in.Channel == "" {
		in.Channel = Web
	}
	if !slices.Contains(Channels, in.Channel) {
		f["channel"] = "case.error.channel"
	} else if !channelAllowed(actor, in.Channel) {
		return Intake{}, errs.E(errs.Forbidden, op, "case.error.channel_forbidden")
	}
	if in.SelfHandled && in.Channel != Patrol {
		f["self_handled"] = "case.error.self_handled"
	}
	if in.SelfHandled && utf8.RuneCountInString(strings.TrimSpace(in.Result)) < minDescription {
		f["result"] = "case.error.note_required"
	}
	checkContact(in.Contact, f)
	checkLinks(in.Links, "links", f)
	if utf8.RuneCountInString(in.AddressID) > 100 {
		f["address_id"] = "error.field.too_long"
	}
	cat, err := s.cat.ByRef(ctx, in.Category)
	switch {
	case errs.Is(err, errs.NotFound), errs.Is(err, errs.Invalid), err == nil && !cat.Active:
		f["category"] = "case.error.category"
	case err != nil:
		return Intake{}, errs.Wrap(op, err)
	case !cat.Public && !actor.Role.Staff():
		f["category"] = "case.error.category"
	default:
		answers, bad := cat.CheckAnswers(in.Answers)
		for k, v := range bad {
			f[k] = v
		}
		in.Answers = answers
	}
	loc, where := s.locate(ctx, in, f)
	if len(f) > 0 {
		return Intake{}, errs.Fields(op, f)
	}
	if !auth.Can(actor, auth.ReportCase, loc.path) {
		return Intake{}, errs.E(errs.Forbidden, op, "error.forbidden")
	}
	photos, err := s.photos(op, in.Photos)
	if err != nil {
		return Intake{}, err
	}
	var fixes []attachment
	if in.SelfHandled {
		if fixes, err = s.photos(op, in.ResultPhotos); err != nil {
			return Intake{}, err
		}
	}
	contact, err := s.sealContact(in.Contact)
	if err != nil {
		return Intake{}, errs.Wrap(op, err)
	}
	cal, err := s.calendarFor(ctx, loc.path)
	if err != nil {
		return Intake{}, errs.Wrap(op, err)
	}

	c := Case{
		CategoryKind: cat.Kind, CategoryCode: cat.Code, Category: cat.Ref(), Urgency: in.Urgency,
		Description: in.Description, Address: where, Lng: loc.lng, Lat: loc.lat, Located: true,
		GridPath: loc.path, GridCode: lastSegment(loc.path), TerritoryVersion: loc.version,
		Channel: in.Channel, ReporterID: actor.UserID, ReporterRole: actor.Role, Anonymous: in.Anonymous,
		Answers: in.Answers, Level: GridLevel, CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	// Reports from the field are verified by whoever made them; public
	// reports and calls wait for the grid worker to verify on site.
	switch {
	case in.SelfHandled:
		c.State, c.VerifiedAt, c.RegisteredAt, c.DispatchedAt, c.HandledAt = Handled, now, now, now, now
		c.AssigneeKind, c.Assignee, c.HandlerID, c.SelfHandled = ToUser, itoa(actor.UserID), actor.UserID, true
	case in.Channel == Patrol || in.Channel == Device:
		c.State, c.VerifiedAt = Verified, now
	default:
		c.State = Reported
	}
	s.startStage(&c, cal, cat, now)
	dups, err := s.similar(ctx, cat, c.Lng, c.Lat, c.Description, now, 0)
	if err != nil {
		return Intake{}, errs.Wrap(op, err)
	}

	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		num, err := s.st.nextNumber(ctx, tx, now.In(calendar.Location()).Format("20060102"))
		if err != nil {
			return err
		}
		c.Number = num
		if c.ID, err = s.st.insertCase(ctx, tx, c, contact); err != nil {
			return err
		}
		detail := map[string]any{"channel": c.Channel}
		if len(in.Links) > 0 {
			detail["links"] = in.Links
		}
		if in.AddressID != "" {
			detail["address_id"] = in.AddressID
		}
		evID, err := s.st.insertEvent(ctx, tx, c.ID, Event{At: now, ActorID: actor.UserID, ActorName: actor.Username,
			ActorRole: actor.Role, Action: "report", To: c.State, Note: "", Public: true, Detail: detail})
		if err != nil {
			return err
		}
		for _, p := range photos {
			if _, err := s.st.insertAttachment(ctx, tx, c.ID, evID, p, now); err != nil {
				return err
			}
		}
		if in.SelfHandled {
			hID, err := s.st.insertEvent(ctx, tx, c.ID, Event{At: now, ActorID: actor.UserID, ActorName: actor.Username,
				ActorRole: actor.Role, Action: string(Handle), From: Handled, To: Handled, Note: strings.TrimSpace(in.Result), Public: true,
				Detail: map[string]any{"self_handled": true}})
			if err != nil {
				return err
			}
			for _, p := range fixes {
				if _, err := s.st.insertAttachment(ctx, tx, c.ID, hID, p, now); err != nil {
					return err
				}
			}
		}
		if c.Stage != "" {
			if err := s.st.firstStage(ctx, tx, c.ID, stageRow{Stage: c.Stage, StartedAt: now, DueAt: c.StageDueAt, GridPath: c.GridPath, Assignee: c.Assignee}); err != nil {
				return err
			}
		}
		if actor.UserID != 0 {
			if err := s.st.follow(ctx, tx, c.ID, actor.UserID); err != nil {
				return err
			}
		}
		if err := s.record(ctx, tx, actor, audit.Record{Action: "case.report", ObjectType: "case", ObjectID: itoa(c.ID),
			ScopePath: c.GridPath, Detail: map[string]any{"number": c.Number, "channel": c.Channel, "category": c.Category}}); err != nil {
			return err
		}
		return s.notify(ctx, tx, c, "report", actor)
	})
	if err != nil {
		return Intake{}, errs.Wrap(op, err)
	}
	return Intake{Case: c, Duplicates: dups}, nil
}

// channelAllowed says who may use which channel: quick reports are the
// field staff's, the hotline is the operators', devices are machines'.
func channelAllowed(a auth.Actor, ch Channel) bool {
	switch ch {
	case Patrol:
		return a.Role == auth.GridWorker || a.Role == auth.CommunityStaff
	case Hotline:
		return a.Role.Staff() && a.Role != auth.Auditor && a.Role != auth.SystemAdmin
	case Device:
		return a.System || a.TokenID != 0
	}
	return true
}

// phoneDigits accepts a phone number as callers give it: 5–15 digits with
// spaces, dashes and plus signs. Contact numbers of hotline callers need
// not be mainland mobiles.
func phoneDigits(s string) bool {
	n := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			n++
		case r == '+' || r == '-' || r == ' ':
		default:
			return false
		}
	}
	return n >= 5 && n <= 15
}

func checkContact(c Contact, f map[string]string) {
	if utf8.RuneCountInString(c.Name) > 50 {
		f["contact.name"] = "error.field.too_long"
	}
	if c.Phone != "" && !phoneDigits(c.Phone) {
		f["contact.phone"] = "case.error.phone"
	}
	if c.Email != "" {
		if a, err := mail.ParseAddress(c.Email); err != nil || a.Address != c.Email || len(c.Email) > 200 {
			f["contact.email"] = "case.error.email"
		}
	}
}

const contactPurpose = "case.contact"

func (s *Service) sealContact(c Contact) (string, error) {
	c.Name, c.Phone, c.Email = strings.TrimSpace(c.Name), strings.TrimSpace(c.Phone), strings.TrimSpace(c.Email)
	if c == (Contact{}) || s.keys == nil {
		// Without a key nothing personal is kept rather than kept in clear.
		return "", nil
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	return s.keys.Seal(contactPurpose, string(b))
}

// contactOf reads the reporter's contact; masked unless full is asked and
// the reporter did not ask for anonymity.
func (s *Service) contactOf(ctx context.Context, c Case, full bool) (Contact, error) {
	sealed, err := s.st.contact(ctx, s.db, c.ID)
	if err != nil {
		return Contact{}, err
	}
	return s.unsealContact(c, sealed, full)
}

// unsealContact opens a reporter's sealed contact, masked unless full is
// asked and the reporter did not ask for anonymity.
func (s *Service) unsealContact(c Case, sealed string, full bool) (Contact, error) {
	if sealed == "" || s.keys == nil {
		return Contact{}, nil
	}
	plain, err := s.keys.Unseal(contactPurpose, sealed)
	if err != nil {
		return Contact{}, err
	}
	var out Contact
	if err := json.Unmarshal([]byte(plain), &out); err != nil {
		return Contact{}, err
	}
	if c.Anonymous || !full {
		out.Name = seal.MaskName(out.Name)
		out.Phone = seal.MaskPhone(out.Phone)
		out.Email = maskEmail(out.Email)
	}
	return out, nil
}

func maskEmail(e string) string {
	user, host, ok := strings.Cut(e, "@")
	if !ok || user == "" {
		return ""
	}
	r := []rune(user)
	return string(r[0]) + "***@" + host
}

type located struct {
	path     string
	lng, lat float64
	version  int64
}

// locate routes a report to its grid: the point given, else the best match
// of the typed address among the buildings. Problems are added to f.
func (s *Service) locate(ctx context.Context, in NewCase, f map[string]string) (located, string) {
	if in.Lng != nil || in.Lat != nil {
		if in.Lng == nil || in.Lat == nil || math.IsNaN(*in.Lng) || math.IsNaN(*in.Lat) ||
			*in.Lng < -180 || *in.Lng > 180 || *in.Lat < -90 || *in.Lat > 90 {
			f["location"] = "case.error.location"
			return located{}, ""
		}
		crs := geo.WGS84
		if in.CRS != "" {
			c, err := geo.ParseCRS(in.CRS)
			if err != nil {
				f["crs"] = "case.error.crs"
				return located{}, ""
			}
			crs = c
		}
		loc, err := s.terr.Locate(ctx, *in.Lng, *in.Lat, crs)
		if err != nil || !loc.Inside {
			f["location"] = "case.error.outside"
			return located{}, ""
		}
		return located{path: loc.ScopePath(), lng: loc.WGS84[0], lat: loc.WGS84[1], version: loc.Version}, in.Address
	}
	if in.Address == "" {
		f["address"] = "case.error.where"
		return located{}, ""
	}
	bs, err := s.terr.FindAddress(ctx, in.Address, 1)
	if err != nil || len(bs) == 0 {
		f["address"] = "case.error.address_unknown"
		return located{}, ""
	}
	loc, err := s.terr.Locate(ctx, bs[0].Lng, bs[0].Lat, geo.WGS84)
	if err != nil || !loc.Inside {
		f["address"] = "case.error.address_unknown"
		return located{}, ""
	}
	return located{path: loc.ScopePath(), lng: loc.WGS84[0], lat: loc.WGS84[1], version: loc.Version}, in.Address
}

// Candidate is an earlier case offered as a likely duplicate.
type Candidate struct {
	ID          int64     `json:"id"`
	Number      string    `json:"number"`
	State       State     `json:"state"`
	Description string    `json:"description"`
	Distance    float64   `json:"distance_m"`
	Similarity  float64   `json:"similarity"`
	CreatedAt   time.Time `json:"created_at"`
}

// Draft is what a reporter has typed so far, for the duplicate check
// before sending.
type Draft struct {
	Category    string
	Lng, Lat    float64
	Description string
}

// Similar offers open cases that probably report the same problem as a
// draft: same category, within the configured radius and time window, and
// with similar words or very close by.
func (s *Service) Similar(ctx context.Context, actor auth.Actor, d Draft) ([]Candidate, error) {
	const op = "cases.Similar"
	if !actor.Authenticated() {
		return nil, errs.E(errs.Unauthenticated, op, "error.unauthenticated")
	}
	cat, err := s.cat.ByRef(ctx, d.Category)
	if err != nil {
		return nil, errs.Fields(op, map[string]string{"category": "case.error.category"})
	}
	out, err := s.similar(ctx, cat, d.Lng, d.Lat, d.Description, s.clock.Now(), 0)
	return out, errs.Wrap(op, err)
}

func (s *Service) similar(ctx context.Context, cat catalog.Category, lng, lat float64, text string, now time.Time, self int64) ([]Candidate, error) {
	r := s.cfg.DuplicateRadius
	if r <= 0 {
		return nil, nil
	}
	dLat := r / 111320
	dLng := r / (111320 * math.Max(math.Cos(lat*math.Pi/180), 0.01))
	cs, err := s.st.candidates(ctx, s.db, cat.Kind, cat.Code, now.Add(-s.cfg.DuplicateWindow), lng-dLng, lat-dLat, lng+dLng, lat+dLat, 200)
	if err != nil {
		return nil, err
	}
	var out []Candidate
	for _, c := range cs {
		if c.ID == self {
			continue
		}
		dist := metres(lng, lat, c.Lng, c.Lat)
		if dist > r {
			continue
		}
		sim := Similarity(text, c.Description)
		// Very close reports of the same category are offered even when
		// described in other words; farther ones need similar words.
		if sim < 0.3 && dist > r/5 {
			continue
		}
		out = append(out, Candidate{ID: c.ID, Number: c.Number, State: c.State, Description: c.Description,
			Distance: math.Round(dist), Similarity: math.Round(sim*100) / 100, CreatedAt: c.CreatedAt})
	}
	slices.SortFunc(out, func(a, b Candidate) int {
		return int(math.Copysign(1, (b.Similarity-a.Similarity)*1000-(b.Distance-a.Distance)/r))
	})
	return out[:min(len(out), 5)], nil
}

// metres is the distance between two WGS84 points, by the equirectangular
// approximation: exact enough over a few hundred metres.
func metres(lng1, lat1, lng2, lat2 float64) float64 {
	x := (lng2 - lng1) * math.Cos((lat1+lat2)/2*math.Pi/180)
	y := lat2 - lat1
	return math.Sqrt(x*x+y*y) * 111320
}

// Similarity compares two descriptions by their character bigrams (Dice's
// coefficient), which works for Chinese without word segmentation.
func Similarity(a, b string) float64 {
	ga, gb := bigrams(a), bigrams(b)
	if len(ga) == 0 || len(gb) == 0 {
		return 0
	}
	common := 0
	for g, n := range ga {
		common += min(n, gb[g])
	}
	total := 0
	for _, n := range ga {
		total += n
	}
	for _, n := range gb {
		total += n
	}
	return 2 * float64(common) / float64(total)
}

func bigrams(s string) map[string]int {
	var rs []rune
	for _, r := range strings.ToLower(s) {
		if r == ' ' || r == '\t' || r == '\n' || strings.ContainsRune("，。、！？,.!?;；:：()（）\"'“”", r) {
			continue
		}
		rs = append(rs, r)
	}
	out := map[string]int{}
	for i := 0; i+1 < len(rs); i++ {
		out[string(rs[i:i+2])]++
	}
	return out
}
