package scenarios

import (
	"context"
	"errors"
	"sync/atomic"

	"gale/loadgen"
	"gale/sim"
)

// control is the loadgen Control of the phase running now, nil between
// phases; consumer faults act through it.
type control struct {
	p atomic.Pointer[loadgen.Control]
}

// handleConsumers registers the injector of consumer faults ({crash:
// consumer, restart_after: 2s}) with the simulator: loadgen crashes one
// group member of the running phase and starts a replacement RestartAfter
// later. The undo does nothing, since loadgen starts the replacement
// itself; Play still times the window to RestartAfter.
func (r *runner) handleConsumers() {
	r.env.Handle(sim.TargetConsumer, func(_ context.Context, f sim.Fault) (func(context.Context) error, error) {
		ctl := r.ctl.p.Load()
		if ctl == nil {
			return nil, errors.New("no run in progress")
		}
		if err := ctl.CrashConsumer(f.RestartAfter); err != nil {
			return nil, err
		}
		return func(context.Context) error { return nil }, nil
	})
}

// needsControl reports whether faults include consumer faults, which need
// a loadgen.Control (it makes consumers crashable).
func needsControl(faults []sim.Fault) bool {
	for _, f := range faults {
		if f.Target == sim.TargetConsumer {
			return true
		}
	}
	return false
}
