package loadgen

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Control acts on a running Run from another goroutine: a caller (the
// scenario runner's fault schedule) makes one, zero value ready, passes it
// in Config.Control, and calls its methods while Run runs. Its methods
// are safe for concurrent use. With a Control, Kafka consumers are made
// crashable: they dial through a connection tracker that a crash cuts, and
// use a 6 s session timeout (the broker minimum), so a crashed member's
// partitions move within seconds.
type Control struct {
	mu sync.Mutex // guards r
	r  *run       // the run in progress; nil between runs
}

// ErrNotRunning is CrashConsumer's error when no run is in progress.
var ErrNotRunning = errors.New("loadgen: control: no run is in progress")

// crasher is implemented by consumers that can end abruptly, as a killed
// process would: no LeaveGroup, no final commit, connections cut. Crash
// is called once the context of the consumer's Receive has ended. A consumer without
// it is crashed by Close.
type crasher interface {
	Crash()
}

// crashPreparer is implemented by drivers that make crashable consumers
// only when asked (Kafka: the connection tracker and a short session
// timeout). Run asks before making consumers when Config.Control is set.
type crashPreparer interface {
	prepareCrashes()
}

// attach makes r the run the control acts on (nil: none).
func (c *Control) attach(r *run) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.r = r
	c.mu.Unlock()
}

// CrashConsumer abruptly ends one consumer group member of the running
// run, chosen with the run's seed, and starts a replacement member of the
// same group (subscription) restartAfter later. On Kafka targets the
// crashed member sends no LeaveGroup and commits nothing more: its
// connections are cut, so the group rebalances when its session times out
// (6 s); under commit "after" what it held uncommitted is redelivered,
// under "before" what it held is lost. The results note the crash and the
// replacement's start (Summary.Notes, Summary.Consumer.Crashes), and a
// recorded history shows the members as clients of their own.
// It returns an error when no run is in progress, the run has no
// consumers, or every consumer is already down.
func (c *Control) CrashConsumer(restartAfter time.Duration) error {
	if restartAfter < 0 {
		return fmt.Errorf("loadgen: control: negative restartAfter %v", restartAfter)
	}
	c.mu.Lock()
	r := c.r
	c.mu.Unlock()
	if r == nil {
		return ErrNotRunning
	}
	return r.crashConsumer(restartAfter)
}

// crashConsumer crashes one of r's consumers (Control.CrashConsumer).
func (r *run) crashConsumer(restartAfter time.Duration) error {
	r.crashMu.Lock()
	defer r.crashMu.Unlock()
	if len(r.slots) == 0 {
		return errors.New("loadgen: control: the run has no consumers to crash")
	}
	var up []*consumerSlot
	for _, s := range r.slots {
		s.mu.Lock()
		if s.c != nil && !s.crashed {
			up = append(up, s)
		}
		s.mu.Unlock()
	}
	if len(up) == 0 {
		return errors.New("loadgen: control: every consumer is already down")
	}
	s := up[r.crashRng.IntN(len(up))]
	s.mu.Lock()
	c, cancel := s.c, s.cancel
	s.c, s.crashed, s.restartAfter = nil, true, restartAfter
	s.mu.Unlock()
	// The member's context first: its Receive abandons the message in
	// hand and commits nothing more (a commit needs that context), and
	// it stops polling, which Close waits for (BlockRebalanceOnPoll).
	if cancel != nil {
		cancel()
	}
	if cr, ok := c.(crasher); ok {
		cr.Crash()
	} else {
		c.Close()
	}
	r.out.crashes.Add(1)
	r.note("consumer %d (a member of %s on %s) crashed at %.1f s; its replacement joins %v later", s.idx, s.sub, s.topic, time.Since(r.start).Seconds(), restartAfter)
	return nil
}

// newCrashRng is the source of the crash choices: the run's seed, apart
// from the payload and topic-name source.
func newCrashRng(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed^0xc4a5, seed+0x5eed))
}
