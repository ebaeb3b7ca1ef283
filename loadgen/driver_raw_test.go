package loadgen

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"
	"time"

	"gale/broker/record"
)

// A stamped copy of the raw producer's template is a valid batch whose
// records carry their own send timestamps and the workload's payloads.
func TestRawTemplate(t *testing.T) {
	for _, n := range []int{1, 7, 1000} {
		w, _ := Workload{MessageSize: 100, UseRandomizedPayloads: true, RandomizedPayloadPoolSize: 3}.Validate()
		pl, err := newPayloads(w, rand.New(rand.NewPCG(1, 2)))
		if err != nil {
			t.Fatal(err)
		}
		tmpl, stamps := buildTemplate(pl, n)
		b := append([]byte(nil), tmpl...)
		sent := make([]int64, n)
		for i := range sent {
			sent[i] = time.Now().UnixNano() + int64(i)
		}
		stamp(b, stamps, sent, 1234)
		h, err := record.Validate(b)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if h.NumRecords != int32(n) || h.BaseTimestamp != 1234 || h.MaxTimestamp != 1234 {
			t.Errorf("n=%d: header %+v", n, h)
		}
		i := 0
		err = record.Records(b, func(_ int32, r record.Record) bool {
			if len(r.Headers) != 1 || r.Headers[0].Key != timestampHeader || int64(binary.BigEndian.Uint64(r.Headers[0].Value)) != sent[i] {
				t.Errorf("record %d headers %+v, want sent %d", i, r.Headers, sent[i])
			}
			if string(r.Value) != string(pl.value(int64(i))) {
				t.Errorf("record %d value differs", i)
			}
			i++
			return true
		})
		if err != nil || i != n {
			t.Fatalf("n=%d: %d records, %v", n, i, err)
		}
	}
}

// The raw producer against the embedded broker: everything it publishes
// is consumed, batch by batch, with exact batch sizes.
func TestEmbeddedRawProducer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a broker")
	}
	res, err := Run(testContext(t), Config{
		Target: Target{Kind: "embedded"},
		Workload: Workload{Name: "raw", PartitionsPerTopic: 2, MessageSize: 100, Producer: "raw",
			Batch: Batching{MaxMessages: 100}, Duration: time.Second, Messages: 50000},
	})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	t.Log(SummaryLine("raw", *s))
	if s.Published != 50000 || s.Consumed != 50000 || s.Batches != 500 || s.BatchMessages != 100 || s.Errors != 0 || s.EndToEnd.Count != 50000 {
		t.Errorf("summary %+v", s)
	}
}
