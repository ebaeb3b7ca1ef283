package sim

import (
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Direction says which way a link fault acts.
type Direction uint8

// The directions of the link the proxy carries.
const (
	Both Direction = iota // both ways
	Up                    // clients -> broker
	Down                  // broker -> clients
)

// String returns "both", "up" or "down".
func (d Direction) String() string {
	switch d {
	case Both:
		return "both"
	case Up:
		return "up"
	case Down:
		return "down"
	}
	return "direction(" + strconv.Itoa(int(d)) + ")"
}

// LinkFault is the state of one direction of the link the proxy carries.
// The zero value is a healthy link. Negative values count as zero.
type LinkFault struct {
	// Delay and Jitter hold each chunk of bytes read from one side for
	// Delay±Jitter (uniform, from the proxy's seed) before it is written to
	// the other side. Byte order is kept: a chunk is never released before
	// the one read before it on the same connection.
	Delay, Jitter time.Duration
	// BytesPerSec caps the bytes written per second in this direction,
	// shared by every connection (a token bucket holding 10 ms worth of
	// bytes, at least 4 KiB). 0 means no cap.
	BytesPerSec int64
	// Blackhole holds every byte read in this direction instead of
	// delivering it, on open and new connections alike, until the fault is
	// lifted; then the held bytes go through in order. Set(Up, ...) with
	// Blackhole is a one-way drop, Set(Both, ...) a partition.
	Blackhole bool
	// SlowClose delays a close travelling this direction: when the side
	// this direction reads from closes, the other side sees it SlowClose
	// later.
	SlowClose time.Duration
}

// String prints the fault as space-separated key=value pairs, "healthy"
// for the zero value: "delay=20ms jitter=5ms rate=1048576B/s blackhole".
func (f LinkFault) String() string {
	var s []string
	if f.Delay > 0 {
		s = append(s, "delay="+f.Delay.String())
	}
	if f.Jitter > 0 {
		s = append(s, "jitter="+f.Jitter.String())
	}
	if f.BytesPerSec > 0 {
		s = append(s, "rate="+strconv.FormatInt(f.BytesPerSec, 10)+"B/s")
	}
	if f.Blackhole {
		s = append(s, "blackhole")
	}
	if f.SlowClose > 0 {
		s = append(s, "slowclose="+f.SlowClose.String())
	}
	if len(s) == 0 {
		return "healthy"
	}
	return strings.Join(s, " ")
}

// normalized returns f with negative values set to zero.
func (f LinkFault) normalized() LinkFault {
	f.Delay, f.Jitter, f.SlowClose = max(f.Delay, 0), max(f.Jitter, 0), max(f.SlowClose, 0)
	f.BytesPerSec = max(f.BytesPerSec, 0)
	return f
}

// hold returns how long a chunk is held under f, given its uniform draw
// u in [0, 1): Delay + (2u-1)*Jitter, at least 0.
func (f LinkFault) hold(u float64) time.Duration {
	if f.Jitter == 0 {
		return f.Delay
	}
	return max(f.Delay+time.Duration((2*u-1)*float64(f.Jitter)), 0)
}

// proxyLinkState is one immutable fault state of a direction; a new one replaces
// it on every change, and changed is closed then, waking the pumps that wait
// on it.
type proxyLinkState struct {
	fault   LinkFault
	changed chan struct{}
}

// proxyLink is one direction of the proxy: its fault state, its token bucket and
// its counters, shared by every connection.
type proxyLink struct {
	state atomic.Pointer[proxyLinkState]

	mu     sync.Mutex // mu guards the token bucket below
	rate   float64    // bytes per second; 0 = no cap
	burst  float64    // bucket size in bytes
	tokens float64    // may go negative: a debt paid by waiting
	last   time.Time  // when tokens was last brought up to date

	read      atomic.Int64 // bytes read from the source side
	delivered atomic.Int64 // bytes written to the destination side
	dropped   atomic.Int64 // bytes read and never delivered
}

func newProxyLink() *proxyLink {
	l := &proxyLink{}
	l.state.Store(&proxyLinkState{changed: make(chan struct{})})
	return l
}

// set replaces the fault state and wakes every pump waiting on the old one.
func (l *proxyLink) set(f LinkFault) {
	l.mu.Lock()
	if r := float64(f.BytesPerSec); r != l.rate {
		l.rate = r
		l.burst = max(r/100, 4096)
		l.tokens = l.burst
		l.last = time.Now()
	}
	l.mu.Unlock()
	old := l.state.Swap(&proxyLinkState{fault: f, changed: make(chan struct{})})
	close(old.changed)
}

// piece returns how many of n bytes to write at once under the cap: all of
// them without a cap, else at most one bucket's worth.
func (l *proxyLink) piece(n int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rate == 0 || float64(n) <= l.burst {
		return n
	}
	return int(l.burst)
}

// reserve takes n bytes from the bucket and returns how long the caller must
// wait before writing them (0 without a cap).
func (l *proxyLink) reserve(n int, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rate == 0 {
		return 0
	}
	if el := now.Sub(l.last); el > 0 {
		l.tokens = min(l.tokens+el.Seconds()*l.rate, l.burst)
		l.last = now
	}
	l.tokens -= float64(n)
	if l.tokens >= 0 {
		return 0
	}
	return time.Duration(-l.tokens / l.rate * float64(time.Second))
}
