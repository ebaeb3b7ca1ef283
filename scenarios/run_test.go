package scenarios

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"gale/internal/galebin"
	"gale/reports"
)

// End-to-end tests: scenarios run through Run against the reference broker
// under the simulator, a few seconds each. They assert effects (a fault
// stops progress, a power loss loses acked writes), never wall-clock
// figures beyond "at least the injected delay".

// runScenario parses text and runs it into a temporary directory.
func runScenario(t *testing.T, text string, opts Options) *reports.Results {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end scenario run; skipped under -short")
	}
	s, err := Parse([]byte(text), t.Name()+".yaml")
	if err != nil {
		t.Fatal(err)
	}
	if opts.Out == "" {
		opts.Out = t.TempDir()
	}
	opts.Logf = t.Logf
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Run(ctx, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reports.ReadFile(filepath.Join(opts.Out, ResultsFile)); err != nil {
		t.Errorf("results.json: %v", err)
	}
	t.Logf("\n%s", Summary(res))
	return res
}

// TestLatencyFaultRaisesPublishLatency: a 30 ms link delay raises the
// publish p50 to at least the delay (no upper bound: the machine is shared).
func TestLatencyFaultRaisesPublishLatency(t *testing.T) {
	const delay = 30 * time.Millisecond
	res := runScenario(t, fmt.Sprintf(`name: latency
seed: 5
target: {broker: embedded}
workload: {partitionsPerTopic: 2, messageSize: 100, rate: 500, duration: 4s}
phases:
  - {name: base}
  - name: slow
    faults: [{at: 0s, latency: clients-broker, delay: %s, for: 4s}]
`, delay), Options{})
	base, err := reports.Metric(res, "base/publish.p50_us")
	if err != nil {
		t.Fatal(err)
	}
	slow, err := reports.Metric(res, "slow/publish.p50_us")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("publish p50: %.0f us without the fault, %.0f us with %s of delay", base, slow, delay)
	if slow < float64(delay.Microseconds()) || slow <= base {
		t.Errorf("publish p50 with a %s delay is %.0f us (%.0f us without)", delay, slow, base)
	}
	if w := res.Phases[1].Faults; len(w) != 1 || w[0].Kind != "latency" || w[0].Error != "" {
		t.Errorf("fault windows %+v", w)
	}
}

// TestPartitionStopsProgress: nothing is acknowledged while clients and
// broker are partitioned, and publishing resumes after, losing nothing.
func TestPartitionStopsProgress(t *testing.T) {
	const rate = 1000
	res := runScenario(t, fmt.Sprintf(`name: partition
seed: 6
target: {broker: embedded}
workload: {partitionsPerTopic: 2, messageSize: 100, rate: %d, duration: 9s}
faults: [{at: 2s, partition: clients-broker, for: 4s}]
checks: {expect: at-least-once, linearizable: true}
`, rate), Options{})
	if len(res.Faults) != 1 || res.Faults[0].Error != "" {
		t.Fatalf("fault windows %+v", res.Faults)
	}
	w := res.Faults[0]
	var during, after int64
	for _, iv := range res.Intervals {
		switch {
		// Intervals close on a ticker, a little after their nominal end:
		// leave out the one the heal may reach.
		case iv.Start >= w.Start && iv.End <= w.End-0.5:
			during += iv.Published
			if iv.Published > rate/20 {
				t.Errorf("interval %.0f-%.0fs, inside the partition (%.1f-%.1fs), acked %d", iv.Start, iv.End, w.Start, w.End, iv.Published)
			}
		case iv.Start >= w.End:
			after += iv.Published
		}
	}
	if after == 0 {
		t.Errorf("nothing acked after the partition healed")
	}
	if s := res.Summary; s.Published < s.Sent || s.Errors > 0 {
		t.Errorf("sent %d, acked %d, errors %d: the partition should only delay", s.Sent, s.Published, s.Errors)
	}
	if res.Check == nil || res.Check.Verdict != "ok" || res.Scenario.Verdict != VerdictPass {
		t.Errorf("check %+v, verdict %s %v", res.Check, res.Scenario.Verdict, res.Scenario.Notes)
	}
}

// TestKillLosesNothingAcked: kill -9 of the subprocess broker under
// acks=1 and flush=never loses nothing acked: the page cache survives the
// process.
func TestKillLosesNothingAcked(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end scenario run; skipped under -short")
	}
	res := runScenario(t, `name: kill
seed: 7
target: {broker: subprocess, flush: never}
workload: {partitionsPerTopic: 2, messageSize: 100, acks: "1", rate: 1000, duration: 8s}
faults: [{at: 3s, kill: broker, restart_after: 1s}]
checks: {expect: at-least-once, linearizable: true}
`, Options{Binary: galebin.Path(t)})
	if len(res.Faults) != 1 || res.Faults[0].Kind != "kill" || res.Faults[0].Error != "" {
		t.Fatalf("fault windows %+v", res.Faults)
	}
	if res.Check == nil || res.Check.Verdict != "ok" {
		t.Errorf("check %+v", res.Check)
	}
	if res.Scenario.Verdict != VerdictPass {
		t.Errorf("verdict %s: %v", res.Scenario.Verdict, res.Scenario.Notes)
	}
}

