package bench

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"

	"gale/reports"
)

// ErrNoMetrics is returned by Compare when no selected metric is present
// on both sides.
var ErrNoMetrics = errors.New("bench: no metric in common")

// Outcome is the gate's overall decision.
type Outcome string

const (
	// Pass: no metric regressed and no guarantee was violated.
	Pass Outcome = "pass"
	// Regression: at least one metric regressed.
	Regression Outcome = "regression"
	// Violation: a current run violated a guarantee; it outranks
	// Regression whatever the metrics say.
	Violation Outcome = "violation"
)

// Judgement is one metric's verdict.
type Judgement string

const (
	// Same: the medians are within the tolerance.
	Same Judgement = "ok"
	// Worse: a regression (beyond the tolerance in the worse direction,
	// and significant when the U test applies).
	Worse Judgement = "REGRESSION"
	// Better: an improvement, by the same rule; never fails the gate.
	Better Judgement = "improved"
	// Noise: the median moved beyond the tolerance but the U test did not
	// find the difference significant.
	Noise Judgement = "noise"
)

// Row compares one metric.
type Row struct {
	Metric         string
	HigherIsBetter bool
	// Baseline and Current are the metric's values in each side's runs
	// that have it, in run order.
	Baseline, Current []float64
	// BaselineMedian and CurrentMedian are their medians.
	BaselineMedian, CurrentMedian float64
	// Change is (CurrentMedian - BaselineMedian) / |BaselineMedian|: +0.3
	// is 30% up. ±Inf when the baseline median is 0 and the current one
	// is not.
	Change float64
	// Tested is true when both sides had Options.MinRuns runs or more and
	// the U test was run; then Test holds it.
	Tested bool
	Test   UTest
	// Judgement is the row's verdict.
	Judgement Judgement
}

// Verdict is Compare's answer.
type Verdict struct {
	Outcome Outcome
	// Rows has one row per compared metric, sorted by name.
	Rows []Row
	// Violations are the guarantee violations found in the current runs.
	Violations []Found
	// Notes explain what was left out or assumed, one line each.
	Notes []string
	// BaselineRuns and CurrentRuns count the results compared.
	BaselineRuns, CurrentRuns int
	// Options are the options used, with defaults filled in.
	Options Options
}

// Regressions returns the rows judged Worse.
func (v *Verdict) Regressions() []Row {
	var out []Row
	for _, r := range v.Rows {
		if r.Judgement == Worse {
			out = append(out, r)
		}
	}
	return out
}

// Compare judges the current runs against the baseline runs (each a set of
// repeated runs of the same workload or scenario). For each selected metric
// present on both sides it compares the medians: a change in the worse
// direction (reports.HigherIsBetter) by more than the tolerance is a
// regression, except that when both sides have Options.MinRuns runs or
// more, the change must also be significant under a two-sided
// Mann-Whitney U test (p < Alpha). Improvements are reported and never
// fail. Independently, a guarantee violated in any current run makes the
// outcome Violation. Compare returns ErrNoMetrics (wrapped) when no
// selected metric is on both sides, and an error for bad options or an
// empty side. It does not modify its arguments.
func Compare(baseline, current []*reports.Results, opts Options) (*Verdict, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if len(baseline) == 0 || len(current) == 0 {
		return nil, errors.New("bench: need at least one baseline and one current run")
	}
	v := &Verdict{Outcome: Pass, BaselineRuns: len(baseline), CurrentRuns: len(current), Options: o}
	for i, r := range current {
		v.Violations = append(v.Violations, violations(r, o.runName(i))...)
		v.Notes = append(v.Notes, currentNotes(r, o.runName(i))...)
	}
	v.Notes = append(v.Notes, baselineNotes(baseline)...)
	v.Notes = append(v.Notes, environmentNotes(baseline, current)...)

	base, cur := samples(baseline), samples(current)
	names := selected(o.Metrics, len(opts.Metrics) > 0, base, cur, &v.Notes)
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: the baseline and current runs share none of %v", ErrNoMetrics, o.Metrics)
	}
	for _, name := range names {
		row, err := compareMetric(name, base[name], cur[name], o)
		if err != nil {
			return nil, err
		}
		v.Rows = append(v.Rows, row)
	}
	if len(baseline) < o.MinRuns || len(current) < o.MinRuns {
		v.Notes = append(v.Notes, fmt.Sprintf("n<%d: tolerance only (%d baseline, %d current runs; the U test needs %d a side)",
			o.MinRuns, len(baseline), len(current), o.MinRuns))
	}
	switch {
	case len(v.Violations) > 0:
		v.Outcome = Violation
	case len(v.Regressions()) > 0:
		v.Outcome = Regression
	}
	return v, nil
}

