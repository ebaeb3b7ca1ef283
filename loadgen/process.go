package loadgen

import (
	"context"
	"errors"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// consumerSlot is one consumer of a subscription: its meter, and the
// member currently filling it. A crash (Control) closes the member and,
// after a while, a replacement joins in the same slot, with the same
// meter, on the same goroutine (run.consume).
type consumerSlot struct {
	idx        int
	topic, sub string
	subID      int // index of (topic, subscription) in the run, for the tracker
	m          *meter
	rng        *rand.Rand // processing times; the slot's goroutine only
	timer      *time.Timer

	mu           sync.Mutex // guards the fields below
	c            Consumer   // nil after a crash, until the replacement joins
	cancel       context.CancelFunc
	crashed      bool
	restartAfter time.Duration
}

func (s *consumerSlot) current() Consumer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.c
}

// outcomes are a run's cumulative consumer-model counts (warmup
// included), for the summary's balance check.
type outcomes struct {
	distinct, redelivered, processed, retried, deadLettered, discarded atomic.Int64
	busy                                                               atomic.Int64 // messages being processed now
	crashes                                                            atomic.Int64
}

// tracker remembers, per subscription and producer, which messages were
// received and which ended, as bitsets indexed by sequence number (a
// producer's are dense from 0): 2 bits per message and subscription.
type tracker struct {
	nprod int
	mu    []sync.Mutex // one per subscription
	seen  [][]bitset   // [subscription][producer]
	done  [][]bitset
}

type bitset []uint64

// set sets bit i and reports whether it was clear.
func (b *bitset) set(i uint64) bool {
	w := int(i / 64)
	if w >= len(*b) {
		*b = append(*b, make([]uint64, w-len(*b)+1+len(*b)/4)...)
	}
	m := uint64(1) << (i % 64)
	was := (*b)[w]&m != 0
	(*b)[w] |= m
	return !was
}

func (b bitset) count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

func newTracker(subs, producers int) *tracker {
	t := &tracker{nprod: producers, mu: make([]sync.Mutex, subs), seen: make([][]bitset, subs), done: make([][]bitset, subs)}
	for i := range subs {
		t.seen[i] = make([]bitset, producers)
		t.done[i] = make([]bitset, producers)
	}
	return t
}

// maxTrackedSeq bounds the sequence numbers the tracker keeps (a 2^36
// bit set is 8 GiB): a larger one, which no run of ours sends, counts as
// new rather than allocating.
const maxTrackedSeq = 1 << 36

// mark sets d's bit in sets[sub] and reports whether it was clear. A
// delivery naming no producer of the run counts as new.
func (t *tracker) mark(sets [][]bitset, sub int, d Delivery) bool {
	if !d.Tagged || int(d.Producer) >= t.nprod || sub >= len(sets) || d.Seq >= maxTrackedSeq {
		return true
	}
	t.mu[sub].Lock()
	defer t.mu[sub].Unlock()
	return sets[sub][d.Producer].set(d.Seq)
}

// deliver handles one delivery on slot s's goroutine: it measures the
// receipt, counts it once per distinct message, and runs the consumer
// model (processing time, poison, retries) on it.
func (r *run) deliver(ctx context.Context, s *consumerSlot, d Delivery) Outcome {
	now := d.ReceivedAt
	if now == 0 {
		now = nowNs()
	}
	s.m.received(d.Bytes, now-d.SentAt, d.SentAt > 0)
	model := r.w.Consumer
	if model == nil {
		r.recv.Add(1)
		return Processed
	}
	if r.track.mark(r.track.seen, s.subID, d) {
		r.recv.Add(1)
		r.out.distinct.Add(1)
		s.m.count(func(w *window) { w.distinct++ })
	} else {
		r.out.redelivered.Add(1)
		s.m.count(func(w *window) { w.redelivered++ })
	}
	r.out.busy.Add(1)
	defer r.out.busy.Add(-1)
	out, retries := r.process(ctx, s, *model, d.Poison)
	if out == Abandon {
		return out
	}
	first := r.track.mark(r.track.done, s.subID, d)
	r.out.retried.Add(int64(retries))
	s.m.count(func(w *window) {
		w.retried += int64(retries)
		if !first {
			return
		}
		switch out {
		case Processed:
			w.processed++
		case DeadLetter:
			w.deadLettered++
		case Discard:
			w.discarded++
		}
	})
	if first {
		switch out {
		case Processed:
			r.out.processed.Add(1)
		case DeadLetter:
			r.out.deadLettered.Add(1)
		case Discard:
			r.out.discarded.Add(1)
		}
	}
	return out
}

