package sim

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"gale/internal/galebin"
)

func TestMain(m *testing.M) { galebin.Main(m) }

// newEnv starts an Env for a test and closes it at the end.
func newEnv(t *testing.T, c EnvConfig) *Env {
	t.Helper()
	if c.Broker == Subprocess {
		c.Binary = galebin.Path(t)
	}
	if c.Broker != Subprocess && !c.Memory {
		c.Dir = t.TempDir()
	}
	c.Logf = func(format string, args ...any) {
		if testing.Verbose() {
			t.Logf(format, args...)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e, err := NewEnv(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return e
}

func mustFault(t *testing.T, s string) Fault {
	t.Helper()
	f, err := ParseFault(s)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// client returns a franz-go client of e (acks=all, idempotent: kgo's
// defaults) that gives up on a record after timeout.
func client(t *testing.T, e *Env, topic string, timeout time.Duration, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	opts = append([]kgo.Opt{
		kgo.SeedBrokers(e.Addr()),
		kgo.DefaultProduceTopic(topic),
		kgo.AllowAutoTopicCreation(),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordDeliveryTimeout(timeout),
		kgo.ProducerLinger(time.Millisecond),
		kgo.RetryTimeout(timeout),
	}, opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// acked is one record the broker acknowledged.
type acked struct {
	part   int32
	offset int64
	value  string
}

// produceN produces n records synchronously in batches and returns those
// acknowledged.
func produceN(t *testing.T, cl *kgo.Client, n int, prefix string) []acked {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []acked
	for i := 0; i < n; i += 100 {
		var rs []*kgo.Record
		for j := i; j < min(n, i+100); j++ {
			rs = append(rs, &kgo.Record{Value: fmt.Appendf(nil, "%s-%d", prefix, j)})
		}
		for _, r := range cl.ProduceSync(ctx, rs...) {
			if r.Err != nil {
				t.Fatalf("produce: %v", r.Err)
			}
			out = append(out, acked{r.Record.Partition, r.Record.Offset, string(r.Record.Value)})
		}
	}
	return out
}

// endOffsets asks the broker (through the proxy) for each partition's log
// end offset.
func endOffsets(t *testing.T, cl *kgo.Client, topic string, parts int32) []int64 {
	t.Helper()
	req := kmsg.NewPtrListOffsetsRequest()
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	for p := range parts {
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition = p
		rp.Timestamp = -1 // latest
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("ListOffsets: %v", err)
	}
	out := make([]int64, parts)
	for _, p := range resp.Topics[0].Partitions {
		if p.ErrorCode != 0 {
			t.Fatalf("ListOffsets partition %d: error code %d", p.Partition, p.ErrorCode)
		}
		out[p.Partition] = p.Offset
	}
	return out
}

// readAll consumes topic from the start until it has read every offset
// below ends (bounded by a minute), and returns the values by partition
// and offset.
func readAll(t *testing.T, e *Env, topic string, ends []int64) map[int32]map[int64]string {
	t.Helper()
	cl := client(t, e, topic, 20*time.Second, kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond))
	got := map[int32]map[int64]string{}
	n, want := 0, int64(0)
	for p, end := range ends {
		got[int32(p)] = map[int64]string{}
		want += end
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for int64(n) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records: %v", n, want, ctx.Err())
		}
		fs.EachError(func(_ string, p int32, err error) { t.Fatalf("fetch partition %d: %v", p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			got[r.Partition][r.Offset] = string(r.Value)
			n++
		})
	}
	return got
}

// TestSubprocessKillKeepsAcked: kill -9 of the broker child under
// flush=never while a producer runs, restarted after 500 ms, loses no
// acknowledged record (the page cache survives a killed process).
func TestSubprocessKillKeepsAcked(t *testing.T) {
	e := newEnv(t, EnvConfig{Broker: Subprocess, Flush: "never", Partitions: 2, SegmentBytes: 1 << 20, Seed: 1})
	cl := client(t, e, "kill", 30*time.Second)
	all := produceN(t, cl, 1000, "before")
	var mu sync.Mutex
	done := make(chan struct{})
	go func() { // produces through the kill: 40 batches of 50, each bounded
		defer close(done)
		for i := range 40 {
			var rs []*kgo.Record
			for j := range 50 {
				rs = append(rs, &kgo.Record{Value: fmt.Appendf(nil, "during-%d-%d", i, j)})
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			for _, r := range cl.ProduceSync(ctx, rs...) {
				if r.Err == nil {
					mu.Lock()
					all = append(all, acked{r.Record.Partition, r.Record.Offset, string(r.Record.Value)})
					mu.Unlock()
				}
			}
			cancel()
			time.Sleep(10 * time.Millisecond)
		}
	}()
	ws := e.Play(context.Background(), time.Now(), []Fault{mustFault(t, "{at: 100ms, kill: broker, restart_after: 500ms}")})
	if len(ws) != 1 || ws[0].Err != nil || ws[0].End-ws[0].Start < 500*time.Millisecond {
		t.Fatalf("windows %+v", ws)
	}
	<-done
	all = append(all, produceN(t, cl, 1000, "after")...)
	ends := endOffsets(t, cl, "kill", 2)
	got := readAll(t, e, "kill", ends)
	t.Logf("%d records acked, log end offsets %v", len(all), ends)
	for _, a := range all {
		if v, ok := got[a.part][a.offset]; !ok || v != a.value {
			t.Fatalf("acked %q at partition %d offset %d; read %q (present %v)", a.value, a.part, a.offset, v, ok)
		}
	}
}

// TestStallStopsProgress: while the broker is paused, or the link
// partitioned, no produce completes; afterwards they complete again. On
// subprocess the pause is SIGSTOP/SIGCONT; embedded, the link is held at
// the proxy.
func TestStallStopsProgress(t *testing.T) {
	for _, c := range []struct{ broker, fault string }{
		{Embedded, "{at: 0s, pause: broker, for: 2s}"},
		{Subprocess, "{at: 0s, pause: broker, for: 2s}"},
		{Embedded, "{at: 0s, partition: clients-broker, for: 2s}"},
		{Embedded, "{at: 0s, drop: broker->clients, for: 2s}"},
	} {
		f := mustFault(t, c.fault)
		t.Run(c.broker+"/"+string(f.Kind), func(t *testing.T) {
			e := newEnv(t, EnvConfig{Broker: c.broker, Memory: c.broker == Embedded, SegmentBytes: 1 << 20, Seed: 2})
			cl := client(t, e, "stall", 30*time.Second)
			produceN(t, cl, 10, "warm")
			var done atomic.Int64
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { // a bounded stream of produces, one at a time
				defer wg.Done()
				for i := 0; i < 100_000 && ctx.Err() == nil; i++ {
					if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("p")}).FirstErr(); err == nil {
						done.Add(1)
					}
					time.Sleep(time.Millisecond)
				}
			}()
			defer func() { cancel(); wg.Wait() }()
			waitFor(t, "produces before the fault", func() bool { return done.Load() > 5 })
			undo, err := e.Inject(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			time.Sleep(300 * time.Millisecond) // let answers in flight arrive
			c1 := done.Load()
			time.Sleep(time.Second)
			c2 := done.Load()
			if err := undo(context.Background()); err != nil {
				t.Fatal(err)
			}
			if c2 != c1 {
				t.Fatalf("%d produces completed during %s", c2-c1, f)
			}
			waitFor(t, "produces after the fault", func() bool { return done.Load() > c2+5 })
		})
	}
}

// TestLatencyDelaysRoundTrips: under a 50 ms latency fault both ways, every
// produce round trip takes at least 80 ms (a lower bound: the fault's
// correctness, not a performance figure).
func TestLatencyDelaysRoundTrips(t *testing.T) {
	e := newEnv(t, EnvConfig{Memory: true, SegmentBytes: 1 << 20, Seed: 8})
	cl := client(t, e, "lat", 20*time.Second)
	produceN(t, cl, 10, "warm")
	undo, err := e.Inject(context.Background(), mustFault(t, "{at: 0s, latency: clients-broker, delay: 50ms, jitter: 10ms, for: 1m}"))
	if err != nil {
		t.Fatal(err)
	}
	defer undo(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for range 5 {
		t0 := time.Now()
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("x")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if rtt := time.Since(t0); rtt < 80*time.Millisecond {
			t.Fatalf("round trip %s under 50±10 ms each way", rtt)
		}
	}
}

// waitFor polls cond every 10 ms for at most 30 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s within 30s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestPowerLoss: on the in-memory embedded broker, power loss under
// flush=never loses acknowledged records (nothing was synced), and under
// flush=always loses none.
func TestPowerLoss(t *testing.T) {
	for _, flush := range []string{"never", "always"} {
		t.Run(flush, func(t *testing.T) {
			e := newEnv(t, EnvConfig{Memory: true, Flush: flush, SegmentBytes: 1 << 20, Seed: 3})
			cl := client(t, e, "power", 20*time.Second)
			acks := produceN(t, cl, 500, "v")
			undo, err := e.Inject(context.Background(), mustFault(t, "{at: 0s, power-loss: broker, restart_after: 1s}"))
			if err != nil {
				t.Fatal(err)
			}
			if err := undo(context.Background()); err != nil {
				t.Fatal(err)
			}
			end := endOffsets(t, cl, "power", 1)[0]
			t.Logf("flush=%s: %d acked, log end offset %d after power loss", flush, len(acks), end)
			if flush == "never" {
				if end >= int64(len(acks)) {
					t.Fatalf("log end offset %d after power loss under flush=never; want < %d acked", end, len(acks))
				}
				return
			}
			got := readAll(t, e, "power", []int64{end})
			for _, a := range acks {
				if got[a.part][a.offset] != a.value {
					t.Fatalf("acked %q at offset %d lost (read %q)", a.value, a.offset, got[a.part][a.offset])
				}
			}
		})
	}
}

// TestDiskFaults: under flush=always a produce fails while fsync fails, or
// while the disk is full, and produces succeed again after the fault ends
// and the broker restarts.
func TestDiskFaults(t *testing.T) {
	for _, fault := range []string{"{at: 0s, fsync-fail: broker, for: 5s}", "{at: 0s, disk-full: broker, for: 5s}"} {
		f := mustFault(t, fault)
		t.Run(string(f.Kind), func(t *testing.T) {
			e := newEnv(t, EnvConfig{Memory: true, Flush: "always", SegmentBytes: 1 << 20, Seed: 4})
			cl := client(t, e, "disk", 20*time.Second)
			produceN(t, cl, 10, "ok")
			undo, err := e.Inject(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			failing := client(t, e, "disk", 2*time.Second)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err = failing.ProduceSync(ctx, &kgo.Record{Value: []byte("during")}).FirstErr()
			cancel()
			if err == nil {
				t.Fatalf("a produce succeeded under flush=always during %s", f)
			}
			t.Logf("produce during %s: %v", f.Kind, err)
			if err := undo(context.Background()); err != nil {
				t.Fatal(err)
			}
			if _, err := e.Inject(context.Background(), mustFault(t, "{at: 0s, restart: broker}")); err != nil {
				t.Fatal(err)
			}
			produceN(t, client(t, e, "disk", 20*time.Second), 10, "again")
		})
	}
}

// TestCheck: each target rejects what it cannot do, with a message saying
// what would.
func TestCheck(t *testing.T) {
	sub := &Env{cfg: EnvConfig{Broker: Subprocess}, handlers: map[string]Injector{}}
	emb := &Env{cfg: EnvConfig{Broker: Embedded}, handlers: map[string]Injector{}}
	mem := &Env{cfg: EnvConfig{Broker: Embedded, Memory: true}, handlers: map[string]Injector{}}
	for _, c := range []struct {
		env   *Env
		fault string
		want  string // "" = accepted
	}{
		{sub, "{at: 1s, power-loss: broker, restart_after: 1s}", "power-loss needs the embedded broker with memory: true"},
		{sub, "{at: 1s, fsync-fail: broker, for: 1s}", "fsync-fail needs the embedded broker"},
		{sub, "{at: 1s, disk-full: broker, for: 1s}", "disk-full needs the embedded broker"},
		{sub, "{at: 1s, kill: broker, restart_after: 1s}", ""},
		{sub, "{at: 1s, torn-tail: broker, restart_after: 1s}", ""},
		{sub, "{at: 1s, bitflip: broker}", ""},
		{sub, "{at: 1s, latency: clients-broker, delay: 1ms, for: 1s}", ""},
		{emb, "{at: 1s, power-loss: broker, restart_after: 1s}", "memory: true"},
		{emb, "{at: 1s, fsync-fail: broker, for: 1s}", ""},
		{mem, "{at: 1s, power-loss: broker, restart_after: 1s}", ""},
		{mem, "{at: 1s, crash: consumer, restart_after: 1s}", "run by the load generator"},
	} {
		err := c.env.Check(mustFault(t, c.fault))
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s broker (memory %v): Check(%s) = %v, want %q", c.env.cfg.Broker, c.env.cfg.Memory, c.fault, err, c.want)
		}
	}
	if err := Supports(EnvConfig{Broker: Subprocess}, PowerLoss); err == nil || !strings.Contains(err.Error(), "memory: true") {
		t.Errorf("Supports(subprocess, power-loss) = %v", err)
	}
	if err := Supports(EnvConfig{}, Kind("explode")); err == nil {
		t.Error("Supports accepted an unknown kind")
	}
	mem.Handle(TargetConsumer, func(context.Context, Fault) (func(context.Context) error, error) { return nil, nil })
	if err := mem.Check(mustFault(t, "{at: 1s, crash: consumer, restart_after: 1s}")); err != nil {
		t.Errorf("with a handler: %v", err)
	}
}

// TestPlayWindows: Play records a window per started fault in order of At,
// combines overlapping link faults, and when its context ends undoes what
// is active (heals the link, restarts the killed broker) and skips what
// has not started.
func TestPlayWindows(t *testing.T) {
	e := newEnv(t, EnvConfig{Memory: true, SegmentBytes: 1 << 20, Seed: 5})
	var crashed atomic.Int32
	e.Handle(TargetConsumer, func(context.Context, Fault) (func(context.Context) error, error) {
		crashed.Add(1)
		return func(context.Context) error { crashed.Add(-1); return nil }, nil
	})
	faults := []Fault{
		mustFault(t, "{at: 500ms, kill: broker, restart_after: 1m}"),
		mustFault(t, "{at: 0s, latency: clients-broker, delay: 50ms, for: 1m}"),
		mustFault(t, "{at: 100ms, reset: clients-broker}"),
		mustFault(t, "{at: 200ms, bandwidth: clients->broker, rate: 1MB/s, for: 1m}"),
		mustFault(t, "{at: 300ms, crash: consumer, restart_after: 1m}"),
		mustFault(t, "{at: 1h, restart: broker}"),
	}
	ctx, cancel := context.WithCancel(context.Background())
	start := time.Now()
	var ws []Window
	done := make(chan struct{})
	go func() { ws = e.Play(ctx, start, faults); close(done) }()
	waitFor(t, "kill", func() bool {
		e.mu.Lock()
		defer e.mu.Unlock()
		return e.emb == nil
	})
	up := e.proxy.Fault(Up)
	if up.Delay != 50*time.Millisecond || up.BytesPerSec != 1e6 {
		t.Errorf("combined link fault up: %v", up)
	}
	if down := e.proxy.Fault(Down); down.Delay != 50*time.Millisecond || down.BytesPerSec != 0 {
		t.Errorf("combined link fault down: %v", down)
	}
	cancel()
	<-done
	var kinds []string
	for _, w := range ws {
		kinds = append(kinds, string(w.Fault.Kind))
		if w.Err != nil {
			t.Errorf("%s: %v", w.Fault, w.Err)
		}
		if w.End < w.Start || w.Start < w.Fault.At {
			t.Errorf("%s: window [%s, %s]", w.Fault, w.Start, w.End)
		}
		if w.End > 50*time.Second {
			t.Errorf("%s: ended at %s, after the context", w.Fault, w.End)
		}
	}
	if got := strings.Join(kinds, " "); got != "latency reset bandwidth crash kill" {
		t.Fatalf("windows %s, want latency reset bandwidth crash kill", got)
	}
	if f := e.proxy.Fault(Up); f != (LinkFault{}) {
		t.Errorf("link after Play: %v, want healthy", f)
	}
	if crashed.Load() != 0 {
		t.Errorf("consumer crash not undone")
	}
	produceN(t, client(t, e, "after", 20*time.Second), 10, "x")
}

// TestInjectBrokerDown: a broker fault while the broker is down is an error
// naming why.
func TestInjectBrokerDown(t *testing.T) {
	e := newEnv(t, EnvConfig{Memory: true, SegmentBytes: 1 << 20})
	undo, err := e.Inject(context.Background(), mustFault(t, "{at: 0s, kill: broker, restart_after: 1s}"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Inject(context.Background(), mustFault(t, "{at: 0s, restart: broker}"))
	if err == nil || !strings.Contains(err.Error(), "down") {
		t.Fatalf("restart while down: %v", err)
	}
	if err := undo(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := undo(context.Background()); err != nil {
		t.Fatal("second undo:", err)
	}
}

// TestCloseLeavesNothing: after Close no goroutine of the Env is left, and
// a subprocess broker has been reaped.
func TestCloseLeavesNothing(t *testing.T) {
	before := runtime.NumGoroutine()
	for _, c := range []EnvConfig{{Memory: true}, {Broker: Subprocess}} {
		if c.Broker == Subprocess {
			c.Binary = galebin.Path(t)
		}
		c.SegmentBytes = 1 << 20
		e, err := NewEnv(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		cl := client(t, e, "leak", 10*time.Second)
		produceN(t, cl, 10, "x")
		cl.Close()
		if _, err := e.Inject(context.Background(), mustFault(t, "{at: 0s, pause: broker, for: 1s}")); err != nil {
			t.Fatal(err)
		}
		proc := e.proc
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		if proc != nil {
			select {
			case <-proc.done:
			default:
				t.Fatalf("broker pid %d not reaped after Close", proc.cmd.Process.Pid)
			}
		}
		if e.tmpDir != "" {
			if _, err := os.Stat(e.tmpDir); !os.IsNotExist(err) {
				t.Errorf("temporary data directory %s left: %v", e.tmpDir, err)
			}
		}
	}
	waitFor(t, "goroutines to end", func() bool { return runtime.NumGoroutine() <= before })
}
