package reports

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// SchemaVersion is the version of the results.json layout (Results). It
// changes when a field is renamed or removed or changes meaning; adding a
// field does not change it.
const SchemaVersion = 1

// ErrResults marks a results file that cannot be read: not JSON, not a
// results file, or a schema version this gale does not know.
var ErrResults = errors.New("reports: bad results file")

// Results is what results.json holds. gale loadgen writes one run
// (Intervals and Summary), one run per value of a sweep (Sweep), or a
// max-rate search (MaxRate). gale run adds Scenario, and writes a scenario
// of several phases as Phases, each phase a Results of its own. Field names
// are documented in README ("results.json").
type Results struct {
	SchemaVersion int    `json:"schema_version"`
	Target        string `json:"target"` // never carries credentials
	// Workload is the validated workload as loadgen holds it (loadgen's
	// Workload, in JSON); reports read only its name and message size.
	Workload    json.RawMessage `json:"workload,omitempty"`
	Environment Environment     `json:"environment"`
	Seed        uint64          `json:"seed"`
	// Intervals and Summary are the run's, when there is no sweep.
	Intervals []Interval `json:"intervals,omitempty"`
	Summary   *Summary   `json:"summary,omitempty"`
	// Sweep holds one run per swept value, in order.
	Sweep *SweepResults `json:"sweep,omitempty"`
	// MaxRate is the max-sustainable-rate search, when the workload asked
	// for one; Intervals and Summary are then the best probe's.
	MaxRate *MaxRateResult `json:"max_rate,omitempty"`

	// Faults is the fault timeline of this run (gale run): each fault
	// injected, with its start and end in seconds since the run started,
	// on the same clock as Intervals.
	Faults []FaultWindow `json:"faults,omitempty"`
	// Check is the verdict on this run's recorded history (gale run).
	Check *CheckResult `json:"check,omitempty"`
	// Scenario is set by gale run on the file it writes: the scenario, its
	// thresholds and the overall verdict.
	Scenario *ScenarioResult `json:"scenario,omitempty"`
	// Phases are the runs of a scenario of several phases, in order (the
	// quickstart: a sweep, a latency run, a fault run). A phase never has
	// phases of its own.
	Phases []Results `json:"phases,omitempty"`
	// Phase is a phase's name (no "/" in it), set on the elements of
	// Phases.
	Phase string `json:"phase,omitempty"`
}

// SweepResults are the runs of a sweep.
type SweepResults struct {
	Field string      `json:"field"`
	Runs  []RunResult `json:"runs"`
}

// RunResult is one run of a sweep.
type RunResult struct {
	Name      string     `json:"name"`
	Value     string     `json:"value,omitempty"` // the swept field's value
	Intervals []Interval `json:"intervals"`
	Summary   Summary    `json:"summary"`
}

