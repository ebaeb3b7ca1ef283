package sim

import (
	"context"
	"slices"
	"sync"
	"time"
)

// undoTimeout bounds undoing the faults still active when Play's context
// ends (restarting a killed broker, say).
const undoTimeout = 30 * time.Second

// Window is what Play did with one fault: when it started and ended, as
// offsets from Play's start, and the error injecting or undoing it gave.
// End equals Start for an instant fault, or one whose injection failed.
type Window struct {
	Fault      Fault
	Start, End time.Duration
	Err        error
}

// Play injects each fault at start+At and undoes it Duration after it
// began, and returns when every fault has ended, or when ctx ends: then it
// undoes the faults still active (a killed broker is restarted, a
// partition healed) and leaves out those not yet started. The windows come
// in order of At (faults with equal At in the order given). Faults may
// overlap: link faults combine (see the package documentation), and a
// broker fault that finds the broker down fails with an error in its
// window.
func (e *Env) Play(ctx context.Context, start time.Time, faults []Fault) []Window {
	order := make([]int, len(faults))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return int(faults[a].At - faults[b].At) })
	windows := make([]Window, len(faults))
	began := make([]bool, len(faults))
	var wg sync.WaitGroup
	for _, i := range order {
		f := faults[i]
		if !sleepCtx(ctx, time.Until(start.Add(f.At))) {
			break
		}
		began[i] = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			windows[i] = e.play(ctx, start, f)
		}()
	}
	wg.Wait()
	var out []Window
	for _, i := range order {
		if began[i] {
			out = append(out, windows[i])
		}
	}
	return out
}

// play runs one fault from now to its end.
func (e *Env) play(ctx context.Context, start time.Time, f Fault) Window {
	w := Window{Fault: f, Start: time.Since(start)}
	undo, err := e.Inject(ctx, f)
	if err != nil || undo == nil {
		w.End, w.Err = time.Since(start), err
		if err != nil {
			e.cfg.Logf("sim: %s: %v", f, err)
		}
		return w
	}
	sleepCtx(ctx, f.Duration())
	uctx := ctx
	if ctx.Err() != nil {
		var cancel context.CancelFunc
		uctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), undoTimeout)
		defer cancel()
	}
	w.Err = undo(uctx)
	w.End = time.Since(start)
	if w.Err != nil {
		e.cfg.Logf("sim: undo %s: %v", f, w.Err)
	} else {
		e.cfg.Logf("sim: ended %s", f)
	}
	return w
}
