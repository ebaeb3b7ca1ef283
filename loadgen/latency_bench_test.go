package loadgen

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// BenchmarkEmbeddedLatency runs testdata/small.yaml (100 B, 4 partitions,
// franz-go producer and consumer, linger 2 ms) open loop against the
// embedded broker for 3 s per iteration and reports the last run's
// publish and end-to-end p50/p99/p99.9 and its publish delay p99 (µs): the
// latency figures DESIGN budgets (p99 e2e <= 5 ms at half the max rate).
// It pins the pacing finding (pacing.go, spinMax): on 2 cores a producer
// that spun its waits measured publish p99 14-27 ms at 50 k msg/s; one that
// sleeps, about 5 ms. Run it alone, on a quiet machine:
//
//	go test -run '^$' -bench EmbeddedLatency -benchtime 1x ./loadgen/
func BenchmarkEmbeddedLatency(b *testing.B) {
	for _, rate := range []int{50_000, 200_000} {
		b.Run("rate="+strconv.Itoa(rate), func(b *testing.B) {
			w, err := LoadWorkload("testdata/small.yaml")
			if err != nil {
				b.Fatal(err)
			}
			w.Rate, w.Duration, w.Warmup = rate, 3*time.Second, time.Second
			if testing.Short() {
				// make bench-smoke (-short -benchtime 100x): one short run
				// shows the benchmark works; 100 runs of 4 s would take
				// minutes and measure nothing more.
				w.Duration, w.Warmup = 300*time.Millisecond, 0
			}
			var res *Results
			for i := 0; i < b.N; i++ {
				res, err = Run(context.Background(), Config{Target: Target{Kind: "embedded"}, Workload: w, Seed: 1})
				if err != nil {
					b.Fatal(err)
				}
				if testing.Short() {
					break
				}
			}
			s := res.Summary
			if s.Errors != 0 || s.Status != "ok" {
				b.Fatalf("run %s with %d errors", s.Status, s.Errors)
			}
			for _, m := range []struct {
				v    float64
				unit string
			}{
				{s.PublishLatency.P50, "pub_p50_us"}, {s.PublishLatency.P99, "pub_p99_us"}, {s.PublishLatency.P999, "pub_p99.9_us"},
				{s.EndToEnd.P50, "e2e_p50_us"}, {s.EndToEnd.P99, "e2e_p99_us"}, {s.EndToEnd.P999, "e2e_p99.9_us"},
				{s.PublishDelay.P99, "delay_p99_us"}, {s.PublishRate, "msg/s"},
			} {
				b.ReportMetric(m.v, m.unit)
			}
		})
	}
}
