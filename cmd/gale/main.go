// Command gale is a benchmark and simulation harness for message brokers,
// with its own Kafka-compatible reference broker. This package only wires
// flags to the packages that do the work.
//
// Exit codes, shared by every subcommand:
//
//	0  all holds
//	1  a performance threshold or regression failed
//	2  usage error or unreadable input
//	3  a delivery guarantee was violated
//	4  undecided (a checker timed out)
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// Exit codes (see the package doc).
const (
	exitOK        = 0
	exitThreshold = 1
	exitUsage     = 2
	exitViolation = 3
	exitUndecided = 4
)

// command is one subcommand: run gets the arguments after its name and
// returns the exit code.
type command struct {
	name    string
	summary string
	run     func(args []string) int
}

var commands []command

func register(c command) { commands = append(commands, c) }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return exitOK
	case "-version", "--version", "version":
		fmt.Fprintln(stdout, versionString())
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(args[1:])
		}
	}
	fmt.Fprintf(stderr, "gale: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, `gale: benchmark, fault-inject and check message brokers.

Usage:
  gale <command> [flags]

Commands:`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, `  version    print gale's version

Run 'gale <command> --help' for a command's flags.
Exit codes: 0 ok, 1 threshold or regression, 2 usage or unreadable input,
3 guarantee violated, 4 undecided.`)
}

// newFlags makes a flag set that reports errors instead of exiting, with a
// usage text that starts with synopsis.
func newFlags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet("gale "+name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: gale %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args; it returns an exit code and false when the
// command should stop (help asked for, or a usage error). Help asked for
// goes to stdout; usage after an error stays on the flag set's output.
func parseFlags(fs *flag.FlagSet, args []string) (int, bool) {
	if wantsHelp(args) {
		fs.SetOutput(os.Stdout)
	}
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK, false
	}
	if err != nil {
		return exitUsage, false // the flag package printed the error and usage
	}
	return exitOK, true
}

// wantsHelp reports whether args ask for help, which then goes to stdout.
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help", "--h":
			return true
		}
	}
	return false
}
