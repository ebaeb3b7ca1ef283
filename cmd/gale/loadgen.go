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
	"time"

	"gale/loadgen"
)

func init() {
	register(command{"loadgen", "drive a workload against a broker and measure throughput and latency", runLoadgen})
}

func runLoadgen(args []string) int {
	fs := newFlags("loadgen", "--target URL --workload FILE [flags]\n\n"+
		"Runs an OpenMessaging Benchmark workload file (plus gale's fields) against URL:\n"+
		"embedded (gale's broker in-process), kafka://host:port[,host:port],\n"+
		"amqp://user:pass@host:port/, nats://host:port, or null (the harness alone).\n"+
		"Writes results.json (--out) and an HdrHistogram log beside it (.hlog); prints a\n"+
		"live line on stderr each second. Credentials are never printed or recorded.")
	var targets targetList
	fs.Var(&targets, "target", "broker `URL` (required); repeat it to run the workload against each in turn and compare")
	workload := fs.String("workload", "", "workload YAML `FILE` (required)")
	duration := fs.Duration("duration", 0, "measured duration; overrides the workload's")
	rate := fs.Int("rate", 0, "publish rate in msg/s over all producers, 0 for max throughput; overrides the workload's")
	warmup := fs.Duration("warmup", 0, "warmup, excluded from the summary; overrides the workload's")
	out := fs.String("out", "results.json", "results `FILE`; the .hlog goes beside it")
	quiet := fs.Bool("quiet", false, "print no progress lines")
	findMax := fs.Bool("find-max-rate", false, "search for the max sustainable rate (criterion: the workload's findMaxRate, default p99 <= 5ms)")
	seed := fs.Uint64("seed", 0, "random seed (0: from the clock; recorded in results)")
	history := fs.String("history", "", "write the operation history (JSON Lines, for gale check) to `FILE`; kafka and embedded targets only")
	var sec loadgen.Security
	fs.BoolVar(&sec.TLS, "tls", false, "kafka: connect with TLS")
	fs.StringVar(&sec.CAFile, "tls-ca", "", "kafka: PEM CA `FILE` (implies --tls)")
	fs.StringVar(&sec.CertFile, "tls-cert", "", "kafka: PEM client certificate `FILE` (implies --tls)")
	fs.StringVar(&sec.KeyFile, "tls-key", "", "kafka: PEM client key `FILE`")
	fs.StringVar(&sec.SASLMechanism, "sasl", "", "kafka: SASL mechanism PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
	fs.StringVar(&sec.SASLUser, "sasl-user", "", "kafka: SASL user (default $GALE_SASL_USER)")
	fs.StringVar(&sec.SASLPassword, "sasl-password", "", "kafka: SASL password (default $GALE_SASL_PASSWORD, which keeps it out of ps)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if len(targets) == 0 || *workload == "" || fs.NArg() > 0 {
		fs.Usage()
		return exitUsage
	}
	if *history != "" && len(targets) > 1 {
		fmt.Fprintln(os.Stderr, "gale loadgen: --history takes one --target")
		return exitUsage
	}
	if sec.SASLUser == "" {
		sec.SASLUser = os.Getenv("GALE_SASL_USER")
	}
	if sec.SASLPassword == "" {
		sec.SASLPassword = os.Getenv("GALE_SASL_PASSWORD")
	}
	var tgts []loadgen.Target
	for _, t := range targets {
		tgt, err := loadgen.ParseTarget(t)
		if err != nil {
			fmt.Fprintf(os.Stderr, "gale loadgen: %v\n", err)
			return exitUsage
		}
		if *history != "" && tgt.Kind != "kafka" && tgt.Kind != "embedded" {
			fmt.Fprintln(os.Stderr, "gale loadgen: history is recorded for kafka and embedded targets only")
			return exitUsage
		}
		tgts = append(tgts, tgt)
	}
	w, err := loadgen.LoadWorkload(*workload)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gale loadgen: %v\n", err)
		return exitUsage
	}
	if *duration > 0 {
		w.Duration = *duration
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["rate"] {
		w.Rate, w.ProducerRate = *rate, *rate
	}
	if set["warmup"] {
		w.Warmup, w.WarmupDurationMinutes = *warmup, 0
	}
	if *findMax && w.FindMaxRate == nil {
		w.FindMaxRate = &loadgen.FindMaxRate{}
	}
	live := newLive(os.Stderr, *quiet)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var hist *os.File
	if *history != "" {
		if hist, err = os.Create(*history); err != nil {
			fmt.Fprintf(os.Stderr, "gale loadgen: %v\n", err)
			return exitUsage
		}
		defer hist.Close()
	}
	var all []*loadgen.Results
	for i, tgt := range tgts {
		path := *out
		if len(tgts) > 1 {
			path = loadgen.ComparePath(*out, i, tgt)
		}
		cfg := loadgen.Config{Target: tgt, Security: sec, Workload: w, Seed: *seed}
		if hist != nil {
			cfg.History = hist // not a nil *os.File in an interface
		}
		res, code := runTarget(ctx, live, cfg, path)
		if code != exitOK {
			return code
		}
		all = append(all, res)
		if ctx.Err() != nil {
			break
		}
	}
	if len(all) > 1 {
		fmt.Print(loadgen.CompareTable(all))
	}
	return exitOK
}

// live prints progress on stderr: a line per interval rewritten in place
// on a terminal, a plain line every 5 s otherwise, nothing when quiet.
type live struct {
	w     *os.File
	quiet bool
	tty   bool
	last  time.Time
	open  bool // a terminal line awaits its newline
}

func newLive(w *os.File, quiet bool) *live {
	st, err := w.Stat()
	return &live{w: w, quiet: quiet, tty: err == nil && st.Mode()&os.ModeCharDevice != 0}
}

func (l *live) progress(_ string, iv loadgen.Interval) {
	switch {
	case l.quiet:
	case l.tty:
		fmt.Fprintf(l.w, "\r\033[K%s", loadgen.ProgressLine(iv))
		l.open = true
	case time.Since(l.last) >= 5*time.Second:
		l.last = time.Now()
		fmt.Fprintln(l.w, loadgen.ProgressLine(iv))
	}
}

func (l *live) logf(format string, args ...any) {
	if l.quiet {
		return
	}
	l.end()
	fmt.Fprintf(l.w, format+"\n", args...)
}

// end finishes a terminal line left open.
func (l *live) end() {
	if l.open {
		fmt.Fprintln(l.w)
		l.open = false
	}
}

// runTarget runs one target, writes its results to out and the .hlog
// beside it, and prints the summary.
func runTarget(ctx context.Context, live *live, cfg loadgen.Config, out string) (*loadgen.Results, int) {
	w := cfg.Workload
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "gale loadgen: %v\n", err)
		return nil, exitUsage
	}
	var hlogs []*os.File
	defer func() {
		for _, f := range hlogs {
			f.Close()
		}
	}()
	cfg.Progress, cfg.Logf = live.progress, live.logf
	cfg.HistogramLog = func(i int) (io.Writer, error) {
		f, err := os.Create(loadgen.HistogramLogPath(out, i, w.Sweep != nil || w.FindMaxRate != nil))
		if err == nil {
			hlogs = append(hlogs, f)
		}
		return f, err
	}
	if version != "dev" {
		cfg.Commit = version
	}
	res, err := loadgen.Run(ctx, cfg)
	live.end()
	if err != nil {
		fmt.Fprintf(os.Stderr, "gale loadgen: %v\n", err)
		return nil, exitUsage
	}
	if err := res.WriteFile(out); err != nil {
		fmt.Fprintf(os.Stderr, "gale loadgen: %v\n", err)
		return nil, exitUsage
	}
	if res.Summary != nil {
		fmt.Println(loadgen.SummaryLine(res.Target+" "+res.WorkloadName(), *res.Summary))
	}
	if res.Sweep != nil {
		for _, r := range res.Sweep.Runs {
			fmt.Println(loadgen.SummaryLine(r.Name, r.Summary))
		}
	}
	if res.MaxRate != nil {
		fmt.Println("max sustainable rate:", res.MaxRate.Decision)
	}
	fmt.Printf("results in %s\n", out)
	if f, ok := cfg.History.(*os.File); ok {
		fmt.Printf("history in %s\n", f.Name())
	}
	return res, exitOK
}

// targetList is a repeatable --target.
type targetList []string

func (t *targetList) String() string { return strings.Join(*t, " ") }

func (t *targetList) Set(s string) error {
	*t = append(*t, s)
	return nil
}
