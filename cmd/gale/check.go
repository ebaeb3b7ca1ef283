package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"gale/linearizability"
)

func init() {
	register(command{"check", "judge a recorded history: linearizability and delivery anomalies", runCheck})
}

func runCheck(args []string) int {
	return checkMain(args, os.Stdin, os.Stdout, os.Stderr)
}

func checkMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := newFlags("check", "[flags] HISTORY.jsonl\n\n"+
		"Checks a JSON Lines history of produce, fetch, commit and fetch_committed operations\n"+
		"(see README): porcupine linearizability per topic-partition, and a linear pass naming\n"+
		"anomalies with their history lines. HISTORY may be - for standard input.\n"+
		"Exit 0 valid, 3 a violation of the expected guarantee, 4 undecided (the search timed\n"+
		"out), 2 usage error or unreadable input.")
	fs.SetOutput(stderr)
	timeout := fs.Duration("timeout", linearizability.DefaultTimeout, "time allowed for the linearizability search, all partitions together")
	htmlFile := fs.String("html", "", "write porcupine's visualisation of the violating partitions to `FILE`")
	asJSON := fs.Bool("json", false, "print the result as JSON instead of a summary")
	expect := fs.String("expect", linearizability.Linearizable.String(),
		"the `guarantee` to hold the history to: at-most-once, at-least-once, exactly-once or linearizable")
	var files []string
	for {
		if code, ok := parseFlags(fs, args); !ok {
			return code
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0)) // flags may follow the file
		args = fs.Args()[1:]
	}
	if len(files) != 1 {
		fs.Usage()
		return exitUsage
	}
	g, err := linearizability.ParseGuarantee(*expect)
	if err != nil {
		fmt.Fprintf(stderr, "gale check: %v\n", err)
		return exitUsage
	}
	if *timeout <= 0 {
		fmt.Fprintf(stderr, "gale check: --timeout must be positive\n")
		return exitUsage
	}

	ops, err := readHistory(files[0], stdin)
	if err != nil {
		fmt.Fprintf(stderr, "gale check: %s: %v\n", files[0], err)
		return exitUsage
	}
	res, err := linearizability.Check(ops, linearizability.Options{Expect: g, Timeout: *timeout})
	if err != nil {
		fmt.Fprintf(stderr, "gale check: %v\n", err)
		return exitUsage
	}
	if *htmlFile != "" {
		writeHTML(res, *htmlFile, stderr)
	}
	if *asJSON {
		err = res.WriteJSON(stdout)
	} else {
		err = res.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "gale check: %v\n", err)
		return exitUsage
	}
	switch res.Verdict {
	case linearizability.Violation:
		return exitViolation
	case linearizability.Undecided:
		return exitUndecided
	}
	return exitOK
}

func readHistory(name string, stdin io.Reader) ([]linearizability.Op, error) {
	if name == "-" {
		return linearizability.ReadHistory(stdin)
	}
	return linearizability.ReadFile(name)
}

// writeHTML writes the visualisation when there is a violation to show; it
// only reports problems, since the verdict stands either way.
func writeHTML(res *linearizability.Result, name string, stderr io.Writer) {
	if res.Verdict != linearizability.Violation {
		fmt.Fprintf(stderr, "gale check: no violation, so no %s written\n", name)
		return
	}
	f, err := os.Create(name)
	if err != nil {
		fmt.Fprintf(stderr, "gale check: %v\n", err)
		return
	}
	err = res.WriteHTML(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	switch {
	case errors.Is(err, linearizability.ErrNothingToShow):
		os.Remove(name)
		fmt.Fprintf(stderr, "gale check: the violations involve no produce or fetch to visualise; no %s written\n", name)
	case err != nil:
		fmt.Fprintf(stderr, "gale check: %s: %v\n", name, err)
	default:
		fmt.Fprintf(stderr, "gale check: wrote %s\n", name)
	}
}
