package scenarios

import (
	"fmt"
	"slices"
	"strings"

	"gale/reports"
)

// Verdicts, as ScenarioResult.Verdict records them, and gale run's exit
// code for each.
const (
	VerdictPass        = "pass"
	VerdictThreshold   = "threshold"   // exit 1
	VerdictViolation   = "violation"   // exit 3
	VerdictUndecided   = "undecided"   // exit 4
	VerdictInterrupted = "interrupted" // exit 4: nothing was decided
)

// ExitCode is gale run's exit code for a verdict.
func ExitCode(verdict string) int {
	switch verdict {
	case VerdictPass:
		return 0
	case VerdictThreshold:
		return 1
	case VerdictViolation:
		return 3
	}
	return 4
}

// decide evaluates s's thresholds on res and decides the verdict, from the
// worst outcome down: interrupted, a guarantee violated (or an expected
// violation not found), undecided (a check timed out, a fault that could
// not be injected), a threshold breached, pass.
func decide(s *Scenario, res *reports.Results, interrupted bool) *reports.ScenarioResult {
	expect := strings.Join(s.ExpectViolation, " or ")
	sr := &reports.ScenarioResult{Name: s.Name, ExpectViolation: expect}
	var checks []*reports.CheckResult
	var faultErrs, runNotes []string
	visit := func(r *reports.Results) {
		if r.Check != nil {
			checks = append(checks, r.Check)
		}
		for _, w := range r.Faults {
			if w.Error != "" {
				faultErrs = append(faultErrs, fmt.Sprintf("fault %s: %s", w.Fault, w.Error))
			}
		}
		if r.Summary != nil && r.Summary.Status == "errors" && r.Summary.Published == 0 {
			runNotes = append(runNotes, "a run published nothing: "+strings.Join(r.Summary.Notes, "; "))
		}
	}
	visit(res)
	for i := range res.Phases {
		visit(&res.Phases[i])
	}
	// A consumer told that records it had not read are gone saw data loss,
	// with or without a history: every run counts, sweeps' included.
	var lossNotes []string
	for _, run := range res.Runs() {
		if n := run.Summary.DataLoss; n > 0 {
			name := run.Path
			if name == "" {
				name = "the run"
			}
			lossNotes = append(lossNotes, fmt.Sprintf("data-loss: in %s a consumer was told %d time(s) that records it had not read are gone", name, n))
		}
	}
	if interrupted {
		sr.Verdict = VerdictInterrupted
		sr.Notes = append(sr.Notes, "interrupted: results up to then; checks and thresholds not evaluated")
		sr.ExitCode = ExitCode(sr.Verdict)
		return sr
	}
	var tnotes []string
	sr.Thresholds, tnotes = evaluate(s.Thresholds, res)
	breached := slices.ContainsFunc(sr.Thresholds, func(t reports.ThresholdResult) bool { return !t.Held })

	violated, undecided, found := len(lossNotes) > 0, len(faultErrs) > 0 || len(runNotes) > 0, false
	var violations []string
	if len(lossNotes) > 0 {
		violations = append(violations, "data-loss")
		found = slices.Contains(s.ExpectViolation, "data-loss")
		sr.Notes = append(sr.Notes, lossNotes...)
	}
	for _, c := range checks {
		switch c.Verdict {
		case "violated":
			violated = true
			violations = append(violations, c.Violations...)
		case "undecided":
			undecided = true
		}
		for _, k := range s.ExpectViolation {
			found = found || c.Anomalies[k] > 0
		}
	}
	if s.Checks != nil && len(checks) == 0 {
		undecided = true
		runNotes = append(runNotes, "no history was checked")
	}
	sr.Notes = append(sr.Notes, faultErrs...)
	sr.Notes = append(sr.Notes, runNotes...)
	switch {
	case expect != "" && found:
		sr.Notes = append(sr.Notes, fmt.Sprintf("expected violation (%s) found, which is the pass; all violations: %s", expect, strings.Join(uniq(violations), ", ")))
		violated, undecided = false, len(faultErrs) > 0
	case expect != "" && !undecided:
		violated = true
		sr.Notes = append(sr.Notes, fmt.Sprintf("expected a violation (%s) and the check found none", expect))
	case violated:
		sr.Notes = append(sr.Notes, "guarantee violated: "+strings.Join(uniq(violations), ", "))
	}
	sr.Notes = append(sr.Notes, tnotes...)
	switch {
	case violated:
		sr.Verdict = VerdictViolation
	case undecided:
		sr.Verdict = VerdictUndecided
	case breached:
		sr.Verdict = VerdictThreshold
	default:
		sr.Verdict = VerdictPass
	}
	sr.ExitCode = ExitCode(sr.Verdict)
	return sr
}

func uniq(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

func sortStrings(s []string) []string {
	slices.Sort(s)
	return s
}
