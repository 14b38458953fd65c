package load

import (
	"math"
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: each power of two is split into
// 2^(subBits-1) equal buckets, so a recorded value is known to within
// 1/64 (1.6 %) of itself at any magnitude, from a nanosecond to hours.
const (
	subBits  = 7
	subCount = 1 << subBits                    // values below this are exact
	subHalf  = subCount / 2                    // buckets per power of two above it
	nBuckets = subCount + (63-subBits)*subHalf // up to MaxInt64
)

// Histogram records durations in logarithmic buckets of bounded relative
// error, in the manner of HdrHistogram: recording is constant time and
// allocation-free, and memory is fixed (30 KiB) whatever the number of
// samples, so a half-hour soak costs no more than a second's test. It is
// not safe for concurrent use; callers lock or keep one per goroutine.
type Histogram struct {
	counts   [nBuckets]uint64
	n        uint64
	sum      float64
	min, max int64
}

// bucket is the index of the bucket holding v (v ≥ 0).
func bucket(v int64) int {
	if v < subCount {
		return int(v)
	}
	e := bits.Len64(uint64(v)) - subBits // ≥ 1: how far v is shifted to fit subBits bits
	top := int(v >> e)                   // in [subHalf, subCount)
	return subCount + (e-1)*subHalf + top - subHalf
}

// upper is the largest value that falls in bucket i.
func upper(i int) int64 {
	if i < subCount {
		return int64(i)
	}
	e := (i-subCount)/subHalf + 1
	top := int64((i-subCount)%subHalf + subHalf)
	hi := (top+1)<<e - 1
	if hi < 0 { // the last bucket reaches past MaxInt64
		return math.MaxInt64
	}
	return hi
}

// Record adds one duration; negative ones count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := max(int64(d), 0)
	h.counts[bucket(v)]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += float64(v)
}

// Count is the number of recorded durations.
func (h *Histogram) Count() uint64 { return h.n }

// Max is the largest recorded duration, exactly.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Min is the smallest recorded duration, exactly.
func (h *Histogram) Min() time.Duration { return time.Duration(h.min) }

// Mean is the average of the recorded durations.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / float64(h.n))
}

// Quantile returns the duration below or at which a fraction q (0…1) of the
// recorded ones lie: the upper edge of the bucket holding that rank, so it
// overstates by at most the bucket's width (1.6 %) and never exceeds Max.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	q = min(max(q, 0), 1)
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return time.Duration(min(max(upper(i), h.min), h.max))
		}
	}
	return time.Duration(h.max)
}

// Merge adds every duration recorded in o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}
