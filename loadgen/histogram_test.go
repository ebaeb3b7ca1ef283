package loadgen

import (
	"errors"
	"sync"
	"testing"
	"time"
)

func TestPercentiles(t *testing.T) {
	if p := percentiles(nil); p != (Percentiles{}) {
		t.Errorf("nil histogram: %+v", p)
	}
	var h = newHist()
	for i := int64(1); i <= 10000; i++ {
		h.RecordValue(i * int64(time.Microsecond)) // 1 us .. 10 ms
	}
	p := percentiles(h)
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"p50", p.P50, 5000}, {"p90", p.P90, 9000}, {"p99", p.P99, 9900},
		{"p99.9", p.P999, 9990}, {"p99.99", p.P9999, 9999}, {"max", p.Max, 10000},
	} {
		if c.got < c.want*0.999 || c.got > c.want*1.001 {
			t.Errorf("%s = %v us, want %v us within 0.1%%", c.name, c.got, c.want)
		}
	}
	if p.Count != 10000 {
		t.Errorf("count %d", p.Count)
	}
}

// Values beyond the histogram's range are clamped, never dropped: a stall
// longer than an hour still counts.
func TestRecordClamps(t *testing.T) {
	var w window
	recordNs(&w.pub, -5)
	recordNs(&w.pub, int64(2*time.Hour))
	if w.pub.TotalCount() != 2 || w.pub.Max() < int64(59*time.Minute) {
		t.Errorf("count %d max %d", w.pub.TotalCount(), w.pub.Max())
	}
}

// Meters written from many goroutines and swapped by a collector lose
// nothing: the merged windows hold every count and every latency.
func TestMeterMerge(t *testing.T) {
	meters := []*meter{newMeter(), newMeter(), newMeter()}
	var total window
	var wg sync.WaitGroup
	stop := make(chan struct{})
	collected := make(chan struct{})
	go func() { // the collector
		defer close(collected)
		for {
			select {
			case <-stop:
				for _, m := range meters {
					m.swapInto(&total)
				}
				return
			default:
				for _, m := range meters {
					m.swapInto(&total)
				}
			}
		}
	}()
	for _, m := range meters {
		for range 4 {
			wg.Go(func() {
				for i := range 1000 {
					m.sent(100, int64(i))
					m.acked(100, int64(i+1)*1000, nil)
					m.received(100, 5000, true)
				}
				m.acked(100, 0, errors.New("failed"))
			})
		}
	}
	wg.Wait()
	close(stop)
	<-collected
	const n = 3 * 4 * 1000
	if total.sent != n || total.acked != n || total.recv != n || total.errs != 12 || total.ackedBytes != 100*n {
		t.Errorf("counts: %+v", total)
	}
	if total.pub.TotalCount() != n || total.delay.TotalCount() != n || total.e2e.TotalCount() != n {
		t.Errorf("histogram counts %d %d %d, want %d", total.pub.TotalCount(), total.delay.TotalCount(), total.e2e.TotalCount(), n)
	}
	if got := total.pub.Max(); !total.pub.ValuesAreEquivalent(got, 1000*1000) {
		t.Errorf("merged max %d ns, want 1 ms", got)
	}
}
