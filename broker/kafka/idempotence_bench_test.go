package kafka

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gale/broker/producer"
	"gale/broker/record"
	"gale/broker/seglog"
)

// BenchmarkProducerStateReplay measures rebuilding a partition's producer
// state at its first idempotent produce after a restart: a log of 16 KiB
// batches from 8 idempotent producers is reopened (as a restart does, so
// its segments are mapped afresh) and every batch header replayed.
//
// "sealed": the log is in segments of an eighth of its size, so nearly all
// of it is in sealed segments; "active": it is all in the active segment
// (which is mapped for writing, and whose page faults cost more). "warm":
// the segment files are in the page cache (a process restart); "cold":
// they were evicted first (posix_fadvise DONTNEED), as after a machine
// restart. One op is one whole replay; ns/batch is per batch header.
// With -short: 16 MiB, sealed and warm only (each op reopens the log,
// which costs more than the replay).
func BenchmarkProducerStateReplay(b *testing.B) {
	size := int64(1 << 30)
	layouts, caches := []string{"sealed", "active"}, []string{"warm", "cold"}
	if testing.Short() {
		size, layouts, caches = 16<<20, layouts[:1], caches[:1]
	}
	for _, layout := range layouts {
		segBytes := size / 8
		if layout == "active" {
			segBytes = min(2*size, seglog.MaxSegmentBytes)
		}
		opts := seglog.Options{SegmentBytes: segBytes, RetentionAge: -1}
		dir := b.TempDir()
		batches := writeReplayLog(b, dir, opts, size)
		for _, cache := range caches {
			b.Run(fmt.Sprintf("size=%dMiB/%s/%s", size>>20, layout, cache), func(b *testing.B) {
				benchReplay(b, dir, opts, batches, cache == "cold")
			})
		}
	}
}

func benchReplay(b *testing.B, dir string, opts seglog.Options, batches int, cold bool) {
	var total time.Duration
	for range b.N {
		b.StopTimer()
		if cold {
			evict(b, dir)
		}
		l, _, err := seglog.Open(dir, opts)
		if err != nil {
			b.Fatal(err)
		}
		st := producer.NewState(producer.Options{ExpirationMs: -1})
		b.StartTimer()
		start := time.Now()
		n, err := replayLog(l, st)
		total += time.Since(start)
		b.StopTimer()
		if err != nil || n != batches || st.Len() != 8 {
			b.Fatalf("replayed %d batches (want %d), %d producers (want 8): %v", n, batches, st.Len(), err)
		}
		l.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(total.Nanoseconds())/float64(b.N)/float64(batches), "ns/batch")
	b.ReportMetric(float64(batches), "batches")
}

// writeReplayLog writes a log of about size bytes of 16 KiB batches, from 8
// producers in turn, and returns how many batches it holds.
func writeReplayLog(b testing.TB, dir string, opts seglog.Options, size int64) int {
	b.Helper()
	l, _, err := seglog.Open(dir, opts)
	if err != nil {
		b.Fatal(err)
	}
	val := make([]byte, 16<<10-record.HeaderSize-16)
	recs := []record.Record{{Value: val}}
	var buf []byte
	n := 0
	for written := int64(0); written < size; n++ {
		id := int64(n % 8)
		buf = record.AppendBatch(buf[:0], record.BatchOptions{
			BaseTimestamp: time.Now().UnixMilli(), ProducerID: id, BaseSequence: int32(n / 8), PartitionLeaderEpoch: -1,
		}, recs)
		if _, err := l.Append(buf); err != nil {
			b.Fatal(err)
		}
		written += int64(len(buf))
	}
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	return n
}

// evict drops dir's segment files from the page cache.
func evict(b testing.TB, dir string) {
	b.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range names {
		f, err := os.Open(name)
		if err != nil {
			b.Fatal(err)
		}
		err = unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
	}
}
