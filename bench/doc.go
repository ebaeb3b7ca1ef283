// Package bench compares a current run's results with a baseline and
// decides whether a pipeline should fail (medians with a tolerance, and a
// Mann-Whitney U test with enough runs), and holds whole-system benchmarks.
//
// The package holds no code yet (issue 7). Component benchmarks live beside
// their packages (go test -bench, see the Makefile's bench target).
package bench
