package reports

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Metric names, shared by scenario thresholds (gale run) and the gate (gale
// gate). A run's metrics are
//
//	publish.rate_msgs  publish.rate_mb  consume.rate_msgs  consume.rate_mb
//	published  consumed  errors  backlog.max  backlog.end  batches.rate
//	publish.<q>_us  publish_delay.<q>_us  e2e.<q>_us
//
// plus, when the workload has a consumer processing model,
//
//	consumer.processed  consumer.processed_rate  consumer.retried
//	consumer.dead_lettered  consumer.redelivered  consumer.unfinished
//
// where <q> is one of p50 p75 p90 p95 p99 p99.9 p99.99 max mean; a file
// with a max-rate search adds max_rate.msgs. A run other than a file's one
// run prefixes its path (Run.Path) and a slash:
// "batch.maxMessages=100/publish.rate_msgs", "latency/e2e.p99_us".
//
// Rates are msg/s or MB/s, latencies microseconds. HigherIsBetter tells
// which way a metric improves.

// quantiles are the latency summary's names, in order.
var quantiles = []string{"p50", "p75", "p90", "p95", "p99", "p99.9", "p99.99", "max", "mean"}

// SummaryMetrics returns one summary's metrics, unprefixed.
func SummaryMetrics(s *Summary) map[string]float64 {
	m := map[string]float64{
		"publish.rate_msgs": s.PublishRate,
		"publish.rate_mb":   s.PublishMBps,
		"consume.rate_msgs": s.ConsumeRate,
		"consume.rate_mb":   s.ConsumeMBps,
		"published":         float64(s.Published),
		"consumed":          float64(s.Consumed),
		"errors":            float64(s.Errors),
		"backlog.max":       float64(s.BacklogMax),
		"backlog.end":       float64(s.BacklogEnd),
		"data_loss":         float64(s.DataLoss),
		"batches.rate":      s.BatchRate,
	}
	if c := s.Consumer; c != nil {
		m["consumer.processed"] = float64(c.Processed)
		m["consumer.processed_rate"] = c.ProcessedRate
		m["consumer.retried"] = float64(c.Retried)
		m["consumer.dead_lettered"] = float64(c.DeadLettered)
		m["consumer.redelivered"] = float64(c.Redelivered)
		m["consumer.unfinished"] = float64(c.Unfinished)
	}
	for _, l := range []struct {
		name string
		p    *Percentiles
	}{{"publish", &s.PublishLatency}, {"publish_delay", &s.PublishDelay}, {"e2e", &s.EndToEnd}} {
		if l.p.Count == 0 {
			continue
		}
		vals := []float64{l.p.P50, l.p.P75, l.p.P90, l.p.P95, l.p.P99, l.p.P999, l.p.P9999, l.p.Max, l.p.Mean}
		for i, q := range quantiles {
			m[l.name+"."+q+"_us"] = vals[i]
		}
	}
	return m
}

// Metrics returns every metric of every run in r, named as described
// above.
func Metrics(r *Results) map[string]float64 {
	out := map[string]float64{}
	for _, run := range r.Runs() {
		prefix := ""
		if run.Path != "" {
			prefix = run.Path + "/"
		}
		for k, v := range SummaryMetrics(run.Summary) {
			out[prefix+k] = v
		}
	}
	var walk func(r *Results, prefix string)
	walk = func(r *Results, prefix string) {
		if r.MaxRate != nil {
			out[prefix+"max_rate.msgs"] = float64(r.MaxRate.Rate)
		}
		for i := range r.Phases {
			name := r.Phases[i].Phase
			if name == "" {
				name = fmt.Sprintf("phase%d", i+1)
			}
			walk(&r.Phases[i], prefix+name+"/")
		}
	}
	walk(r, "")
	return out
}

// Metric returns one metric of r, or an error listing what r has.
func Metric(r *Results, name string) (float64, error) {
	m := Metrics(r)
	if v, ok := m[name]; ok {
		return v, nil
	}
	return 0, fmt.Errorf("reports: no metric %q in these results (it has %s)", name, strings.Join(slices.Sorted(maps.Keys(m)), ", "))
}

// HigherIsBetter reports whether a larger value of metric name (prefixed
// or not) is an improvement: rates and counts of work done; not latencies,
// errors, backlog, or a consumer's retries, redeliveries, dead letters and
// unfinished messages.
func HigherIsBetter(name string) bool {
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	switch {
	case strings.HasSuffix(name, "_us"), name == "errors", name == "data_loss", strings.HasPrefix(name, "backlog."):
		return false
	case name == "consumer.unfinished", name == "consumer.redelivered", name == "consumer.retried", name == "consumer.dead_lettered":
		return false
	}
	return true
}
