package scenarios

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gale/linearizability"
)

// TestCannedScenariosLoad: every canned scenario parses and validates.
func TestCannedScenariosLoad(t *testing.T) {
	names := Canned()
	for _, want := range []string{"quickstart", "batch-size-sweep", "max-throughput", "kill-broker", "pause-broker",
		"network-partition", "slow-network", "power-loss-flush-always", "power-loss-flush-never", "torn-tail",
		"consumer-crash", "slow-consumer", "poison-messages"} {
		if !strings.Contains(" "+strings.Join(names, " ")+" ", " "+want+" ") {
			t.Errorf("canned scenario %s missing (have %v)", want, names)
		}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			s, err := LoadCanned(name)
			if err != nil {
				t.Fatal(err)
			}
			if s.Name != name {
				t.Errorf("name %q in %s.yaml", s.Name, name)
			}
			if s.Description == "" {
				t.Error("no description")
			}
		})
	}
}

// TestQuickstartShape: the quickstart is the sweep, the latency run at
// half the max, and the kill with checks, on the embedded broker.
func TestQuickstartShape(t *testing.T) {
	s, err := LoadCanned("quickstart")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Phases) != 3 || s.Target.Broker != "embedded" {
		t.Fatalf("phases %d, target %s", len(s.Phases), s.Target)
	}
	sw := s.Phases[0].Workload.Sweep
	if sw == nil || sw.Field != "batch.maxMessages" || strings.Join(sw.Values, ",") != "1,10,100,1000,10000" {
		t.Errorf("sweep %+v", sw)
	}
	if s.Phases[1].RateOfMax != 0.5 {
		t.Errorf("latency phase rate of max %g", s.Phases[1].RateOfMax)
	}
	kill := s.Phases[2]
	if !kill.History || len(kill.Faults.Fixed) != 1 || kill.Faults.Fixed[0].String() != "{at: 8s, kill: broker, restart_after: 2s}" {
		t.Errorf("kill phase %+v", kill)
	}
	if s.Checks == nil || s.Checks.Expect != linearizability.AtLeastOnce || !s.Checks.Linearizable {
		t.Errorf("checks %+v", s.Checks)
	}
	// Phases inherit the scenario's workload.
	if w := kill.Workload; w.MessageSize != 100 || w.PartitionsPerTopic != 4 || w.Rate != 2000 || w.Duration != 20*time.Second {
		t.Errorf("kill workload %+v", w)
	}
}

const validBase = `name: t
seed: 7
target: {broker: embedded, flush: never, memory: true}
workload: {messageSize: 100, rate: 1000, duration: 10s}
`

