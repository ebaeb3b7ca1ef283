package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// BenchmarkBrokerProcess measures a `gale broker` process end to end: one
// franz-go producer and one franz-go consumer in this process, b.N records
// of 100 bytes in batches of about 1000, one partition. Besides msg/s it
// reports the broker process's CPU time (user + system) per message, read
// from /proc/<pid>/stat when the clock starts and when the consumer has
// every record (10 ms resolution; start and shutdown excluded), and
// broker-sys-% (the share of it spent in the kernel). The producer runs
// with and without idempotence.
func BenchmarkBrokerProcess(b *testing.B) {
	for _, idem := range []bool{false, true} {
		b.Run(fmt.Sprintf("idempotent=%v", idem), func(b *testing.B) { benchBrokerProcess(b, idem) })
	}
}

func benchBrokerProcess(b *testing.B, idempotent bool) {
	p := startBrokerProc(b, b.TempDir(), "--segment-bytes", fmt.Sprint(256<<20))
	popts := []kgo.Opt{
		kgo.SeedBrokers(p.addr),
		kgo.DefaultProduceTopic("bench"),
		kgo.AllowAutoTopicCreation(),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.ProducerBatchMaxBytes(110_000),
		kgo.ProducerLinger(5 * time.Millisecond),
		kgo.MaxBufferedRecords(1 << 20),
	}
	if !idempotent {
		popts = append(popts, kgo.DisableIdempotentWrite(), kgo.MaxProduceRequestsInflightPerBroker(5))
	}
	producer, err := kgo.NewClient(popts...)
	if err != nil {
		b.Fatal(err)
	}
	defer producer.Close()
	consumer, err := kgo.NewClient(kgo.SeedBrokers(p.addr),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"bench": {0: kgo.NewOffset().AtStart()}}),
		kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		b.Fatal(err)
	}
	defer consumer.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// The topic exists before the clock starts.
	if err := producer.ProduceSync(ctx, &kgo.Record{Value: []byte("warm-up")}).FirstErr(); err != nil {
		b.Fatal(err)
	}
	val := bytes.Repeat([]byte("x"), 100)
	var failed atomic.Pointer[error]
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			failed.CompareAndSwap(nil, &err)
		}
	}
	b.SetBytes(int64(len(val)))
	b.ResetTimer()
	user0, sys0 := procCPU(b, p.cmd.Process.Pid)
	start := time.Now()
	go func() {
		for range b.N {
			producer.Produce(ctx, &kgo.Record{Value: val}, promise)
		}
	}()
	for got := -1; got < b.N; { // -1: the warm-up record
		fs := consumer.PollFetches(ctx)
		if ctx.Err() != nil {
			b.Fatalf("after %d of %d records: %v", got, b.N, ctx.Err())
		}
		if err := fs.Err0(); err != nil {
			b.Fatal(err)
		}
		got += fs.NumRecords()
	}
	elapsed := time.Since(start)
	user1, sys1 := procCPU(b, p.cmd.Process.Pid)
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	producer.Close()
	consumer.Close()
	if code := p.stop(syscall.SIGTERM); code != 0 {
		b.Fatalf("broker exit code %d", code)
	}
	cpu := (user1 - user0) + (sys1 - sys0)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msg/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/1e3/float64(b.N), "broker-cpu-µs/msg")
	if cpu > 0 {
		b.ReportMetric(100*float64(sys1-sys0)/float64(cpu), "broker-sys-%")
	}
}

// procCPU returns the user and system CPU time of process pid so far, from
// /proc/<pid>/stat (fields 14 and 15, in clock ticks of 10 ms: Linux's
// USER_HZ is 100 on every architecture Go supports).
func procCPU(b *testing.B, pid int) (user, sys time.Duration) {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Skipf("cannot read the broker's CPU time: %v", err)
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	if len(f) < 13 {
		b.Fatalf("short /proc/%d/stat: %q", pid, raw)
	}
	ticks := func(s string) time.Duration {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			b.Fatalf("/proc/%d/stat: %v", pid, err)
		}
		return time.Duration(n) * 10 * time.Millisecond
	}
	return ticks(f[11]), ticks(f[12])
}
