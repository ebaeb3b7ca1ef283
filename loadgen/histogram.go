package loadgen

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Latencies are recorded in nanoseconds, from 1 ns to one hour, to three
// significant digits (so 1.234 ms is told from 1.235 ms), and reported in
// microseconds.
const (
	histMin    = 1
	histMax    = int64(time.Hour)
	histDigits = 3
)

func newHist() *hdr.Histogram { return hdr.New(histMin, histMax, histDigits) }

// recordNs records d (nanoseconds) into *h, allocating it on first use.
// Values outside the range are clamped, so a stall is never dropped.
func recordNs(h **hdr.Histogram, d int64) {
	if *h == nil {
		*h = newHist()
	}
	(*h).RecordValue(min(max(d, histMin), histMax))
}

// mergeInto merges src into *dst, allocating *dst on first use.
func mergeInto(dst **hdr.Histogram, src *hdr.Histogram) {
	if src == nil {
		return
	}
	if *dst == nil {
		*dst = newHist()
	}
	(*dst).Merge(src)
}

// window is what one meter saw during one interval.
type window struct {
	pub, delay, e2e *hdr.Histogram // nil until something is recorded

	sent, acked, errs, recv          int64
	sentBytes, ackedBytes, recvBytes int64

	// the consumer model's counts (ConsumerOutcome)
	distinct, redelivered, processed, retried, deadLettered, discarded int64
}

func (w *window) add(o *window) {
	mergeInto(&w.pub, o.pub)
	mergeInto(&w.delay, o.delay)
	mergeInto(&w.e2e, o.e2e)
	w.sent += o.sent
	w.acked += o.acked
	w.errs += o.errs
	w.recv += o.recv
	w.sentBytes += o.sentBytes
	w.ackedBytes += o.ackedBytes
	w.recvBytes += o.recvBytes
	w.distinct += o.distinct
	w.redelivered += o.redelivered
	w.processed += o.processed
	w.retried += o.retried
	w.deadLettered += o.deadLettered
	w.discarded += o.discarded
}

// reset empties w, keeping its histograms for reuse.
func (w *window) reset() {
	for _, h := range []*hdr.Histogram{w.pub, w.delay, w.e2e} {
		if h != nil {
			h.Reset()
		}
	}
	*w = window{pub: w.pub, delay: w.delay, e2e: w.e2e}
}

// meter records one producer's or consumer's measurements. Its methods are
// safe for concurrent use: a producer's acks arrive on driver goroutines.
// The collector takes the current window once per interval (swap).
type meter struct {
	mu    sync.Mutex // guards cur and spare
	cur   *window
	spare *window
	// sends counted without the lock (closed loop: the producer's
	// goroutine would otherwise contend with its acks); swapInto moves
	// them into the window. A line of their own, away from mu.
	_                 [64]byte
	sentN, sentNBytes atomic.Int64
	_                 [64]byte
}

func newMeter() *meter { return &meter{cur: &window{}, spare: &window{}} }

// sent counts a send, and its publish delay (open loop) when delay >= 0.
func (m *meter) sent(bytes int, delay int64) {
	if delay < 0 {
		m.sentN.Add(1)
		m.sentNBytes.Add(int64(bytes))
		return
	}
	m.mu.Lock()
	m.cur.sent++
	m.cur.sentBytes += int64(bytes)
	if delay >= 0 {
		recordNs(&m.cur.delay, delay)
	}
	m.mu.Unlock()
}

// acked counts an acknowledgement (err nil) or a failed send.
func (m *meter) acked(bytes int, latency int64, err error) {
	m.mu.Lock()
	if err != nil {
		m.cur.errs++
	} else {
		m.cur.acked++
		m.cur.ackedBytes += int64(bytes)
		recordNs(&m.cur.pub, latency)
	}
	m.mu.Unlock()
}

// ackedBatch counts the outcome of a batch of len(sentAt) messages of
// bytes each, acknowledged at now (Unix ns).
func (m *meter) ackedBatch(bytes int, sentAt []int64, now int64, err error) {
	m.mu.Lock()
	if err != nil {
		m.cur.errs += int64(len(sentAt))
	} else {
		m.cur.acked += int64(len(sentAt))
		m.cur.ackedBytes += int64(bytes * len(sentAt))
		if n := len(sentAt); n > 0 && sentAt[0] == sentAt[n-1] { // closed loop: one send time
			if m.cur.pub == nil {
				m.cur.pub = newHist()
			}
			m.cur.pub.RecordValues(min(max(now-sentAt[0], histMin), histMax), int64(n))
		} else {
			for _, t := range sentAt {
				recordNs(&m.cur.pub, now-t)
			}
		}
	}
	m.mu.Unlock()
}

// sentBatch counts n sends and, in open loop, their publish delays.
func (m *meter) sentBatch(bytes, n int, delays []int64) {
	m.mu.Lock()
	m.cur.sent += int64(n)
	m.cur.sentBytes += int64(bytes * n)
	for _, d := range delays {
		recordNs(&m.cur.delay, d)
	}
	m.mu.Unlock()
}

// received counts a delivery and its end-to-end latency (when known).
func (m *meter) received(bytes int, latency int64, known bool) {
	m.mu.Lock()
	m.cur.recv++
	m.cur.recvBytes += int64(bytes)
	if known {
		recordNs(&m.cur.e2e, latency)
	}
	m.mu.Unlock()
}

// count applies f to the current window, under the lock: the consumer
// model's counts.
func (m *meter) count(f func(*window)) {
	m.mu.Lock()
	f(m.cur)
	m.mu.Unlock()
}

// failed counts an error outside a send (a consumer failing, say).
func (m *meter) failed() {
	m.mu.Lock()
	m.cur.errs++
	m.mu.Unlock()
}

// swapInto adds the current window to dst and starts a fresh one.
func (m *meter) swapInto(dst *window) {
	m.mu.Lock()
	w := m.cur
	m.cur, m.spare = m.spare, w
	m.mu.Unlock()
	w.sent += m.sentN.Swap(0)
	w.sentBytes += m.sentNBytes.Swap(0)
	dst.add(w)
	w.reset()
}

// percentiles reads h (nanoseconds) into microseconds, 0.1 µs resolution.
// A nil or empty histogram gives the zero Percentiles.
func percentiles(h *hdr.Histogram) Percentiles {
	if h == nil || h.TotalCount() == 0 {
		return Percentiles{}
	}
	us := func(ns float64) float64 { return math.Round(ns/100) / 10 }
	v := h.ValueAtPercentiles([]float64{50, 75, 90, 95, 99, 99.9, 99.99})
	return Percentiles{
		Count: h.TotalCount(),
		Mean:  us(h.Mean()),
		P50:   us(float64(v[50])),
		P75:   us(float64(v[75])),
		P90:   us(float64(v[90])),
		P95:   us(float64(v[95])),
		P99:   us(float64(v[99])),
		P999:  us(float64(v[99.9])),
		P9999: us(float64(v[99.99])),
		Max:   us(float64(h.Max())),
	}
}
