package people

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/errs"
)

// Verification levels of the link between an account and a resident record,
// kept for later use (voting eligibility).
const (
	VerifiedNone     = "none"
	VerifiedSelf     = "self_match" // the resident typed their name and identity number
	VerifiedInPerson = "in_person"  // community staff checked the identity card
)

// SignUp opens a resident account with a phone number and a password.
func (s *Service) SignUp(ctx context.Context, authSvc *auth.Service, phone, password, ip string) (auth.Session, error) {
	const op = "people.SignUp"
	norm, p := NormalizePhone(phone)
	if p != "" || len(norm) != 11 {
		f := map[string]string{"phone": "people.phone.format"}
		if password == "" {
			f["password"] = "error.field.required"
		}
		return auth.Session{}, errs.Fields(op, f)
	}
	return authSvc.SignUpResident(ctx, norm, password, ip)
}

// VerifySelf links a resident account to its record when the name and
// identity number typed match a current resident not linked to anyone else.
// Attempts are limited per account, so the registry cannot be probed.
func (s *Service) VerifySelf(ctx context.Context, authSvc *auth.Service, actor auth.Actor, name, idNumber string) error {
	const op = "people.VerifySelf"
	if err := s.ready(op); err != nil {
		return err
	}
	if actor.Role != auth.Resident || actor.UserID == 0 {
		return errs.E(errs.Forbidden, op, "people.verify.not_resident")
	}
	if err := authSvc.Throttle(ctx, "verify:user:"+strconv.FormatInt(actor.UserID, 10), 5, time.Hour); err != nil {
		return err
	}
	noMatch := errs.Fields(op, map[string]string{"document_number": "people.verify.no_match"})
	card, p := ParseIDCard(idNumber, s.today())
	if p != "" {
		return errs.Fields(op, map[string]string{"document_number": p})
	}
	row, err := s.st.byDocument(ctx, s.db, s.documentIndex(DocIDCard, card.Number))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && row.name != strings.TrimSpace(name)) {
		return noMatch
	}
	if err != nil {
		return errs.Wrap(op, err)
	}
	return s.link(ctx, actor, actor, row, VerifiedSelf)
}

// VerifyInPerson links an account to a resident record after community staff
// have checked the resident's identity card in person.
func (s *Service) VerifyInPerson(ctx context.Context, authSvc *auth.Service, actor auth.Actor, residentID int64, username string) error {
	const op = "people.VerifyInPerson"
	if err := s.ready(op); err != nil {
		return err
	}
	row, err := s.st.resident(ctx, s.db, residentID)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !auth.Can(actor, auth.ReadPeople, row.gridPath)) {
		return errs.E(errs.NotFound, op, "people.resident.unknown")
	}
	if err != nil {
		return errs.Wrap(op, err)
	}
	if !auth.Can(actor, auth.WritePeople, row.gridPath) {
		return errs.E(errs.Forbidden, op, "error.forbidden")
	}
	u, err := authSvc.UserByName(ctx, auth.SystemActor("people"), username)
	if errs.Is(err, errs.NotFound) {
		return errs.Fields(op, map[string]string{"username": "error.user.not_found"})
	}
	if err != nil {
		return errs.Wrap(op, err) // a database failure is no unknown user
	}
	if u.Role != auth.Resident {
		return errs.Fields(op, map[string]string{"username": "people.verify.not_resident"})
	}
	return s.link(ctx, actor, u.Actor(), row, VerifiedInPerson)
}

// link ties an account to a resident record, once.
func (s *Service) link(ctx context.Context, actor, account auth.Actor, row residentRow, level string) error {
	const op = "people.link"
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE residents SET user_id = $1, verification = $2, updated_at = $3
			WHERE id = $4 AND (user_id IS NULL OR user_id = $1)`, account.UserID, level, db.Millis(s.clock.Now()), row.id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.Conflict, op, "people.verify.already")
		}
		return s.record(ctx, tx, actor, audit.Record{Action: "resident.verify", ObjectType: "resident", ObjectID: strconv.FormatInt(row.id, 10),
			ScopePath: row.gridPath, Detail: map[string]any{"user_id": account.UserID, "level": level}})
	})
	if errs.CodeOf(err) == errs.Conflict {
		return err
	}
	return errs.Wrap(op, err)
}

// MyRecord is what a verified resident sees of themselves: their own numbers
// in full (they are theirs), the other members of the household masked.
type MyRecord struct {
	Resident
	Document string     `json:"document"`
	Phone    string     `json:"phone"`
	House    House      `json:"house"`
	Members  []Resident `json:"members"`
}

// Me returns the record linked to a resident's account.
func (s *Service) Me(ctx context.Context, actor auth.Actor) (MyRecord, error) {
	const op = "people.Me"
	if err := s.ready(op); err != nil {
		return MyRecord{}, err
	}
	row, err := s.st.byUser(ctx, s.db, actor.UserID)
	if errors.Is(err, sql.ErrNoRows) || actor.UserID == 0 {
		return MyRecord{}, errs.E(errs.NotFound, op, "people.me.unverified")
	}
	if err != nil {
		return MyRecord{}, errs.Wrap(op, err)
	}
	// The resident may see everything about themselves, restricted tags
	// included: they are data about them. Their household members' are not
	// theirs to see.
	d, err := s.detail(ctx, func(r residentRow) bool { return r.id == row.id }, row)
	if err != nil {
		return MyRecord{}, err
	}
	rec := MyRecord{Resident: d.Resident, House: d.House, Members: d.Members}
	if rec.Document, err = s.keys.Unseal(purposeDocument, row.documentSealed); err != nil {
		return MyRecord{}, errs.Wrap(op, err)
	}
	if rec.Phone, err = s.keys.Unseal(purposePhone, row.phoneSealed); err != nil {
		return MyRecord{}, errs.Wrap(op, err)
	}
	for i := range rec.Members {
		rec.Members[i].Document, rec.Members[i].Phone = "", ""
	}
	return rec, nil
}

// MyData is everything the registry holds about a resident, for download.
type MyData struct {
	GeneratedAt time.Time `json:"generated_at"`
	Record      MyRecord  `json:"record"`
	// Access lists who read or changed this record, from the audit log.
	Access []AccessEntry `json:"access"`
}

// AccessEntry is one audited action on the resident's record.
type AccessEntry struct {
	At     time.Time `json:"at"`
	Action string    `json:"action"`
	Role   string    `json:"role"`
	Reason string    `json:"reason,omitempty"`
}

// DownloadMyData returns the resident's record and the audited actions on it.
func (s *Service) DownloadMyData(ctx context.Context, actor auth.Actor) (MyData, error) {
	const op = "people.DownloadMyData"
	rec, err := s.Me(ctx, actor)
	if err != nil {
		return MyData{}, err
	}
	entries, err := s.audit.List(ctx, audit.Filter{ObjectType: "resident", ObjectID: strconv.FormatInt(rec.ID, 10), Limit: 500})
	if err != nil {
		return MyData{}, errs.Wrap(op, err)
	}
	data := MyData{GeneratedAt: s.clock.Now(), Record: rec, Access: []AccessEntry{}}
	for _, e := range entries {
		data.Access = append(data.Access, AccessEntry{At: e.At, Action: e.Action, Role: e.ActorRole, Reason: e.Reason})
	}
	return data, nil
}
