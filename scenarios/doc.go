// Package scenarios reads scenario files and runs them: a target, a
// workload, a fault schedule, the checks on the recorded history and the
// thresholds on the measured figures, with a verdict at the end. Load
// goes through loadgen, faults through sim, the history through
// linearizability, results through reports. The canned scenarios
// (quickstart, kill-broker, power-loss-flush-never, ...) are embedded in
// the binary (Canned, LoadCanned).
//
// # Format
//
// A scenario is one YAML mapping (README, "Scenario files", documents it with
// examples):
//
//	name: kill-broker                 # required; names out/<name>
//	description: one line for gale run --list
//	seed: 42                          # faults, keys, payloads; --seed overrides
//	target: {broker: subprocess, flush: never}
//	workload: {partitionsPerTopic: 4, messageSize: 100, rate: 2000, duration: 25s}
//	faults:
//	  - {at: 8s, kill: broker, restart_after: 2s}
//	checks: {expect: at-least-once, linearizable: true, timeout: 60s}
//	thresholds: {publish.p99_us: {max: 20000}, consume.rate_msgs: {min: 1900}}
//	expect_violation: lost-write      # or a list; finding one is the pass
//
// target is {broker: embedded|subprocess, flush: never|interval|always,
// memory: bool, segment_bytes: N, partitions: N} (default embedded,
// flush never), or {url: kafka://...|amqp://...|nats://...}: against a URL
// faults are an error and checks need kafka:// (histories are recorded on
// Kafka targets only). workload is a loadgen workload (OMB's fields and
// gale's), inline or {file: path} relative to the scenario. faults is a
// list of sim faults, printed as they are written, or {random: {every: 15s,
// kinds: {kill: 1, partition: 2}}} expanded from the seed; each fault's at
// counts from the start of the load (warmup included) and must fall within
// the run. checks maps onto linearizability.Check: expect is the delivery
// guarantee (default at-least-once), linearizable: true also runs porcupine
// and counts stale reads and "nonlinearizable" as violations. thresholds
// bound metrics as reports.Metrics names them.
//
// A scenario of several steps gives phases instead of one run:
//
//	phases:
//	  - {name: sweep, sweep: {field: batch.maxMessages, values: [1, 10, 100]}, duration: 4s}
//	  - {name: latency, rate: 50% of max, duration: 10s}
//	  - {name: kill, rate: 2000, duration: 20s, history: true, faults: [...]}
//
// A phase is the scenario's workload with the phase's workload fields laid
// over it (mappings such as batch merge, other values replace), plus its own
// name, faults and history. rate: "P% of max" is P% of the highest publish
// rate an earlier phase measured. The scenario's checks judge each phase with
// history: true; top-level faults are not allowed with phases. Thresholds
// name a phase's metrics "<phase>/<metric>", a sweep's run
// "<phase>/<field>=<value>/<metric>".
//
// Parsing is strict: an unknown field, a value of the wrong type, a fault
// the target cannot inject, a fault at or past the end of its run, an
// unknown metric or phase is an *Error naming the file, line and field
// (ErrScenario; gale run exits 2).
//
// # Running
//
// Run starts the target under sim.Env (a fault proxy in front of the
// broker), runs each phase through loadgen against it, plays the faults on
// the run's clock from loadgen's OnStart, records the history to
// <out>/history[-<phase>].jsonl when checks need it, checks it, evaluates
// the thresholds and writes <out>/results.json (reports.Results with
// Scenario, Faults and Check set). Verdicts, worst first: interrupted
// (exit 4), violation (3; also an expected violation not found),
// undecided (4: a check timed out, a fault failed), threshold (1), pass (0).
//
// # Concurrency
//
// A Scenario is read-only after parsing and may be run several times, or
// concurrently into different output directories. Run calls Options.Progress
// from loadgen's goroutine and Options.Logf from its own and the
// simulator's goroutines, one call at a time.
package scenarios
