package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"gale/bench"
	"gale/reports"
)

func init() {
	register(command{"gate", "fail CI on a throughput, latency or guarantee regression against a baseline", runGate})
}

func runGate(args []string) int {
	return gateMain(args, os.Stdout, os.Stderr)
}

// fileArgs is a repeatable flag of files, directories or globs (each
// value may hold several, comma-separated; bench.Expand reads them).
type fileArgs []string

func (f *fileArgs) String() string { return strings.Join(*f, ",") }

func (f *fileArgs) Set(s string) error {
	*f = append(*f, s)
	return nil
}

func gateMain(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("gate", "--baseline FILE... --current FILE... [flags]\n\n"+
		"Compares repeated runs (results.json files of gale loadgen or gale run) with a baseline:\n"+
		"per metric, the medians with a tolerance and, with 5 or more runs a side, a two-sided\n"+
		"Mann-Whitney U test; a regression must both exceed the tolerance and be significant.\n"+
		"FILE is a results file, a directory (every *.json beneath it) or a glob; repeat the\n"+
		"flag or separate with commas. Metrics default to "+strings.Join(bench.DefaultMetrics, ", ")+"\n"+
		"of every run in a file (sweeps and phases too).\n"+
		"Exit 0 pass, 1 regression, 3 a guarantee violated in a current run, 2 usage error,\n"+
		"unreadable input or no metric in common.")
	fs.SetOutput(stderr)
	var baseline, current fileArgs
	fs.Var(&baseline, "baseline", "baseline results: `FILE`s, directories or globs (repeatable, comma-separated)")
	fs.Var(&current, "current", "current results: `FILE`s, directories or globs (repeatable, comma-separated)")
	tolerance := fs.String("tolerance", "10%", "how far a median may move the worse way before it is a regression, a `percentage`")
	metrics := fs.String("metrics", "", "metrics to compare: comma-separated `names` or globs (\"e2e.*\", \"latency/*\"); a name without / matches every run's")
	alpha := fs.Float64("alpha", 0.05, "significance level of the Mann-Whitney U test")
	markdown := fs.String("markdown", "", "write the verdict as Markdown to `FILE` (also appended to $GITHUB_STEP_SUMMARY when set)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 || len(baseline) == 0 || len(current) == 0 {
		fmt.Fprintf(stderr, "gale gate: need --baseline and --current (and no other arguments)\n")
		fs.Usage()
		return exitUsage
	}
	opts := bench.Options{Alpha: *alpha}
	var err error
	if opts.Tolerance, err = bench.ParseTolerance(*tolerance); err != nil {
		fmt.Fprintf(stderr, "gale gate: --tolerance: %v\n", err)
		return exitUsage
	}
	for _, m := range strings.Split(*metrics, ",") {
		if m = strings.TrimSpace(m); m != "" {
			opts.Metrics = append(opts.Metrics, m)
		}
	}
	base, _, err := loadSide(baseline)
	if err != nil {
		fmt.Fprintf(stderr, "gale gate: baseline: %v\n", err)
		return exitUsage
	}
	cur, curFiles, err := loadSide(current)
	if err != nil {
		fmt.Fprintf(stderr, "gale gate: current: %v\n", err)
		return exitUsage
	}
	opts.CurrentNames = curFiles
	v, err := bench.Compare(base, cur, opts)
	if err != nil {
		fmt.Fprintf(stderr, "gale gate: %v\n", err)
		return exitUsage
	}
	if err := v.WriteText(stdout); err != nil {
		fmt.Fprintf(stderr, "gale gate: %v\n", err)
		return exitUsage
	}
	if err := writeMarkdown(v, *markdown, os.Getenv("GITHUB_STEP_SUMMARY")); err != nil {
		fmt.Fprintf(stderr, "gale gate: %v\n", err)
		return exitUsage
	}
	switch v.Outcome {
	case bench.Violation:
		return exitViolation
	case bench.Regression:
		return exitThreshold
	}
	return exitOK
}

// loadSide reads one side's results and returns them with their paths.
func loadSide(args []string) ([]*reports.Results, []string, error) {
	files, err := bench.Expand(args)
	if err != nil {
		return nil, nil, err
	}
	rs, err := bench.Load(files)
	return rs, files, err
}

// writeMarkdown writes the verdict to file (when named) and appends it to
// summary (GitHub's step summary file, when set).
func writeMarkdown(v *bench.Verdict, file, summary string) error {
	if file == "" && summary == "" {
		return nil
	}
	var md bytes.Buffer
	if err := v.WriteMarkdown(&md); err != nil {
		return err
	}
	if file != "" {
		if err := os.WriteFile(file, md.Bytes(), 0o644); err != nil {
			return err
		}
	}
	if summary != "" {
		f, err := os.OpenFile(summary, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("GITHUB_STEP_SUMMARY: %w", err)
		}
		_, err = f.Write(append(md.Bytes(), '\n'))
		return errors.Join(err, f.Close())
	}
	return nil
}
