package producer

import (
	"github.com/twmb/franz-go/pkg/kerr"

	"gale/broker/record"
)

// Retained is how many of a producer's latest batches a State remembers for
// duplicate detection: Kafka's ProducerStateEntry.NUM_BATCHES_TO_RETAIN,
// matching the clients' limit of 5 in-flight requests per connection for
// idempotent producers.
const Retained = 5

// DefaultExpirationMs is the default Options.ExpirationMs: one day, Kafka's
// default producer.id.expiration.ms.
const DefaultExpirationMs = 24 * 60 * 60 * 1000

// Options configure a State. The zero value is the default.
type Options struct {
	// ExpirationMs is how long, in milliseconds, a producer may go without
	// a batch before Expire forgets it (Kafka's producer.id.expiration.ms).
	// 0 means DefaultExpirationMs; a negative value means never.
	ExpirationMs int64
}

// State is one partition's producer state: for every producer id with a
// batch in the partition, its epoch and its last Retained batches. See the
// package documentation for the contract. The zero value is not usable;
// call NewState.
type State struct {
	expirationMs int64 // < 0: never
	producers    map[int64]*entry
	maxID        int64 // the largest producer id recorded, -1 if none
}

// entry is what a State knows about one producer.
type entry struct {
	epoch         int16
	n             uint8 // batches held, 1..Retained
	newest        uint8 // index in batches of the latest batch
	batches       [Retained]batch
	lastTimestamp int64 // MaxTimestamp of the latest batch
}

// batch is what a State keeps of one appended batch.
type batch struct {
	firstSeq, lastSeq int32
	lastOffsetDelta   int32
	baseOffset        int64
	maxTimestamp      int64
}

// Decision is Check's verdict on a batch it does not reject.
type Decision struct {
	// Duplicate reports that the batch is a retry of one already in the
	// log: do not append it, answer with no error and the offsets below.
	// Otherwise append the batch and call Appended.
	Duplicate bool

	// For a duplicate: the original batch's base and last offset, and its
	// MaxTimestamp (Kafka answers a duplicate's LogAppendTime with it).
	BaseOffset   int64
	LastOffset   int64
	MaxTimestamp int64
}

// NewState returns an empty State.
func NewState(o Options) *State {
	if o.ExpirationMs == 0 {
		o.ExpirationMs = DefaultExpirationMs
	}
	return &State{
		expirationMs: o.ExpirationMs,
		producers:    make(map[int64]*entry),
		maxID:        -1,
	}
}

// Check decides what to do with an incoming batch from a client, given its
// header h (which must have passed record.Validate; BaseOffset is ignored).
// It returns an error, always an *Error, if the batch must be rejected;
// otherwise d.Duplicate tells whether to skip the append. Check does not
// change the State.
func (s *State) Check(h record.Header) (d Decision, err error) {
	switch {
	case h.Control():
		return d, s.reject(h, kerr.InvalidRecord, reasonControl)
	case h.Transactional():
		return d, s.reject(h, kerr.InvalidTxnState, reasonTransactional)
	case h.ProducerID < 0:
		return d, nil
	case h.BaseSequence < 0:
		return d, s.reject(h, kerr.InvalidRecord, reasonNegativeSeq)
	case h.ProducerEpoch < 0:
		return d, s.reject(h, kerr.InvalidRecord, reasonNegativeEpoch)
	}
	e := s.producers[h.ProducerID]
	if e == nil {
		return d, nil // unknown producer: any epoch, any sequence (KIP-360)
	}
	if h.ProducerEpoch == e.epoch {
		if b, ok := e.find(h.BaseSequence, lastSequence(h.BaseSequence, h.LastOffsetDelta)); ok {
			return Decision{
				Duplicate:    true,
				BaseOffset:   b.baseOffset,
				LastOffset:   b.baseOffset + int64(b.lastOffsetDelta),
				MaxTimestamp: b.maxTimestamp,
			}, nil
		}
	}
	switch {
	case h.ProducerEpoch < e.epoch:
		return d, s.reject(h, kerr.InvalidProducerEpoch, reasonStaleEpoch)
	case h.ProducerEpoch > e.epoch:
		if h.BaseSequence != 0 {
			return d, s.reject(h, kerr.OutOfOrderSequenceNumber, reasonNewEpochSeq)
		}
	case !inSequence(e.batches[e.newest].lastSeq, h.BaseSequence):
		return d, s.reject(h, kerr.OutOfOrderSequenceNumber, reasonGap)
	}
	return d, nil
}

