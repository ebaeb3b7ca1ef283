package producer

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"gale/broker/record"
)

var seedFlag = flag.Uint64("producer.seed", 0, "seed for TestRandomizedRetries (0: from the clock)")

// simBatch is one batch a simulated producer created.
type simBatch struct {
	idx      int // in simProducer.batches
	epoch    int16
	seq, n   int32
	appended bool
	base     int64 // base offset, once appended
	acked    bool
}

// simProducer is an idempotent producer whose requests and responses the
// network delays, reorders and loses, so that it retries. Like a real
// client (max.in.flight.requests.per.connection <= 5, responses in order on
// a connection) it never has more than Retained batches outstanding counted
// from its oldest unacknowledged one: it does not send batch i+5 before
// batch i is acknowledged.
type simProducer struct {
	id       int64
	epoch    int16
	nextSeq  int32
	known    bool // the partition has appended a batch of ours
	seen     map[string]int
	batches  []*simBatch // every batch, in creation order
	inflight []*simBatch // created, not yet acked
}

// TestRandomizedRetries runs a few idempotent producers against one State
// through a network that reorders requests within the in-flight window,
// loses responses (so producers retry batches already appended), delivers
// stale copies of acked requests, and lets producers bump their epoch. It
// checks:
//
//   - every batch is appended exactly once: a batch is never appended again
//     once in the log, and in the end every batch is in it;
//   - a retry of an appended batch is a duplicate with its original offsets,
//     or (for a stale copy older than the last Retained batches, or of an
//     older epoch) an error, never an append;
//   - the log holds each producer's batches in creation order, and their
//     sequences are contiguous within an epoch, wrapping at MaxInt32, with
//     every new epoch starting at 0;
//   - replaying the log rebuilds the same State.
//
// The first batch of a producer is sent alone: an unknown producer is
// accepted at any sequence (KIP-360), so a reordered first request would be
// taken as the start. Rerun a failure with -producer.seed=N.
func TestRandomizedRetries(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed = %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	runs := 200
	if testing.Short() {
		runs = 20
	}
	seen := make(map[string]int)
	for run := range runs {
		if err := simulate(t, rng, 2000, seen); err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
	}
	t.Logf("outcomes: %v", seen)
	for _, k := range []string{"append", "duplicate", "out of order", "stale duplicate", "stale rejected", "epoch bump", "wrap"} {
		if seen[k] == 0 {
			t.Errorf("the simulation never produced %q", k)
		}
	}
}

// simulate runs one scenario and counts what happened in seen.
func simulate(t *testing.T, rng *rand.Rand, steps int, seen map[string]int) error {
	p := newPartition(Options{})
	var ps []*simProducer
	for id := range int64(1 + rng.IntN(3)) {
		start := int32(0)
		if rng.IntN(2) == 0 {
			start = max32 - int32(rng.IntN(30)) // wrap early
		}
		ps = append(ps, &simProducer{id: id, nextSeq: start, seen: seen})
	}
	for range steps {
		sp := ps[rng.IntN(len(ps))]
		var err error
		switch r := rng.IntN(100); {
		case r < 35:
			sp.create(rng)
		case r < 85:
			if len(sp.inflight) > 0 {
				err = sp.deliver(t, p, sp.inflight[rng.IntN(len(sp.inflight))], rng.IntN(3) == 0)
			}
		case r < 95:
			err = sp.deliverStale(t, p, rng)
		default:
			if len(sp.inflight) == 0 && sp.known {
				sp.epoch++
				sp.nextSeq = 0
				seen["epoch bump"]++
			}
		}
		if err != nil {
			return err
		}
	}
	for _, sp := range ps { // drain: deliver in order, lose nothing
		for len(sp.inflight) > 0 {
			if err := sp.deliver(t, p, sp.inflight[0], false); err != nil {
				return err
			}
		}
	}
	re := NewState(Options{})
	for _, h := range p.log {
		re.Replay(h)
	}
	if !reflect.DeepEqual(re, p.st) {
		return fmt.Errorf("replaying the log gives another state")
	}
	return checkLog(p, ps)
}

