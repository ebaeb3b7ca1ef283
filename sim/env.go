package sim

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"time"

	"gale/broker/kafka"
	"gale/broker/seglog"
	"gale/broker/vfs"
)

// Broker targets of EnvConfig.Broker.
const (
	Embedded   = "embedded"
	Subprocess = "subprocess"
)

// EnvConfig configures an Env. Every zero field selects the default written
// on it; NewEnv works on a copy.
type EnvConfig struct {
	// Broker is "embedded" (a kafka.Server in this process) or
	// "subprocess" (a `gale broker` child process). Default embedded.
	Broker string
	// Flush is the log's flush policy: never, interval or always. Default
	// never.
	Flush string
	// Memory keeps the embedded broker's data on vfs.Mem, which power-loss
	// needs (and torn-tail uses to keep a torn prefix of the unsynced
	// writes). Embedded only.
	Memory bool
	// SegmentBytes is the segment size. Default 16 MiB: small, so sealed
	// segments exist (bitflip needs one) and Mem stays small (Mem files are
	// preallocated to it).
	SegmentBytes int64
	// Partitions is the partition count of auto-created topics. Default 1.
	Partitions int
	// Binary is the gale binary run for subprocess. Default
	// os.Executable().
	Binary string
	// Dir is the data directory (not with Memory). Default a temporary
	// directory, removed by Close.
	Dir string
	// Seed seeds the proxy's jitter and every seeded choice a fault makes
	// (which bit to flip, how much of a tail to keep).
	Seed uint64
	// Logf receives the broker's log lines and one line per fault
	// injected and undone. Default: discard.
	Logf func(format string, args ...any)
}

// Env is a broker under test with a fault proxy in front of it: clients dial
// Addr, the broker advertises the proxy, and Inject and Play apply faults to
// the broker process, its disk and the link. Env's methods are safe for
// concurrent use; operations on the broker (kill, restart, ...) are
// serialized.
type Env struct {
	cfg    EnvConfig
	flush  seglog.FlushPolicy
	proxy  *Proxy
	tmpDir string // removed by Close

	mu       sync.Mutex    // mu guards every field below
	proc     *process      // subprocess: the current child, nil while down
	emb      *embedded     // embedded: the current server, nil while down
	mem      *vfs.Mem      // embedded with Memory: the current filesystem
	ffs      *FaultFS      // embedded: the filesystem the server runs on
	links    map[int]Fault // active link faults, by id
	nextLink int
	handlers map[string]Injector
	closed   bool
}

// Injector injects a fault aimed at a target Env does not run itself (a
// consumer): it returns the function that undoes it, or nil for an instant
// fault.
type Injector func(ctx context.Context, f Fault) (undo func(context.Context) error, err error)

