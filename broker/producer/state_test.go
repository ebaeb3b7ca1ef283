package producer

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"

	"gale/broker/record"
)

// step is one input to a partition: a batch to produce, or an Expire call.
type step struct {
	batch    spec
	expire   bool
	expireAt int64
	want     string
}

func send(b spec, want string) step        { return step{batch: b, want: want} }
func expire(nowMs int64, want string) step { return step{expire: true, expireAt: nowMs, want: want} }
func (s step) run(t *testing.T, p *partition) string {
	if s.expire {
		return fmt.Sprintf("expired %d", p.st.Expire(s.expireAt))
	}
	return p.produce(s.batch.header(t))
}

const (
	max32 = math.MaxInt32
	day   = DefaultExpirationMs
)

var (
	oooSeq     = kerr.OutOfOrderSequenceNumber.Message
	staleEpoch = kerr.InvalidProducerEpoch.Message
	txnState   = kerr.InvalidTxnState.Message
	invalidRec = kerr.InvalidRecord.Message
)

// stateCases specify Check's decisions. Each step produces one batch (or
// expires producers) against a partition whose log starts at offset 0; the
// wanted outcome is "append first-last" (offsets assigned), "duplicate
// first-last" (the original batch's offsets, nothing appended) or the Kafka
// error.
var stateCases = []struct {
	name  string
	steps []step
}{
	{"in-order batches are appended", []step{
		send(batchOf(1, 0, 0, 2), "append 0-1"),
		send(batchOf(1, 0, 2, 3), "append 2-4"),
		send(batchOf(1, 0, 5, 1), "append 5-5"),
	}},
	{"an unknown producer may start at any sequence (KIP-360)", []step{
		send(batchOf(1, 3, 42, 1), "append 0-0"),
		send(batchOf(1, 3, 43, 1), "append 1-1"),
		send(batchOf(1, 3, 42, 1), "duplicate 0-0"),
	}},
	{"a retry of each of the last 5 batches returns its original offsets", []step{
		send(batchOf(1, 0, 0, 1), "append 0-0"),
		send(batchOf(1, 0, 1, 2), "append 1-2"),
		send(batchOf(1, 0, 3, 1), "append 3-3"),
		send(batchOf(1, 0, 4, 3), "append 4-6"),
		send(batchOf(1, 0, 7, 1), "append 7-7"),
		send(batchOf(1, 0, 8, 2), "append 8-9"),
		send(batchOf(1, 0, 8, 2), "duplicate 8-9"),
		send(batchOf(1, 0, 7, 1), "duplicate 7-7"),
		send(batchOf(1, 0, 4, 3), "duplicate 4-6"),
		send(batchOf(1, 0, 3, 1), "duplicate 3-3"),
		send(batchOf(1, 0, 1, 2), "duplicate 1-2"),
		send(batchOf(1, 0, 10, 1), "append 10-10"),
	}},
	{"a retry older than the last 5 batches is out of order", []step{
		send(batchOf(1, 0, 0, 1), "append 0-0"),
		send(batchOf(1, 0, 1, 1), "append 1-1"),
		send(batchOf(1, 0, 2, 1), "append 2-2"),
		send(batchOf(1, 0, 3, 1), "append 3-3"),
		send(batchOf(1, 0, 4, 1), "append 4-4"),
		send(batchOf(1, 0, 5, 1), "append 5-5"),
		send(batchOf(1, 0, 0, 1), oooSeq),
		send(batchOf(1, 0, 1, 1), "duplicate 1-1"),
	}},
	{"a retry must match a batch's sequence range exactly", []step{
		send(batchOf(1, 0, 0, 3), "append 0-2"),
		send(batchOf(1, 0, 0, 2), oooSeq),
		send(batchOf(1, 0, 1, 2), oooSeq),
		send(batchOf(1, 0, 0, 3), "duplicate 0-2"),
	}},
	{"a gap is out of order and appends nothing", []step{
		send(batchOf(1, 0, 0, 2), "append 0-1"),
		send(batchOf(1, 0, 3, 1), oooSeq),
		send(batchOf(1, 0, 2, 1), "append 2-2"),
	}},
	{"an older epoch is rejected, even for a batch it wrote", []step{
		send(batchOf(1, 1, 0, 1), "append 0-0"),
		send(batchOf(1, 0, 0, 1), staleEpoch),
		send(batchOf(1, 0, 1, 1), staleEpoch),
		send(batchOf(1, 2, 0, 1), "append 1-1"),
		send(batchOf(1, 1, 0, 1), staleEpoch),
	}},
	{"a new epoch starts at sequence 0", []step{
		send(batchOf(1, 0, 0, 3), "append 0-2"),
		send(batchOf(1, 0, 3, 1), "append 3-3"),
		send(batchOf(1, 1, 4, 1), oooSeq),
		send(batchOf(1, 1, 0, 2), "append 4-5"),
		send(batchOf(1, 1, 2, 1), "append 6-6"),
		send(batchOf(1, 1, 0, 2), "duplicate 4-5"),
		send(batchOf(1, 1, 4, 1), oooSeq),
	}},
	{"sequences wrap from MaxInt32 to 0", []step{
		send(batchOf(1, 0, max32-1, 2), "append 0-1"),
		send(batchOf(1, 0, 0, 1), "append 2-2"),
		send(batchOf(1, 0, max32-1, 2), "duplicate 0-1"),
	}},
	{"a batch may straddle the wrap", []step{
		send(batchOf(1, 0, max32-1, 3), "append 0-2"), // max32-1, max32, 0
		send(batchOf(1, 0, 0, 1), oooSeq),
		send(batchOf(1, 0, 1, 1), "append 3-3"),
		send(batchOf(1, 0, max32-1, 3), "duplicate 0-2"),
	}},
	{"batches without a producer are always appended and not tracked", []step{
		send(plain(2), "append 0-1"),
		send(batchOf(1, 0, 0, 1), "append 2-2"),
		send(plain(2), "append 3-4"),
		send(plain(2), "append 5-6"),
		send(batchOf(1, 0, 1, 1), "append 7-7"),
		send(batchOf(1, 0, 0, 1), "duplicate 2-2"),
	}},
	{"producers are independent", []step{
		send(batchOf(1, 0, 0, 1), "append 0-0"),
		send(batchOf(2, 0, 0, 1), "append 1-1"),
		send(batchOf(2, 0, 1, 1), "append 2-2"),
		send(batchOf(1, 0, 2, 1), oooSeq),
		send(batchOf(1, 0, 1, 1), "append 3-3"),
		send(batchOf(2, 0, 0, 1), "duplicate 1-1"),
	}},
	{"transactional and control batches are rejected", []step{
		send(batchOf(1, 0, 0, 1).with(record.AttrTransactional), txnState),
		send(plain(1).with(record.AttrControl), invalidRec),
		send(batchOf(1, 0, 0, 1).with(record.AttrControl|record.AttrTransactional), invalidRec),
		send(batchOf(1, 0, 0, 1), "append 0-0"),
		send(batchOf(1, 0, 1, 1).with(record.AttrTransactional), txnState),
		send(batchOf(1, 0, 1, 1), "append 1-1"),
	}},
	{"a producer's batch needs a sequence and an epoch", []step{
		send(batchOf(1, 0, -1, 1), invalidRec),
		send(batchOf(1, -1, 0, 1), invalidRec),
		send(batchOf(1, 0, 0, 1), "append 0-0"),
	}},
	{"a producer idle for the expiration time is forgotten", []step{
		send(batchOf(1, 0, 0, 1).at(1000), "append 0-0"),
		send(batchOf(2, 0, 0, 1).at(5000), "append 1-1"),
		expire(1000+day-1, "expired 0"),
		expire(1000+day, "expired 1"),
		send(batchOf(1, 0, 7, 1).at(day+2000), "append 2-2"), // unknown again: any sequence
		send(batchOf(2, 0, 1, 1).at(day+2000), "append 3-3"),
		expire(5000+day, "expired 0"),
	}},
}

