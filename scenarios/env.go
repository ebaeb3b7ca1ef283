package scenarios

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gale/loadgen"
	"gale/reports"
	"gale/sim"
)

// start starts the target under the simulator (nothing for an external
// target) and checks that it can inject every fault of the scenario.
func (r *runner) start(ctx context.Context) error {
	t := r.s.Target
	if t.External() {
		return nil
	}
	blog, err := os.Create(filepath.Join(r.opts.Out, "broker.log"))
	if err != nil {
		return fmt.Errorf("scenarios: %w", err)
	}
	r.brokerLog = blog
	c := t.envConfig()
	c.Binary, c.Seed, c.Logf = r.opts.Binary, r.seed, r.simLogf
	env, err := sim.NewEnv(ctx, c)
	if err != nil {
		return fmt.Errorf("scenarios: starting the %s broker: %w", t.Broker, err)
	}
	r.env = env
	r.handleConsumers()
	for i, ph := range r.phases() {
		for _, f := range ph.Faults.For(r.seed + uint64(i)) {
			if err := env.Check(f); err != nil {
				r.stop()
				return &Error{File: r.s.File, Line: ph.Faults.Line, Field: "faults", Msg: fmt.Sprintf("%s: %v", f, err)}
			}
		}
	}
	return nil
}

// simLogf sends the simulator's fault lines to Logf and the broker's log
// lines to broker.log.
func (r *runner) simLogf(format string, args ...any) {
	if strings.HasPrefix(format, "sim: ") {
		r.logf(format, args...)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.brokerLog, strings.TrimSuffix(format, "\n")+"\n", args...)
}

// phases returns the phases, or the one run as a phase.
func (r *runner) phases() []Phase {
	if len(r.s.Phases) > 0 {
		return r.s.Phases
	}
	return []Phase{{Workload: r.s.Workload, Faults: r.s.Faults, History: r.s.Checks != nil}}
}

// stop closes the simulator and removes the broker's data.
func (r *runner) stop() error {
	var err error
	if r.env != nil {
		err = r.env.Close()
		r.env = nil
	}
	if r.brokerLog != nil {
		r.brokerLog.Close()
	}
	return err
}

// loadTarget is where loadgen drives load: the simulator's address (its
// fault proxy), or the external URL.
func (r *runner) loadTarget() (loadgen.Target, error) {
	if r.s.Target.External() {
		return loadgen.ParseTarget(r.s.Target.URL)
	}
	return loadgen.ParseTarget("kafka://" + r.env.Addr())
}

// player plays one run's faults on the run's clock, from the instant
// loadgen says the run started until stop.
type player struct {
	r      *runner
	faults []sim.Fault
	cancel context.CancelFunc
	done   chan struct{}
	wins   []sim.Window
}

func (r *runner) player(faults []sim.Fault) *player {
	return &player{r: r, faults: faults}
}

// start begins playing at start; it returns at once.
func (p *player) start(ctx context.Context, start time.Time) {
	if len(p.faults) == 0 || p.r.env == nil || p.done != nil {
		return
	}
	ctx, p.cancel = context.WithCancel(ctx)
	p.done = make(chan struct{})
	go func() {
		defer close(p.done)
		p.wins = p.r.env.Play(ctx, start, p.faults)
	}()
}

// stop ends the play (undoing faults still in effect) and returns the
// fault windows.
func (p *player) stop() []reports.FaultWindow {
	if p.done == nil {
		return nil
	}
	p.cancel()
	<-p.done
	var out []reports.FaultWindow
	for _, w := range p.wins {
		out = append(out, faultWindow(w))
	}
	return out
}
