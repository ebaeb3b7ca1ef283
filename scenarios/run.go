package scenarios

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"gale/loadgen"
	"gale/reports"
	"gale/sim"
)

// Options configure Run. The zero value runs with the scenario's seed,
// writes to out/<name>, and prints nothing.
type Options struct {
	// Seed, when SeedSet, overrides the scenario's seed.
	Seed    uint64
	SeedSet bool
	// Out is the output directory: results.json, history*.jsonl, the
	// .hlog files. Default out/<scenario name>.
	Out string
	// Progress, when set, is called after every interval of every run,
	// with the phase (and sweep run) it belongs to.
	Progress func(run string, iv loadgen.Interval)
	// Logf, when set, receives a line per notable step: the seed, each
	// phase, each fault injected and healed.
	Logf func(format string, args ...any)
	// Binary is the gale executable a subprocess broker runs. Default:
	// this process's executable.
	Binary string
	// Commit is the gale commit recorded in results. Default: the build's.
	Commit string
}

// ResultsFile is the name of the results file Run writes in Options.Out.
const ResultsFile = "results.json"

// Run runs s: it starts the target under the simulator, runs each phase
// (or the one run) through loadgen with its faults played on the run's
// clock, checks the recorded histories, evaluates the thresholds, decides
// the verdict and writes results.json. It returns an error only when the
// run could not start (the target, the output directory); a cancelled ctx
// (Ctrl-C) ends the run early, undoes the faults in play, and still writes
// results, with the verdict "interrupted". The verdict is in
// Results.Scenario.
func Run(ctx context.Context, s *Scenario, opts Options) (*reports.Results, error) {
	r := &runner{s: s, opts: opts, seed: s.Seed}
	if opts.SeedSet {
		r.seed = opts.Seed
	} else if !s.HasSeed {
		r.seed = uint64(time.Now().UnixNano())
	}
	if r.opts.Out == "" {
		r.opts.Out = filepath.Join("out", s.Name)
	}
	if r.opts.Logf == nil {
		r.opts.Logf = func(string, ...any) {}
	}
	if err := os.MkdirAll(r.opts.Out, 0o755); err != nil {
		return nil, fmt.Errorf("scenarios: %w", err)
	}
	r.logf("scenario %s: seed %d (rerun with --seed %d), target %s, results in %s", s.Name, r.seed, r.seed, s.Target, r.opts.Out)
	if err := r.start(ctx); err != nil {
		return nil, err
	}
	res := r.runAll(ctx)
	if err := r.stop(); err != nil {
		r.logf("stopping the broker: %v", err)
	}
	res.Scenario = decide(s, res, ctx.Err() != nil)
	res.Scenario.Seed = r.seed
	if err := res.WriteFile(filepath.Join(r.opts.Out, ResultsFile)); err != nil {
		return res, fmt.Errorf("scenarios: %w", err)
	}
	return res, nil
}

// runner holds one Run's state. Its methods run on Run's goroutine.
type runner struct {
	s    *Scenario
	opts Options
	seed uint64
	env  *sim.Env
	// mu serialises Logf, Progress and broker.log: the simulator logs
	// from its own goroutines.
	mu        sync.Mutex
	brokerLog *os.File
	ctl       control
}

func (r *runner) logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.opts.Logf(format, args...)
}

// runAll runs the single run or the phases, and assembles the results.
func (r *runner) runAll(ctx context.Context) *reports.Results {
	s := r.s
	if len(s.Phases) == 0 {
		res := r.runPhase(ctx, 0, Phase{Workload: s.Workload, Faults: s.Faults, History: s.Checks != nil}, nil)
		res.Target = s.Target.String()
		return res
	}
	top := &reports.Results{
		SchemaVersion: reports.SchemaVersion,
		Target:        s.Target.String(),
		Environment:   loadgen.CurrentEnvironment(r.opts.Commit),
		Seed:          r.seed,
	}
	if v, err := s.Workload.Validate(); err == nil {
		top.Workload, _ = json.Marshal(v)
	}
	for i, ph := range s.Phases {
		if ctx.Err() != nil {
			break
		}
		r.logf("phase %d/%d: %s", i+1, len(s.Phases), ph.Name)
		res := r.runPhase(ctx, i, ph, top.Phases)
		res.Phase = ph.Name
		res.Target = top.Target
		top.Phases = append(top.Phases, *res)
	}
	return top
}

