// Package reports reads results files and writes report.md, report.html and
// plots (throughput by batch size, latency percentile spectrum, throughput
// and p99 over time with fault windows shaded).
//
// The package holds no code yet (issue 7).
package reports
