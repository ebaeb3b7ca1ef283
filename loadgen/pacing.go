package loadgen

import (
	"context"
	"runtime"
	"sync/atomic"
	"time"
)

// The harness's clock: Unix nanoseconds read off the monotonic clock, as
// the wall time at process start plus the monotonic time since. One read
// (time.Since) costs about half of time.Now's, which reads the wall clock
// too, and it never steps. Send timestamps (Message.SentAt), intended send
// times and receive times all come from it, so producer and consumer
// agree; against other machines' clocks it drifts only as the monotonic
// clock does (NTP slews it too).
var (
	clockBase   = time.Now()
	clockBaseNs = clockBase.UnixNano()
)

// nowNs is the clock's current reading, Unix nanoseconds.
func nowNs() int64 { return clockBaseNs + int64(time.Since(clockBase)) }

// clockNow is nowNs as a time.Time, monotonic reading included.
func clockNow() time.Time { return clockBase.Add(time.Since(clockBase)) }

// pacer spaces a constant-rate stream of messages: message i is due at
// start + i/rate. Latency in open-loop runs is measured from that intended
// time, not from when the message was actually sent, so a producer held
// up by a stalled broker cannot hide the stall (coordinated omission): the
// messages it should have sent meanwhile carry the wait in their latency.
type pacer struct {
	start  time.Time
	period float64 // nanoseconds between messages
}

func newPacer(start time.Time, rate float64) pacer {
	return pacer{start: start, period: 1e9 / rate}
}

// spin is the spin allowed for waits one message apart (spinFor).
func (p pacer) spin() time.Duration { return spinFor(time.Duration(p.period)) }

// intended is message i's intended send time.
func (p pacer) intended(i int64) time.Time {
	return p.start.Add(time.Duration(float64(i) * p.period))
}

// spinMax is the longest final stretch of a wait that waitUntil may spend
// yielding the processor (runtime.Gosched) instead of sleeping: a timer
// may fire up to a millisecond late (the runtime rounds an idle process's
// sub-millisecond waits up to 1 ms), and that lateness counts in latency
// as publish delay.
//
// Spinning is rationed (spinFor), because a spinning goroutine holds a P
// and, on a small machine, a core: the client and broker under test get
// the rest. Worse, a P that keeps finding the spinner on the global run
// queue never polls the network, so while the other Ps are busy a
// response waits for the runtime's 10 ms background poll. At 50 k msg/s
// to the embedded broker on 2 cores, a producer that spun every wait
// (always, at that rate) measured publish p99 14-27 ms; sleeping, 5 ms.
const spinMax = time.Millisecond

// spinShare is the least ratio of a wait's period (the time between the
// deadlines a pacer waits for) to its spin: a producer spins at most 1/20
// of its time, a full spinMax only at 50 waits/s or fewer.
const spinShare = 20

// spinFor is the spin allowed for waits every period apart.
func spinFor(period time.Duration) time.Duration {
	return min(spinMax, period/spinShare)
}

// waitUntil returns once t has come, or ctx's error if ctx ends first. It
// sleeps, and spends at most the last spin of the wait yielding instead.
// A producer behind schedule (t already past) does not wait at all, and
// so sends its overdue messages back to back.
func waitUntil(ctx context.Context, t time.Time, timer *time.Timer, spin time.Duration) error {
	for {
		d := time.Until(t)
		if d <= 0 {
			return nil
		}
		if d <= spin {
			runtime.Gosched()
			continue
		}
		timer.Reset(d - spin)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
}

// inflight bounds a producer's unacknowledged sends. One goroutine
// acquires; releases may come from any goroutine. It costs an atomic add
// per send and release, and a channel operation only when the window is
// full.
type inflight struct {
	n    atomic.Int64
	max  int64
	wake chan struct{} // a token: the window was full and a slot freed
}

func newInflight(max int) *inflight {
	return &inflight{max: int64(max), wake: make(chan struct{}, 1)}
}

// acquire takes a slot, waiting while the window is full; it returns false
// if ctx ends first.
func (f *inflight) acquire(ctx context.Context) bool {
	for f.n.Load() >= f.max {
		select {
		case <-f.wake:
		case <-ctx.Done():
			return false
		}
	}
	f.n.Add(1)
	return true
}

// acquireUpTo takes between 1 and n slots, as many as are free, waiting
// while none is; it returns 0 if ctx ends first. Like acquire, it is
// called from one goroutine only, so the slots it sees free stay free.
func (f *inflight) acquireUpTo(ctx context.Context, n int64) int64 {
	for {
		if free := f.max - f.n.Load(); free > 0 {
			k := min(n, free)
			f.n.Add(k)
			return k
		}
		select {
		case <-f.wake:
		case <-ctx.Done():
			return 0
		}
	}
}

// releaseN frees k slots.
func (f *inflight) releaseN(k int64) {
	if n := f.n.Add(-k); n < f.max && n+k >= f.max {
		select {
		case f.wake <- struct{}{}:
		default: // a token is already waiting
		}
	}
}

// release frees a slot.
func (f *inflight) release() {
	if f.n.Add(-1) == f.max-1 {
		select {
		case f.wake <- struct{}{}:
		default: // a token is already waiting
		}
	}
}
