// Package ratelimit holds the token buckets that bound how fast each API
// token may call GridHall. A bucket holds up to Burst requests and refills at
// Rate per second; a request that finds it empty is told how long to wait.
//
// The buckets live in the node's memory: a per-request write to the shared
// database would cost more than the requests it protects (SQLite has one
// writer). With several nodes behind a balancer each node keeps its own
// buckets, so a token's effective limit is the node count times the setting;
// operations.md says so.
package ratelimit

import (
	"math"
	"sync"
	"time"

	"github.com/gridhall/gridhall/internal/clock"
)

// Limiter keeps one bucket per key.
type Limiter struct {
	rate  float64 // tokens per second
	burst float64
	clock clock.Clock

	mu      sync.Mutex
	buckets map[int64]*bucket
	swept   time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

// New returns a limiter allowing burst requests at once and perSecond on
// average. A perSecond of zero or less disables limiting.
func New(perSecond float64, burst int, c clock.Clock) *Limiter {
	if burst < 1 {
		burst = 1
	}
	return &Limiter{rate: perSecond, burst: float64(burst), clock: c, buckets: map[int64]*bucket{}}
}

// Decision is the answer for one request.
type Decision struct {
	Allowed bool
	// Remaining is how many requests the bucket still holds.
	Remaining int
	// RetryAfter is how long until the next request would be allowed; zero
	// when this one was.
	RetryAfter time.Duration
	// Limit is the bucket's size.
	Limit int
}

// Allow takes one request from key's bucket.
func (l *Limiter) Allow(key int64) Decision {
	if l == nil || l.rate <= 0 {
		return Decision{Allowed: true, Remaining: math.MaxInt32}
	}
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	if el := now.Sub(b.at).Seconds(); el > 0 {
		b.tokens = math.Min(l.burst, b.tokens+el*l.rate)
	}
	b.at = now
	d := Decision{Limit: int(l.burst)}
	if b.tokens >= 1 {
		b.tokens--
		d.Allowed, d.Remaining = true, int(b.tokens)
		return d
	}
	wait := (1 - b.tokens) / l.rate
	d.RetryAfter = time.Duration(math.Ceil(wait * float64(time.Second)))
	return d
}

// sweep forgets buckets that have refilled completely, at most once a
// minute, so that tokens seen once do not stay in memory forever. A full
// bucket is the same as no bucket.
func (l *Limiter) sweep(now time.Time) {
	if now.Sub(l.swept) < time.Minute {
		return
	}
	l.swept = now
	full := time.Duration(l.burst / l.rate * float64(time.Second))
	for k, b := range l.buckets {
		if now.Sub(b.at) >= full {
			delete(l.buckets, k)
		}
	}
}

// Len is the number of buckets held, for tests and metrics.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