// process runs the attempts on one message: each takes a processing time
// drawn from the model; a poison message fails every one, and after its
// retries is dead-lettered (or discarded). It returns Abandon if ctx ends
// first.
func (r *run) process(ctx context.Context, s *consumerSlot, m ConsumerModel, poison bool) (Outcome, int) {
	for attempt := 0; ; attempt++ {
		if !busyFor(ctx, m.Processing.draw(s.rng), s.timer) {
			return Abandon, attempt
		}
		switch {
		case !poison:
			return Processed, attempt
		case attempt < m.Retries:
			continue
		case m.DeadLetter:
			return DeadLetter, attempt
		default:
			return Discard, attempt
		}
	}
}

// spinProcessing: a processing time below it is spent spinning (yielding
// the processor between clock reads), as a timer could overshoot it
// several times over; longer ones sleep.
const spinProcessing = 500 * time.Microsecond

// busyFor spends d on the calling goroutine, as a consumer processing a
// message does, and reports false if ctx ended first.
func busyFor(ctx context.Context, d time.Duration, timer *time.Timer) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	if d < spinProcessing {
		end := time.Now().Add(d)
		for time.Now().Before(end) {
			if ctx.Err() != nil {
				return false
			}
			runtime.Gosched()
		}
		return ctx.Err() == nil
	}
	timer.Reset(d)
	select {
	case <-ctx.Done():
		timer.Stop()
		return false
	case <-timer.C:
		return true
	}
}

// consume runs slot s until ctx ends: its member receives; when a crash
// ended the member, the replacement joins after the crash's restart delay
// and receives in turn.
func (r *run) consume(ctx context.Context, s *consumerSlot) {
	for {
		mctx, cancel := context.WithCancel(ctx)
		s.mu.Lock()
		c := s.c
		s.cancel = cancel
		s.mu.Unlock()
		if c != nil {
			r.receive(mctx, s, c)
		}
		cancel()
		s.mu.Lock()
		crashed, after := s.crashed, s.restartAfter
		s.mu.Unlock()
		if !crashed || !r.restart(ctx, s, after) {
			return
		}
	}
}

func (r *run) receive(ctx context.Context, s *consumerSlot, c Consumer) {
	err := c.Receive(ctx, func(d Delivery) Outcome {
		return r.deliver(ctx, s, d)
	}, func(err error) {
		s.m.failed()
		if errors.Is(err, ErrDataLoss) {
			r.dataLoss.Add(1)
			r.noteOnce("data-loss", "a consumer was told records it had not read are gone: %v", err)
			return
		}
		r.noteOnce("consumer", "a consumer failed and went on: %v", err)
	})
	s.mu.Lock()
	crashed := s.crashed
	s.mu.Unlock()
	if err != nil && ctx.Err() == nil && !crashed {
		s.m.failed()
		r.note("a consumer stopped: %v", err)
	}
}

// restart waits after, then joins a replacement member into slot s. It
// reports false when ctx ended first or the member could not be made.
func (r *run) restart(ctx context.Context, s *consumerSlot, after time.Duration) bool {
	t := time.NewTimer(after)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	}
	c, err := r.drv.NewConsumer(ctx, s.topic, s.sub)
	if err != nil {
		r.note("consumer %d's replacement could not join: %v", s.idx, err)
		return false
	}
	s.mu.Lock()
	s.c, s.crashed = c, false
	s.mu.Unlock()
	r.note("consumer %d's replacement (a new member of %s) started at %.1f s", s.idx, s.sub, time.Since(r.start).Seconds())
	return true
}

// consumerOutcome is the summary's Consumer: the run's counts, rates
// over the measured seconds secs from the measured window t.
func (r *run) consumerOutcome(t *window, secs float64) *ConsumerOutcome {
	o := &r.out
	c := &ConsumerOutcome{
		Commit:         r.w.Consumer.Commit,
		Distinct:       o.distinct.Load(),
		Redelivered:    o.redelivered.Load(),
		Processed:      o.processed.Load(),
		ProcessedRate:  perSec(t.processed, secs),
		Retried:        o.retried.Load(),
		DeadLettered:   o.deadLettered.Load(),
		DeadLetterRate: perSec(t.deadLettered, secs),
		Discarded:      o.discarded.Load(),
		Crashes:        int(o.crashes.Load()),
	}
	c.Unfinished = c.Distinct - c.Processed - c.DeadLettered - c.Discarded
	c.Balanced = c.Unfinished == 0
	return c
}

// intervalOutcome is an Interval's Consumer, from its window a.
func (r *run) intervalOutcome(a *window, secs float64) *ConsumerOutcome {
	return &ConsumerOutcome{
		Commit:         r.w.Consumer.Commit,
		Distinct:       a.distinct,
		Redelivered:    a.redelivered,
		Processed:      a.processed,
		ProcessedRate:  perSec(a.processed, secs),
		Retried:        a.retried,
		DeadLettered:   a.deadLettered,
		DeadLetterRate: perSec(a.deadLettered, secs),
		Discarded:      a.discarded,
	}
}
