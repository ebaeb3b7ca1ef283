package loadgen

import (
	"errors"
	"io"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"gale/linearizability"
)

// History recording (Config.History, gale loadgen --history): every
// produced record carries a value unique in its topic-partition,
// "<producer client>-<seq>", in the gale-id header, and the Kafka driver
// records one operation per produced record and one per partition batch a
// consumer poll returns, in the JSON Lines format of package
// linearizability, with timestamps in nanoseconds since Run began on
// Go's monotonic clock (one clock for every client).
//
// Produce: values [id]; ok with the record's offset when acked; fail when
// the broker answered an error code that says the record was rejected
// (rejectedErr) and the producer is idempotent (acks all); unknown for
// everything else (a timeout, a lost connection, the client closed or the
// run's context ended before the ack). franz-go fails every record
// buffered for a partition with the error of the batch the broker
// rejected; an idempotent producer's later batches in flight are then
// rejected too (out of sequence), but without idempotence (acks 1 or 0)
// they may have been written, so there a rejection is unknown as well. A producer is one client: its sends overlap (the in-flight
// window), and the checker orders a client's operations by call time,
// which is the producer's send order.
//
// Fetch: offset the first record's offset, values the records' ids in
// order; a poll's records of one partition that are not consecutive are
// split into one operation per consecutive run, so a gap shows as a skip.
// A consumer's call time is taken before the poll that returned the
// records; franz-go may have fetched them earlier, which only widens a
// successful read's interval the way the checker allows (empty fetches
// are not recorded). Each partition assignment of a group member is a
// client of its own: a new id for every partition OnPartitionsAssigned
// hands the member, and rebalances wait while a poll's records are
// recorded (kgo.BlockRebalanceOnPoll), so one id always reads forward.

// idHeader names the header carrying a record's history value.
const idHeader = "gale-id"

// errHistoryTarget is Run's error for a target that cannot record one.
var errHistoryTarget = errors.New("loadgen: history is recorded for kafka and embedded targets only")

// history is one Run's recorder and clock.
type history struct {
	start   time.Time
	rec     *linearizability.Recorder
	clients atomic.Int64 // the last client id handed out
}

func newHistory(rec *linearizability.Recorder) *history {
	return &history{start: time.Now(), rec: rec}
}

// now is the history clock: nanoseconds since Run began, monotonic.
func (h *history) now() int64 { return int64(time.Since(h.start)) }

// newClient returns a fresh client id.
func (h *history) newClient() int { return int(h.clients.Add(1)) }

// historian is implemented by drivers that can record a history.
type historian interface {
	recordHistory(h *history) error
}

// appendID appends the value "<client>-<seq>" to dst.
func appendID(dst []byte, client int, seq int64) []byte {
	dst = strconv.AppendInt(dst, int64(client), 10)
	dst = append(dst, '-')
	return strconv.AppendInt(dst, seq, 10)
}

// rejectedErr reports whether a produce error says the broker definitely
// did not write the record: an error code that rejects the request's
// content. Everything else (timeouts, retries exhausted, connections lost,
// the client closed, a cancelled context) leaves the outcome unknown.
func rejectedErr(err error) bool {
	var ke *kerr.Error
	if !errors.As(err, &ke) {
		return false
	}
	switch ke {
	case kerr.CorruptMessage, kerr.MessageTooLarge, kerr.InvalidRecord, kerr.UnknownTopicOrPartition,
		kerr.InvalidRequiredAcks, kerr.UnsupportedVersion, kerr.RecordListTooLarge, kerr.InvalidTopicException:
		return true
	}
	return false
}

// produceStatus turns a produce outcome into a history status; idempotent
// says whether the producer is (see the file comment).
func produceStatus(err error, idempotent bool) linearizability.Status {
	switch {
	case err == nil:
		return linearizability.StatusOK
	case idempotent && rejectedErr(err):
		return linearizability.StatusFail
	}
	return linearizability.StatusUnknown
}

// recordID returns r's history value: its gale-id header, or, for a
// record without one (not sent by a recording loadgen), a value naming
// its offset, unique in the partition.
func recordID(r *kgo.Record) string {
	for _, h := range r.Headers {
		if h.Key == idHeader {
			return string(h.Value)
		}
	}
	return "no-id@" + strconv.FormatInt(r.Offset, 10)
}

// recordFetch records the records one poll returned for one partition,
// read by client between call and ret: one fetch operation per run of
// consecutive offsets. A later run's call is a nanosecond after the
// previous one's, so the client's operations keep their order.
func (h *history) recordFetch(client int, topic string, partition int32, recs []*kgo.Record, call, ret int64) {
	for len(recs) > 0 {
		n := 1
		for n < len(recs) && recs[n].Offset == recs[n-1].Offset+1 {
			n++
		}
		values := make([]string, n)
		for i, r := range recs[:n] {
			values[i] = recordID(r)
		}
		h.rec.Record(linearizability.Op{
			Client: client, Kind: linearizability.Fetch, Topic: topic, Partition: partition,
			Offset: recs[0].Offset, Values: values, Status: linearizability.StatusOK,
			Call: call, Return: ret,
		})
		recs = recs[n:]
		call = min(call+1, ret)
	}
}

// asyncWriter takes the history's write calls off the recording clients'
// goroutines: Write copies the chunk (the Recorder's buffer, 256 KiB) to a
// goroutine that writes it to w, at most asyncChunks chunks behind.
type asyncWriter struct {
	ch   chan []byte
	done chan struct{}
	err  error // set by the writing goroutine; read after done
	free chan []byte
}

const asyncChunks = 8

func newAsyncWriter(w io.Writer) *asyncWriter {
	a := &asyncWriter{ch: make(chan []byte, asyncChunks), done: make(chan struct{}), free: make(chan []byte, asyncChunks+1)}
	go func() {
		defer close(a.done)
		for b := range a.ch {
			if a.err == nil {
				_, a.err = w.Write(b)
			}
			select {
			case a.free <- b[:0]:
			default:
			}
		}
	}()
	return a
}

// Write queues a copy of b. Errors show at Close.
func (a *asyncWriter) Write(b []byte) (int, error) {
	var c []byte
	select {
	case c = <-a.free:
	default:
	}
	a.ch <- append(c, b...)
	return len(b), nil
}

// Close waits until every queued chunk is written and returns the first
// write error.
func (a *asyncWriter) Close() error {
	close(a.ch)
	<-a.done
	return a.err
}