func (o Options) runName(i int) string {
	if i < len(o.CurrentNames) && o.CurrentNames[i] != "" {
		return o.CurrentNames[i]
	}
	return fmt.Sprintf("current run %d", i+1)
}

// samples gathers each metric's values over runs, in run order.
func samples(runs []*reports.Results) map[string][]float64 {
	out := map[string][]float64{}
	for _, r := range runs {
		for name, val := range reports.Metrics(r) {
			out[name] = append(out[name], val)
		}
	}
	return out
}

// selected returns the sorted names that a pattern selects and both sides
// have, noting selected names on one side only and, when the patterns are
// the caller's, patterns that select nothing on both sides.
func selected(patterns []string, explicit bool, base, cur map[string][]float64, notes *[]string) []string {
	var names []string
	for name := range base {
		if _, ok := cur[name]; ok && slices.ContainsFunc(patterns, func(p string) bool { return Selects(p, name) }) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, p := range patterns {
		if explicit && !slices.ContainsFunc(names, func(n string) bool { return Selects(p, n) }) {
			*notes = append(*notes, fmt.Sprintf("%q: no such metric on both sides", p))
		}
	}
	for _, side := range []struct {
		name string
		m    map[string][]float64
	}{{"baseline", base}, {"current", cur}} {
		for _, n := range slices.Sorted(maps.Keys(side.m)) {
			_, inBase := base[n]
			_, inCur := cur[n]
			if !(inBase && inCur) && slices.ContainsFunc(patterns, func(p string) bool { return Selects(p, n) }) {
				*notes = append(*notes, fmt.Sprintf("%s: only in the %s runs, not compared", n, side.name))
			}
		}
	}
	return names
}

func compareMetric(name string, base, cur []float64, o Options) (Row, error) {
	r := Row{
		Metric: name, HigherIsBetter: reports.HigherIsBetter(name),
		Baseline: base, Current: cur,
		BaselineMedian: median(base), CurrentMedian: median(cur),
		Judgement: Same,
	}
	r.Change = change(r.BaselineMedian, r.CurrentMedian)
	moved := math.Abs(r.Change) > o.Tolerance
	worse := (r.Change < 0) == r.HigherIsBetter
	if len(base) >= o.MinRuns && len(cur) >= o.MinRuns {
		t, err := MannWhitney(base, cur)
		if err != nil {
			return r, fmt.Errorf("bench: %s: %w", name, err)
		}
		r.Tested, r.Test = true, t
		if moved && t.P >= o.Alpha {
			r.Judgement = Noise
			return r, nil
		}
	}
	switch {
	case !moved:
	case worse:
		r.Judgement = Worse
	default:
		r.Judgement = Better
	}
	return r, nil
}

// change is the relative change from b to c.
func change(b, c float64) float64 {
	switch {
	case b == c:
		return 0
	case b == 0:
		return math.Inf(int(math.Copysign(1, c)))
	}
	return (c - b) / math.Abs(b)
}

// median returns the median of xs (the mean of the middle two for an even
// count); xs is not modified.
func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
