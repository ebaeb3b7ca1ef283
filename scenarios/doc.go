// Package scenarios reads scenario files (target, workload, fault schedule,
// checks, thresholds) and runs them: load through loadgen, faults through
// sim, the recorded history through linearizability, results through
// reports. The canned scenarios (quickstart, kill-broker, power-loss, ...)
// are embedded in the binary.
//
// The package holds no code yet (issue 6).
package scenarios
