package scenarios

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"gale/broker/kafka"
	"gale/linearizability"
)

// TestNegativeControls runs one workload against the reference broker with
// each bug switch on, and checks that the history checker names the
// anomaly the switch must cause; the positive control, the same workload
// against the correct broker, must be valid with no anomaly at all.
func TestNegativeControls(t *testing.T) {
	const (
		LostWrite          = linearizability.LostWrite
		Unseen             = linearizability.Unseen
		Duplicate          = linearizability.Duplicate
		InconsistentOffset = linearizability.InconsistentOffset
		Skip               = linearizability.Skip
		NonmonotonicSend   = linearizability.NonmonotonicSend
		AbortedRead        = linearizability.AbortedRead
		StaleRead          = linearizability.StaleRead
		CommittedBackwards = linearizability.CommittedBackwards
		NotLinearizable    = linearizability.NotLinearizable
	)
	tests := []struct {
		name string
		bugs kafka.Bugs
		want []linearizability.AnomalyKind // each must be reported as a violation
	}{
		{"correct-broker", kafka.Bugs{}, nil},
		// The last 2 of each partition's tail batches vanish; phase 2's
		// produces reuse their offsets and phase 2's reads pass them.
		{"lose-acked-tail-on-restart", kafka.Bugs{LoseAckedTailOnRestart: 2}, []linearizability.AnomalyKind{LostWrite, InconsistentOffset, NotLinearizable}},
		{"duplicate-batch", kafka.Bugs{DuplicateBatch: 7}, []linearizability.AnomalyKind{Duplicate, NotLinearizable}},
		// Partition 0's only producer sees its next batch land below the
		// held one. Each partition's last produce of phase 2 (the 30th or
		// 60th) is held when the broker closes: acked past every read,
		// never stored.
		{"reorder-batches", kafka.Bugs{ReorderBatches: 5}, []linearizability.AnomalyKind{NonmonotonicSend, InconsistentOffset, Unseen, NotLinearizable}},
		// Phase 2's catch-up reads the tail acked before the restart: at
		// least a third of those fetches come back empty.
		{"stale-fetch", kafka.Bugs{StaleFetch: 3}, []linearizability.AnomalyKind{StaleRead, NotLinearizable}},
		{"skip-fetch", kafka.Bugs{SkipFetch: 3}, []linearizability.AnomalyKind{Skip, LostWrite}},
		{"ack-then-fail", kafka.Bugs{AckThenFail: 7}, []linearizability.AnomalyKind{AbortedRead}},
		// The newest commit, one consumer's last of phase 1, is forgotten.
		{"forget-commits", kafka.Bugs{ForgetCommits: 1}, []linearizability.AnomalyKind{CommittedBackwards}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ops, err := linearizability.ReadFile(runWorkload(t, tt.bugs))
			if err != nil {
				t.Fatal(err)
			}
			res, err := linearizability.Check(ops, linearizability.Options{Timeout: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			var got []linearizability.AnomalyKind
			for _, a := range res.Anomalies {
				if a.Violation && !slices.Contains(got, a.Kind) {
					got = append(got, a.Kind)
				}
			}
			t.Logf("bugs %q: %s; verdict %v, anomalies %v", tt.bugs.String(), tally(ops), res.Verdict, got)
			if len(tt.want) == 0 {
				if res.Verdict != linearizability.Valid || len(res.Anomalies) > 0 {
					t.Errorf("the correct broker's history is not valid:\n%s", report(res))
				}
				return
			}
			if res.Verdict != linearizability.Violation {
				t.Errorf("verdict %v, want %v", res.Verdict, linearizability.Violation)
			}
			for _, k := range tt.want {
				if !slices.Contains(got, k) {
					t.Errorf("%s not reported", k)
				}
			}
			if t.Failed() {
				t.Logf("report:\n%s", report(res))
			}
		})
	}
}

// tally counts a history's operations by kind and status.
func tally(ops []linearizability.Op) string {
	n := make(map[string]int)
	var keys []string
	for _, op := range ops {
		k := op.Kind.String() + " " + op.Status.String()
		if n[k] == 0 {
			keys = append(keys, k)
		}
		n[k]++
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, n[k])
	}
	return strings.Join(parts, ", ")
}
