// Package bench is gale's regression gate: it compares repeated runs of a
// current build with repeated runs of a baseline and decides whether a CI
// pipeline should fail (gale gate).
//
// Contract. Compare takes each side as a set of results files
// (reports.Results, one run of the same workload or scenario each) and, for
// every selected metric present on both sides (reports.Metrics names;
// DefaultMetrics unless Options.Metrics says otherwise, prefixed forms of
// sweeps and phases included), compares the medians of the two sides:
//
//   - a change in the worse direction (reports.HigherIsBetter) by more
//     than Options.Tolerance (10%) is a regression, an equal change the
//     other way an improvement;
//   - when both sides have Options.MinRuns (5) runs or more, the change
//     must also be significant under a two-sided Mann-Whitney U test
//     (p < Options.Alpha, 0.05); a change beyond the tolerance that is not
//     significant is judged Noise and passes. With fewer runs the
//     tolerance alone decides, and the verdict says "n<5: tolerance only".
//
// Requiring both guards against the two ways a gate goes wrong on a noisy
// machine: the tolerance ignores differences too small to matter even
// when they are real (the U test finds 2% with enough runs), and the U
// test ignores a moved median that the spread of the runs explains (one
// slow outlier run). Improvements never fail.
//
// Independently of the metrics, a current run whose scenario verdict is
// "violation" or whose check (its own or a phase's) is "violated" makes
// the outcome Violation, except under a scenario that expected the
// violation and passed (ExpectViolation set, verdict "pass"). Violations
// in the baseline are noted, not gated.
//
// MannWhitney computes the test itself: exactly (the distribution of U
// counted by recursion) without ties and up to 60 values, otherwise by the
// normal approximation with tie and continuity corrections, as
// scipy.stats.mannwhitneyu does. Expand and Load read the command line's
// files, directories and globs. Verdict prints as a plain table (WriteText)
// and as Markdown for a CI step summary (WriteMarkdown).
//
// Everything here is pure and deterministic apart from Expand and Load,
// which read the file system; no type holds shared state, and a Verdict is
// safe to read from several goroutines once Compare has returned it.
// Component benchmarks live beside their packages (go test -bench; see the
// Makefile's bench target).
package bench
