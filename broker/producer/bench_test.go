package producer

import (
	"testing"

	"gale/broker/record"
)

// steady drives the produce path for idempotent producers that
// the State already knows, each sending batches of n records in order.
type steady struct {
	st   *State
	hs   []record.Header // the next batch of each producer
	next int64           // the log's next offset
	i    int
}

func newSteady(tb testing.TB, producers, n int) *steady {
	s := &steady{st: NewState(Options{})}
	for id := range producers {
		s.hs = append(s.hs, batchOf(int64(id), 0, 0, n).header(tb))
	}
	for range producers {
		s.step(tb)
	}
	return s
}

// step produces the next batch of the next producer: Check, append, Appended.
func (s *steady) step(tb testing.TB) {
	h := &s.hs[s.i]
	s.i = (s.i + 1) % len(s.hs)
	if d, err := s.st.Check(*h); err != nil || d.Duplicate {
		tb.Fatalf("steady batch %+v: %v %+v", *h, err, d)
	}
	h.BaseOffset = s.next
	s.st.Appended(*h)
	s.next = h.NextOffset()
	h.BaseSequence = lastSequence(h.BaseSequence, h.LastOffsetDelta) + 1
}

func BenchmarkCheckAppended(b *testing.B) {
	for _, bc := range []struct {
		name      string
		producers int
	}{{"producers=1", 1}, {"producers=1000", 1000}} {
		b.Run(bc.name, func(b *testing.B) {
			s := newSteady(b, bc.producers, 10)
			b.ReportAllocs()
			for b.Loop() {
				s.step(b)
			}
		})
	}
}

func BenchmarkCheckDuplicate(b *testing.B) {
	s := newSteady(b, 1, 10)
	h := batchOf(0, 0, 0, 10).header(b)
	b.ReportAllocs()
	for b.Loop() {
		if d, _ := s.st.Check(h); !d.Duplicate {
			b.Fatal("not a duplicate")
		}
	}
}

// TestSteadyPathAllocs pins the hot paths at zero allocations: Check and
// Appended of a known producer's next batch, Check of a retry, and Check
// and Appended of a batch without a producer.
func TestSteadyPathAllocs(t *testing.T) {
	s := newSteady(t, 3, 10)
	if n := testing.AllocsPerRun(1000, func() { s.step(t) }); n != 0 {
		t.Errorf("Check+Appended of an in-sequence batch: %v allocs, want 0", n)
	}
	dup := s.hs[0] // producer 0's next batch; make it a retry of its last
	dup.BaseSequence -= 10
	if d, err := s.st.Check(dup); err != nil || !d.Duplicate {
		t.Fatalf("retry of the last batch: %v %+v", err, d)
	}
	if n := testing.AllocsPerRun(1000, func() { s.st.Check(dup) }); n != 0 {
		t.Errorf("Check of a duplicate: %v allocs, want 0", n)
	}
	p := plain(3).header(t)
	if n := testing.AllocsPerRun(1000, func() { s.st.Check(p); s.st.Appended(p) }); n != 0 {
		t.Errorf("Check+Appended without a producer: %v allocs, want 0", n)
	}
}
