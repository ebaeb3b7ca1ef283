package kafka

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"gale/broker/seglog"
	"gale/broker/vfs"
)

// Tests of a broker that runs wholly on a vfs.Mem and is stopped with
// Abandon, as kill -9 would stop it.

// memDir is the data directory of the brokers on a vfs.Mem.
const memDir = "/data"

// onMem runs the broker on fsys with the given flush policy and small
// segments.
func onMem(fsys vfs.FS, flush seglog.FlushPolicy, segmentBytes int64) brokerOpt {
	return func(c *Config) {
		c.Log.FS, c.Log.Flush, c.Log.SegmentBytes = fsys, flush, segmentBytes
	}
}

// acked is one record the broker acknowledged.
type acked struct {
	p     int32
	off   int64
	value []byte
}

// loadUntilAbandoned produces records [0, ...) to topic round-robin over
// parts with acks=all from one goroutine and consumes the topic from
// another, calls abandon once at least minAcked records were acknowledged,
// then stops both clients. It returns every acknowledged record.
func loadUntilAbandoned(t *testing.T, b *testBroker, topic string, parts, minAcked int, abandon func()) []acked {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pcl := b.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(time.Millisecond),
		kgo.RecordRetries(0), kgo.MaxBufferedRecords(1000), kgo.ProducerBatchMaxBytes(4<<10))
	ccl := b.client(t, kgo.ConsumeTopics(topic), kgo.FetchMaxWait(100*time.Millisecond))
	var (
		mu   sync.Mutex
		acks []acked
		wg   sync.WaitGroup
	)
	enough := make(chan struct{})
	var once sync.Once
	wg.Add(2)
	go func() { // producer: bounded in count and time
		defer wg.Done()
		for seq := 0; seq < 1_000_000 && ctx.Err() == nil; seq++ {
			r := &kgo.Record{Topic: topic, Partition: int32(seq % parts), Value: value(seq)}
			pcl.Produce(ctx, r, func(r *kgo.Record, err error) {
				if err != nil {
					return
				}
				mu.Lock()
				acks = append(acks, acked{r.Partition, r.Offset, r.Value})
				if len(acks) >= minAcked {
					once.Do(func() { close(enough) })
				}
				mu.Unlock()
			})
		}
	}()
	go func() { // consumer: long polls in flight when the broker dies
		defer wg.Done()
		for ctx.Err() == nil {
			ccl.PollFetches(ctx)
		}
	}()
	select {
	case <-enough:
	case <-ctx.Done():
		t.Fatalf("fewer than %d records acknowledged within a minute", minAcked)
	}
	abandon()
	cancel()
	pcl.Close()
	ccl.Close()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	return slices.Clone(acks)
}

// readLogs consumes every partition of topic from the start to its end
// offset (as the broker has it) and returns the values by partition.
func readLogs(t *testing.T, b *testBroker, topic string, parts int) [][][]byte {
	t.Helper()
	out := make([][][]byte, parts)
	offsets := make(map[int32]kgo.Offset)
	want := 0
	for p := range int32(parts) {
		l, kerr := b.partition(topic, p)
		if kerr != nil {
			t.Fatalf("partition %s[%d]: %v", topic, p, kerr)
		}
		if l.StartOffset() != 0 {
			t.Fatalf("partition %s[%d] starts at %d", topic, p, l.StartOffset())
		}
		want += int(l.EndOffset())
		offsets[p] = kgo.NewOffset().AtStart()
	}
	cl := b.client(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}), kgo.FetchMaxWait(100*time.Millisecond))
	defer cl.Close()
	c := ctx(t)
	for got := 0; got < want; {
		fs := cl.PollFetches(c)
		if err := c.Err(); err != nil {
			t.Fatalf("read %d of %d records: %v", got, want, err)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s[%d]: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset != int64(len(out[r.Partition])) {
				t.Fatalf("partition %d: offset %d, want %d", r.Partition, r.Offset, len(out[r.Partition]))
			}
			out[r.Partition] = append(out[r.Partition], r.Value)
			got++
		})
	}
	return out
}

