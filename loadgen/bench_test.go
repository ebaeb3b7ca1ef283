package loadgen

import (
	"context"
	"testing"
	"time"
)

// BenchmarkHarness measures the load loop, pacing-free (closed loop), and
// recording against the null target: the harness alone. DESIGN's budget
// is 20 M msg/s; the per-message path (a Send per message) and the batch
// path (the raw producer's, a SendBatch per 1000) are reported apart.
func BenchmarkHarness(b *testing.B) {
	for _, tc := range []struct {
		name string
		w    Workload
	}{
		{"per-message", Workload{MessageSize: 100}},
		{"batch-1000", Workload{MessageSize: 100, Producer: "raw", Batch: Batching{MaxMessages: 1000}, MaxInFlight: 100000}},
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
		})
	}
}
