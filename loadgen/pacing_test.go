package loadgen

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

func TestPacerIntended(t *testing.T) {
	start := time.Unix(1000, 0)
	for _, tc := range []struct {
		rate float64
		i    int64
		want time.Duration
	}{
		{1000, 0, 0},
		{1000, 1, time.Millisecond},
		{1000, 1500, 1500 * time.Millisecond},
		{3, 1, 333333333 * time.Nanosecond},
		{2e6, 2e6, time.Second}, // no drift over a second of a fast stream
		{1e6, 3600e6, time.Hour},
	} {
		if got := newPacer(start, tc.rate).intended(tc.i).Sub(start); got != tc.want {
			t.Errorf("rate %v, message %d: intended at +%v, want +%v", tc.rate, tc.i, got, tc.want)
		}
	}
}

func TestWaitUntil(t *testing.T) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	// A time already past returns at once, however far back.
	if err := waitUntil(context.Background(), time.Now().Add(-time.Hour), timer, spinMax); err != nil {
		t.Fatal(err)
	}
	// A cancelled context ends the wait with its error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := waitUntil(ctx, time.Now().Add(time.Hour), timer, spinMax); err != context.Canceled {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	// Never early, sleeping all the way or spinning the end.
	for _, spin := range []time.Duration{0, time.Millisecond, time.Hour} {
		due := time.Now().Add(3 * time.Millisecond)
		if err := waitUntil(context.Background(), due, timer, spin); err != nil || time.Now().Before(due) {
			t.Fatalf("spin %v: returned before the due time (err %v)", spin, err)
		}
	}
}

// Spinning is rationed: at most 1/spinShare of the period, at most spinMax.
func TestSpinFor(t *testing.T) {
	for _, tc := range []struct{ period, want time.Duration }{
		{time.Second, spinMax},
		{20 * time.Millisecond, time.Millisecond},
		{time.Millisecond, 50 * time.Microsecond},
		{20 * time.Microsecond, time.Microsecond}, // 50 k msg/s: in effect, no spin
		{0, 0},
	} {
		if got := spinFor(tc.period); got != tc.want {
			t.Errorf("spinFor(%v) = %v, want %v", tc.period, got, tc.want)
		}
	}
	if got := newPacer(time.Unix(0, 0), 50000).spin(); got != time.Microsecond {
		t.Errorf("pacer at 50 k/s spins %v, want 1µs", got)
	}
}

// The in-flight window never admits more than its size, and a release
// from another goroutine always wakes a waiting acquire.
func TestInflight(t *testing.T) {
	f := newInflight(4)
	ctx := context.Background()
	var peak atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 100000 {
			if !f.acquire(ctx) {
				t.Error("acquire failed")
				return
			}
			if n := f.n.Load(); n > peak.Load() {
				peak.Store(n)
			}
			go f.release()
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("acquire stuck: a wakeup was lost")
	}
	if peak.Load() > 4 {
		t.Errorf("peak in flight %d > 4", peak.Load())
	}
	full := newInflight(1)
	full.acquire(ctx)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if full.acquire(cctx) {
		t.Error("acquire on a full window with a cancelled context succeeded")
	}
}

// The batched send path (null target) keeps produce's accounting: every
// message sent, acked, and its publish delay and latency recorded, in
// open and closed loop.
func TestProduceMessagesCounts(t *testing.T) {
	for _, rate := range []int{20000, 0} {
		zero := 0
		res, err := Run(testContext(t), Config{
			Target:   Target{Kind: "null"},
			Workload: Workload{Name: "null-batched", MessageSize: 10, Rate: rate, Messages: 10000, Duration: 10 * time.Second, SubscriptionsPerTopic: &zero, MaxInFlight: 100},
			Seed:     1,
		})
		if err != nil {
			t.Fatal(err)
		}
		s := res.Summary
		wantDelays := int64(10000)
		if rate == 0 {
			wantDelays = 0
		}
		if s.Sent != 10000 || s.Published != 10000 || s.PublishLatency.Count != 10000 || s.PublishDelay.Count != wantDelays || s.Errors != 0 {
			t.Errorf("rate %d: sent %d published %d latencies %d delays %d errors %d", rate, s.Sent, s.Published, s.PublishLatency.Count, s.PublishDelay.Count, s.Errors)
		}
	}
}
