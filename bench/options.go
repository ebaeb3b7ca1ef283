package bench

import (
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"
)

// Options configure Compare. The zero value means every default.
type Options struct {
	// Tolerance is how far, as a fraction of the baseline median, the
	// current median may move in the worse direction before it counts as
	// a regression. Default 0.10 (10%); 0 means the default.
	Tolerance float64
	// Alpha is the significance level of the Mann-Whitney U test: a
	// difference counts when p < Alpha. Default 0.05; 0 means the default.
	Alpha float64
	// Metrics selects the metrics to compare, as names or path.Match
	// patterns (see Selects). Default DefaultMetrics.
	Metrics []string
	// MinRuns is how many runs each side needs before the U test is used;
	// with fewer, the tolerance alone decides. Default 5; 0 means the
	// default. (Two-sided, 3 runs against 3 can never reach p < 0.05:
	// the smallest exact p is 0.1; 4 against 4 reaches 0.029 only when
	// the samples do not overlap at all.)
	MinRuns int
	// CurrentNames optionally names the current runs (file paths), in
	// the order given to Compare, for the verdict's messages. Default
	// "current run N".
	CurrentNames []string
}

// DefaultMetrics are the metrics compared when Options.Metrics is empty:
// throughput and the latency percentiles that matter, of every run in a
// file (a file's one run, each run of a sweep, each phase).
var DefaultMetrics = []string{
	"publish.rate_msgs",
	"consume.rate_msgs",
	"publish.p99_us",
	"e2e.p50_us",
	"e2e.p99_us",
	"e2e.p99.9_us",
}

// withDefaults returns a copy of o with defaults filled in, or an error
// naming the bad field.
func (o Options) withDefaults() (Options, error) {
	if o.Tolerance == 0 {
		o.Tolerance = 0.10
	}
	if o.Alpha == 0 {
		o.Alpha = 0.05
	}
	if o.MinRuns == 0 {
		o.MinRuns = 5
	}
	if len(o.Metrics) == 0 {
		o.Metrics = DefaultMetrics
	}
	switch {
	case o.Tolerance < 0 || math.IsNaN(o.Tolerance) || math.IsInf(o.Tolerance, 0):
		return o, fmt.Errorf("bench: tolerance %v: must be a positive fraction", o.Tolerance)
	case !(o.Alpha > 0 && o.Alpha < 1):
		return o, fmt.Errorf("bench: alpha %v: must be between 0 and 1", o.Alpha)
	case o.MinRuns < 2:
		return o, fmt.Errorf("bench: MinRuns %d: the U test needs at least 2 runs a side", o.MinRuns)
	}
	for _, p := range o.Metrics {
		if _, err := path.Match(p, ""); err != nil {
			return o, fmt.Errorf("bench: metric pattern %q: %v", p, err)
		}
	}
	return o, nil
}

// Selects reports whether pattern selects the metric name. A pattern is a
// path.Match pattern ('*', '?', '[...]'). A pattern without a slash is
// matched against the name with and without its run prefix, so
// "e2e.p99_us" selects "e2e.p99_us", "latency/e2e.p99_us" and
// "batch.maxMessages=100/e2e.p99_us"; a pattern with a slash is matched
// against the whole name ("latency/*", "*/publish.rate_msgs").
func Selects(pattern, name string) bool {
	if ok, _ := path.Match(pattern, name); ok {
		return true
	}
	if strings.Contains(pattern, "/") {
		return false
	}
	base := name[strings.LastIndex(name, "/")+1:]
	ok, _ := path.Match(pattern, base)
	return ok
}

// ParseTolerance parses a tolerance given as a percentage, with or without
// the sign: "10%" and "10" are both 0.10. It must be positive.
func ParseTolerance(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "%")), 64)
	if err != nil || !(v > 0) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("bench: tolerance %q: want a positive percentage such as 10%%", s)
	}
	return v / 100, nil
}