// TestInvalidScenarios: each mistake is an error naming the field and its
// line.
func TestInvalidScenarios(t *testing.T) {
	tests := []struct {
		name, text string
		line       int
		want       string
	}{
		{"unknown top field", validBase + "fautls: []\n", 5, "fautls: unknown field"},
		{"unknown workload field", "name: t\nworkload:\n  messageSize: 100\n  mesageSize: 3\n", 4, `unknown field "mesageSize"`},
		{"wrong type", "name: t\nseed: many\nworkload: {duration: 1s}\n", 2, "seed: want a non-negative integer"},
		{"bad target", "name: t\ntarget: {broker: cloud}\nworkload: {duration: 1s}\n", 2, "target.broker: want embedded or subprocess"},
		{"target field", "name: t\ntarget: {brokers: embedded}\nworkload: {duration: 1s}\n", 2, "target.brokers: unknown field"},
		{"bad fault", validBase + "faults:\n  - {at: 1s, kill: broker}\n", 6, "restart_after is required"},
		{"fault key typo", validBase + "faults:\n  - {at: 1s, kill: broker,\n     restart_aftr: 1s}\n", 7, "restart_aftr"},
		{"fault past the end", validBase + "faults:\n  - {at: 1s, kill: broker, restart_after: 1s}\n  - {at: 10s, pause: broker, for: 1s}\n", 7, "faults[1].at: 10s is not before the end"},
		{"fault the target cannot inject", "name: t\ntarget: {broker: embedded}\nworkload: {duration: 10s}\nfaults:\n  - {at: 1s, power-loss: broker, restart_after: 1s}\n", 5, "memory: true"},
		{"faults on an external target", "name: t\ntarget: {url: \"kafka://127.0.0.1:9092\"}\nworkload: {duration: 10s}\nfaults:\n  - {at: 1s, kill: broker, restart_after: 1s}\n", 5, "gale's own broker"},
		{"checks on amqp", "name: t\ntarget: {url: \"amqp://127.0.0.1:5672/\"}\nworkload: {duration: 10s}\nchecks: {expect: at-least-once}\n", 4, "Kafka targets only"},
		{"bad guarantee", validBase + "checks: {expect: twice}\n", 5, "checks.expect"},
		{"unknown metric", validBase + "thresholds:\n  publish.p99: {max: 1}\n", 6, `unknown metric "publish.p99"`},
		{"threshold without bounds", validBase + "thresholds:\n  publish.p99_us: {}\n", 6, "give min, max or both"},
		{"unknown anomaly", validBase + "checks: {expect: at-least-once}\nexpect_violation: lost-writes\n", 6, "expect_violation"},
		{"expect_violation without checks", validBase + "expect_violation: lost-write\n", 5, "needs checks"},
		{"phase metric", validBase + "phases:\n  - {name: a, duration: 1s}\nthresholds:\n  b/publish.p99_us: {max: 1}\n", 8, `no phase "b"`},
		{"sweep metric", validBase + "phases:\n  - {name: a, duration: 1s, sweep: {field: batch.maxMessages, values: [1, 10]}}\nthresholds:\n  a/batch.maxMessages=100/publish.p99_us: {max: 1}\n", 8, "not a run of the sweep"},
		{"phase workload field", validBase + "phases:\n  - name: a\n    duraton: 1s\n", 7, `unknown field "duraton"`},
		{"rate of max first", validBase + "phases:\n  - {name: a, rate: 50% of max}\n", 6, "needs an earlier phase"},
		{"phase names", validBase + "phases:\n  - {name: a}\n  - {name: a}\n", 7, `phase "a" named twice`},
		{"faults with a sweep", "name: t\nworkload: {duration: 5s, sweep: {field: rate, values: [1, 2]}}\nfaults:\n  - {at: 1s, reset: clients-broker}\n", 4, "single run"},
		{"no workload", "name: t\n", 1, "needs a workload"},
		{"not yaml", "name: [t\n", 0, "did not find expected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.text), "t.yaml")
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, ErrScenario) {
				t.Fatalf("err %v (%T), want *Error", err, err)
			}
			if tt.line != 0 && e.Line != tt.line {
				t.Errorf("line %d, want %d: %v", e.Line, tt.line, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%v\nwant it to say %q", err, tt.want)
			}
		})
	}
}

// TestWorkloadFile: workload: {file: path} reads a workload file beside
// the scenario, and its errors name that file.
func TestWorkloadFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("w.yaml", "name: w\nmessageSize: 64\nduration: 3s\n")
	s, err := Load(write("s.yaml", "name: s\nworkload: {file: w.yaml}\nphases:\n  - {name: a, messageSize: 128}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Workload.MessageSize != 64 || s.Phases[0].Workload.MessageSize != 128 || s.Phases[0].Workload.Duration != 3*time.Second {
		t.Errorf("workload %+v, phase %+v", s.Workload, s.Phases[0].Workload)
	}
	write("bad.yaml", "name: w\n\nmessageSiz: 64\n")
	_, err = Load(write("s2.yaml", "name: s\nworkload: {file: bad.yaml}\n"))
	if err == nil || !strings.Contains(err.Error(), "bad.yaml:3") {
		t.Errorf("err %v, want it to name bad.yaml:3", err)
	}
}

// TestRandomFaults: a random schedule expands from the seed: the same seed
// gives the same faults, another seed others.
func TestRandomFaults(t *testing.T) {
	s, err := Parse([]byte(validBase+"faults: {random: {every: 2s, kinds: {kill: 1, partition: 1, latency: 1}, for: 1s, restart_after: 1s}}\n"), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := s.Faults.For(1), s.Faults.For(1), s.Faults.For(2)
	if len(a) == 0 || fmtFaults(a) != fmtFaults(b) {
		t.Errorf("seed 1 gave %s then %s", fmtFaults(a), fmtFaults(b))
	}
	if fmtFaults(a) == fmtFaults(c) {
		t.Errorf("seeds 1 and 2 both gave %s", fmtFaults(a))
	}
	for _, f := range a {
		if f.End() > 10*time.Second {
			t.Errorf("%s ends past the run", f)
		}
	}
}

func fmtFaults[T interface{ String() string }](fs []T) string {
	var s []string
	for _, f := range fs {
		s = append(s, f.String())
	}
	return strings.Join(s, " ")
}