const powerLoss = `name: power
seed: 8
target: {broker: embedded, flush: %s, memory: true}
workload: {partitionsPerTopic: 2, messageSize: 100, rate: 1000, duration: 8s}
faults: [{at: 4s, power-loss: broker, restart_after: 1s}]
checks: {expect: at-least-once}
`

// TestPowerLossFlushNeverLosesAckedWrites: acks before fsync, then a
// power loss: acked writes are gone, and the check says so.
func TestPowerLossFlushNeverLosesAckedWrites(t *testing.T) {
	res := runScenario(t, fmt.Sprintf(powerLoss, "never")+"expect_violation: [lost-write, inconsistent-offset]\n", Options{})
	// The acked tail is gone: records nobody read are lost writes; the
	// broker reusing their offsets for new records is inconsistent-offset.
	if c := res.Check; c == nil || c.Anomalies["lost-write"]+c.Anomalies["inconsistent-offset"] == 0 || c.Verdict != "violated" {
		t.Fatalf("check %+v: want lost-write or inconsistent-offset violations", res.Check)
	}
	if res.Scenario.Verdict != VerdictPass || res.Scenario.ExitCode != 0 {
		t.Errorf("verdict %s (exit %d): the expected violation found is the pass", res.Scenario.Verdict, res.Scenario.ExitCode)
	}
}

// TestPowerLossFlushAlwaysLosesNothing: every ack waited for an fsync, so
// a power loss loses nothing acked.
func TestPowerLossFlushAlwaysLosesNothing(t *testing.T) {
	res := runScenario(t, fmt.Sprintf(powerLoss, "always"), Options{})
	if res.Check == nil || res.Check.Verdict != "ok" {
		t.Fatalf("check %+v", res.Check)
	}
	if res.Scenario.Verdict != VerdictPass {
		t.Errorf("verdict %s: %v", res.Scenario.Verdict, res.Scenario.Notes)
	}
}

// TestSameSeedSameSchedule: a random schedule run twice with the same seed
// override injects the same faults at the same offsets.
func TestSameSeedSameSchedule(t *testing.T) {
	const text = `name: random
seed: 1
target: {broker: embedded}
workload: {partitionsPerTopic: 2, messageSize: 100, rate: 500, duration: 5s}
faults: {random: {every: 1s, kinds: {latency: 1, reset: 1, partition: 1}, for: 500ms, delay: 5ms, jitter: 1ms}}
`
	faults := func(seed uint64) string {
		res := runScenario(t, text, Options{Seed: seed, SeedSet: true})
		if res.Seed != seed || res.Scenario.Seed != seed {
			t.Errorf("seed %d recorded as %d / %d", seed, res.Seed, res.Scenario.Seed)
		}
		var s string
		for _, w := range res.Faults {
			s += w.Fault + " "
		}
		return s
	}
	a, b := faults(99), faults(99)
	if a == "" || a != b {
		t.Errorf("seed 99 played %q, then %q", a, b)
	}
}

// TestInterruptedRunWritesResults: a cancelled run (Ctrl-C) in the middle
// of a broker kill restarts the broker, and still writes results.
func TestInterruptedRunWritesResults(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end scenario run; skipped under -short")
	}
	s, err := Parse([]byte(`name: interrupted
seed: 9
target: {broker: embedded}
workload: {partitionsPerTopic: 1, messageSize: 100, rate: 500, duration: 20s}
faults: [{at: 1s, kill: broker, restart_after: 10s}]
checks: {expect: at-least-once}
`), "interrupted.yaml")
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	res, err := Run(ctx, s, Options{Out: out, Logf: func(format string, args ...any) {
		t.Logf(format, args...)
		if len(format) > 11 && format[:11] == "sim: inject" {
			once.Do(func() { time.AfterFunc(500*time.Millisecond, cancel) })
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Scenario.Verdict != VerdictInterrupted || res.Scenario.ExitCode != 4 {
		t.Errorf("verdict %s exit %d", res.Scenario.Verdict, res.Scenario.ExitCode)
	}
	if len(res.Faults) != 1 || res.Faults[0].End-res.Faults[0].Start > 5 {
		t.Errorf("the kill was not undone on interrupt: %+v", res.Faults)
	}
	if _, err := reports.ReadFile(filepath.Join(out, ResultsFile)); err != nil {
		t.Error(err)
	}
}

func TestMain(m *testing.M) { galebin.Main(m) }