func TestCheck(t *testing.T) {
	for _, tc := range stateCases {
		t.Run(tc.name, func(t *testing.T) {
			p := newPartition(Options{})
			for i, s := range tc.steps {
				if got := s.run(t, p); got != s.want {
					t.Fatalf("step %d (%v): got %q, want %q", i, s.batch, got, s.want)
				}
			}
		})
	}
}

// TestReplay checks that replaying a log's headers rebuilds the State that
// wrote it: the same internal state, and the same decision on follow-up
// batches around every producer's current epoch and sequence.
func TestReplay(t *testing.T) {
	for _, tc := range stateCases {
		t.Run(tc.name, func(t *testing.T) {
			p := newPartition(Options{})
			for _, s := range tc.steps {
				if !s.expire {
					p.produce(s.batch.header(t))
				}
			}
			re := NewState(Options{})
			for _, h := range p.log {
				re.Replay(h)
			}
			if !reflect.DeepEqual(re, p.st) {
				t.Fatalf("replayed state differs:\n got %+v\nwant %+v", re.producers, p.st.producers)
			}
			for _, probe := range probes(t, p.st) {
				if got, want := outcome(re, probe), outcome(p.st, probe); got != want {
					t.Errorf("probe %+v: replayed state says %q, live state %q", probe, got, want)
				}
			}
		})
	}
}

