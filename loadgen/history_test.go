package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"gale/broker/kafka"
	"gale/linearizability"
)

// historyWorkload is a short open-loop run over four partitions with two
// producers and two consumers sharing one group, so the history has
// concurrent producers per partition and group assignments.
func historyWorkload() Workload {
	return Workload{
		Name: "history", MessageSize: 64, PartitionsPerTopic: 4, ProducersPerTopic: 2,
		ConsumerPerSubscription: 2, Rate: 4000, Duration: 2 * time.Second,
		Batch: Batching{MaxMessages: 20, Linger: time.Millisecond},
	}
}

// runHistory runs w against the embedded broker with bugs and returns the
// results and the checked history.
func runHistory(t *testing.T, w Workload, bugs kafka.Bugs, expect linearizability.Guarantee) (*Results, []linearizability.Op, *linearizability.Result) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "history.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := Run(testContext(t), Config{
		Target: Target{Kind: "embedded"}, Workload: w, Seed: 1, History: f,
		DrainTimeout: 3 * time.Second, bugs: bugs,
	})
	if err != nil {
		t.Fatal(err)
	}
	ops, err := linearizability.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cr, err := linearizability.Check(ops, linearizability.Options{Expect: expect, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return res, ops, cr
}

func countOps(ops []linearizability.Op) (produced, read int, clients map[int]bool) {
	clients = map[int]bool{}
	for _, op := range ops {
		clients[op.Client] = true
		switch {
		case op.Kind == linearizability.Produce && op.Status == linearizability.StatusOK:
			produced += len(op.Values)
		case op.Kind == linearizability.Fetch && op.Status == linearizability.StatusOK:
			read += len(op.Values)
		}
	}
	return produced, read, clients
}

// A correct broker's history, as the loadgen records it, upholds
// exactly-once: every acked record read once, in order, nothing else.
func TestHistoryEmbeddedExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the embedded broker")
	}
	res, ops, cr := runHistory(t, historyWorkload(), kafka.Bugs{}, linearizability.ExactlyOnce)
	s := res.Summary
	produced, read, clients := countOps(ops)
	t.Logf("published %d consumed %d; history: %d ops, %d clients, %d values acked, %d read; verdict %s",
		s.Published, s.Consumed, len(ops), len(clients), produced, read, cr.Verdict)
	if s.Errors != 0 || s.Published == 0 || s.Consumed != s.Published {
		t.Fatalf("run: published %d consumed %d errors %d", s.Published, s.Consumed, s.Errors)
	}
	if int64(produced) != s.Published || int64(read) != s.Consumed {
		t.Errorf("history holds %d acked and %d read values, the run counted %d and %d", produced, read, s.Published, s.Consumed)
	}
	if len(cr.Partitions) != 4 {
		t.Errorf("history covers %d partitions, want 4", len(cr.Partitions))
	}
	if cr.Verdict != linearizability.Valid || len(cr.Anomalies) != 0 {
		var b bytes.Buffer
		cr.WriteText(&b)
		t.Fatalf("verdict %s under exactly-once:\n%s", cr.Verdict, b.String())
	}
	// The reference broker is linearizable too; the search may run out of
	// time on a slow machine (undecided), but must find no violation.
	lr, err := linearizability.Check(ops, linearizability.Options{Timeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("linearizable: verdict %s", lr.Verdict)
	if lr.Verdict == linearizability.Violation {
		var b bytes.Buffer
		lr.WriteText(&b)
		t.Fatalf("not linearizable:\n%s", b.String())
	}
}

// Negative controls: the same run against a broker with a bug switch on is
// a violation naming the bug's anomaly.
func TestHistoryEmbeddedBugsCaught(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the embedded broker")
	}
	for _, tc := range []struct {
		name string
		bugs kafka.Bugs
		want linearizability.AnomalyKind
	}{
		{"duplicate-batch", kafka.Bugs{DuplicateBatch: 10}, linearizability.Duplicate},
		// Every read that lags two batches or more: consumers that keep
		// up rarely do, so every tenth of them left some runs unskipped.
		{"skip-fetch", kafka.Bugs{SkipFetch: 1}, linearizability.Skip},
		{"ack-then-fail", kafka.Bugs{AckThenFail: 10}, linearizability.AbortedRead},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := historyWorkload()
			w.Duration = time.Second
			if tc.bugs.SkipFetch > 0 {
				w.Duration = 2 * time.Second // more lagging reads
			}
			_, ops, cr := runHistory(t, w, tc.bugs, linearizability.ExactlyOnce)
			found := 0
			for _, a := range cr.Anomalies {
				if a.Kind == tc.want && a.Violation {
					found++
				}
			}
			t.Logf("%d ops: verdict %s, %d anomalies, %d %s", len(ops), cr.Verdict, len(cr.Anomalies), found, tc.want)
			if cr.Verdict != linearizability.Violation || found == 0 {
				var b bytes.Buffer
				cr.WriteText(&b)
				t.Fatalf("with %s: verdict %s, want a violation with %s:\n%s", tc.bugs, cr.Verdict, tc.want, b.String())
			}
		})
	}
}

