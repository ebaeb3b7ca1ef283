package loadgen

import (
	"context"
	"testing"
	"time"
)

// BenchmarkHarness measures the load loop, pacing-free (closed loop), and
// recording against the null target: the harness alone. DESIGN's budget
// is 20 M msg/s; the per-message path (Message values, every message due
// at one clock read in one SendMessages call, up to 256) and the batch
// path (the raw producer's, a SendBatch per 1000) are reported apart.
func BenchmarkHarness(b *testing.B) {
	for _, tc := range []struct {
		name string
		w    Workload
	}{
		{"per-message", Workload{MessageSize: 100}},
		{"batch-1000", Workload{MessageSize: 100, Producer: "raw", Batch: Batching{MaxMessages: 1000}, MaxInFlight: 100000}},
		// open loop at 20 M msg/s: does the harness keep the schedule?
		// (publish_delay_p99_us says how late it sent)
		{"open-20M", Workload{MessageSize: 100, Rate: 20_000_000}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			w := tc.w
			w.Name, w.Duration, w.Messages = "bench", time.Hour, int64(max(b.N, 1000))
			b.ResetTimer()
			res, err := Run(context.Background(), Config{Target: Target{Kind: "null"}, Workload: w, Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(res.Summary.PublishRate, "msg/s")
			if w.Rate > 0 {
				b.ReportMetric(res.Summary.PublishDelay.P99, "publish_delay_p99_us")
			}
		})
	}
}

// BenchmarkRawEmbedded measures gale's raw batch producer against the
// embedded broker, produce only, 100 B records in batches of 1000 over 4
// partitions: DESIGN's budget is 3 M msg/s.
func BenchmarkRawEmbedded(b *testing.B) {
	zero := 0
	w := Workload{Name: "raw-embedded", MessageSize: 100, PartitionsPerTopic: 4, Producer: "raw", SubscriptionsPerTopic: &zero,
		Batch: Batching{MaxMessages: 1000}, MaxInFlight: 20000, Duration: time.Hour, Messages: int64(max(b.N, 100000))}
	b.ResetTimer()
	res, err := Run(context.Background(), Config{Target: Target{Kind: "embedded"}, Workload: w, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(res.Summary.PublishRate, "msg/s")
}
