package kafka

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"gale/broker/record"
	"gale/broker/seglog"
)

// Tests of InitProducerId and idempotent produce, speaking the protocol by
// hand. Tests with franz-go are in idempotence_kgo_test.go.

// idemBatch is an idempotent producer's batch of n records starting at
// sequence seq; attrs adds attribute bits (control, transactional). Its
// timestamp is now, so the producer does not expire.
func idemBatch(id int64, epoch int16, seq int32, n int, attrs int16) []byte {
	recs := make([]record.Record, n)
	for i := range recs {
		recs[i] = record.Record{Value: value(int(seq) + i)}
	}
	return record.AppendBatch(nil, record.BatchOptions{
		BaseTimestamp: time.Now().UnixMilli(), ProducerID: id, ProducerEpoch: epoch, BaseSequence: seq,
		Attributes: attrs, PartitionLeaderEpoch: -1,
	}, recs)
}

func initProducerID(c *rawConn, version int16, txnID *string) *kmsg.InitProducerIDResponse {
	c.t.Helper()
	req := kmsg.NewPtrInitProducerIDRequest()
	req.SetVersion(version)
	req.TransactionalID, req.TransactionTimeoutMillis = txnID, 60_000
	req.ProducerID, req.ProducerEpoch = -1, -1
	return c.roundTrip(req).(*kmsg.InitProducerIDResponse)
}

func TestInitProducerIDVersions(t *testing.T) {
	b := startBroker(t, "")
	c := b.dial(t)
	last := int64(-1)
	for v := int16(0); v <= 4; v++ {
		resp := initProducerID(c, v, nil)
		if resp.ErrorCode != 0 || resp.ProducerID <= last || resp.ProducerEpoch != 0 {
			t.Fatalf("v%d: error %d, id %d epoch %d; want a fresh id above %d, epoch 0", v, resp.ErrorCode, resp.ProducerID, resp.ProducerEpoch, last)
		}
		last = resp.ProducerID
	}
	got, err := os.ReadFile(filepath.Join(b.dir, producerIDsName))
	if err != nil || string(got) != "gale-producer-ids v1 next=1000\n" {
		t.Fatalf("producer-ids file: %q, %v", got, err)
	}
	for _, tc := range []struct {
		name  string
		txnID string
		code  int16
	}{
		{"transactional id", "txn-1", kerr.TransactionalIDAuthorizationFailed.Code},
		{"empty transactional id", "", kerr.InvalidRequest.Code},
	} {
		for v := int16(0); v <= 4; v++ {
			resp := initProducerID(c, v, &tc.txnID)
			if resp.ErrorCode != tc.code || resp.ProducerID != -1 {
				t.Errorf("%s v%d: error %d id %d, want error %d id -1", tc.name, v, resp.ErrorCode, resp.ProducerID, tc.code)
			}
		}
	}
}