// Appended records a batch that Check accepted and the log then appended;
// h.BaseOffset must be the base offset the log assigned. Batches without a
// producer and control batches are ignored. Appended does not validate:
// it records whatever it is given, so call it only after Check accepted h
// (not for duplicates or rejected batches).
func (s *State) Appended(h record.Header) { s.record(h) }

// Replay records a batch read back from the log on restart. Call it for the
// header of every batch of the retained log, in log order, on an empty
// State, then Expire(now). It records exactly as Appended does (Kafka's
// replication origin: no validation), so the rebuilt State matches the one
// that wrote the log.
func (s *State) Replay(h record.Header) { s.record(h) }

// record remembers h as its producer's latest batch. A batch in another
// epoch than the producer's starts the producer afresh, as Kafka's
// ProducerStateEntry.maybeUpdateProducerEpoch does.
func (s *State) record(h record.Header) {
	if h.ProducerID < 0 || h.Control() {
		return
	}
	e := s.producers[h.ProducerID]
	if e == nil {
		e = new(entry)
		s.producers[h.ProducerID] = e
		s.maxID = max(s.maxID, h.ProducerID)
	}
	if e.n == 0 || e.epoch != h.ProducerEpoch {
		e.epoch, e.n, e.newest = h.ProducerEpoch, 0, Retained-1
	}
	e.newest = (e.newest + 1) % Retained
	e.n = min(e.n+1, Retained)
	e.batches[e.newest] = batch{
		firstSeq:        h.BaseSequence,
		lastSeq:         lastSequence(h.BaseSequence, h.LastOffsetDelta),
		lastOffsetDelta: h.LastOffsetDelta,
		baseOffset:      h.BaseOffset,
		maxTimestamp:    h.MaxTimestamp,
	}
	e.lastTimestamp = h.MaxTimestamp
}

// find returns the retained batch with exactly the sequences first..last.
func (e *entry) find(first, last int32) (batch, bool) {
	for i := range int(e.n) {
		b := e.batches[(int(e.newest)+Retained-i)%Retained]
		if b.firstSeq == first && b.lastSeq == last {
			return b, true
		}
	}
	return batch{}, false
}

// Expire forgets every producer whose latest batch's MaxTimestamp is
// Options.ExpirationMs or more before nowMs (milliseconds since the Unix
// epoch) and returns how many it forgot.
func (s *State) Expire(nowMs int64) int {
	if s.expirationMs < 0 {
		return 0
	}
	n := 0
	for id, e := range s.producers {
		if nowMs-e.lastTimestamp >= s.expirationMs {
			delete(s.producers, id)
			n++
		}
	}
	return n
}

// Len returns how many producers the State knows.
func (s *State) Len() int { return len(s.producers) }

// MaxProducerID returns the largest producer id ever recorded by Appended
// or Replay (expired ones included), or -1 if none.
func (s *State) MaxProducerID() int64 { return s.maxID }

func (s *State) reject(h record.Header, k *kerr.Error, reason string) *Error {
	err := &Error{
		Kerr:       k,
		ProducerID: h.ProducerID,
		Epoch:      h.ProducerEpoch,
		Sequence:   h.BaseSequence,
		Reason:     reason,
	}
	if e := s.producers[h.ProducerID]; e != nil {
		err.Known, err.CurrentEpoch, err.LastSequence = true, e.epoch, e.batches[e.newest].lastSeq
	}
	return err
}
