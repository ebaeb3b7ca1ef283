package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gale/reports"
)

func init() {
	register(command{"report", "write report.md, report.html and plots from results files", runReport})
}

func runReport(args []string) int {
	return reportMain(args, os.Stdout, os.Stderr)
}

// fileList is a repeatable flag.
type fileList []string

func (f *fileList) String() string     { return strings.Join(*f, " ") }
func (f *fileList) Set(s string) error { *f = append(*f, s); return nil }

func reportMain(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("report", "RESULTS... [--out DIR] [--hlog FILE...] [--title T]\n\n"+
		"Writes report.md (GitHub-flavoured, fits a CI step summary), report.html (self-contained,\n"+
		"plots embedded) and plots as PNG and SVG: throughput by batch size, the latency percentile\n"+
		"spectrum, throughput and p99 over time with fault windows shaded, and side-by-side bars\n"+
		"when several results files are given (one section each). --hlog merges HdrHistogram logs,\n"+
		"from one or several machines, into one spectrum. Prints a summary and the files written.\n"+
		"Exit 0, or 2 for a usage error or an unreadable input.")
	fs.SetOutput(stderr)
	out := fs.String("out", "", "write the report into `DIR` (default: the first results file's directory)")
	title := fs.String("title", "", "the report's `title` (default: from the scenario or workload names)")
	var hlogs fileList
	fs.Var(&hlogs, "hlog", "an HdrHistogram log `FILE` (.hlog) to merge into the spectrum; repeat it for several")
	skip := fs.Duration("hlog-skip", 0, "leave out each .hlog's intervals that start within this `duration` of its first (the warmup)")
	var files []string
	for {
		if code, ok := parseFlags(fs, args); !ok {
			return code
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0)) // flags may follow the files
		args = fs.Args()[1:]
	}
	if len(files) == 0 && len(hlogs) == 0 {
		fs.Usage()
		return exitUsage
	}
	var inputs []*reports.Results
	for _, f := range files {
		r, err := reports.ReadFile(f)
		if err != nil {
			fmt.Fprintf(stderr, "gale report: %s\n", naming(err, f))
			return exitUsage
		}
		inputs = append(inputs, r)
	}
	dir := *out
	if dir == "" {
		if len(files) > 0 {
			dir = filepath.Dir(files[0])
		} else {
			dir = filepath.Dir(hlogs[0])
		}
	}
	rep, err := reports.Generate(dir, inputs, reports.Options{Title: *title, Names: files, Hlogs: hlogs, HlogSkip: *skip})
	if err != nil {
		fmt.Fprintf(stderr, "gale report: %v\n", err)
		return exitUsage
	}
	if len(inputs) > 0 {
		if err := reports.WriteSummary(stdout, inputs...); err != nil {
			fmt.Fprintf(stderr, "gale report: %v\n", err)
			return exitUsage
		}
	}
	fmt.Fprintln(stdout, "wrote:")
	for _, f := range rep.Files {
		fmt.Fprintln(stdout, "  "+f)
	}
	return exitOK
}

// naming returns err's text, led by the file's name unless it names it
// already.
func naming(err error, name string) string {
	if msg := err.Error(); strings.Contains(msg, name) {
		return msg
	}
	return name + ": " + err.Error()
}