// Environment describes where the run happened.
type Environment struct {
	CPUModel   string `json:"cpu_model"`
	Cores      int    `json:"cores"`
	GoVersion  string `json:"go_version"`
	GaleCommit string `json:"gale_commit"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	Hostname   string `json:"hostname"`
}

// Rates are the counts and rates an Interval and a Summary both carry; its
// fields appear at the top level of their JSON objects.
type Rates struct {
	Published   int64   `json:"published"` // acknowledged by the broker
	PublishRate float64 `json:"publish_msgs_per_s"`
	PublishMBps float64 `json:"publish_mb_per_s"`
	Consumed    int64   `json:"consumed"`
	ConsumeRate float64 `json:"consume_msgs_per_s"`
	ConsumeMBps float64 `json:"consume_mb_per_s"`
	Errors      int64   `json:"errors"`
}

// Interval is one interval (a second, by default) of a run. Counts are of
// events during the interval: messages acknowledged, received, failed.
type Interval struct {
	Start  float64 `json:"start_s"` // seconds since the run started
	End    float64 `json:"end_s"`
	Warmup bool    `json:"warmup"` // excluded from the summary

	Rates
	Backlog int64 `json:"backlog"` // published x subscriptions - consumed, so far
	// Batches counts producer batches acknowledged (Kafka targets; 0
	// where the driver has no batches).
	Batches   int64   `json:"batches"`
	BatchRate float64 `json:"batches_per_s"`

	PublishLatency Percentiles `json:"publish_latency_us"`
	PublishDelay   Percentiles `json:"publish_delay_us"`
	EndToEnd       Percentiles `json:"end_to_end_latency_us"`

	// Consumer is what the consumers' processing model did during the
	// interval, when the workload has one (its consumer section).
	Consumer *ConsumerOutcome `json:"consumer,omitempty"`
}

// ConsumerOutcome counts how consumed messages ended under the workload's
// consumer processing model: processed, or dead-lettered (or discarded,
// without a dead-letter destination) after their retries. In a Summary the
// counts cover the whole run, warmup included, so that the balance check
// sees every message; the rates are over the measured time. In an Interval
// they are the interval's events.
type ConsumerOutcome struct {
	Commit string `json:"commit"` // "before" (at-most-once) or "after" (at-least-once) processing
	// Distinct counts distinct messages received, per subscription;
	// Redelivered counts receipts of a message already received (at
	// least once: a crash or rebalance before the commit).
	Distinct    int64 `json:"consumed_distinct"`
	Redelivered int64 `json:"redelivered"`
	// Processed, DeadLettered and Discarded count distinct messages by how
	// they first ended; a redelivered message processed again counts once.
	Processed      int64   `json:"processed"`
	ProcessedRate  float64 `json:"processed_msgs_per_s"`
	Retried        int64   `json:"retried"` // processing attempts after a message's first
	DeadLettered   int64   `json:"dead_lettered"`
	DeadLetterRate float64 `json:"dead_lettered_msgs_per_s"`
	Discarded      int64   `json:"discarded"` // exhausted their retries with deadLetter off
	// Unfinished is consumed_distinct - processed - dead_lettered -
	// discarded: messages received that never ended (commit before
	// processing and a crash: lost). Balanced is Unfinished == 0, the
	// check that every consumed message ended processed or
	// dead-lettered (Summary only).
	Unfinished int64 `json:"unfinished"`
	Balanced   bool  `json:"balanced"`
	// Crashes counts consumer crashes injected (loadgen.Control); the
	// notes say when, and when each replacement started.
	Crashes int `json:"crashes,omitempty"`
}

// Summary totals a run's measured (non-warmup) intervals.
type Summary struct {
	Mode string `json:"mode"` // "open" (constant rate) or "closed" (max throughput)
	// TargetRate is the configured rate, msg/s (0 in closed loop).
	TargetRate     int     `json:"target_rate"`
	Seconds        float64 `json:"seconds"`         // measured publishing time
	ConsumeSeconds float64 `json:"consume_seconds"` // measured time including the drain

	Sent int64 `json:"sent"`
	Rates
	BacklogMax int64   `json:"backlog_max"`
	Batches    int64   `json:"batches"`
	BatchRate  float64 `json:"batches_per_s"`
	// BatchMessages is the mean messages per batch, published / batches.
	BatchMessages float64 `json:"messages_per_batch"`
	BacklogEnd    int64   `json:"backlog_end"` // what the consumers never received
	// DataLoss counts the times a consumer client reported records lost:
	// the broker told it the next offset after what it had read was out
	// of range (franz-go's ErrDataLoss). A correct broker never causes it;
	// gale run counts it as a violated guarantee ("data-loss").
	DataLoss int64 `json:"data_loss,omitempty"`

	PublishLatency Percentiles `json:"publish_latency_us"`
	PublishDelay   Percentiles `json:"publish_delay_us"`
	EndToEnd       Percentiles `json:"end_to_end_latency_us"`

	// Replay is the replay test's outcome, when the workload asked for a
	// backlog.
	Replay *Replay `json:"replay,omitempty"`
	// Consumer is the consumer processing model's outcome, when the
	// workload has one.
	Consumer *ConsumerOutcome `json:"consumer,omitempty"`

	// Status is "ok", "errors" (some sends or receives failed; the run
	// went on and ended normally) or "interrupted" (cancelled, as by
	// Ctrl-C; results up to then).
	Status string   `json:"status"`
	Notes  []string `json:"notes,omitempty"`
}

// Percentiles summarises one latency histogram, in microseconds.
type Percentiles struct {
	Count int64   `json:"count"`
	Mean  float64 `json:"mean"`
	P50   float64 `json:"p50"`
	P75   float64 `json:"p75"`
	P90   float64 `json:"p90"`
	P95   float64 `json:"p95"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p99.9"`
	P9999 float64 `json:"p99.99"`
	Max   float64 `json:"max"`
}

// Replay reports a replay (backlog) test: consumers started once the
// backlog was built, read from the earliest offset while producers went
// on, and caught up when the backlog fell to 1% of what it was.
type Replay struct {
	BacklogBytes    int64   `json:"backlog_bytes"`    // asked for
	BacklogMessages int64   `json:"backlog_messages"` // when consumers started
	StartedAt       float64 `json:"consumers_started_s"`
	CaughtUp        bool    `json:"caught_up"`
	CaughtUpAt      float64 `json:"caught_up_s"`
	CatchUpSeconds  float64 `json:"catch_up_seconds"`
	CatchUpRate     float64 `json:"catch_up_msgs_per_s"` // consumed during the catch-up / its duration
}

// MaxRateResult is what the max-sustainable-rate search found, and how.
type MaxRateResult struct {
	// Rate is the highest rate that held, msg/s; 0 if none did.
	Rate      int         `json:"rate"`
	Criterion string      `json:"criterion"`
	Probes    []RateProbe `json:"probes"`
	// Decision says in words how the search ended.
	Decision string `json:"decision"`
}

// RateProbe is one probe of the search.
type RateProbe struct {
	Rate     int     `json:"rate"` // 0: the closed-loop probe
	Achieved float64 `json:"publish_msgs_per_s"`
	P99      float64 `json:"p99_us"`
	Backlog  int64   `json:"backlog_end"`
	Errors   int64   `json:"errors"`
	Held     bool    `json:"held"`
	Reason   string  `json:"reason"`
}

