package scenarios

import (
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"gale/broker/kafka"
	"gale/linearizability"
)

// The controls' workload: one topic of two partitions; partition 0 has one
// producer (so a producer's sends to it are a single sequence), partition 1
// two concurrent ones; one consumer per partition reads forward and
// commits its position after every read that moved it. Phase 1: produce
// and consume, drain to the end, then each producer sends a short tail
// nobody reads before the broker restarts. Phase 2, on the restarted
// broker: new consumers resume from the committed offsets and catch up
// (reading the tail) before the producers start again, then produce,
// consume and drain as in phase 1, and read the committed offsets back.
const (
	controlTopic    = "controls"
	controlGroup    = "g"
	phaseBatches    = 30                    // batches per producer per phase
	tailBatches     = 3                     // per producer, unread before the restart
	fetchBytes      = 128                   // about one batch per fetch
	fetchWait       = 20 * time.Millisecond // long poll
	requestTimeout  = 5 * time.Second       // a request past it is unknown
	workloadTimeout = 30 * time.Second      // bounds each drain loop
)

var producerPartitions = []int32{0, 1, 1} // producer client id -> partition

// testBroker is an in-process kafka.Server on a loopback port that can be
// restarted on the same address and data directory.
type testBroker struct {
	t    *testing.T
	cfg  kafka.Config
	addr string
	srv  *kafka.Server
	done chan error
}

func startBroker(t *testing.T, cfg kafka.Config, addr string) *testBroker {
	t.Helper()
	srv, err := kafka.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		srv.Close()
		t.Fatal(err)
	}
	b := &testBroker{t: t, cfg: cfg, addr: ln.Addr().String(), srv: srv, done: make(chan error, 1)}
	go func() { b.done <- srv.Serve(ln) }()
	return b
}

func (b *testBroker) stop() {
	b.t.Helper()
	if err := b.srv.Close(); err != nil {
		b.t.Errorf("closing the broker: %v", err)
	}
	if err := <-b.done; !errors.Is(err, kafka.ErrServerClosed) {
		b.t.Errorf("Serve: %v", err)
	}
}

func (b *testBroker) restart() *testBroker {
	b.t.Helper()
	b.stop()
	return startBroker(b.t, b.cfg, b.addr)
}

// run is one workload's clients and what they share.
type run struct {
	t      *testing.T
	h      *history
	addr   string
	kcs    []*kgo.Client
	nextID atomic.Int64 // client ids for consumers that seek
}

func (r *run) client(id int) *client {
	kc, err := kgo.NewClient(kgo.SeedBrokers(r.addr))
	if err != nil {
		r.t.Fatal(err)
	}
	r.kcs = append(r.kcs, kc)
	return &client{id: id, kc: kc, h: r.h, topic: controlTopic, timeout: requestTimeout}
}

func (r *run) closeClients() {
	for _, kc := range r.kcs {
		kc.Close()
	}
	r.kcs = nil
}

// producer sends batches of 1-3 unique values "p<client>-<n>".
type producer struct {
	c         *client
	partition int32
	n         int
}

func (p *producer) send(batches int) {
	for range batches {
		values := make([]string, 1+p.n%3)
		for i := range values {
			values[i] = "p" + strconv.Itoa(p.c.id) + "-" + strconv.Itoa(p.n)
			p.n++
		}
		p.c.produce(p.partition, values)
	}
}

// consumer reads one partition forward and commits its position after
// every read that moved it.
type consumer struct {
	r         *run
	c         *client
	partition int32
	pos       int64
	committed int64 // the last offset this consumer committed or read back
}

// start reads the committed offset back and starts there (at 0 if none).
func (k *consumer) start() {
	k.committed = k.c.fetchCommitted(controlGroup, k.partition).Offset
	k.pos = max(k.committed, 0)
}

