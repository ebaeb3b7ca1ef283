package loadgen

import (
	"fmt"
	"strings"
)

// HistogramLogPath is where run i's .hlog goes beside results file out:
// results.json -> results.hlog, or results.<i>.hlog when a workload
// makes several runs (a sweep, a max-rate search).
func HistogramLogPath(out string, i int, several bool) string {
	base := strings.TrimSuffix(out, ".json")
	if several {
		return fmt.Sprintf("%s.%d.hlog", base, i)
	}
	return base + ".hlog"
}

// ProgressLine is the live line for one interval: elapsed time, publish
// and consume rates, MB/s and p99 latencies.
func ProgressLine(iv Interval) string {
	warm := ""
	if iv.Warmup {
		warm = " (warmup)"
	}
	return fmt.Sprintf("%6.1fs  pub %9.0f msg/s %7.2f MB/s p99 %9.1f us | con %9.0f msg/s %7.2f MB/s e2e p99 %9.1f us | backlog %d errors %d%s",
		iv.End, iv.PublishRate, iv.PublishMBps, iv.PublishLatency.P99,
		iv.ConsumeRate, iv.ConsumeMBps, iv.EndToEnd.P99, iv.Backlog, iv.Errors, warm)
}

// SummaryLine is a one-line summary of a run.
func SummaryLine(name string, s Summary) string {
	return fmt.Sprintf("%s: %s loop, %.1fs: published %d (%.0f msg/s, %.2f MB/s), consumed %d (%.0f msg/s), publish p50/p99/max %.1f/%.1f/%.1f us, e2e p50/p99/max %.1f/%.1f/%.1f us, errors %d, backlog %d; %s",
		name, s.Mode, s.Seconds, s.Published, s.PublishRate, s.PublishMBps, s.Consumed, s.ConsumeRate,
		s.PublishLatency.P50, s.PublishLatency.P99, s.PublishLatency.Max,
		s.EndToEnd.P50, s.EndToEnd.P99, s.EndToEnd.Max, s.Errors, s.BacklogEnd, s.Status) + batchInfo(s) + consumerInfo(s)
}

// consumerInfo summarises the consumer model's outcome and its check.
func consumerInfo(s Summary) string {
	c := s.Consumer
	if c == nil {
		return ""
	}
	check := "every consumed message ended"
	if !c.Balanced {
		check = fmt.Sprintf("%d consumed never ended", c.Unfinished)
	}
	return fmt.Sprintf("; consumer (commit %s): processed %d (%.0f msg/s), retried %d, dead-lettered %d, discarded %d, redelivered %d, crashes %d: %s",
		c.Commit, c.Processed, c.ProcessedRate, c.Retried, c.DeadLettered, c.Discarded, c.Redelivered, c.Crashes, check)
}

func batchInfo(s Summary) string {
	if s.Batches == 0 {
		return ""
	}
	return fmt.Sprintf("; %d batches (%.0f batches/s, %.1f msg/batch)", s.Batches, s.BatchRate, s.BatchMessages)
}

// CompareTable lines up runs of one workload against several targets:
// rates, end-to-end p50 and p99, and each target's publish rate and p99 as
// a ratio to the first target's.
func CompareTable(rs []*Results) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-28s %12s %12s %12s %12s %9s %9s\n", "target", "publish/s", "consume/s", "e2e p50 us", "e2e p99 us", "x rate", "x p99")
	var base *Summary
	for _, r := range rs {
		s := r.Summary
		if s == nil {
			fmt.Fprintf(&b, "%-28s (no single-run summary)\n", r.Target)
			continue
		}
		if base == nil {
			base = s
		}
		fmt.Fprintf(&b, "%-28s %12.0f %12.0f %12.1f %12.1f %9s %9s\n", r.Target, s.PublishRate, s.ConsumeRate,
			s.EndToEnd.P50, s.EndToEnd.P99, ratio(s.PublishRate, base.PublishRate), ratio(s.EndToEnd.P99, base.EndToEnd.P99))
	}
	return b.String()
}

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3g", a/b)
}

// ComparePath is where the results against the i-th of several targets
// go: results.json -> results.<i>-<kind>.json.
func ComparePath(out string, i int, t Target) string {
	return fmt.Sprintf("%s.%d-%s.json", strings.TrimSuffix(out, ".json"), i, t.Kind)
}