// checkAcked fails the test for every acknowledged record not at its
// offset in logs.
func checkAcked(t *testing.T, logs [][][]byte, acks []acked) {
	t.Helper()
	lost := 0
	for _, a := range acks {
		if a.off >= int64(len(logs[a.p])) || !bytes.Equal(logs[a.p][a.off], a.value) {
			if lost++; lost <= 5 {
				t.Errorf("acknowledged record %q at %d/%d lost", a.value[:9], a.p, a.off)
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d acknowledged records lost", lost, len(acks))
	}
}

// checkPrefix fails the test unless each partition's log is a prefix of
// what was produced to it (record seq went to partition seq%parts, in
// order, as loadUntilAbandoned sends them) and returns the records kept.
func checkPrefix(t *testing.T, logs [][][]byte, parts int) int {
	t.Helper()
	n := 0
	for p, vals := range logs {
		for off, v := range vals {
			if seq := seqOf(t, v); seq != off*parts+p || !bytes.Equal(v, value(seq)) {
				t.Fatalf("partition %d offset %d holds record %q, want record %d", p, off, v[:9], off*parts+p)
			}
		}
		n += len(vals)
	}
	return n
}

// TestMemBrokerRoundTrip: a broker on a vfs.Mem serves franz-go, deletes
// a topic, restarts with a bug switch that rewrites logs, and never touches
// a real file: its data directory is a real, empty directory that stays
// empty.
func TestMemBrokerRoundTrip(t *testing.T) {
	dir := t.TempDir()
	m := vfs.NewMem()
	b := startBroker(t, dir, onMem(m, seglog.FlushNever, 1<<20))
	b.createTopic(t, "rt", 2)
	b.createTopic(t, "del", 1)
	produce(t, b, "rt", 2, 0, 2000)
	consume(t, b, "rt", 2, 2000)
	c := b.dial(t)
	del := kmsg.NewPtrDeleteTopicsRequest()
	del.SetVersion(1)
	del.TopicNames = []string{"del"}
	if ts := c.roundTrip(del).(*kmsg.DeleteTopicsResponse).Topics; ts[0].ErrorCode != 0 {
		t.Fatalf("delete: %+v", ts)
	}
	dirs, err := m.ListDirs(dir)
	if want := []string{"__gale_offsets", "rt-0", "rt-1"}; err != nil || !slices.Equal(dirs, want) {
		t.Errorf("Mem directories %q, %v; want %q", dirs, err, want)
	}
	if files, err := m.List(dir); err != nil || !slices.Contains(files, metaName) {
		t.Errorf("Mem files %q, %v; want %s among them", files, err, metaName)
	}
	ends := func(b *testBroker) (n int64) {
		for p := range int32(2) {
			l, _ := b.partition("rt", p)
			n += l.EndOffset()
		}
		return n
	}
	was := ends(b)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = startBroker(t, dir, onMem(m, seglog.FlushNever, 1<<20), func(c *Config) { c.Bugs.LoseAckedTailOnRestart = 1 })
	if now := ends(b); now >= was {
		t.Errorf("with LoseAckedTailOnRestart on the Mem: %d records, before %d", now, was)
	}
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != 0 {
		t.Errorf("the real data directory holds %v, %v: the broker bypassed its FS", ents, err)
	}
}

// TestAbandonFlushAlwaysKeepsAcked: under FlushAlways, every record
// acknowledged before Abandon is there after a restart on the same Mem (a
// killed process) and on a CrashClone keeping no unsynced byte (a power
// loss), and the restarted broker takes new records after them.
func TestAbandonFlushAlwaysKeepsAcked(t *testing.T) {
	const parts = 2
	m := vfs.NewMem()
	b := startBroker(t, memDir, onMem(m, seglog.FlushAlways, 64<<10))
	b.createTopic(t, "ka", parts)
	acks := loadUntilAbandoned(t, b, "ka", parts, 3000, b.Abandon)
	power := m.CrashClone(vfs.CrashOptions{})
	t.Logf("%d records acknowledged before Abandon", len(acks))

	for _, tc := range []struct {
		name string
		fsys *vfs.Mem
	}{{"killed", m}, {"power-loss", power}} {
		t.Run(tc.name, func(t *testing.T) {
			b := startBroker(t, memDir, onMem(tc.fsys, seglog.FlushAlways, 64<<10))
			logs := readLogs(t, b, "ka", parts)
			checkAcked(t, logs, acks)
			kept := checkPrefix(t, logs, parts)
			t.Logf("%d records recovered", kept)
			// The broker takes new records after the recovered ones.
			for p := range int32(parts) {
				cl := b.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
				r := &kgo.Record{Topic: "ka", Partition: p, Value: []byte("after")}
				res := cl.ProduceSync(ctx(t), r)
				if err := res.FirstErr(); err != nil || r.Offset != int64(len(logs[p])) {
					t.Errorf("produce after recovery to partition %d: offset %d, %v; want offset %d", p, r.Offset, err, len(logs[p]))
				}
				cl.Close()
			}
		})
	}
}

// TestAbandonFlushNeverKeepsAPrefix: under FlushNever a power loss after
// Abandon may lose acknowledged records, but what the restarted broker
// serves is a prefix of each partition's records (nothing reordered, torn
// or invented), and it takes new records after them.
func TestAbandonFlushNeverKeepsAPrefix(t *testing.T) {
	const parts = 2
	m := vfs.NewMem()
	b := startBroker(t, memDir, onMem(m, seglog.FlushNever, 16<<10))
	b.createTopic(t, "kp", parts)
	acks := loadUntilAbandoned(t, b, "kp", parts, 3000, b.Abandon)
	unsynced := 0
	for p := range parts {
		names, _ := m.List(fmt.Sprintf("%s/kp-%d", memDir, p))
		for _, n := range names {
			unsynced += m.Unsynced(fmt.Sprintf("%s/kp-%d/%s", memDir, p, n))
		}
	}
	power := m.CrashClone(vfs.CrashOptions{})

	b = startBroker(t, memDir, onMem(power, seglog.FlushNever, 16<<10))
	logs := readLogs(t, b, "kp", parts)
	kept := checkPrefix(t, logs, parts)
	t.Logf("%d records acknowledged, %d recovered after a power loss (%d unsynced bytes dropped)", len(acks), kept, unsynced)
	cl := b.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	r := &kgo.Record{Topic: "kp", Partition: 0, Value: value(len(logs[0]) * parts)}
	if err := cl.ProduceSync(ctx(t), r).FirstErr(); err != nil || r.Offset != int64(len(logs[0])) {
		t.Errorf("produce after recovery: offset %d, %v; want %d", r.Offset, err, len(logs[0]))
	}
}

// TestAbandonKeepsCommitsAndTopics: under FlushAlways, committed offsets,
// created topics and a topic deletion all survive Abandon and a power
// loss.
func TestAbandonKeepsCommitsAndTopics(t *testing.T) {
	m := vfs.NewMem()
	b := groupBroker(t, memDir, onMem(m, seglog.FlushAlways, 64<<10))
	b.createTopic(t, "t", 3)
	b.createTopic(t, "gone", 2)
	b.createTopic(t, "kept", 1)
	c := b.dial(t)
	for _, grp := range []string{"g1", "g2"} {
		resp := c.roundTrip(commitRequest(8, grp)).(*kmsg.OffsetCommitResponse)
		for _, p := range resp.Topics[0].Partitions {
			if p.ErrorCode != 0 {
				t.Fatalf("commit %s partition %d: error %d", grp, p.Partition, p.ErrorCode)
			}
		}
	}
	del := kmsg.NewPtrDeleteTopicsRequest()
	del.SetVersion(1)
	del.TopicNames = []string{"gone"}
	if ts := c.roundTrip(del).(*kmsg.DeleteTopicsResponse).Topics; ts[0].ErrorCode != 0 {
		t.Fatalf("delete: %+v", ts)
	}
	before := offsetFetch(t, b.client(t), "g1", "t", 3)
	b.Abandon()

	b = groupBroker(t, memDir, onMem(m.CrashClone(vfs.CrashOptions{}), seglog.FlushAlways, 64<<10))
	cl := b.client(t)
	for _, grp := range []string{"g1", "g2"} {
		if got := offsetFetch(t, cl, grp, "t", 3); !maps.Equal(got, before) {
			t.Errorf("group %s after Abandon and a power loss: committed %v, want %v", grp, got, before)
		}
	}
	var names []string
	for _, tp := range b.sortedTopics() {
		names = append(names, fmt.Sprintf("%s/%d", tp.name, len(tp.parts)))
	}
	if want := []string{"kept/1", "t/3"}; !slices.Equal(names, want) {
		t.Errorf("topics after Abandon and a power loss: %q, want %q", names, want)
	}
	if dirs, _ := b.fsys.ListDirs(memDir); slices.ContainsFunc(dirs, func(d string) bool { return strings.HasPrefix(d, "gone-") }) {
		t.Errorf("directories of the deleted topic came back: %q", dirs)
	}
}

// guardFS is a vfs.FS that records any use after dead is set: a file
// operation after Abandon returned.
type guardFS struct {
	vfs.FS
	dead  atomic.Bool
	after atomic.Int64
	first atomic.Value // string: the first late operation
}

func (g *guardFS) note(op, name string) {
	if g.dead.Load() && g.after.Add(1) == 1 {
		g.first.Store(op + " " + name)
	}
}

func (g *guardFS) Create(name string, size int64) (vfs.File, error) {
	g.note("create", name)
	f, err := g.FS.Create(name, size)
	if err != nil {
		return nil, err
	}
	return &guardFile{File: f, g: g, name: name}, nil
}

func (g *guardFS) Open(name string, size int64) (vfs.File, error) {
	g.note("open", name)
	f, err := g.FS.Open(name, size)
	if err != nil {
		return nil, err
	}
	return &guardFile{File: f, g: g, name: name}, nil
}

func (g *guardFS) ReadFile(name string) ([]byte, error) {
	g.note("readfile", name)
	return g.FS.ReadFile(name)
}

func (g *guardFS) WriteFileAtomic(name string, data []byte) error {
	g.note("writefile", name)
	return g.FS.WriteFileAtomic(name, data)
}

func (g *guardFS) Remove(name string) error {
	g.note("remove", name)
	return g.FS.Remove(name)
}

func (g *guardFS) RemoveAll(name string) error {
	g.note("removeall", name)
	return g.FS.RemoveAll(name)
}

func (g *guardFS) List(dir string) ([]string, error) {
	g.note("list", dir)
	return g.FS.List(dir)
}

func (g *guardFS) ListDirs(dir string) ([]string, error) {
	g.note("listdirs", dir)
	return g.FS.ListDirs(dir)
}

func (g *guardFS) MkdirAll(dir string) error {
	g.note("mkdir", dir)
	return g.FS.MkdirAll(dir)
}

type guardFile struct {
	vfs.File
	g    *guardFS
	name string
}

func (f *guardFile) WriteAt(p []byte, off int64) (int, error) {
	f.g.note("write", f.name)
	return f.File.WriteAt(p, off)
}

func (f *guardFile) Sync() error {
	f.g.note("sync", f.name)
	return f.File.Sync()
}

func (f *guardFile) Truncate(size int64) error {
	f.g.note("truncate", f.name)
	return f.File.Truncate(size)
}

func (f *guardFile) Close() error {
	f.g.note("close", f.name)
	return f.File.Close()
}

// TestAbandonLeavesNoGoroutines: Abandon in the middle of produce and
// long-poll fetch traffic (with retention checks running) ends every
// goroutine the server started, no file is touched after it returns, and a
// later Close or Abandon returns at once without error.
func TestAbandonLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	g := &guardFS{FS: vfs.NewMem()}
	logs := new(logBuffer)
	s, err := New(Config{
		Dir:                    memDir,
		Log:                    seglog.Options{FS: g, SegmentBytes: 64 << 10, Flush: seglog.FlushAlways, RetentionBytes: 256 << 10},
		RetentionCheckInterval: 5 * time.Millisecond,
		Logger:                 slog.New(slog.NewTextHandler(logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	b := &testBroker{Server: s, addr: ln.Addr().String(), logs: logs, dir: memDir}
	b.createTopic(t, "lk", 2)
	var running []string
	loadUntilAbandoned(t, b, "lk", 2, 2000, func() {
		s.Abandon()
		g.dead.Store(true)
		running = serverGoroutines()
	})
	if len(running) > 0 {
		t.Errorf("%d goroutines of the server still running when Abandon returned:\n%s", len(running), strings.Join(running, "\n\n"))
	}
	if err := <-served; err != ErrServerClosed {
		t.Errorf("Serve returned %v, want ErrServerClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close after Abandon: %v", err)
	}
	s.Abandon()
	if n := g.after.Load(); n > 0 {
		t.Errorf("%d file operations after Abandon returned, the first: %v", n, g.first.Load())
	}
	if err := goroutineLeak(before); err != nil {
		t.Error(err)
	}
	if lines := logs.lines("abandoned"); len(lines) != 1 {
		t.Errorf("log lines about abandoning: %q", lines)
	}
}

// TestCloseThenAbandon: Abandon after Close does nothing more.
func TestCloseThenAbandon(t *testing.T) {
	m := vfs.NewMem()
	b := startBroker(t, memDir, onMem(m, seglog.FlushNever, 64<<10))
	b.createTopic(t, "ca", 1)
	produce(t, b, "ca", 1, 0, 100)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b.Abandon()
	if lines := b.logs.lines("abandoned"); len(lines) != 0 {
		t.Errorf("Abandon after Close abandoned: %q", lines)
	}
	// Close synced everything: a power loss now loses nothing.
	b = startBroker(t, memDir, onMem(m.CrashClone(vfs.CrashOptions{}), seglog.FlushNever, 64<<10))
	consume(t, b, "ca", 1, 100)
}

// serverGoroutines returns the stacks of the goroutines running code of a
// Server or of its logs (clients and tests aside).
func serverGoroutines() []string {
	buf := make([]byte, 4<<20)
	var out []string
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		for _, fn := range []string{"kafka.(*conn).", "kafka.(*coordinator).run", "kafka.(*Server).retentionLoop", "seglog.(*flusher).run"} {
			if strings.Contains(g, fn) {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// goroutineLeak waits up to 10 s for the goroutine count to fall to
// before, and returns the stacks if it does not.
func goroutineLeak(before int) error {
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			return fmt.Errorf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}