// probes returns follow-up batches for every producer st knows: epochs one
// below, at and above its own, sequences around its last one, and retries
// of its retained batches.
func probes(t *testing.T, st *State) []record.Header {
	var hs []record.Header
	for id, e := range st.producers {
		last := e.batches[e.newest].lastSeq
		for _, epoch := range []int16{e.epoch - 1, e.epoch, e.epoch + 1} {
			for _, seq := range []int32{0, 1, last, last + 1, last + 2, max32} {
				if seq >= 0 && epoch >= 0 {
					hs = append(hs, batchOf(id, epoch, seq, 1).header(t))
				}
			}
		}
		for i := range int(e.n) {
			b := e.batches[i]
			hs = append(hs, batchOf(id, e.epoch, b.firstSeq, int(b.lastOffsetDelta)+1).header(t))
		}
	}
	return hs
}

func TestErrorUnwrapsToKerr(t *testing.T) {
	p := newPartition(Options{})
	p.produce(batchOf(7, 2, 0, 3).header(t))
	_, err := p.st.Check(batchOf(7, 2, 9, 1).header(t))
	if !errors.Is(err, kerr.OutOfOrderSequenceNumber) {
		t.Fatalf("errors.Is(%v, OutOfOrderSequenceNumber) = false", err)
	}
	var ke *kerr.Error
	if !errors.As(err, &ke) || ke.Code != 45 {
		t.Fatalf("errors.As kerr: %v", ke)
	}
	want := "producer: OUT_OF_ORDER_SEQUENCE_NUMBER: producer id 7 epoch 2 sequence 9: " +
		"sequence does not follow the producer's last sequence (producer's epoch 2, last sequence 2)"
	if err.Error() != want {
		t.Fatalf("Error() = %q\nwant      %q", err.Error(), want)
	}
}

func TestExpireNever(t *testing.T) {
	p := newPartition(Options{ExpirationMs: -1})
	p.produce(batchOf(1, 0, 0, 1).at(0).header(t))
	if n := p.st.Expire(math.MaxInt64); n != 0 || p.st.Len() != 1 {
		t.Fatalf("Expire with ExpirationMs -1 forgot %d producers, %d left", n, p.st.Len())
	}
}

func TestMaxProducerID(t *testing.T) {
	st := NewState(Options{})
	if got := st.MaxProducerID(); got != -1 {
		t.Fatalf("empty: MaxProducerID = %d, want -1", got)
	}
	for _, id := range []int64{4, 9, 2, -1} {
		st.Replay(batchOf(id, 0, 0, 1).header(t))
	}
	st.Expire(math.MaxInt64)
	if got := st.MaxProducerID(); got != 9 {
		t.Fatalf("MaxProducerID = %d, want 9 (expired ids count)", got)
	}
}

func TestLastSequence(t *testing.T) {
	for _, tc := range []struct{ base, delta, want int32 }{
		{0, 0, 0},
		{0, 4, 4},
		{max32, 0, max32},
		{max32 - 4, 4, max32},
		{max32 - 4, 5, 0},
		{max32, 1, 0},
		{max32, 10, 9},
	} {
		if got := lastSequence(tc.base, tc.delta); got != tc.want {
			t.Errorf("lastSequence(%d, %d) = %d, want %d", tc.base, tc.delta, got, tc.want)
		}
	}
}
