package producer

import (
	"errors"
	"fmt"
	"testing"

	"gale/broker/record"
)

// spec describes a batch to build: producer id, epoch, base sequence,
// number of records, timestamp and attributes.
type spec struct {
	id    int64
	epoch int16
	seq   int32
	n     int
	ts    int64
	attrs int16
}

// batchOf is a batch of n records from producer id at epoch, starting at
// sequence seq.
func batchOf(id int64, epoch int16, seq int32, n int) spec {
	return spec{id: id, epoch: epoch, seq: seq, n: n}
}

// plain is a batch of n records without a producer.
func plain(n int) spec { return spec{id: -1, epoch: -1, seq: -1, n: n} }

func (s spec) at(ms int64) spec      { s.ts = ms; return s }
func (s spec) with(attrs int16) spec { s.attrs = attrs; return s }
func (s spec) String() string {
	return fmt.Sprintf("pid %d epoch %d seq %d n %d", s.id, s.epoch, s.seq, s.n)
}
func (s spec) header(t testing.TB) record.Header {
	t.Helper()
	recs := make([]record.Record, s.n)
	for i := range recs {
		recs[i].Value = []byte("v")
	}
	b := record.AppendBatch(nil, record.BatchOptions{
		BaseTimestamp: s.ts,
		MaxTimestamp:  s.ts,
		ProducerID:    s.id,
		ProducerEpoch: s.epoch,
		BaseSequence:  s.seq,
		Attributes:    s.attrs,
	}, recs)
	h, err := record.ParseHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// partition is a State in front of a pretend log that only counts offsets,
// driven the way the server drives it.
type partition struct {
	st   *State
	next int64           // the log's next offset
	log  []record.Header // headers of the appended batches, offsets assigned
}

func newPartition(o Options) *partition { return &partition{st: NewState(o)} }

// produce runs h through Check and, if accepted, appends and records it.
// It returns the outcome as a string: "append 3-5", "duplicate 3-5" or the
// Kafka error name.
func (p *partition) produce(h record.Header) string {
	d, err := p.st.Check(h)
	switch {
	case err != nil:
		var pe *Error
		if !errors.As(err, &pe) {
			return "non-*Error: " + err.Error()
		}
		return pe.Kerr.Message
	case d.Duplicate:
		return fmt.Sprintf("duplicate %d-%d", d.BaseOffset, d.LastOffset)
	}
	h.BaseOffset = p.next
	p.next = h.NextOffset()
	p.st.Appended(h)
	p.log = append(p.log, h)
	return fmt.Sprintf("append %d-%d", h.BaseOffset, h.LastOffset())
}

// outcome is what Check alone says about h, as a string, without appending.
func outcome(st *State, h record.Header) string {
	d, err := st.Check(h)
	switch {
	case err != nil:
		return err.(*Error).Kerr.Message
	case d.Duplicate:
		return fmt.Sprintf("duplicate %d-%d", d.BaseOffset, d.LastOffset)
	}
	return "append"
}
