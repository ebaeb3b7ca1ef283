package scenarios

import (
	"fmt"
	"strings"

	"gale/reports"
)

// Summary is a one-screen text summary of a scenario's results: a line per
// measured run, the faults, the checks, the thresholds and the verdict.
func Summary(r *reports.Results) string {
	var b strings.Builder
	if sc := r.Scenario; sc != nil {
		fmt.Fprintf(&b, "scenario %s on %s, seed %d\n", sc.Name, r.Target, sc.Seed)
	}
	for _, run := range r.Runs() {
		s := run.Summary
		name := run.Path
		if name == "" {
			name = "run"
		}
		fmt.Fprintf(&b, "  %-28s pub %9.0f msg/s %7.2f MB/s  p50/p99 %8.0f/%8.0f us | con %9.0f msg/s  e2e p99 %8.0f us | errors %d  %s\n",
			name, s.PublishRate, s.PublishMBps, s.PublishLatency.P50, s.PublishLatency.P99,
			s.ConsumeRate, s.EndToEnd.P99, s.Errors, s.Status)
	}
	each := func(f func(prefix string, r *reports.Results)) {
		f("", r)
		for i := range r.Phases {
			f(r.Phases[i].Phase+": ", &r.Phases[i])
		}
	}
	each(func(prefix string, r *reports.Results) {
		for _, w := range r.Faults {
			fmt.Fprintf(&b, "  %sfault %s: %.1fs-%.1fs%s\n", prefix, w.Fault, w.Start, w.End, errSuffix(w.Error))
		}
	})
	each(func(prefix string, r *reports.Results) {
		if c := r.Check; c != nil {
			fmt.Fprintf(&b, "  %scheck %s over %d operations: %s%s\n", prefix, c.Expect, c.Operations, c.Verdict, anomalyList(c))
		}
	})
	if sc := r.Scenario; sc != nil {
		for _, t := range sc.Thresholds {
			held := "held"
			if !t.Held {
				held = "BREACHED"
			}
			fmt.Fprintf(&b, "  threshold %s %s: %s %s\n", t.Metric, bounds(Threshold{Min: t.Min, Max: t.Max}), num(t.Value), held)
		}
		for _, n := range sc.Notes {
			fmt.Fprintf(&b, "  note: %s\n", n)
		}
		fmt.Fprintf(&b, "verdict: %s (exit %d)\n", strings.ToUpper(sc.Verdict), sc.ExitCode)
	}
	return b.String()
}

func errSuffix(e string) string {
	if e == "" {
		return ""
	}
	return " (error: " + e + ")"
}