// TestProducerIDsNeverReused: ids handed out after a restart are above
// every id handed out before it, from the persisted bound; and without the
// bound file, above every producer id in the logs.
func TestProducerIDsNeverReused(t *testing.T) {
	dir := t.TempDir()
	b := startBroker(t, dir)
	b.createTopic(t, "ids", 1)
	c := b.dial(t)
	var last int64
	for range 3 {
		last = initProducerID(c, 4, nil).ProducerID
	}
	// A batch from a producer id far above the bound (another broker's
	// data directory, say).
	if code := produceOne(c, "ids", idemBatch(7777, 0, 0, 1, 0)).ErrorCode; code != 0 {
		t.Fatalf("produce: error %d", code)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	b = startBroker(t, dir)
	if id := initProducerID(b.dial(t), 4, nil).ProducerID; id <= last || id < 1000 {
		t.Fatalf("after restart: id %d, want >= 1000 (the persisted bound)", id)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	if err := os.Remove(filepath.Join(dir, producerIDsName)); err != nil {
		t.Fatal(err)
	}
	b = startBroker(t, dir)
	if id := initProducerID(b.dial(t), 4, nil).ProducerID; id != 7778 {
		t.Fatalf("without the bound file: id %d, want 7778 (one above the largest in the logs)", id)
	}
	if n := len(b.logs.lines("no producer id file")); n != 1 {
		t.Errorf("%d log lines about the missing file, want 1", n)
	}

	// A damaged file is an error, not a guess.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, producerIDsName), []byte("next=12\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b = startBroker(t, dir)
	if resp := initProducerID(b.dial(t), 4, nil); resp.ErrorCode != kerr.CoordinatorNotAvailable.Code {
		t.Fatalf("damaged bound file: error %d id %d, want COORDINATOR_NOT_AVAILABLE", resp.ErrorCode, resp.ProducerID)
	}
	if n := len(b.logs.lines("cannot hand out a producer id")); n != 1 {
		t.Errorf("%d error lines, want 1", n)
	}
}

func produceOne(c *rawConn, topic string, records []byte) kmsg.ProduceResponseTopicPartition {
	c.t.Helper()
	resp := c.roundTrip(produceRequest(9, -1, topic, 0, records)).(*kmsg.ProduceResponse)
	return resp.Topics[0].Partitions[0]
}

// TestIdempotentProduce walks one partition through Kafka's idempotence
// rules, then restarts the broker and checks the rebuilt state decides the
// same; under each flush policy, with the same results.
func TestIdempotentProduce(t *testing.T) {
	for _, flush := range []seglog.FlushPolicy{seglog.FlushNever, seglog.FlushAlways} {
		t.Run("flush="+flush.String(), func(t *testing.T) { testIdempotentProduce(t, flush) })
	}
}

func testIdempotentProduce(t *testing.T, flush seglog.FlushPolicy) {
	dir := t.TempDir()
	withFlush := func(c *Config) { c.Log.Flush = flush }
	b := startBroker(t, dir, withFlush)
	b.createTopic(t, "idem", 1)
	c := b.dial(t)
	id := initProducerID(c, 4, nil).ProducerID
	corrupt := idemBatch(id, 0, 0, 2, 0)
	corrupt[len(corrupt)-1] ^= 0xff

	type step struct {
		name    string
		records []byte
		code    int16
		base    int64 // -1: not checked
		end     int64 // the log end offset after the step
	}
	steps := []step{
		{"first batch", idemBatch(id, 0, 0, 2, 0), 0, 0, 2},
		{"next batch", idemBatch(id, 0, 2, 3, 0), 0, 2, 5},
		{"retry of the first", idemBatch(id, 0, 0, 2, 0), 0, 0, 5},
		{"retry of the latest", idemBatch(id, 0, 2, 3, 0), 0, 2, 5},
		{"corrupt retry", corrupt, kerr.CorruptMessage.Code, -1, 5},
		{"gap", idemBatch(id, 0, 9, 1, 0), kerr.OutOfOrderSequenceNumber.Code, -1, 5},
		{"overlap", idemBatch(id, 0, 1, 3, 0), kerr.OutOfOrderSequenceNumber.Code, -1, 5},
		{"two batches in one request", append(idemBatch(id, 0, 5, 1, 0), idemBatch(id, 0, 6, 2, 0)...), 0, 5, 8},
		{"retry of both", append(idemBatch(id, 0, 5, 1, 0), idemBatch(id, 0, 6, 2, 0)...), 0, 5, 8},
		{"a retry then a new batch", append(idemBatch(id, 0, 6, 2, 0), idemBatch(id, 0, 8, 1, 0)...), 0, 6, 9},
		{"new epoch not at 0", idemBatch(id, 1, 9, 1, 0), kerr.OutOfOrderSequenceNumber.Code, -1, 9},
		{"new epoch at 0", idemBatch(id, 1, 0, 1, 0), 0, 9, 10},
		{"old epoch", idemBatch(id, 0, 9, 1, 0), kerr.InvalidProducerEpoch.Code, -1, 10},
		{"control batch", idemBatch(id, 1, 1, 1, record.AttrControl), kerr.InvalidRecord.Code, -1, 10},
		{"transactional batch", idemBatch(id, 1, 1, 1, record.AttrTransactional), kerr.InvalidTxnState.Code, -1, 10},
		{"plain batch in between", batch(2, 1), 0, 10, 12},
		{"unknown producer at any sequence", idemBatch(id+1, 3, 40, 1, 0), 0, 12, 13},
		// Batches are appended one at a time: a rejected batch does not
		// take back the ones before it in the request.
		{"a new batch then a gap", append(idemBatch(id+1, 3, 41, 1, 0), idemBatch(id+1, 3, 50, 1, 0)...), kerr.OutOfOrderSequenceNumber.Code, -1, 14},
	}
	log := b.lookup("idem").parts[0]
	run := func(steps []step) {
		t.Helper()
		for _, st := range steps {
			got := produceOne(c, "idem", append([]byte(nil), st.records...))
			if got.ErrorCode != st.code || st.base >= 0 && got.BaseOffset != st.base {
				t.Errorf("%s: error %d base %d, want error %d base %d", st.name, got.ErrorCode, got.BaseOffset, st.code, st.base)
			}
			if msg := got.ErrorMessage; got.ErrorCode != 0 && got.ErrorCode != kerr.CorruptMessage.Code && (msg == nil || !strings.Contains(*msg, "producer id")) {
				t.Errorf("%s: error message %v, want the rejection's text", st.name, msg)
			}
			if e := log.EndOffset(); e != st.end {
				t.Fatalf("%s: log end %d, want %d", st.name, e, st.end)
			}
		}
	}
	run(steps)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	// The state is rebuilt from the log: the same answers after a restart.
	b = startBroker(t, dir, withFlush)
	c = b.dial(t)
	log = b.lookup("idem").parts[0]
	run([]step{
		{"retry of epoch 1's batch", idemBatch(id, 1, 0, 1, 0), 0, 9, 14},
		{"old epoch", idemBatch(id, 0, 9, 1, 0), kerr.InvalidProducerEpoch.Code, -1, 14},
		{"gap", idemBatch(id, 1, 2, 1, 0), kerr.OutOfOrderSequenceNumber.Code, -1, 14},
		{"next batch", idemBatch(id, 1, 1, 1, 0), 0, 14, 15},
		{"other producer's retry", idemBatch(id+1, 3, 41, 1, 0), 0, 13, 15},
	})
	if n := len(b.logs.lines("producer state rebuilt")); n != 1 {
		t.Errorf("%d 'producer state rebuilt' lines, want 1", n)
	}
}

// TestPlainProducersNeedNoState: batches without a producer id never load
// a partition's producer state.
func TestPlainProducersNeedNoState(t *testing.T) {
	b := startBroker(t, "")
	b.createTopic(t, "plain", 1)
	c := b.dial(t)
	for range 3 {
		if code := produceOne(c, "plain", batch(3, 1)).ErrorCode; code != 0 {
			t.Fatalf("error %d", code)
		}
	}
	if _, ok := b.idem.parts.Load(b.lookup("plain").parts[0]); ok {
		t.Fatal("a plain producer created producer state")
	}
}

// TestPartStatesOfDeletedTopicsAreSwept: the state map does not grow
// without bound as topics come and go, and keeps the live partitions'.
func TestPartStatesOfDeletedTopicsAreSwept(t *testing.T) {
	b := startBroker(t, "")
	b.createTopic(t, "live", 2)
	live := b.lookup("live").parts
	kept := b.partState(live[0])
	for range 1000 {
		b.partState(new(seglog.Log)) // a partition of a deleted topic
	}
	n := 0
	b.idem.parts.Range(func(_, _ any) bool { n++; return true })
	if n > 20 {
		t.Fatalf("%d partition states kept after 1000 partitions came and went", n)
	}
	if b.partState(live[0]) != kept {
		t.Fatal("a live partition's state was swept")
	}
}
