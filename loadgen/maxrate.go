package loadgen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// findMaxRate runs the search of w.FindMaxRate. Each probe is a run of
// its own (a fresh driver, fresh topics); the results keep the last probe
// that held as the run.
func findMaxRate(ctx context.Context, cfg Config, w Workload, rng *rand.Rand, res *Results) error {
	f := w.FindMaxRate
	mr := &MaxRateResult{Criterion: fmt.Sprintf("publish rate >= 95%% of the target, backlog at the end <= 0.5 s of messages, no errors, p99 <= %v", f.P99)}
	res.MaxRate = mr
	probe := func(rate int) (RunResult, RateProbe, error) {
		pw := w
		pw.FindMaxRate, pw.Rate, pw.ProducerRate, pw.Duration = nil, rate, rate, f.Probe
		pw.Name = fmt.Sprintf("%s/rate=%d", w.Name, rate)
		r, err := runOne(ctx, cfg, pw, len(mr.Probes), rng)
		if err != nil {
			return r, RateProbe{}, err
		}
		p := judge(r.Summary, rate, f.P99)
		mr.Probes = append(mr.Probes, p)
		if cfg.Logf != nil {
			cfg.Logf("max rate: probe %d at %s: %.0f msg/s published, p99 %.0f us, backlog %d: %s",
				len(mr.Probes), rateName(rate), p.Achieved, p.P99, p.Backlog, p.Reason)
		}
		return r, p, nil
	}
	_, top, err := probe(0)
	if err != nil {
		return err
	}
	hi := int(top.Achieved * 1.05) // the closed-loop rate, a little over: a bound that fails
	lo := 0
	var best RunResult
	rate := int(top.Achieved * 0.9)
	for len(mr.Probes) < f.MaxProbes && ctx.Err() == nil && rate > lo && rate < hi {
		r, p, err := probe(rate)
		if err != nil {
			return err
		}
		if p.Held {
			lo, best = rate, r
		} else {
			hi = rate
		}
		if float64(hi-lo) <= f.Precision*float64(hi) {
			break
		}
		rate = lo + (hi-lo)/2
	}
	mr.Rate = lo
	switch {
	case lo == 0:
		mr.Decision = fmt.Sprintf("no probed rate held; the lowest failing was %d msg/s", hi)
	case float64(hi-lo) <= f.Precision*float64(hi):
		mr.Decision = fmt.Sprintf("%d msg/s held and %d msg/s did not: within %.0f%%, so the max sustainable rate is %d msg/s", lo, hi, 100*f.Precision, lo)
	default:
		mr.Decision = fmt.Sprintf("stopped after %d probes between %d (held) and %d msg/s (failed or the closed-loop bound); reporting %d msg/s", len(mr.Probes), lo, hi, lo)
	}
	if cfg.Logf != nil {
		cfg.Logf("max rate: %s", mr.Decision)
	}
	if lo > 0 {
		res.Intervals, res.Summary = best.Intervals, &best.Summary
	}
	return nil
}

// judge decides whether a probe at rate held (rate 0: the closed-loop
// probe, which only measures).
func judge(s Summary, rate int, limit time.Duration) RateProbe {
	p99 := s.EndToEnd.P99
	if s.EndToEnd.Count == 0 {
		p99 = s.PublishLatency.P99
	}
	p := RateProbe{Rate: rate, Achieved: s.PublishRate, P99: p99, Backlog: s.BacklogEnd, Errors: s.Errors}
	limitUs := float64(limit / time.Microsecond)
	switch {
	case rate == 0:
		p.Reason = "closed loop: bounds the search from above"
	case s.Status == "interrupted":
		p.Reason = "interrupted"
	case s.Errors > 0:
		p.Reason = fmt.Sprintf("%d errors", s.Errors)
	case s.PublishRate < 0.95*float64(rate):
		p.Reason = fmt.Sprintf("published %.0f msg/s, under 95%% of %d", s.PublishRate, rate)
	case float64(s.BacklogMax) > 0.5*float64(rate) && float64(s.BacklogEnd) > 0.5*float64(rate):
		p.Reason = fmt.Sprintf("backlog %d at the end, over 0.5 s of messages", s.BacklogEnd)
	case p99 > limitUs:
		p.Reason = fmt.Sprintf("p99 %.0f us over %.0f us", p99, limitUs)
	default:
		p.Held, p.Reason = true, fmt.Sprintf("held: p99 %.0f us", p99)
	}
	return p
}

func rateName(rate int) string {
	if rate == 0 {
		return "max (closed loop)"
	}
	return fmt.Sprintf("%d msg/s", rate)
}
