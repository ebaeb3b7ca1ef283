// Package reports owns the results.json schema (Results, read with ReadFile
// and written with WriteFile), the metric names that scenario thresholds and
// the gate share (Metrics), and the reports made from results files.
//
// Generate writes a report into a directory: report.md (GitHub-flavoured
// Markdown that fits a CI step summary), report.html (one self-contained
// page: plots embedded as SVG data: URIs, inline style, no scripts, no
// request of its own) and each plot as PNG and SVG, drawn with gonum/plot:
//
//   - throughput against the swept value for a sweep (msg/s and MB/s; a log
//     x axis for batch sizes),
//   - the latency percentile spectrum (x = percentile on a log 1/(1-p) axis,
//     as HdrHistogram plots it), from the summaries' percentiles, or from
//     .hlog files merged across machines (ReadHistogramLogs),
//   - throughput and p99 over time for each run, warmup and fault windows
//     shaded and labelled,
//   - side-by-side bars of msg/s and p99 when several inputs are compared.
//
// A plot is drawn only where the data is there. Several inputs make one
// report, one section each, after a comparison. The content is built once as
// blocks (content.go) and then written as Markdown and as HTML, so the two
// always agree. WriteSummary prints a one-screen text summary.
//
// reports reads results files only, never broker or loadgen internals, so it
// judges any broker alike; loadgen writes its results as these types.
//
// Results values are plain data: safe to read from several goroutines, not
// to change while others read them. Generate does not change its inputs and
// may run concurrently for different directories; it keeps no global state
// (gonum/plot's defaults are left alone: every plot sets its own styles).
package reports
