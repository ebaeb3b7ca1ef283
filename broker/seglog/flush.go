package seglog

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// flusher owns the log's one background goroutine. It syncs sealed segments
// and writes their index files, syncs the active segment as the policy asks,
// advances the flushed offset and writes recovery checkpoints. Under
// FlushAlways every Append waiting in waitFor kicks it; appends that arrive
// while an fsync runs are all covered by the next one (group commit).
type flusher struct {
	l *Log

	// syncMu serializes sync rounds (the goroutine, Sync and Close).
	syncMu         sync.Mutex
	lastCheckpoint time.Time  // guarded by syncMu
	cp, written    checkpoint // newest durable state, and the one on disk; guarded by syncMu

	// mu guards pending and stickyErr, and is the lock of cond, which is
	// broadcast after every round.
	mu        sync.Mutex
	cond      sync.Cond
	pending   []*segment // sealed, not yet synced; each holds a reference
	stickyErr error
	stopped   bool // no more rounds will run

	flushed atomic.Int64
	failed  atomic.Bool
	kick    chan struct{}
	quit    chan struct{}
	done    chan struct{}
}

func (f *flusher) start(l *Log, cp checkpoint, written bool) {
	f.l = l
	f.cp = cp
	if written {
		f.written = cp
	}
	flushed := cp.next
	f.cond.L = &f.mu
	f.flushed.Store(flushed)
	f.kick = make(chan struct{}, 1)
	f.quit = make(chan struct{})
	f.done = make(chan struct{})
	f.lastCheckpoint = l.opts.Now()
	go f.run()
}

func (f *flusher) run() {
	defer close(f.done)
	var tick <-chan time.Time
	if f.l.opts.Flush == FlushInterval {
		t := time.NewTicker(f.l.opts.FlushInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-f.quit:
			return
		case <-f.kick:
			f.round(f.l.opts.Flush != FlushNever, false)
		case <-tick:
			f.round(true, false)
		}
	}
}

func (f *flusher) wake() {
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// sealed hands a just-rolled segment to the flusher. Called under Log.mu.
func (f *flusher) sealed(s *segment) {
	s.tryAcquire()
	f.mu.Lock()
	f.pending = append(f.pending, s)
	f.mu.Unlock()
	f.wake()
}

func (f *flusher) err() error {
	if !f.failed.Load() {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stickyErr
}

// waitFor blocks until every offset below end is durable.
func (f *flusher) waitFor(end int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.flushed.Load() < end && f.stickyErr == nil {
		if f.stopped {
			return ErrClosed
		}
		f.wake()
		f.cond.Wait()
	}
	return f.stickyErr
}

// halt marks the flusher stopped and wakes every waiter.
func (f *flusher) halt() {
	f.mu.Lock()
	f.stopped = true
	for _, s := range f.pending {
		s.release()
	}
	f.pending = nil
	f.cond.Broadcast()
	f.mu.Unlock()
}

// syncNow runs a full round in the caller's goroutine.
func (f *flusher) syncNow() error {
	if err := f.round(true, true); err != nil {
		return err
	}
	return f.err()
}

// stop ends the goroutine and runs a last full round with a checkpoint.
func (f *flusher) stop() error {
	close(f.quit)
	<-f.done
	err := f.round(true, true)
	f.halt()
	return err
}

// round syncs the pending sealed segments and, if syncActive, the active
// one; then publishes the flushed offset and, when due or forced, writes a
// checkpoint.
func (f *flusher) round(syncActive, forceCheckpoint bool) error {
	f.syncMu.Lock()
	defer f.syncMu.Unlock()
	l := f.l

	l.mu.Lock()
	active, size, end := l.active, l.active.size.Load(), l.end.Load()
	ok := active.tryAcquire()
	l.mu.Unlock()
	if !ok {
		return ErrClosed // the log was abandoned
	}
	defer active.release()

	f.mu.Lock()
	sealed := f.pending
	f.pending = nil
	f.mu.Unlock()

	var err error
	flushed := f.flushed.Load()
	for _, s := range sealed {
		if err == nil {
			err = f.syncSealed(s)
		}
		s.release()
	}
	if err == nil && len(sealed) > 0 && active.base > flushed {
		flushed = active.base
		f.cp = checkpoint{next: active.base, segment: active.base, position: 0}
	}
	if err == nil && syncActive && flushed < end {
		if err = active.f.Sync(); err != nil {
			err = fmt.Errorf("seglog: sync %s: %w", active.path, err)
		} else {
			flushed = end
			f.cp = checkpoint{next: end, segment: active.base, position: size}
		}
	}
	f.publish(flushed, err)
	if err != nil {
		return err
	}
	now := l.opts.Now()
	due := forceCheckpoint || len(sealed) > 0 || now.Sub(f.lastCheckpoint) >= l.opts.CheckpointInterval
	if f.cp == f.written || !due {
		return nil
	}
	f.lastCheckpoint = now
	if forceCheckpoint && f.cp.segment == active.base {
		// A clean stop: save the active segment's index too, so the next
		// open need not walk it.
		if err := writeIndexFiles(l.fs, active); err != nil {
			return err
		}
	}
	if err := writeCheckpoint(l.fs, l.dir, f.cp); err != nil {
		return err
	}
	f.written = f.cp
	return nil
}

func (f *flusher) syncSealed(s *segment) error {
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("seglog: sync %s: %w", s.path, err)
	}
	return writeIndexFiles(f.l.fs, s)
}

func (f *flusher) publish(flushed int64, err error) {
	f.mu.Lock()
	if flushed > f.flushed.Load() {
		f.flushed.Store(flushed)
	}
	if err != nil && f.stickyErr == nil {
		f.stickyErr = err
		f.failed.Store(true)
	}
	f.cond.Broadcast()
	f.mu.Unlock()
}
