package bench

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// Headline is the verdict in one line, e.g. "PASS: 6 metrics, no
// regression" or "FAIL (regression): publish.rate_msgs -30.0%".
func (v *Verdict) Headline() string {
	switch v.Outcome {
	case Violation:
		return fmt.Sprintf("FAIL (guarantee violated): %s", v.Violations[0])
	case Regression:
		var parts []string
		for _, r := range v.Regressions() {
			parts = append(parts, r.Metric+" "+formatChange(r.Change))
		}
		return "FAIL (regression): " + strings.Join(parts, ", ")
	}
	improved := 0
	for _, r := range v.Rows {
		if r.Judgement == Better {
			improved++
		}
	}
	s := fmt.Sprintf("PASS: %d metrics, no regression", len(v.Rows))
	if improved > 0 {
		s += fmt.Sprintf(", %d improved", improved)
	}
	return s
}

// method describes how the rows were judged.
func (v *Verdict) method() string {
	s := fmt.Sprintf("%d baseline vs %d current runs; medians, tolerance %s",
		v.BaselineRuns, v.CurrentRuns, formatPercent(v.Options.Tolerance))
	if v.BaselineRuns >= v.Options.MinRuns && v.CurrentRuns >= v.Options.MinRuns {
		return s + fmt.Sprintf(", and a two-sided Mann-Whitney U test at alpha %g", v.Options.Alpha)
	}
	return s
}

// WriteText writes the verdict as a plain-text table for a terminal: one
// row per metric (baseline and current medians, change, p-value or
// "n<5", verdict), then violations, notes and the headline.
func (v *Verdict) WriteText(w io.Writer) error {
	width := len("metric")
	for _, r := range v.Rows {
		width = max(width, len(r.Metric))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-*s %7s %12s %12s %9s %8s  %s\n", width, "metric", "runs", "baseline", "current", "change", "p-value", "verdict")
	for _, r := range v.Rows {
		fmt.Fprintf(&b, "%-*s %7s %12s %12s %9s %8s  %s\n", width, r.Metric,
			fmt.Sprintf("%d/%d", len(r.Baseline), len(r.Current)),
			formatValue(r.BaselineMedian), formatValue(r.CurrentMedian),
			formatChange(r.Change), v.formatP(r), r.Judgement)
	}
	fmt.Fprintf(&b, "(%s)\n", v.method())
	for _, f := range v.Violations {
		fmt.Fprintf(&b, "violation: %s\n", f)
	}
	for _, n := range v.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	fmt.Fprintf(&b, "gate: %s\n", v.Headline())
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMarkdown writes the verdict as GitHub-flavoured Markdown, fit for a
// pull request comment or a CI step summary.
func (v *Verdict) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### gale gate: %s\n\n", mdEscape(v.Headline()))
	fmt.Fprintf(&b, "%s.\n\n", v.method())
	if len(v.Violations) > 0 {
		b.WriteString("**Guarantees violated in the current runs:**\n\n")
		for _, f := range v.Violations {
			fmt.Fprintf(&b, "- %s\n", mdEscape(f.String()))
		}
		b.WriteString("\n")
	}
	b.WriteString("| metric | runs | baseline | current | change | p-value | verdict |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|---|\n")
	for _, r := range v.Rows {
		verdict := string(r.Judgement)
		if r.Judgement == Worse {
			verdict = "**" + verdict + "**"
		}
		fmt.Fprintf(&b, "| `%s` | %d/%d | %s | %s | %s | %s | %s |\n", r.Metric, len(r.Baseline), len(r.Current),
			formatValue(r.BaselineMedian), formatValue(r.CurrentMedian), formatChange(r.Change), v.formatP(r), verdict)
	}
	if len(v.Notes) > 0 {
		b.WriteString("\nNotes:\n\n")
		for _, n := range v.Notes {
			fmt.Fprintf(&b, "- %s\n", mdEscape(n))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (v *Verdict) formatP(r Row) string {
	switch {
	case !r.Tested:
		return fmt.Sprintf("n<%d", v.Options.MinRuns)
	case r.Test.P < 0.001:
		return "<0.001"
	}
	return fmt.Sprintf("%.3f", r.Test.P)
}

// formatValue prints a rate or latency with sensible precision.
func formatValue(x float64) string {
	switch a := math.Abs(x); {
	case a >= 1000:
		return fmt.Sprintf("%.0f", x)
	case a >= 10:
		return fmt.Sprintf("%.1f", x)
	}
	return fmt.Sprintf("%.3g", x)
}

func formatChange(c float64) string {
	if math.IsInf(c, 0) {
		return fmt.Sprintf("%+.0f%%", c) // "+Inf%"
	}
	return fmt.Sprintf("%+.1f%%", 100*c)
}

func formatPercent(f float64) string {
	return fmt.Sprintf("%g%%", math.Round(f*1e6)/1e4)
}

// mdEscape keeps text from being read as Markdown table or emphasis.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "*", `\*`, "_", `\_`, "<", "&lt;").Replace(s)
}
