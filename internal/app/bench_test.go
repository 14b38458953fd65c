package app_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gridhall/gridhall/internal/db/dbtest"
)

// BenchmarkAPIMe is one authenticated API request through the whole stack:
// request id, log, metrics, recovery, headers, body limit, cross-origin
// check, token lookup, routing, JSON encoding. No network: it measures
// GridHall, not the loopback.
func BenchmarkAPIMe(b *testing.B) {
	for _, e := range dbtest.Engines(b) {
		b.Run(string(e), func(b *testing.B) {
			s := newSite(b, e)
			h := s.Config.Handler
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req := httptest.NewRequest("GET", "/api/v1/me", nil)
					req.Header.Set("Authorization", "Bearer "+s.admin)
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Errorf("status %d", rec.Code)
						return
					}
				}
			})
		})
	}
}
