package sim

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"syscall"

	"gale/broker/vfs"
)

// Check reports whether e can inject f: nil, or an error saying why not
// (the fault is invalid, the broker target cannot do it, or nothing is
// registered for a consumer fault). Call it for every fault before a run
// starts.
func (e *Env) Check(f Fault) error {
	if err := f.Validate(); err != nil {
		return err
	}
	if err := Supports(e.cfg, f.Kind); err != nil {
		return err
	}
	if f.Target == TargetConsumer {
		e.mu.Lock()
		_, ok := e.handlers[f.Target]
		e.mu.Unlock()
		if !ok {
			return fmt.Errorf("%s: %s faults are run by the load generator; none is registered (Env.Handle)", f.Kind, f.Target)
		}
	}
	return nil
}

// Supports reports whether an Env configured with c can inject faults of
// kind k (before any Env exists, e.g. for the kinds a random schedule may
// draw): nil, or an error saying what would. Faults aimed at a consumer are
// accepted here; Env.Check also wants their Injector registered.
func Supports(c EnvConfig, k Kind) error {
	if !k.Valid() {
		return fmt.Errorf("unknown fault kind %q (known: %s)", k, kindList())
	}
	sub := c.Broker == Subprocess
	switch k {
	case PowerLoss:
		if sub || !c.Memory {
			return fmt.Errorf("%s needs the embedded broker with memory: true (the kernel keeps a killed process's unsynced writes; only vfs.Mem can lose them)", k)
		}
	case FsyncFail, DiskFull:
		if sub {
			return fmt.Errorf("%s needs the embedded broker (it fails the broker's file operations in-process)", k)
		}
	}
	return nil
}

// Inject applies f now, ignoring f.At, and returns the function that ends
// it (SIGCONT, restart, heal the link), or nil for an instant fault
// (restart, reset, bitflip). Lasting faults are not timed by Inject: the
// caller calls undo when f.Duration has passed (Play does). undo is safe
// to call more than once; only the first call acts.
func (e *Env) Inject(ctx context.Context, f Fault) (undo func(context.Context) error, err error) {
	if err := e.Check(f); err != nil {
		return nil, err
	}
	if f.Target == TargetConsumer {
		e.mu.Lock()
		h := e.handlers[f.Target]
		e.mu.Unlock()
		return h(ctx, f)
	}
	if f.IsLink() || (f.Kind == Pause && e.cfg.Broker == Embedded) {
		return e.injectLink(f)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.upLocked(); err != nil {
		return nil, fmt.Errorf("%s: %w", f.Kind, err)
	}
	e.cfg.Logf("sim: inject %s", f)
	switch f.Kind {
	case Kill:
		if err := e.crashLocked(); err != nil {
			return nil, err
		}
		return e.restarter(), nil
	case Pause:
		p := e.proc
		if err := p.signal(syscall.SIGSTOP); err != nil {
			return nil, err
		}
		return once(func(context.Context) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			if e.proc != p {
				return nil // killed or restarted meanwhile: nothing is stopped
			}
			return p.signal(syscall.SIGCONT)
		}), nil
	case Restart:
		if e.proc != nil {
			if err := e.proc.stop(); err != nil {
				e.cfg.Logf("sim: restart: %v", err)
			}
			e.proc = nil
		} else {
			if err := e.emb.close(); err != nil {
				e.cfg.Logf("sim: restart: %v", err)
			}
			e.emb = nil
		}
		return nil, e.startLocked(ctx)
	case PowerLoss:
		e.crashLocked()
		e.mem = e.mem.CrashClone(vfs.CrashOptions{})
		e.ffs = NewFaultFS(e.mem)
		return e.restarter(), nil
	case TornTail:
		e.crashLocked()
		rng := e.rngFor(f)
		if e.mem != nil {
			salt := rng.Uint64()
			e.mem = e.mem.CrashClone(vfs.CrashOptions{Keep: func(name string, unsynced int) int {
				return tornKeep(salt, name, unsynced)
			}})
			e.ffs = NewFaultFS(e.mem)
		} else {
			what, err := tearTail(e.diskFS(), e.dataDir(), rng)
			if err != nil {
				e.cfg.Logf("sim: %v", err)
			} else {
				e.cfg.Logf("sim: torn-tail: %s", what)
			}
		}
		return e.restarter(), nil
	case Bitflip:
		what, err := flipBit(e.diskFS(), e.dataDir(), e.rngFor(f))
		if err != nil {
			return nil, err
		}
		e.cfg.Logf("sim: bitflip: %s", what)
		return nil, nil
	case FsyncFail, DiskFull:
		ffs := e.ffs
		set := ffs.SetSyncFail
		if f.Kind == DiskFull {
			set = ffs.SetFull
		}
		set(true)
		return once(func(context.Context) error { set(false); return nil }), nil
	}
	return nil, fmt.Errorf("sim: %s: not supported by the %s broker", f.Kind, e.cfg.Broker)
}

// restarter returns the undo of a crash: start the broker again.
func (e *Env) restarter() func(context.Context) error {
	return once(func(ctx context.Context) error {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.proc != nil || e.emb != nil || e.closed {
			return nil
		}
		e.cfg.Logf("sim: restarting the broker")
		return e.startLocked(ctx)
	})
}

// tornKeep chooses how many of a file's unsynced bytes a torn-tail crash
// keeps: a seeded fraction, from the file's name so that the order
// CrashClone visits files in does not matter.
func tornKeep(salt uint64, name string, unsynced int) int {
	if unsynced == 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(name))
	return int((h.Sum64() ^ salt) % uint64(unsynced))
}

// injectLink adds f to the active link faults and applies the result.
func (e *Env) injectLink(f Fault) (func(context.Context) error, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, errors.New("sim: env closed")
	}
	e.cfg.Logf("sim: inject %s", f)
	if f.Kind == Reset {
		n := e.proxy.Reset()
		e.cfg.Logf("sim: reset %d connections", n)
		return nil, nil
	}
	id := e.nextLink
	e.nextLink++
	e.links[id] = f
	e.applyLinksLocked()
	return once(func(context.Context) error {
		e.mu.Lock()
		defer e.mu.Unlock()
		delete(e.links, id)
		if !e.closed {
			e.applyLinksLocked()
		}
		return nil
	}), nil
}

// applyLinksLocked sets the proxy to the combination of the active link
// faults: blackholes add up, the largest delay and slow close win, the
// smallest bandwidth cap wins.
func (e *Env) applyLinksLocked() {
	var up, down LinkFault
	for _, f := range e.links {
		for _, d := range []struct {
			lf  *LinkFault
			dir string
		}{{&up, TargetUp}, {&down, TargetDown}} {
			if f.Target != TargetLink && f.Target != d.dir && f.Target != TargetBroker {
				continue
			}
			lf := d.lf
			switch f.Kind {
			case Partition, Drop, Pause:
				lf.Blackhole = true
			case Latency:
				if f.Delay > lf.Delay {
					lf.Delay, lf.Jitter = f.Delay, f.Jitter
				}
			case Bandwidth:
				if lf.BytesPerSec == 0 || f.Rate < lf.BytesPerSec {
					lf.BytesPerSec = f.Rate
				}
			case SlowClose:
				lf.SlowClose = max(lf.SlowClose, f.Delay)
			}
		}
	}
	e.proxy.Set(Up, up)
	e.proxy.Set(Down, down)
}

// once wraps undo so that only its first call acts.
func once(undo func(context.Context) error) func(context.Context) error {
	var o sync.Once
	var err error
	return func(ctx context.Context) error {
		o.Do(func() { err = undo(ctx) })
		return err
	}
}
