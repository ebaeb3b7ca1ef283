package scenarios

import (
	"strings"
	"testing"

	"gale/reports"
)

// TestDecide: the verdict from checks, thresholds, fault errors and
// interruption, worst first, and its exit code.
func TestDecide(t *testing.T) {
	max := func(v float64) *float64 { return &v }
	summary := &reports.Summary{Rates: reports.Rates{Published: 100, PublishRate: 50}, Status: "ok"}
	check := func(verdict string, anomalies map[string]int) *reports.CheckResult {
		return &reports.CheckResult{Verdict: verdict, Anomalies: anomalies}
	}
	tests := []struct {
		name        string
		expect      []string
		thresholds  []Threshold
		check       *reports.CheckResult
		faultErr    string
		interrupted bool
		want        string
		exit        int
	}{
		{"all holds", nil, nil, check("ok", nil), "", false, VerdictPass, 0},
		{"threshold", nil, []Threshold{{Metric: "publish.rate_msgs", Max: max(10)}}, check("ok", nil), "", false, VerdictThreshold, 1},
		{"unknown metric does not hold", nil, []Threshold{{Metric: "e2e.p99_us", Max: max(10)}}, check("ok", nil), "", false, VerdictThreshold, 1},
		{"violation beats threshold", nil, []Threshold{{Metric: "publish.rate_msgs", Max: max(10)}}, check("violated", map[string]int{"lost-write": 2}), "", false, VerdictViolation, 3},
		{"undecided", nil, nil, check("undecided", nil), "", false, VerdictUndecided, 4},
		{"fault failed", nil, nil, check("ok", nil), "broker down", false, VerdictUndecided, 4},
		{"expected violation found", []string{"lost-write", "inconsistent-offset"}, nil, check("violated", map[string]int{"inconsistent-offset": 3}), "", false, VerdictPass, 0},
		{"expected violation missing", []string{"lost-write"}, nil, check("ok", nil), "", false, VerdictViolation, 3},
		{"expected violation, check undecided", []string{"lost-write"}, nil, check("undecided", nil), "", false, VerdictUndecided, 4},
		{"interrupted", nil, nil, check("violated", map[string]int{"lost-write": 1}), "", true, VerdictInterrupted, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Scenario{Name: "t", ExpectViolation: tt.expect, Thresholds: tt.thresholds, Checks: &Checks{}}
			res := &reports.Results{Summary: summary, Check: tt.check}
			if tt.faultErr != "" {
				res.Faults = []reports.FaultWindow{{Fault: "{at: 1s, kill: broker, restart_after: 1s}", Error: tt.faultErr}}
			}
			sr := decide(s, res, tt.interrupted)
			if sr.Verdict != tt.want || sr.ExitCode != tt.exit || ExitCode(sr.Verdict) != tt.exit {
				t.Errorf("verdict %s exit %d, want %s exit %d; notes %v", sr.Verdict, sr.ExitCode, tt.want, tt.exit, sr.Notes)
			}
		})
	}
}

// A consumer told that records it had not read are gone is a violation,
// found in any run (here a sweep's, where no history is checked), unless
// the scenario expects data-loss.
func TestDecideDataLoss(t *testing.T) {
	res := &reports.Results{Sweep: &reports.SweepResults{Field: "batch.maxMessages", Runs: []reports.RunResult{
		{Value: "1", Summary: reports.Summary{Rates: reports.Rates{Published: 100}, Status: "ok"}},
		{Value: "10", Summary: reports.Summary{Rates: reports.Rates{Published: 100}, Status: "errors", DataLoss: 1}},
	}}}
	sr := decide(&Scenario{Name: "t"}, res, false)
	if sr.Verdict != VerdictViolation || !strings.Contains(strings.Join(sr.Notes, "\n"), "batch.maxMessages=10") {
		t.Errorf("verdict %s, notes %v; want a violation naming the run", sr.Verdict, sr.Notes)
	}
	sr = decide(&Scenario{Name: "t", ExpectViolation: []string{"data-loss"}, Checks: &Checks{}}, res, false)
	if sr.Verdict != VerdictPass {
		t.Errorf("expected data-loss found: verdict %s, notes %v", sr.Verdict, sr.Notes)
	}
}
