package people_test

import (
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/audit"
	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/clock"
	"github.com/gridhall/gridhall/internal/db"
	"github.com/gridhall/gridhall/internal/db/dbtest"
	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/people"
)

func TestAResidentSignsUpVerifiesAndSeesTheirOwnData(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		authSvc := auth.NewService(d, audit.New(d), clock.System{}, auth.Settings{SessionIdle: time.Hour, SessionAbsolute: 8 * time.Hour,
			LoginMaxFailures: 5, LoginIPMaxFailures: 50, LoginWindow: time.Minute, Argon2: auth.Argon2Params{Memory: 64, Time: 1, Threads: 1}})
		head, err := f.svc.AddResident(f.ctx, f.cs, people.NewResident{HouseID: f.houseA, Name: "王秀英", DocumentNumber: oldWoman, Phone: "13800135678",
			Tags: []string{"community_correction"}})
		if err != nil {
			t.Fatal(err)
		}
		f.svc.AddResident(f.ctx, f.cs, people.NewResident{HouseholdID: head.HouseholdID, Relation: people.Child, Name: "李明", DocumentNumber: youngMan, Phone: "13912345678",
			Tags: []string{"drug_rehabilitation"}})

		if _, err := f.svc.SignUp(f.ctx, authSvc, "12345", "resident-password", "1.2.3.4"); errs.As(err).Fields["phone"] == "" {
			t.Fatalf("bad phone at sign-up: %v", err)
		}
		s, err := f.svc.SignUp(f.ctx, authSvc, "138-0013-5678", "resident-password", "1.2.3.4")
		if err != nil || s.Actor.Role != auth.Resident || s.Actor.Username != "13800135678" {
			t.Fatalf("sign-up: %+v %v", s.Actor, err)
		}
		if _, err := f.svc.SignUp(f.ctx, authSvc, "13800135678", "another-password", "1.2.3.4"); !errs.Is(err, errs.Conflict) {
			t.Fatalf("second sign-up with the same phone: %v", err)
		}
		me := s.Actor
		if _, err := f.svc.Me(f.ctx, me); !errs.Is(err, errs.NotFound) {
			t.Fatalf("an unverified account sees a record: %v", err)
		}
		if err := f.svc.VerifySelf(f.ctx, authSvc, me, "王秀", oldWoman); errs.As(err).Fields["document_number"] != "people.verify.no_match" {
			t.Fatalf("wrong name verified: %v", err)
		}
		if err := f.svc.VerifySelf(f.ctx, authSvc, me, "王秀英", oldWoman); err != nil {
			t.Fatalf("verify: %v", err)
		}
		rec, err := f.svc.Me(f.ctx, me)
		if err != nil || rec.Document != oldWoman || rec.Phone != "13800135678" || len(rec.Members) != 1 || rec.Members[0].Phone != "" || rec.Verification != people.VerifiedSelf {
			t.Fatalf("own record: %+v %v", rec, err)
		}
		var restricted bool
		for _, tg := range rec.Tags {
			restricted = restricted || tg == "community_correction"
		}
		if !restricted {
			t.Fatalf("the resident does not see all data held about them: %v", rec.Tags)
		}
		for _, tg := range rec.Members[0].Tags {
			if tg == "drug_rehabilitation" {
				t.Fatal("a resident sees a household member's restricted tag")
			}
		}
		data, err := f.svc.DownloadMyData(f.ctx, me)
		if err != nil || data.Record.Document != oldWoman || len(data.Access) < 2 {
			t.Fatalf("download: %+v %v", data, err)
		}

		// Another resident cannot take the same record; attempts are limited.
		s2, _ := f.svc.SignUp(f.ctx, authSvc, "13500000000", "resident-password", "1.2.3.5")
		if err := f.svc.VerifySelf(f.ctx, authSvc, s2.Actor, "王秀英", oldWoman); !errs.Is(err, errs.Conflict) {
			t.Fatalf("a second account linked the same record: %v", err)
		}
		var last error
		for i := 0; i < 6; i++ {
			last = f.svc.VerifySelf(f.ctx, authSvc, s2.Actor, "李明", youngMan[:17]+"0")
		}
		if !errs.Is(last, errs.TooMany) {
			t.Fatalf("identity guessing is not limited: %v", last)
		}

		// In person: community staff link the son's account; a grid worker may
		// not read outside scope, and staff of another community cannot.
		s3, _ := f.svc.SignUp(f.ctx, authSvc, "13912345678", "resident-password", "1.2.3.6")
		son, _ := f.svc.Search(f.ctx, f.cs, people.Filter{Name: "李明"})
		if err := f.svc.VerifyInPerson(f.ctx, authSvc, f.other, son[0].ID, "13912345678"); !errs.Is(err, errs.NotFound) {
			t.Fatalf("staff of another community verified: %v", err)
		}
		if err := f.svc.VerifyInPerson(f.ctx, authSvc, f.cs, son[0].ID, "13912345678"); err != nil {
			t.Fatal(err)
		}
		if rec, err := f.svc.Me(f.ctx, s3.Actor); err != nil || rec.Name != "李明" || rec.Verification != people.VerifiedInPerson {
			t.Fatalf("in-person verification: %+v %v", rec, err)
		}
	})
}