// poll fetches once from the position and commits progress. Out of range,
// it resets to the high watermark (auto.offset.reset=latest): a seek, so
// under a new client id.
func (k *consumer) poll() fetchResult {
	res := k.c.fetch(k.partition, k.pos, fetchBytes, fetchWait)
	switch {
	case res.op.Status == linearizability.StatusOK:
		k.pos = res.next
		if k.pos > k.committed && k.c.commit(controlGroup, k.partition, k.pos).Status == linearizability.StatusOK {
			k.committed = k.pos
		}
	case res.code == kerr.OffsetOutOfRange.Code && res.hw >= 0:
		k.c.id = int(k.r.nextID.Add(1))
		k.pos = res.hw
	}
	return res
}

// drain polls until a fetch that began once final() held finds nothing at
// or past the high watermark.
func (k *consumer) drain(final func() bool) {
	deadline := time.Now().Add(workloadTimeout)
	for time.Now().Before(deadline) {
		after := final()
		res := k.poll()
		if after && res.op.Status == linearizability.StatusOK && len(res.op.Values) == 0 && res.hw >= 0 && k.pos >= res.hw {
			return
		}
	}
	k.r.t.Errorf("consumer %d of partition %d: no final drain within %v (at %d)", k.c.id, k.partition, workloadTimeout, k.pos)
}

// runWorkload runs the workload against a broker with bugs switched on and
// returns the history file it recorded.
func runWorkload(t *testing.T, bugs kafka.Bugs) string {
	dir := t.TempDir()
	name := filepath.Join(dir, "history.jsonl")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := &run{t: t, h: &history{start: time.Now(), rec: linearizability.NewRecorder(f)}}
	r.nextID.Store(99)
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg := kafka.Config{Dir: filepath.Join(dir, "data"), Bugs: bugs, Logger: logger, RetentionCheckInterval: -1}
	b := startBroker(t, cfg, "127.0.0.1:0")
	r.addr = b.addr

	admin := r.client(-1)
	if err := createTopic(admin.kc, controlTopic, 2); err != nil {
		t.Fatal(err)
	}
	producers := make([]*producer, len(producerPartitions))
	for id, p := range producerPartitions {
		producers[id] = &producer{c: r.client(id), partition: p}
	}
	r.phase(producers, 10, false)
	var wg sync.WaitGroup
	for _, p := range producers {
		wg.Go(func() { p.send(tailBatches) })
	}
	wg.Wait()
	r.closeClients()

	b = b.restart()
	defer b.stop()
	for _, p := range producers {
		p.c = r.client(p.c.id)
	}
	r.phase(producers, 20, true)
	r.closeClients()
	if err := r.h.rec.Flush(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d operations recorded in %v", r.h.rec.Len(), time.Since(r.h.start).Round(time.Millisecond))
	return name
}

// phase runs consumers (client ids firstID, firstID+1) against the
// producers until the producers are done and the consumers have drained
// the partitions. With catchUp, the consumers first read to the end
// before the producers start, and read their committed offsets back at
// the end.
func (r *run) phase(producers []*producer, firstID int, catchUp bool) {
	consumers := make([]*consumer, 2)
	for p := range consumers {
		consumers[p] = &consumer{r: r, c: r.client(firstID + p), partition: int32(p)}
	}
	var producing, consuming sync.WaitGroup
	var done atomic.Bool
	start := make(chan struct{})
	var caughtUp sync.WaitGroup
	for _, k := range consumers {
		caughtUp.Add(1)
		consuming.Go(func() {
			k.start()
			if catchUp {
				k.drain(func() bool { return true })
			}
			caughtUp.Done()
			<-start
			k.drain(done.Load)
			if catchUp {
				k.c.fetchCommitted(controlGroup, k.partition)
			}
		})
	}
	caughtUp.Wait()
	close(start)
	for _, p := range producers {
		producing.Go(func() { p.send(phaseBatches) })
	}
	producing.Wait()
	done.Store(true)
	consuming.Wait()
}

// report renders a check's result for a test log.
func report(res *linearizability.Result) string {
	var b strings.Builder
	res.WriteText(&b)
	return b.String()
}
