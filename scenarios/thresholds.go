package scenarios

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"gale/reports"
)

// Threshold bounds one metric of the results (reports.Metrics names it,
// e.g. "publish.p99_us" or, in a scenario of phases, "latency/e2e.p99_us").
type Threshold struct {
	Metric   string
	Min, Max *float64
	Line     int // in the scenario file
}

// baseMetrics are the metric names of one run (reports.SummaryMetrics) and
// of a max-rate search.
var baseMetrics = func() []string {
	var s reports.Summary
	for _, p := range []*reports.Percentiles{&s.PublishLatency, &s.PublishDelay, &s.EndToEnd} {
		p.Count = 1 // so every latency metric is listed
	}
	names := []string{"max_rate.msgs"}
	for k := range reports.SummaryMetrics(&s) {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}()

func (d *decoder) thresholds(n *yaml.Node) ([]Threshold, error) {
	ps, err := d.pairs(n, "thresholds", nil)
	if err != nil {
		return nil, err
	}
	var out []Threshold
	for _, p := range ps {
		k, v := p[0], p[1]
		f := "thresholds." + k.Value
		t := Threshold{Metric: k.Value, Line: k.Line}
		bs, err := d.pairs(v, f, []string{"min", "max"})
		if err != nil {
			return nil, err
		}
		for _, b := range bs {
			x, err := d.number(b[1], f+"."+b[0].Value)
			if err != nil {
				return nil, err
			}
			if b[0].Value == "min" {
				t.Min = &x
			} else {
				t.Max = &x
			}
		}
		if t.Min == nil && t.Max == nil {
			return nil, d.errorf(v, f, "give min, max or both")
		}
		if t.Min != nil && t.Max != nil && *t.Min > *t.Max {
			return nil, d.errorf(v, f, "min %g is above max %g", *t.Min, *t.Max)
		}
		out = append(out, t)
	}
	return out, nil
}

// checkMetric reports whether name can be a metric of s's results: its
// last segment a run's metric, and its prefix a phase of s (then a value
// of that phase's sweep), or a value of s's sweep.
func (s *Scenario) checkMetric(name string) error {
	parts := strings.Split(name, "/")
	base := parts[len(parts)-1]
	if !slices.Contains(baseMetrics, base) {
		return fmt.Errorf("unknown metric %q (a run's metrics: %s)", base, strings.Join(baseMetrics, ", "))
	}
	prefix := parts[:len(parts)-1]
	sweep := s.Workload.Sweep
	if len(s.Phases) > 0 {
		if len(prefix) == 0 {
			return fmt.Errorf("a scenario of phases prefixes its metrics with a phase name: %s", s.phaseNames())
		}
		var ph *Phase
		for i := range s.Phases {
			if s.Phases[i].Name == prefix[0] {
				ph = &s.Phases[i]
			}
		}
		if ph == nil {
			return fmt.Errorf("no phase %q (phases: %s)", prefix[0], s.phaseNames())
		}
		prefix, sweep = prefix[1:], ph.Workload.Sweep
	}
	switch {
	case len(prefix) == 0 && sweep != nil && base != "max_rate.msgs":
		return fmt.Errorf("%q is swept, so name one run: %s=<value>/%s", sweep.Field, sweep.Field, base)
	case len(prefix) == 0:
		return nil
	case len(prefix) > 1 || sweep == nil:
		return fmt.Errorf("%q names no run of this scenario", strings.Join(prefix, "/"))
	}
	field, value, _ := strings.Cut(prefix[0], "=")
	if field != sweep.Field || !slices.Contains(sweep.Values, value) {
		return fmt.Errorf("%q is not a run of the sweep of %s over %s", prefix[0], sweep.Field, strings.Join(sweep.Values, ", "))
	}
	return nil
}

func (s *Scenario) phaseNames() string {
	var names []string
	for _, p := range s.Phases {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
}

// evaluate evaluates ts on r. A metric the results lack does not hold.
func evaluate(ts []Threshold, r *reports.Results) (out []reports.ThresholdResult, notes []string) {
	m := reports.Metrics(r)
	for _, t := range ts {
		tr := reports.ThresholdResult{Metric: t.Metric, Min: t.Min, Max: t.Max}
		v, ok := m[t.Metric]
		switch {
		case !ok:
			notes = append(notes, fmt.Sprintf("threshold %s: the results have no such metric (no messages measured?)", t.Metric))
		default:
			tr.Value = v
			tr.Held = (t.Min == nil || v >= *t.Min) && (t.Max == nil || v <= *t.Max)
			if !tr.Held {
				notes = append(notes, fmt.Sprintf("threshold %s: %s is outside %s", t.Metric, num(v), bounds(t)))
			}
		}
		out = append(out, tr)
	}
	return out, notes
}

func bounds(t Threshold) string {
	switch {
	case t.Min != nil && t.Max != nil:
		return fmt.Sprintf("[%s, %s]", num(*t.Min), num(*t.Max))
	case t.Min != nil:
		return ">= " + num(*t.Min)
	}
	return "<= " + num(*t.Max)
}

// num prints a metric value without exponents, to a tenth: 2094006.3.
func num(v float64) string {
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}