// NewEnv starts the proxy and the broker behind it, and returns when the
// broker accepts connections (or fails: then nothing is left running).
func NewEnv(ctx context.Context, c EnvConfig) (*Env, error) {
	if c.Broker == "" {
		c.Broker = Embedded
	}
	if c.Flush == "" {
		c.Flush = "never"
	}
	if c.SegmentBytes == 0 {
		c.SegmentBytes = 16 << 20
	}
	if c.Partitions == 0 {
		c.Partitions = 1
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
	flush, err := seglog.ParseFlushPolicy(c.Flush)
	if err != nil {
		return nil, fmt.Errorf("sim: flush: %w", err)
	}
	switch {
	case c.Broker != Embedded && c.Broker != Subprocess:
		return nil, fmt.Errorf("sim: broker %q, want embedded or subprocess", c.Broker)
	case c.Memory && c.Broker != Embedded:
		return nil, errors.New("sim: memory: true needs the embedded broker")
	case c.Memory && c.Dir != "":
		return nil, errors.New("sim: dir and memory: true exclude each other")
	case c.SegmentBytes < 0 || c.Partitions < 0:
		return nil, errors.New("sim: segment bytes and partitions must not be negative")
	}
	e := &Env{cfg: c, flush: flush, links: map[int]Fault{}, handlers: map[string]Injector{}}
	if c.Broker == Subprocess && c.Binary == "" {
		if e.cfg.Binary, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("sim: gale binary: %w", err)
		}
	}
	if !c.Memory && c.Dir == "" {
		if e.tmpDir, err = os.MkdirTemp("", "gale-sim-"); err != nil {
			return nil, fmt.Errorf("sim: %w", err)
		}
		e.cfg.Dir = e.tmpDir
	}
	if e.proxy, err = NewProxy("127.0.0.1:0", "", c.Seed); err != nil {
		e.Close()
		return nil, err
	}
	if c.Broker == Embedded {
		if c.Memory {
			e.mem = vfs.NewMem()
			e.ffs = NewFaultFS(e.mem)
		} else {
			e.ffs = NewFaultFS(vfs.DefaultOS)
		}
	}
	e.mu.Lock()
	err = e.startLocked(ctx)
	e.mu.Unlock()
	if err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

// Addr is the host:port clients dial (the proxy).
func (e *Env) Addr() string { return e.proxy.Addr() }

// Proxy returns the fault proxy in front of the broker.
func (e *Env) Proxy() *Proxy { return e.proxy }

// Handle makes Env inject faults aimed at target (TargetConsumer) with
// inject, so Check accepts them and Play records their windows with the
// others.
func (e *Env) Handle(target string, inject Injector) {
	e.mu.Lock()
	e.handlers[target] = inject
	e.mu.Unlock()
}

// dataDir is the broker's data directory on its filesystem.
func (e *Env) dataDir() string {
	if e.cfg.Memory {
		return memDir
	}
	return e.cfg.Dir
}

// diskFS is the filesystem corruption goes through.
func (e *Env) diskFS() vfs.FS {
	if e.ffs != nil {
		return e.ffs.FS
	}
	return vfs.DefaultOS
}

// startLocked starts the broker and points the proxy at it.
func (e *Env) startLocked(ctx context.Context) error {
	if e.closed {
		return errors.New("sim: env closed")
	}
	var addr string
	switch e.cfg.Broker {
	case Subprocess:
		args := []string{"broker", "--listen", "127.0.0.1:0", "--advertise", e.proxy.Addr(),
			"--data", e.cfg.Dir, "--flush", e.cfg.Flush,
			"--segment-bytes", strconv.FormatInt(e.cfg.SegmentBytes, 10),
			"--default-partitions", strconv.Itoa(e.cfg.Partitions)}
		p, err := startProcess(ctx, e.cfg.Binary, args, e.cfg.Logf)
		if err != nil {
			return err
		}
		e.proc, addr = p, p.addr
	default:
		cfg := kafka.Config{
			Advertise:         e.proxy.Addr(),
			Dir:               e.dataDir(),
			Log:               seglog.Options{SegmentBytes: e.cfg.SegmentBytes, Flush: e.flush},
			DefaultPartitions: int32(e.cfg.Partitions),
			Logger:            slogTo(e.cfg.Logf),
		}
		em, err := startEmbedded(cfg, e.ffs)
		if err != nil {
			return err
		}
		e.emb, addr = em, em.addr
	}
	e.proxy.SetUpstream(addr)
	return nil
}

// crashLocked stops the broker as kill -9 does.
func (e *Env) crashLocked() error {
	switch {
	case e.proc != nil:
		err := e.proc.kill()
		e.proc = nil
		return err
	case e.emb != nil:
		e.emb.abandon()
		e.emb = nil
		return nil
	}
	return errors.New("sim: the broker is down already (killed by an earlier fault)")
}

// upLocked is an error when the broker is down.
func (e *Env) upLocked() error {
	if e.closed {
		return errors.New("sim: env closed")
	}
	if e.proc == nil && e.emb == nil {
		return errors.New("sim: the broker is down (killed by an earlier fault)")
	}
	return nil
}

// Close stops the broker (a child is killed, an embedded server closed),
// closes the proxy and removes a temporary data directory.
func (e *Env) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	var errs []error
	if e.proc != nil {
		errs = append(errs, e.proc.kill())
		e.proc = nil
	}
	if e.emb != nil {
		e.ffs.SetFull(false)
		e.ffs.SetSyncFail(false)
		if err := e.emb.close(); err != nil {
			e.cfg.Logf("sim: closing the embedded broker: %v", err)
		}
		e.emb = nil
	}
	if e.proxy != nil {
		errs = append(errs, e.proxy.Close())
	}
	if e.tmpDir != "" {
		errs = append(errs, os.RemoveAll(e.tmpDir))
	}
	return errors.Join(errs...)
}

// rngFor returns the seeded source of f's choices: it depends on the seed
// and on f only, so the order faults are injected in does not matter.
func (e *Env) rngFor(f Fault) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(f.String()))
	return rand.New(rand.NewPCG(e.cfg.Seed, h.Sum64()))
}

// sleepCtx waits d or until ctx ends; it reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
