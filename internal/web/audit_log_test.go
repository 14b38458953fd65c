package web

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gridhall/gridhall/internal/auth"
	"github.com/gridhall/gridhall/internal/i18n"
)

func TestAuditorReadsNewestEntriesPagedWithoutPersonalData(t *testing.T) {
	e := newEnv(t)
	e.user("auditor", auth.Auditor, "", false)
	for i := range auditPageSize + 3 {
		e.user(fmt.Sprintf("user%02d", i), auth.Resident, "", false)
	}
	b := e.browser("en")
	b.signIn("auditor")
	first := b.get("/audit")
	wantStatus(t, first, http.StatusOK)
	if n := strings.Count(first.Body, "<tr>") - 1; n != auditPageSize {
		t.Fatalf("first page shows %d entries, want %d", n, auditPageSize)
	}
	// Newest first: the auditor's own login is the latest entry.
	if i, j := strings.Index(first.Body, "session.login"), strings.Index(first.Body, "user.create"); i < 0 || i > j {
		t.Fatal("the newest entry (the login) is not first")
	}
	wantText(t, first, e.bundle.T(i18n.English, "audit.older"))
	// The client address recorded with each entry stays off the page.
	if strings.Contains(first.Body, "192.0.2.1") {
		t.Fatal("the audit page shows IP addresses")
	}
	older := b.get("/audit?before=5")
	wantStatus(t, older, http.StatusOK)
	if n := strings.Count(older.Body, "<tr>") - 1; n != 4 {
		t.Fatalf("entries before 5: %d rows, want 4", n)
	}
	wantText(t, older, e.bundle.T(i18n.English, "audit.newest"))
	wantStatus(t, b.get("/audit?before=abc"), http.StatusBadRequest)
}
