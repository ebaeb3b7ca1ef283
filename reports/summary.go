package reports

import (
	"fmt"
	"io"
	"strings"
)

// maxSummaryLines bounds WriteSummary's output: one screen.
const maxSummaryLines = 25

// WriteSummary writes a one-screen text summary of inputs (at most 25
// lines): per input its verdict, its key figures (a sweep's peak, each
// run's rate and latency percentiles), its faults and its checks. Runs
// that do not fit are counted, not shown.
func WriteSummary(w io.Writer, inputs ...*Results) error {
	return writeSummary(w, inputs, nil)
}

// WriteSummary writes the summary of the inputs the report was made from
// (see the package-level WriteSummary), ending with where the report is.
func (r *Report) WriteSummary(w io.Writer, inputs ...*Results) error {
	return writeSummary(w, inputs, []string{"report: " + r.HTML, "        " + r.Markdown + " (and " + plural(len(r.Plots), "plot", "plots") + ", PNG and SVG)"})
}

func writeSummary(w io.Writer, inputs []*Results, tail []string) error {
	var lines []string
	for _, r := range inputs {
		if r == nil {
			continue
		}
		lines = append(lines, summaryLines(r)...)
	}
	budget := maxSummaryLines - len(tail)
	if len(lines) > budget {
		cut := len(lines) - budget + 1
		lines = append(lines[:budget-1], fmt.Sprintf("  ... %s more in the report", plural(cut, "line", "lines")))
	}
	lines = append(lines, tail...)
	_, err := io.WriteString(w, strings.Join(lines, "\n")+"\n")
	return err
}

// summaryLines are one input's lines: a heading line, then indented
// figures.
func summaryLines(r *Results) []string {
	head := "gale: " + describe(r)
	if s := r.Scenario; s != nil {
		head += fmt.Sprintf(" — %s (exit %d)", verdictWord(s.Verdict), s.ExitCode)
		if n := len(s.Thresholds); n > 0 {
			held := 0
			for _, t := range s.Thresholds {
				if t.Held {
					held++
				}
			}
			head += fmt.Sprintf(", %d/%d thresholds held", held, n)
		}
	}
	type item struct{ key, text string }
	var items []item
	var walk func(o *Results, phase string)
	walk = func(o *Results, phase string) {
		first := len(items)
		add := func(kind, text string) {
			switch {
			case phase == "":
				items = append(items, item{kind, text})
			case kind == "run", kind == phase && len(items) == first:
				items = append(items, item{phase, text})
			default:
				items = append(items, item{phase, kind + ": " + text})
			}
		}
		if o.Summary != nil {
			add("run", runFigures(o.Summary))
		}
		if s := o.Sweep; s != nil && len(s.Runs) > 0 {
			add("sweep", sweepFigures(s))
		}
		if m := o.MaxRate; m != nil {
			add("max rate", fmtRate(float64(m.Rate))+" msg/s held")
		}
		if len(o.Faults) > 0 {
			var fs []string
			for _, f := range o.Faults {
				s := fmt.Sprintf("%s %s–%s s", f.Kind, fmtSeconds(f.Start), fmtSeconds(f.End))
				if f.End <= f.Start {
					s = fmt.Sprintf("%s at %s s", f.Kind, fmtSeconds(f.Start))
				}
				if f.Error != "" {
					s += " (failed)"
				}
				fs = append(fs, s)
			}
			add("faults", strings.Join(fs, "; "))
		}
		if c := o.Check; c != nil {
			add("check", fmt.Sprintf("%s %s — %s", c.Expect, c.Verdict, checkSummary(c)))
		}
		for i := range o.Phases {
			walk(&o.Phases[i], phaseName(&o.Phases[i], i))
		}
	}
	walk(r, "")
	width := 0
	for _, it := range items {
		width = max(width, len(it.key))
	}
	lines := []string{head}
	for i, it := range items {
		key := it.key
		if i > 0 && items[i-1].key == key {
			key = "" // the phase named on its first line only
		}
		lines = append(lines, fmt.Sprintf("  %-*s  %s", width, key, it.text))
	}
	return lines
}

// runFigures are a run's key figures on one line.
func runFigures(s *Summary) string {
	out := fmt.Sprintf("%s msg/s (%s MB/s)", short(s.PublishRate), sig3(s.PublishMBps))
	if s.Mode == "open" {
		out += " at " + short(float64(s.TargetRate)) + " target"
	}
	p, kind := s.EndToEnd, "e2e"
	if p.Count == 0 {
		p, kind = s.PublishLatency, "publish"
	}
	if p.Count > 0 {
		out += fmt.Sprintf("; %s p50 %s, p99 %s, p99.9 %s, max %s", kind, human(p.P50), human(p.P99), human(p.P999), human(p.Max))
	}
	if s.Errors > 0 {
		out += ", " + fmtCount(s.Errors) + " errors"
	}
	if s.Status != "" && s.Status != "ok" {
		out += ", status " + s.Status
	}
	return out
}

// sweepFigures are a sweep's rates by value and its peak, on one line.
func sweepFigures(s *SweepResults) string {
	peak := 0
	var each []string
	for i, r := range s.Runs {
		if r.Summary.PublishRate > s.Runs[peak].Summary.PublishRate {
			peak = i
		}
		each = append(each, r.Value+"→"+short(r.Summary.PublishRate))
	}
	p := s.Runs[peak]
	return fmt.Sprintf("%s %s msg/s; peak %s msg/s (%s MB/s) at %s", s.Field, strings.Join(each, " "),
		short(p.Summary.PublishRate), sig3(p.Summary.PublishMBps), p.Value)
}