// FaultWindow is one injected fault on a run's timeline.
type FaultWindow struct {
	// Fault is the fault as the scenario file spells it, e.g.
	// "{at: 10s, kill: broker, restart_after: 2s}".
	Fault string `json:"fault"`
	Kind  string `json:"kind"` // kill, pause, latency, partition, power-loss, ...
	// Start and End are seconds since the run started (End == Start for
	// an instant fault with nothing to undo).
	Start float64 `json:"start_s"`
	End   float64 `json:"end_s"`
	// Error is set when the fault could not be injected or undone.
	Error string `json:"error,omitempty"`
}

// CheckResult is the verdict on a recorded history (package
// linearizability), as gale run records it.
type CheckResult struct {
	History string `json:"history"` // the history file, relative to results.json
	Expect  string `json:"expect"`  // at-most-once, at-least-once, exactly-once, linearizable
	// Verdict is "ok", "violated" or "undecided" (the checker timed out).
	Verdict    string `json:"verdict"`
	Operations int    `json:"operations"`
	// Anomalies counts each anomaly kind found (lost-write, duplicate,
	// ...), whether or not the expectation forbids it.
	Anomalies map[string]int `json:"anomalies,omitempty"`
	// Violations lists the anomaly kinds (and "nonlinearizable") that
	// break the expectation; empty when the verdict is ok.
	Violations []string `json:"violations,omitempty"`
}

// ScenarioResult is what gale run adds to results.json.
type ScenarioResult struct {
	Name string `json:"name"`
	Seed uint64 `json:"seed"`
	// Thresholds are the scenario's thresholds, evaluated.
	Thresholds []ThresholdResult `json:"thresholds,omitempty"`
	// ExpectViolation names what the scenario expects to be violated
	// (e.g. "lost-write" for power loss under flush=never); then finding
	// it is the pass.
	ExpectViolation string `json:"expect_violation,omitempty"`
	// Verdict is "pass", "threshold" (a threshold breached), "violation"
	// (a guarantee violated), "undecided" or "interrupted"; ExitCode is
	// gale run's exit code for it (0, 1, 3, 4).
	Verdict  string `json:"verdict"`
	ExitCode int    `json:"exit_code"`
	// Notes explain the verdict in words, one line each.
	Notes []string `json:"notes,omitempty"`
}

// ThresholdResult is one threshold of a scenario, evaluated: Metric (see
// Metric) must be at least Min and at most Max, where set.
type ThresholdResult struct {
	Metric string   `json:"metric"`
	Min    *float64 `json:"min,omitempty"`
	Max    *float64 `json:"max,omitempty"`
	Value  float64  `json:"value"`
	Held   bool     `json:"held"`
}

// WriteFile writes r as indented JSON to path.
func (r *Results) WriteFile(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// ReadFile reads a results.json. Errors name the file and match
// ErrResults, except that a file that cannot be opened returns the
// os error (wrapped, naming the file).
func ReadFile(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	r, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// Decode parses a results.json's contents.
func Decode(b []byte) (*Results, error) {
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrResults, err)
	}
	switch {
	case r.SchemaVersion == 0:
		return nil, fmt.Errorf("%w: no schema_version (not a gale results file?)", ErrResults)
	case r.SchemaVersion > SchemaVersion:
		return nil, fmt.Errorf("%w: schema_version %d is newer than this gale's (%d)", ErrResults, r.SchemaVersion, SchemaVersion)
	}
	return &r, nil
}

// WorkloadName returns the workload's name, or "" if it has none.
func (r *Results) WorkloadName() string {
	var w struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(r.Workload, &w)
	return w.Name
}

// Run is one measured run found in a Results (see Results.Runs).
type Run struct {
	// Path names the run within its file, and prefixes its metric names:
	// "" for a file's one run, "<field>=<value>" for a run of a sweep,
	// "<phase>" for a phase's run, "<phase>/<field>=<value>" for a run of
	// a phase's sweep.
	Path      string
	Intervals []Interval
	Summary   *Summary
	// Owner is the Results the run belongs to (its target, workload,
	// faults and check).
	Owner *Results
}

// Runs returns every measured run in r, in order: r's own (when it has a
// Summary), each run of its sweep, then the same for each phase.
func (r *Results) Runs() []Run {
	var out []Run
	r.appendRuns(&out, "")
	return out
}

func (r *Results) appendRuns(out *[]Run, prefix string) {
	join := func(a, b string) string {
		if a == "" {
			return b
		}
		return a + "/" + b
	}
	if r.Summary != nil {
		*out = append(*out, Run{Path: prefix, Intervals: r.Intervals, Summary: r.Summary, Owner: r})
	}
	if r.Sweep != nil {
		for i := range r.Sweep.Runs {
			run := &r.Sweep.Runs[i]
			*out = append(*out, Run{Path: join(prefix, r.Sweep.Field+"="+run.Value), Intervals: run.Intervals, Summary: &run.Summary, Owner: r})
		}
	}
	for i := range r.Phases {
		p := &r.Phases[i]
		name := p.Phase
		if name == "" {
			name = fmt.Sprintf("phase%d", i+1)
		}
		p.appendRuns(out, join(prefix, name))
	}
}
