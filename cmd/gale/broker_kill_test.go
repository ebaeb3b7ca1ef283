package main

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Crash and shutdown of a `gale broker` process.

// ackedRecord is a record the broker acknowledged.
type ackedRecord struct {
	partition int32
	offset    int64
	seq       int
}

func recordValue(seq int) []byte {
	v := fmt.Appendf(nil, "%09d|", seq)
	return append(v, bytes.Repeat([]byte("acked "), 16)[:100-len(v)]...)
}

func recordSeq(t testing.TB, v []byte) int {
	seq, err := strconv.Atoi(string(v[:min(9, len(v))]))
	if err != nil {
		t.Fatalf("bad value %q", v)
	}
	return seq
}

// produceRecords sends records [0, n) to topic with acks=1 and no
// idempotence, calling stop (if not nil) once half of them were
// acknowledged, and returns the acknowledged ones.
func produceRecords(t testing.TB, addr, topic string, n int, atHalf func()) []ackedRecord {
	t.Helper()
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(addr),
		kgo.DefaultProduceTopic(topic),
		kgo.AllowAutoTopicCreation(),
		kgo.RequiredAcks(kgo.LeaderAck()),
		kgo.DisableIdempotentWrite(),
		kgo.ProducerLinger(time.Millisecond),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()),
		kgo.RecordDeliveryTimeout(20*time.Second),
	)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var (
		mu    sync.Mutex
		acked []ackedRecord
		wg    sync.WaitGroup
		count atomic.Int64
		once  sync.Once
	)
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for seq := range n {
		wg.Add(1)
		cl.Produce(c, &kgo.Record{Value: recordValue(seq)}, func(r *kgo.Record, err error) {
			defer wg.Done()
			if err != nil {
				if atHalf == nil {
					t.Errorf("record %d: %v", seq, err)
				}
				return
			}
			mu.Lock()
			acked = append(acked, ackedRecord{r.Partition, r.Offset, seq})
			mu.Unlock()
			if count.Add(1) == int64(n/2) && atHalf != nil {
				once.Do(func() { go func() { atHalf(); cl.Close() }() })
			}
		})
	}
	wg.Wait()
	return acked
}

// checkAcked reads topic's partitions [0, parts) from the start and checks
// every acked record is there, at its offset, and that each partition
// holds records in the order they were produced.
func checkAcked(t testing.TB, addr, topic string, parts int, acked []ackedRecord) {
	t.Helper()
	want := make(map[int32]map[int64]int)
	last := make(map[int32]int64)
	offsets := make(map[int32]kgo.Offset)
	for p := range int32(parts) {
		want[p] = make(map[int64]int)
		last[p] = -1
		offsets[p] = kgo.NewOffset().AtStart()
	}
	for _, a := range acked {
		want[a.partition][a.offset] = a.seq
		last[a.partition] = max(last[a.partition], a.offset)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}),
		kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	next := make(map[int32]int64)
	prevSeq := make(map[int32]int)
	for p := range int32(parts) {
		prevSeq[p] = -1
	}
	done := func() bool {
		for p := range int32(parts) {
			if next[p] <= last[p] {
				return false
			}
		}
		return true
	}
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for !done() {
		fs := cl.PollFetches(c)
		if c.Err() != nil {
			t.Fatalf("reading back: %v (next offsets %v, last acked %v)", c.Err(), next, last)
		}
		fs.EachError(func(_ string, p int32, err error) { t.Fatalf("fetch partition %d: %v", p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			p := r.Partition
			if r.Offset != next[p] {
				t.Fatalf("partition %d: offset %d, want %d", p, r.Offset, next[p])
			}
			seq := recordSeq(t, r.Value)
			if w, ok := want[p][r.Offset]; ok && w != seq {
				t.Fatalf("partition %d offset %d: record %d, but record %d was acked there", p, r.Offset, seq, w)
			}
			if seq <= prevSeq[p] {
				t.Fatalf("partition %d offset %d: record %d after record %d", p, r.Offset, seq, prevSeq[p])
			}
			if !bytes.Equal(r.Value, recordValue(seq)) {
				t.Fatalf("partition %d offset %d: value %q", p, r.Offset, r.Value)
			}
			prevSeq[p] = seq
			next[p]++
		})
	}
}

// TestBrokerKill9KeepsAckedRecords: under --flush never, kill -9 of the
// broker process loses no acknowledged (acks=1) record: after a restart
// on the same data directory each is readable, in order, at its offset.
func TestBrokerKill9KeepsAckedRecords(t *testing.T) {
	n := 200_000
	if testing.Short() || raceEnabled {
		n = 20_000
	}
	dir := t.TempDir()
	flags := []string{"--flush", "never", "--segment-bytes", strconv.Itoa(1 << 20), "--default-partitions", "3"}
	p := startBrokerProc(t, dir, flags...)
	acked := produceRecords(t, p.addr, "crash", n, func() { p.cmd.Process.Signal(syscall.SIGKILL) })
	if code := p.wait(); code != -1 {
		t.Fatalf("kill -9: exit code %d, want -1 (killed)", code)
	}
	if len(acked) < n/2 {
		t.Fatalf("%d records acked before the kill, want at least %d", len(acked), n/2)
	}
	t.Logf("%d of %d records acked before kill -9", len(acked), n)

	p = startBrokerProc(t, dir, flags...)
	for _, l := range p.stderr.grep("partition") {
		t.Log(l)
	}
	checkAcked(t, p.addr, "crash", 3, acked)
	if code := p.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM: exit code %d", code)
	}
}

// TestBrokerSIGTERMShutsDownCleanly: SIGTERM exits 0 after flushing and
// checkpointing, so the next start verifies nothing and cuts nothing.
func TestBrokerSIGTERMShutsDownCleanly(t *testing.T) {
	n := 20_000
	dir := t.TempDir()
	flags := []string{"--default-partitions", "2", "--segment-bytes", strconv.Itoa(1 << 20)}
	p := startBrokerProc(t, dir, flags...)
	acked := produceRecords(t, p.addr, "clean", n, nil)
	if len(acked) != n {
		t.Fatalf("%d of %d records acked", len(acked), n)
	}
	if code := p.stop(syscall.SIGTERM); code != 0 {
		t.Fatalf("SIGTERM: exit code %d, want 0", code)
	}
	for _, want := range []string{`msg="gale broker: shutting down" signal=terminated`, `msg="kafka: closed"`} {
		if len(p.stderr.grep(want)) != 1 {
			t.Errorf("no %q line at shutdown", want)
		}
	}

	p = startBrokerProc(t, dir, append(flags, "--log-level=debug")...)
	opened := p.stderr.grep("kafka: partition opened")
	if len(opened) != 2 {
		t.Errorf("%d 'partition opened' lines, want 2", len(opened))
	}
	for _, l := range opened {
		if !strings.Contains(l, " 0 bytes verified") {
			t.Errorf("after a clean shutdown, a partition was verified past its checkpoint: %s", l)
		}
	}
	if cut := p.stderr.grep("cut"); len(cut) > 0 {
		t.Errorf("recovery cut after a clean shutdown:\n%s", strings.Join(cut, "\n"))
	}
	checkAcked(t, p.addr, "clean", 2, acked)
	if code := p.stop(syscall.SIGINT); code != 0 {
		t.Fatalf("SIGINT: exit code %d, want 0", code)
	}
}