// A target that cannot record a history is refused before the run, and
// so is the raw producer.
func TestHistoryTargets(t *testing.T) {
	var b bytes.Buffer
	for _, url := range []string{"amqp://guest:guest@127.0.0.1:1/", "nats://127.0.0.1:1", "null"} {
		tgt, err := ParseTarget(url)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Run(testContext(t), Config{Target: tgt, Workload: Workload{Duration: time.Second}, History: &b})
		if !errors.Is(err, errHistoryTarget) {
			t.Errorf("%s: err %v, want %v", tgt, err, errHistoryTarget)
		}
	}
	if testing.Short() {
		return
	}
	_, err := Run(testContext(t), Config{Target: Target{Kind: "embedded"}, Workload: Workload{Duration: time.Second, Producer: "raw"}, History: &b})
	if err == nil {
		t.Error("the raw producer recorded a history")
	}
}

// Values are "<client>-<seq>" and fetches split where offsets jump.
func TestRecordFetchSplitsGaps(t *testing.T) {
	var b bytes.Buffer
	h := newHistory(linearizability.NewRecorder(&b))
	if got := string(appendID(nil, 7, 42)); got != "7-42" {
		t.Errorf("appendID = %q", got)
	}
	recs := recordsAt(3, 4, 5, 9, 10)
	h.recordFetch(1, "t", 0, recs, 100, 200)
	if err := h.rec.Flush(); err != nil {
		t.Fatal(err)
	}
	ops, err := linearizability.ReadHistory(&b)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) != 2 || ops[0].Offset != 3 || len(ops[0].Values) != 3 || ops[1].Offset != 9 || len(ops[1].Values) != 2 ||
		ops[0].Values[0] != "v3" || ops[1].Values[1] != "v10" || ops[1].Call <= ops[0].Call || ops[1].Return != 200 {
		t.Fatalf("ops %+v", ops)
	}
	cr, err := linearizability.Check(ops, linearizability.Options{Expect: linearizability.AtLeastOnce})
	if err != nil {
		t.Fatal(err)
	}
	if len(cr.Anomalies) == 0 || cr.Anomalies[0].Kind != linearizability.Skip {
		t.Errorf("anomalies %v, want a skip", cr.Anomalies)
	}
}

func recordsAt(offsets ...int64) []*kgo.Record {
	var recs []*kgo.Record
	for _, o := range offsets {
		id := "v" + strconv.FormatInt(o, 10)
		recs = append(recs, &kgo.Record{Offset: o, Headers: []kgo.RecordHeader{{Key: idHeader, Value: []byte(id)}}})
	}
	return recs
}

// Only an error code that rejects the request is a fail; anything that
// may have left the record written is unknown.
func TestProduceStatus(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want linearizability.Status
	}{
		{nil, linearizability.StatusOK},
		{kerr.CorruptMessage, linearizability.StatusFail},
		{fmt.Errorf("wrapped: %w", kerr.MessageTooLarge), linearizability.StatusFail},
		{kerr.RequestTimedOut, linearizability.StatusUnknown},
		{kerr.NotLeaderForPartition, linearizability.StatusUnknown},
		{kgo.ErrRecordTimeout, linearizability.StatusUnknown},
		{kgo.ErrRecordRetries, linearizability.StatusUnknown},
		{kgo.ErrClientClosed, linearizability.StatusUnknown},
		{context.DeadlineExceeded, linearizability.StatusUnknown},
		{io.ErrUnexpectedEOF, linearizability.StatusUnknown},
	} {
		if got := produceStatus(tc.err, true); got != tc.want {
			t.Errorf("produceStatus(%v, idempotent) = %s, want %s", tc.err, got, tc.want)
		}
		// Without idempotence franz-go fails later batches with an
		// earlier one's error, and those may have been written.
		if got := produceStatus(tc.err, false); got == linearizability.StatusFail {
			t.Errorf("produceStatus(%v, not idempotent) = %s", tc.err, got)
		}
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(b []byte) (int, error) {
	if f.n++; f.n > 2 {
		return 0, io.ErrShortWrite
	}
	return len(b), nil
}

// The async writer writes every chunk in order and reports the first
// write error at Close.
func TestAsyncWriter(t *testing.T) {
	var b bytes.Buffer
	a := newAsyncWriter(&b)
	var want []byte
	for i := range 100 {
		chunk := bytes.Repeat([]byte{byte('a' + i%26)}, 1000+i)
		want = append(want, chunk...)
		a.Write(chunk)
		clear(chunk) // the writer must have copied it
	}
	if err := a.Close(); err != nil || !bytes.Equal(b.Bytes(), want) {
		t.Fatalf("err %v, wrote %d bytes, want %d", err, b.Len(), len(want))
	}
	a = newAsyncWriter(&failWriter{})
	for range 10 {
		a.Write([]byte("x"))
	}
	if err := a.Close(); !errors.Is(err, io.ErrShortWrite) {
		t.Errorf("Close = %v, want %v", err, io.ErrShortWrite)
	}
}
