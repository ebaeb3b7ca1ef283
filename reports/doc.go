// Package reports owns the results.json schema (Results, read with ReadFile
// and written with WriteFile), the metric names that scenario thresholds and
// the gate share (Metrics), and the reports made from results files:
// report.md, report.html and plots (throughput by batch size, latency
// percentile spectrum, throughput and p99 over time with fault windows
// shaded).
//
// reports reads results files only, never broker or loadgen internals, so it
// judges any broker alike; loadgen writes its results as these types.
//
// Results values are plain data: safe to read from several goroutines, not
// to change while others read them.
package reports
