package bench

import (
	"fmt"
	"slices"
	"strings"

	"gale/reports"
)

// Found is a guarantee violation found in a current run.
type Found struct {
	Run   string // the run's name (Options.CurrentNames) or "current run N"
	Phase string // the phase's path in the file, "" for the file itself
	// What says what was violated, e.g. `check violated (expected
	// at-least-once): lost-write` or `scenario verdict "violation"`.
	What string
}

func (f Found) String() string {
	where := f.Run
	if f.Phase != "" {
		where += " phase " + f.Phase
	}
	return where + ": " + f.What
}

// violations returns the guarantee violations in r: a scenario verdict of
// "violation" or a check verdict of "violated", in r or any of its phases.
// A scenario that expected a violation and passed (ExpectViolation set,
// verdict "pass") excuses the violated checks beneath it: finding the
// expected violation is what it asked for.
func violations(r *reports.Results, run string) []Found {
	var out []Found
	var walk func(r *reports.Results, phase string, expected bool)
	walk = func(r *reports.Results, phase string, expected bool) {
		if s := r.Scenario; s != nil {
			if s.Verdict == "violation" {
				what := fmt.Sprintf("scenario %s: verdict %q", s.Name, s.Verdict)
				if len(s.Notes) > 0 {
					what += " (" + strings.Join(s.Notes, "; ") + ")"
				}
				out = append(out, Found{run, phase, what})
			}
			expected = expected || (s.ExpectViolation != "" && s.Verdict == "pass")
		}
		if c := r.Check; c != nil && c.Verdict == "violated" && !expected {
			out = append(out, Found{run, phase, fmt.Sprintf("check violated (expected %s): %s", c.Expect, strings.Join(c.Violations, ", "))})
		}
		for i := range r.Phases {
			walk(&r.Phases[i], joinPhase(phase, phaseName(&r.Phases[i], i)), expected)
		}
	}
	walk(r, "", false)
	return out
}

// baselineNotes notes baseline runs that themselves violated a guarantee:
// the gate judges only the current runs, but a reader should know.
func baselineNotes(baseline []*reports.Results) []string {
	var notes []string
	for i, r := range baseline {
		for _, f := range violations(r, fmt.Sprintf("baseline run %d", i+1)) {
			notes = append(notes, f.String()+" (baseline: not gated)")
		}
	}
	return notes
}

func phaseName(p *reports.Results, i int) string {
	if p.Phase != "" {
		return p.Phase
	}
	return fmt.Sprintf("phase%d", i+1) // as reports names an unnamed phase
}

func joinPhase(a, b string) string {
	if a == "" {
		return b
	}
	return a + "/" + b
}

// currentNotes notes what makes a current run's figures or verdict less
// than whole: a scenario or check left undecided, a run interrupted.
func currentNotes(r *reports.Results, run string) []string {
	var notes []string
	var walk func(r *reports.Results, phase string)
	walk = func(r *reports.Results, phase string) {
		where := run
		if phase != "" {
			where += " phase " + phase
		}
		if s := r.Scenario; s != nil && (s.Verdict == "undecided" || s.Verdict == "interrupted") {
			notes = append(notes, fmt.Sprintf("%s: scenario verdict %q", where, s.Verdict))
		}
		if c := r.Check; c != nil && c.Verdict == "undecided" {
			notes = append(notes, where+": check undecided (the checker timed out)")
		}
		if r.Summary != nil && r.Summary.Status == "interrupted" {
			notes = append(notes, where+": run interrupted, figures up to then")
		}
		for i := range r.Phases {
			walk(&r.Phases[i], joinPhase(phase, phaseName(&r.Phases[i], i)))
		}
	}
	walk(r, "")
	return notes
}

// environmentNotes notes when the two sides ran on different kinds of
// machine (CPU model or core count): their difference is then partly the
// machines'.
func environmentNotes(baseline, current []*reports.Results) []string {
	kinds := func(rs []*reports.Results) []string {
		var out []string
		for _, r := range rs {
			k := fmt.Sprintf("%s, %d cores", r.Environment.CPUModel, r.Environment.Cores)
			if r.Environment.Cores != 0 && !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
		slices.Sort(out)
		return out
	}
	b, c := kinds(baseline), kinds(current)
	if len(b) == 0 || len(c) == 0 || slices.Equal(b, c) {
		return nil
	}
	return []string{fmt.Sprintf("the sides ran on different machines: baseline %s; current %s",
		strings.Join(b, " | "), strings.Join(c, " | "))}
}