// runPhase runs one phase (or a scenario's one run when ph.Name is "").
// Failures become notes in the results, so later phases still run.
func (r *runner) runPhase(ctx context.Context, i int, ph Phase, earlier []reports.Results) *reports.Results {
	w := ph.Workload
	fail := func(err error) *reports.Results {
		r.logf("%s: %v", label(ph.Name), err)
		return &reports.Results{SchemaVersion: reports.SchemaVersion, Seed: r.seed, Summary: &reports.Summary{Status: "errors", Notes: []string{err.Error()}}}
	}
	if ph.RateOfMax > 0 {
		best := maxRate(earlier)
		if best <= 0 {
			return fail(errors.New("no earlier phase measured a publish rate to take a fraction of"))
		}
		w.Rate = max(1, int(ph.RateOfMax*best))
		r.logf("%s: rate %d msg/s (%.0f%% of the max measured, %.0f msg/s)", label(ph.Name), w.Rate, ph.RateOfMax*100, best)
	}
	target, err := r.loadTarget()
	if err != nil {
		return fail(err)
	}
	cfg := loadgen.Config{Target: target, Workload: w, Seed: r.seed, Commit: r.opts.Commit, Logf: r.logf}
	if r.opts.Progress != nil {
		cfg.Progress = func(run string, iv loadgen.Interval) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.opts.Progress(progressLabel(ph.Name, w, run), iv)
		}
	}
	var hlogs []*os.File
	defer func() {
		for _, f := range hlogs {
			f.Close()
		}
	}()
	several := w.Sweep != nil || w.FindMaxRate != nil
	cfg.HistogramLog = func(run int) (io.Writer, error) {
		f, err := os.Create(loadgen.HistogramLogPath(r.path(ph.Name, "results", ".json"), run, several))
		if err == nil {
			hlogs = append(hlogs, f)
		}
		return f, err
	}
	histPath := ""
	if ph.History {
		histPath = r.path(ph.Name, "history", ".jsonl")
		f, err := os.Create(histPath)
		if err != nil {
			return fail(err)
		}
		defer f.Close()
		cfg.History = f
	}
	faults := ph.Faults.For(r.seed + uint64(i))
	if needsControl(faults) {
		cfg.Control = new(loadgen.Control)
		r.ctl.p.Store(cfg.Control)
		defer r.ctl.p.Store(nil)
	}
	play := r.player(faults)
	cfg.OnStart = func(run int, start time.Time) {
		if run == 0 {
			play.start(ctx, start)
		}
	}
	res, err := loadgen.Run(ctx, cfg)
	windows := play.stop()
	if err != nil {
		return fail(err)
	}
	res.Faults = windows
	if ph.History && r.s.Checks != nil && ctx.Err() == nil {
		r.logf("%s: checking the history (%s)", label(ph.Name), r.s.Checks)
		cr, err := r.s.Checks.Judge(histPath, filepath.Base(histPath))
		if err != nil {
			cr = &reports.CheckResult{History: filepath.Base(histPath), Expect: r.s.Checks.String(), Verdict: "undecided"}
			res.Summary.Notes = append(res.Summary.Notes, "check: "+err.Error())
		}
		res.Check = cr
		r.logf("%s: check %s: %s%s", label(ph.Name), cr.Expect, cr.Verdict, anomalyList(cr))
	}
	return res
}

// path names an output file of phase name: out/history.jsonl, or
// out/history-<phase>.jsonl.
func (r *runner) path(phase, base, ext string) string {
	if phase != "" {
		base += "-" + phase
	}
	return filepath.Join(r.opts.Out, base+ext)
}

func label(phase string) string {
	if phase == "" {
		return "run"
	}
	return "phase " + phase
}

func progressLabel(phase string, w loadgen.Workload, run string) string {
	if w.Sweep == nil && w.FindMaxRate == nil {
		run = ""
	}
	switch {
	case phase == "":
		return run
	case run == "":
		return phase
	}
	return phase + "/" + run
}

// maxRate is the highest publish rate any earlier phase measured: a run's
// summary, a sweep's run, or a max-rate search's answer.
func maxRate(earlier []reports.Results) float64 {
	best := 0.0
	for i := range earlier {
		for _, run := range earlier[i].Runs() {
			best = max(best, run.Summary.PublishRate)
		}
		if m := earlier[i].MaxRate; m != nil {
			best = max(best, float64(m.Rate))
		}
	}
	return best
}

func anomalyList(cr *reports.CheckResult) string {
	if len(cr.Anomalies) == 0 {
		return ""
	}
	var parts []string
	for k, n := range cr.Anomalies {
		parts = append(parts, fmt.Sprintf("%s %d", k, n))
	}
	return " (" + strings.Join(sortStrings(parts), ", ") + ")"
}
