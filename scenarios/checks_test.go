package scenarios

import (
	"slices"
	"testing"
	"time"

	"gale/linearizability"
)

// TestChecksJudge: checks map onto linearizability.Check: expect decides
// the delivery anomalies, linearizable: true adds stale reads and
// nonlinearizable partitions.
func TestChecksJudge(t *testing.T) {
	const dir = "../linearizability/testdata/"
	tests := []struct {
		history      string
		expect       linearizability.Guarantee
		linearizable bool
		verdict      string
		violation    string
	}{
		{"valid.commits.jsonl", linearizability.AtLeastOnce, true, "ok", ""},
		{"stale-read.jsonl", linearizability.AtLeastOnce, false, "ok", ""},
		{"stale-read.jsonl", linearizability.AtLeastOnce, true, "violated", "stale-read"},
		{"duplicate.jsonl", linearizability.AtLeastOnce, false, "ok", ""},
		{"duplicate.jsonl", linearizability.ExactlyOnce, false, "violated", "duplicate"},
		{"lost-write.jsonl", linearizability.AtMostOnce, false, "ok", ""},
		{"lost-write.jsonl", linearizability.AtLeastOnce, false, "violated", "lost-write"},
	}
	for _, tt := range tests {
		c := &Checks{Expect: tt.expect, Linearizable: tt.linearizable, Timeout: 10 * time.Second}
		t.Run(tt.history+"/"+c.String(), func(t *testing.T) {
			cr, err := c.Judge(dir+tt.history, tt.history)
			if err != nil {
				t.Fatal(err)
			}
			if cr.Verdict != tt.verdict || (tt.violation != "" && !slices.Contains(cr.Violations, tt.violation)) {
				t.Errorf("verdict %s, violations %v, anomalies %v; want %s with %q", cr.Verdict, cr.Violations, cr.Anomalies, tt.verdict, tt.violation)
			}
			if cr.Expect != c.String() || cr.History != tt.history {
				t.Errorf("expect %q history %q", cr.Expect, cr.History)
			}
		})
	}
}
