package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"

	"gale/reports"
	"gale/scenarios"
)

func init() {
	register(command{"run", "run a scenario: load, faults, checks, thresholds (a file or a canned name)", runRun})
}

func runRun(args []string) int {
	return runMain(context.Background(), args, os.Stdout, os.Stderr)
}

func runMain(ctx context.Context, args []string, stdout io.Writer, stderr *os.File) int {
	fs := newFlags("run", "[flags] SCENARIO\n\n"+
		"Runs a scenario (README, \"Scenario files\"): SCENARIO is a scenario file or the name of\n"+
		"a canned one (--list). Drives its load against its target, injects its faults on the\n"+
		"run's clock, checks the recorded history, evaluates its thresholds, and writes\n"+
		"results.json (and history*.jsonl, *.hlog, the report) to --out. Prints the seed at\n"+
		"the start, a progress line each second, each fault as it is injected and healed,\n"+
		"and a summary. Ctrl-C stops the run, undoes the faults and still writes results.\n"+
		"Exit 0 pass, 1 a threshold breached, 3 a guarantee violated (or an expected\n"+
		"violation not found), 4 undecided or interrupted, 2 an invalid scenario or usage.")
	fs.SetOutput(stderr)
	seed := fs.Uint64("seed", 0, "random seed; overrides the scenario's (the same seed gives the same faults, keys and payloads)")
	out := fs.String("out", "", "output `DIR` (default out/<scenario name>)")
	list := fs.Bool("list", false, "list the canned scenarios and exit")
	quiet := fs.Bool("quiet", false, "print no progress lines")
	var files []string
	for {
		if code, ok := parseFlags(fs, args); !ok {
			return code
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0)) // flags may follow the scenario
		args = fs.Args()[1:]
	}
	if *list {
		return listScenarios(stdout)
	}
	if len(files) != 1 {
		fs.Usage()
		return exitUsage
	}
	s, err := scenarios.Open(files[0])
	if err != nil {
		fmt.Fprintf(stderr, "gale run: %v\n", err)
		return exitUsage
	}
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == "seed" })
	live := newLive(stderr, *quiet)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C kills at once
	}()
	opts := scenarios.Options{
		Seed: *seed, SeedSet: set, Out: *out,
		Progress: live.progress,
		Logf: func(format string, args ...any) {
			if *quiet && strings.HasPrefix(format, "scenario ") { // the seed, even when quiet
				fmt.Fprintf(stderr, format+"\n", args...)
				return
			}
			live.logf(format, args...)
		},
	}
	if version != "dev" {
		opts.Commit = version
	}
	res, err := scenarios.Run(ctx, s, opts)
	live.end()
	if err != nil {
		// An invalid scenario (a fault the started broker cannot inject),
		// a broker that would not start, or results that could not be
		// written (then res holds them).
		fmt.Fprintf(stderr, "gale run: %v\n", err)
		if res == nil {
			return exitUsage
		}
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join("out", s.Name)
	}
	if err := reports.WriteSummary(stdout, res); err != nil {
		fmt.Fprint(stdout, scenarios.Summary(res))
	}
	if rep, err := reports.Generate(dir, []*reports.Results{res}, reports.Options{}); err != nil {
		fmt.Fprintf(stderr, "gale run: report: %v\n", err)
	} else {
		fmt.Fprintf(stdout, "report in %s and %s\n", rep.Markdown, rep.HTML)
	}
	fmt.Fprintf(stdout, "results in %s\n", filepath.Join(dir, scenarios.ResultsFile))
	return res.Scenario.ExitCode
}

// listScenarios prints the canned scenarios with their descriptions.
func listScenarios(stdout io.Writer) int {
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	for _, name := range scenarios.Canned() {
		s, err := scenarios.LoadCanned(name)
		desc := ""
		if err != nil {
			desc = "(invalid: " + err.Error() + ")"
		} else {
			desc = s.Description
		}
		fmt.Fprintf(tw, "%s\t%s\n", name, desc)
	}
	tw.Flush()
	return exitOK
}
