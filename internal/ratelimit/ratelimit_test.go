package ratelimit

import (
	"sync"
	"testing"
	"time"

	"github.com/gridhall/gridhall/internal/clock"
)

func TestABucketAllowsItsBurstThenRefillsAtTheRate(t *testing.T) {
	c := clock.NewFake(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC))
	l := New(2, 5, c) // 2 per second, 5 at once
	for i := range 5 {
		d := l.Allow(7)
		if !d.Allowed || d.Remaining != 4-i || d.Limit != 5 {
			t.Fatalf("request %d: %+v", i, d)
		}
	}
	d := l.Allow(7)
	if d.Allowed || d.RetryAfter != 500*time.Millisecond {
		t.Fatalf("sixth request: %+v, want refused with 500ms to wait", d)
	}
	// Another key has its own bucket.
	if !l.Allow(8).Allowed {
		t.Fatal("a second token was limited by the first one's use")
	}
	c.Advance(500 * time.Millisecond)
	if d := l.Allow(7); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("after half a second: %+v", d)
	}
	// A long pause refills to the burst, never beyond it.
	c.Advance(time.Hour)
	for range 5 {
		if !l.Allow(7).Allowed {
			t.Fatal("bucket did not refill")
		}
	}
	if l.Allow(7).Allowed {
		t.Fatal("bucket refilled beyond its burst")
	}
}

func TestFullBucketsAreForgotten(t *testing.T) {
	c := clock.NewFake(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC))
	l := New(10, 10, c)
	for k := range int64(100) {
		l.Allow(k)
	}
	if l.Len() != 100 {
		t.Fatalf("%d buckets, want 100", l.Len())
	}
	c.Advance(2 * time.Minute)
	l.Allow(1000)
	if l.Len() != 1 {
		t.Fatalf("%d buckets after they all refilled, want only the new one", l.Len())
	}
}

func TestZeroRateDisablesLimiting(t *testing.T) {
	l := New(0, 1, clock.NewFake(time.Now()))
	for range 1000 {
		if !l.Allow(1).Allowed {
			t.Fatal("a disabled limiter refused a request")
		}
	}
	var nl *Limiter
	if !nl.Allow(1).Allowed {
		t.Fatal("a nil limiter refused a request")
	}
}

// Concurrent callers never get more than the burst between refills.
func TestConcurrentCallersShareOneBucket(t *testing.T) {
	c := clock.NewFake(time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC))
	l := New(1, 50, c)
	var wg sync.WaitGroup
	var mu sync.Mutex
	allowed := 0
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if l.Allow(1).Allowed {
					mu.Lock()
					allowed++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if allowed != 50 {
		t.Fatalf("%d allowed, want exactly the burst of 50", allowed)
	}
}