// create adds a new batch to the in-flight window, if there is room.
func (sp *simProducer) create(rng *rand.Rand) {
	if len(sp.inflight) > 0 && (!sp.known || len(sp.batches)-sp.inflight[0].idx >= Retained) {
		return
	}
	n := 1 + int32(rng.IntN(4))
	b := &simBatch{idx: len(sp.batches), epoch: sp.epoch, seq: sp.nextSeq, n: n}
	sp.nextSeq = lastSequence(b.seq, n-1)
	if sp.nextSeq < b.seq {
		sp.seen["wrap"]++
	}
	if sp.nextSeq == max32 {
		sp.nextSeq = 0
	} else {
		sp.nextSeq++
	}
	sp.batches = append(sp.batches, b)
	sp.inflight = append(sp.inflight, b)
}

func (sp *simProducer) header(t *testing.T, b *simBatch) record.Header {
	return batchOf(sp.id, b.epoch, b.seq, int(b.n)).header(t)
}

// deliver sends an in-flight batch; if lose, the response is lost.
func (sp *simProducer) deliver(t *testing.T, p *partition, b *simBatch, lose bool) error {
	h := sp.header(t, b)
	d, err := p.st.Check(h)
	switch {
	case err != nil:
		if b.appended || !strings.Contains(err.Error(), "OUT_OF_ORDER_SEQUENCE_NUMBER") {
			return fmt.Errorf("in-flight %+v (appended %v): %v", *b, b.appended, err)
		}
		sp.seen["out of order"]++
		return nil // retried later
	case d.Duplicate:
		sp.seen["duplicate"]++
		if !b.appended || d.BaseOffset != b.base || d.LastOffset != b.base+int64(b.n)-1 {
			return fmt.Errorf("in-flight %+v: duplicate of offsets %d-%d", *b, d.BaseOffset, d.LastOffset)
		}
	default:
		if b.appended {
			return fmt.Errorf("%+v appended twice", *b)
		}
		sp.seen["append"]++
		p.produce(h) // Check again, append, Appended
		b.appended, b.base, sp.known = true, p.log[len(p.log)-1].BaseOffset, true
	}
	if !lose {
		sp.ack(b)
	}
	return nil
}

// deliverStale sends a late copy of a random acked batch: it must not be
// appended again.
func (sp *simProducer) deliverStale(t *testing.T, p *partition, rng *rand.Rand) error {
	if len(sp.batches) == 0 {
		return nil
	}
	b := sp.batches[rng.IntN(len(sp.batches))]
	if !b.acked {
		return nil
	}
	d, err := p.st.Check(sp.header(t, b))
	switch {
	case err != nil:
		sp.seen["stale rejected"]++
		return nil
	case !d.Duplicate:
		return fmt.Errorf("stale copy of %+v would be appended again", *b)
	case d.BaseOffset != b.base:
		return fmt.Errorf("stale copy of %+v: duplicate of offset %d", *b, d.BaseOffset)
	}
	sp.seen["stale duplicate"]++
	return nil
}

func (sp *simProducer) ack(b *simBatch) {
	b.acked = true
	for i, f := range sp.inflight {
		if f == b {
			sp.inflight = append(sp.inflight[:i], sp.inflight[i+1:]...)
			return
		}
	}
}

// checkLog checks that each producer's batches are in the log once, in
// creation order, with contiguous sequences.
func checkLog(p *partition, ps []*simProducer) error {
	byID := make(map[int64][]record.Header)
	for _, h := range p.log {
		byID[h.ProducerID] = append(byID[h.ProducerID], h)
	}
	for _, sp := range ps {
		hs := byID[sp.id]
		if len(hs) != len(sp.batches) {
			return fmt.Errorf("producer %d: %d batches in the log, %d created", sp.id, len(hs), len(sp.batches))
		}
		for i, h := range hs {
			b := sp.batches[i]
			if h.ProducerEpoch != b.epoch || h.BaseSequence != b.seq || h.BaseOffset != b.base {
				return fmt.Errorf("producer %d: log batch %d is epoch %d seq %d at %d, want %+v",
					sp.id, i, h.ProducerEpoch, h.BaseSequence, h.BaseOffset, *b)
			}
			if i == 0 {
				continue
			}
			prev := hs[i-1]
			newEpoch := h.ProducerEpoch != prev.ProducerEpoch
			if newEpoch && h.BaseSequence != 0 ||
				!newEpoch && !inSequence(lastSequence(prev.BaseSequence, prev.LastOffsetDelta), h.BaseSequence) {
				return fmt.Errorf("producer %d: log batch %d (epoch %d seq %d) does not follow epoch %d seq %d+%d",
					sp.id, i, h.ProducerEpoch, h.BaseSequence, prev.ProducerEpoch, prev.BaseSequence, prev.LastOffsetDelta)
			}
		}
	}
	return nil
}
