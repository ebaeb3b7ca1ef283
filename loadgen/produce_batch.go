package loadgen

import (
	"context"
	"time"
)

// messageBatchSender is implemented by producers that take several
// messages in one call (the null target's): the load loop then hands
// them every message due at one clock read, up to maxSendBatch, instead
// of one Send and one clock read per message. SendMessages publishes ms
// and calls done once, when all of them were acknowledged or failed
// (err: the batch's failure); it must not keep ms or their values after
// done.
type messageBatchSender interface {
	SendMessages(ctx context.Context, ms []Message, done func(error))
}

// maxSendBatch bounds the messages of one SendMessages call.
const maxSendBatch = 256

// produceMessages is produce for a messageBatchSender. Each round reads
// the clock once and sends what is due then: in open loop every message
// whose intended time has come (each keeps its own intended time as its
// send time, and its publish delay counts from it, as in produce); in
// closed loop as many as the in-flight window admits. So the latency
// semantics are produce's; only the clock reads and calls are shared.
func (r *run) produceMessages(ctx, pctx context.Context, p producerRun, bs messageBatchSender, rate float64) {
	inflight := newInflight(r.w.MaxInFlight)
	model := r.w.Consumer
	open := rate > 0
	pc := newPacer(clockNow(), max(rate, 1))
	startNs := pc.start.UnixNano()
	spin := pc.spin()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	size := r.pl.size()
	// free holds message and send-time slices of acknowledged batches.
	type batch struct {
		ms     []Message
		sentAt []int64
	}
	free := make(chan *batch, max(1, r.w.MaxInFlight))
	var delays []int64 // open loop; sentBatch does not keep it
	for i := int64(0); p.limit == 0 || i < p.limit; {
		if open && waitUntil(pctx, pc.intended(i), timer, spin) != nil {
			return
		}
		want := int64(maxSendBatch)
		if p.limit > 0 {
			want = min(want, p.limit-i)
		}
		now := nowNs() // the one clock read per batch
		if open {
			// messages i .. due-1 are due: intended(j) <= now
			due := int64(float64(now-startNs)/pc.period) + 1
			want = max(1, min(want, due-i))
		}
		k := inflight.acquireUpTo(pctx, want)
		if k == 0 || pctx.Err() != nil {
			if k > 0 {
				inflight.releaseN(k)
			}
			return
		}
		var b *batch
		select {
		case b = <-free:
		default:
			b = &batch{}
		}
		b.ms, b.sentAt, delays = b.ms[:0], b.sentAt[:0], delays[:0]
		for j := i; j < i+k; j++ {
			sentAt := now
			if open {
				sentAt = pc.intended(j).UnixNano()
				delays = append(delays, now-sentAt)
			}
			m := Message{Key: r.pl.key(j), Value: r.pl.value(j), SentAt: sentAt}
			if model != nil {
				m.Tagged, m.Producer, m.Seq = true, p.idx, uint64(j)
				m.Poison = isPoison(r.cfg.Seed, int(p.idx), j, model.PoisonRate)
			}
			b.ms = append(b.ms, m)
			b.sentAt = append(b.sentAt, sentAt)
		}
		i += k
		p.m.sentBatch(size, int(k), delays)
		bs.SendMessages(ctx, b.ms, func(err error) {
			p.m.ackedBatch(size, b.sentAt, nowNs(), err)
			if err == nil {
				r.acked.Add(k)
			} else {
				r.noteOnce("send", "a send failed: %v", err)
			}
			clear(b.ms) // drop the payload references
			select {
			case free <- b:
			default:
			}
			inflight.releaseN(k)
		})
	}
}
