package load

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestHistogramBucketsCoverEveryValueWithBoundedError(t *testing.T) {
	prev := -1
	for _, v := range []int64{0, 1, 127, 128, 129, 255, 256, 1000, 1 << 20, 123456789, 1 << 40, math.MaxInt64 - 1, math.MaxInt64} {
		i := bucket(v)
		if i < prev || i >= nBuckets {
			t.Fatalf("bucket(%d) = %d after %d (of %d)", v, i, prev, nBuckets)
		}
		prev = i
		hi := upper(i)
		if hi < v {
			t.Errorf("value %d above its bucket's upper edge %d", v, hi)
		}
		if v >= subCount && float64(hi-v) > float64(v)/subHalf {
			t.Errorf("value %d: bucket edge %d is more than 1/%d above it", v, hi, subHalf)
		}
	}
	// Every bucket's upper edge falls in that bucket, and the next value in the next.
	for i := range nBuckets - 1 {
		if bucket(upper(i)) != i || bucket(upper(i)+1) != i+1 {
			t.Fatalf("bucket %d: upper %d lands in %d, upper+1 in %d", i, upper(i), bucket(upper(i)), bucket(upper(i)+1))
		}
	}
}

func TestHistogramQuantilesMatchSortedSamples(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	var vals []time.Duration
	for range 100_000 {
		// Log-normal-ish latencies from 50 µs to seconds.
		d := time.Duration(math.Exp(rng.NormFloat64()*1.5+math.Log(2e6))) + 50*time.Microsecond
		h.Record(d)
		vals = append(vals, d)
	}
	slices.Sort(vals)
	if h.Count() != uint64(len(vals)) || h.Min() != vals[0] || h.Max() != vals[len(vals)-1] {
		t.Fatalf("count %d min %v max %v, want %d %v %v", h.Count(), h.Min(), h.Max(), len(vals), vals[0], vals[len(vals)-1])
	}
	for _, q := range []float64{0, 0.5, 0.9, 0.99, 0.999, 1} {
		want := vals[max(0, int(math.Ceil(q*float64(len(vals))))-1)]
		got := h.Quantile(q)
		if got < want || float64(got-want) > float64(want)/subHalf {
			t.Errorf("q%.3f = %v, want %v within 1/%d above", q, got, want, subHalf)
		}
	}
	var sum float64
	for _, v := range vals {
		sum += float64(v)
	}
	if mean := sum / float64(len(vals)); math.Abs(float64(h.Mean())-mean) > mean*1e-9+1 {
		t.Errorf("mean %v, want %v", h.Mean(), time.Duration(mean))
	}
}

func TestHistogramMergeEqualsRecordingBoth(t *testing.T) {
	var a, b, both Histogram
	for i := range 5000 {
		d := time.Duration(i*i) * time.Microsecond
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
		both.Record(d)
	}
	var m Histogram
	m.Merge(&a)
	m.Merge(&b)
	m.Merge(&Histogram{})
	if m.Count() != both.Count() || m.Min() != both.Min() || m.Max() != both.Max() || m.counts != both.counts {
		t.Fatalf("merged: count %d min %v max %v; recorded: %d %v %v", m.Count(), m.Min(), m.Max(), both.Count(), both.Min(), both.Max())
	}
	for _, q := range []float64{0.5, 0.9, 0.99} {
		if m.Quantile(q) != both.Quantile(q) {
			t.Errorf("q%v: merged %v, recorded %v", q, m.Quantile(q), both.Quantile(q))
		}
	}
}

func TestEmptyHistogramAndNegativeDurations(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 || h.Mean() != 0 || h.Max() != 0 {
		t.Fatal("an empty histogram reports zeros")
	}
	h.Record(-time.Second)
	if h.Count() != 1 || h.Max() != 0 || h.Quantile(1) != 0 {
		t.Fatalf("a negative duration counts as zero: max %v q1 %v", h.Max(), h.Quantile(1))
	}
}
