package outbox_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/errs"
	"github.com/gridhall/gridhall/internal/outbox"
)

// sign is an independent implementation of the documented signature, as a
// receiver would write it.
func sign(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "." + string(body)))
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

func TestVerify(t *testing.T) {
	now := t0
	ts := strconv.FormatInt(now.Unix(), 10)
	body := []byte(`{"case_id":7}`)
	good := sign("ghwh_secret", ts, body)
	tests := []struct {
		name   string
		secret string
		ts     string
		sig    string
		body   []byte
		now    time.Time
		field  string // "" for success
		key    string
	}{
		{"authentic", "ghwh_secret", ts, good, body, now, "", ""},
		{"second of two signatures", "ghwh_secret", ts, sign("old", ts, body) + ", " + good, body, now, "", ""},
		{"within tolerance late", "ghwh_secret", ts, good, body, now.Add(5 * time.Minute), "", ""},
		{"within tolerance early", "ghwh_secret", ts, good, body, now.Add(-5 * time.Minute), "", ""},
		{"wrong secret", "other", ts, good, body, now, outbox.HeaderSignature, "outbox.error.signature"},
		{"tampered body", "ghwh_secret", ts, good, []byte(`{"case_id":8}`), now, outbox.HeaderSignature, "outbox.error.signature"},
		{"timestamp swapped", "ghwh_secret", strconv.FormatInt(now.Unix()+1, 10), good, body, now, outbox.HeaderSignature, "outbox.error.signature"},
		{"replayed later", "ghwh_secret", ts, good, body, now.Add(5*time.Minute + time.Second), outbox.HeaderTimestamp, "outbox.error.timestamp_skew"},
		{"from the future", "ghwh_secret", ts, good, body, now.Add(-6 * time.Minute), outbox.HeaderTimestamp, "outbox.error.timestamp_skew"},
		{"no timestamp", "ghwh_secret", "", good, body, now, outbox.HeaderTimestamp, "outbox.error.timestamp"},
		{"timestamp with a sign", "ghwh_secret", "+" + ts, good, body, now, outbox.HeaderTimestamp, "outbox.error.timestamp"},
		{"timestamp with leading zero", "ghwh_secret", "0" + ts, good, body, now, outbox.HeaderTimestamp, "outbox.error.timestamp"},
		{"negative timestamp", "ghwh_secret", "-1", good, body, now, outbox.HeaderTimestamp, "outbox.error.timestamp"},
		{"no signature", "ghwh_secret", ts, "", body, now, outbox.HeaderSignature, "outbox.error.signature"},
		{"unknown version", "ghwh_secret", ts, "v0=" + good[3:], body, now, outbox.HeaderSignature, "outbox.error.signature"},
		{"not hex", "ghwh_secret", ts, "v1=zz", body, now, outbox.HeaderSignature, "outbox.error.signature"},
		{"empty secret", "", ts, good, body, now, "secret", "error.field.required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			h.Set(outbox.HeaderTimestamp, tt.ts)
			h.Set(outbox.HeaderSignature, tt.sig)
			err := outbox.Verify([]byte(tt.secret), h, tt.body, tt.now, 5*time.Minute)
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errs.Is(err, errs.Invalid) || errs.As(err).Fields[tt.field] != tt.key {
				t.Fatalf("err = %v, want %s: %s", err, tt.field, tt.key)
			}
		})
	}
}

func TestDefaultBackoffDoublesUpToSixHoursWithJitter(t *testing.T) {
	tests := []struct {
		attempt int
		full    time.Duration
	}{{0, 30 * time.Second}, {1, 30 * time.Second}, {2, time.Minute}, {3, 2 * time.Minute}, {8, 64 * time.Minute},
		{10, 256 * time.Minute}, {11, 6 * time.Hour}, {50, 6 * time.Hour}, {1 << 30, 6 * time.Hour}}
	for _, tt := range tests {
		seen := map[time.Duration]bool{}
		for range 200 {
			d := outbox.DefaultBackoff(tt.attempt)
			if d < tt.full/2 || d > tt.full {
				t.Fatalf("attempt %d: %v outside [%v, %v]", tt.attempt, d, tt.full/2, tt.full)
			}
			seen[d] = true
		}
		if len(seen) < 10 {
			t.Errorf("attempt %d: only %d distinct waits in 200: no jitter", tt.attempt, len(seen))
		}
	}
}
