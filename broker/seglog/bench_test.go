package seglog

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"gale/broker/record"
)

var benchBatches = []struct {
	name string
	size int
}{{"1KiB", 1 << 10}, {"16KiB", 16 << 10}, {"64KiB", 64 << 10}, {"1MiB", 1 << 20}}

// batchOfSize builds one batch of about size bytes (100-byte records).
func batchOfSize(size int) []byte {
	n := max(1, (size-61)/110)
	b := batch(n, 100, 1)
	return b
}

// BenchmarkAppend appends one batch per op to a log on disk, under each
// flush policy, and writes the same bytes with plain sequential os.File
// writes as the reference, so the ratio shows in one run.
func BenchmarkAppend(b *testing.B) {
	for _, bs := range benchBatches {
		data := batchOfSize(bs.size)
		b.Run("batch="+bs.name, func(b *testing.B) {
			for _, p := range []FlushPolicy{FlushNever, FlushInterval, FlushAlways} {
				b.Run("flush="+p.String(), func(b *testing.B) {
					l, _ := mustOpen(b, b.TempDir(), Options{Flush: p, RetentionAge: -1})
					b.SetBytes(int64(len(data)))
					b.ReportAllocs()
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						if _, err := l.Append(data); err != nil {
							b.Fatal(err)
						}
					}
					b.StopTimer()
					l.Close()
				})
			}
			b.Run("reference", func(b *testing.B) {
				dir := b.TempDir()
				var f *os.File
				written, files := int64(1<<30), 0
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if written+int64(len(data)) > 1<<30 { // roll like a 1 GiB segment
						if f != nil {
							f.Close()
						}
						var err error
						if f, err = os.Create(filepath.Join(dir, fmt.Sprint(files))); err != nil {
							b.Fatal(err)
						}
						files++
						written = 0
					}
					if _, err := f.Write(data); err != nil {
						b.Fatal(err)
					}
					written += int64(len(data))
				}
				b.StopTimer()
				f.Close()
			})
		})
	}
}

// BenchmarkRead reads a 256 MiB log sequentially in fetch-sized (1 MiB)
// chunks of 16 KiB batches.
func BenchmarkRead(b *testing.B) {
	l, _ := mustOpen(b, b.TempDir(), Options{RetentionAge: -1})
	defer l.Close()
	data := batchOfSize(16 << 10)
	logSize := int64(256 << 20)
	if testing.Short() {
		logSize = 16 << 20
	}
	for l.Size() < logSize {
		mustAppend(b, l, data)
	}
	b.ReportAllocs()
	b.ResetTimer()
	off, total := int64(0), int64(0)
	for i := 0; i < b.N; i++ {
		if off == l.EndOffset() {
			off = 0
		}
		c, err := l.Read(off, 1<<20)
		if err != nil {
			b.Fatal(err)
		}
		total += int64(len(c.Data))
		off = c.Offset + int64(countRecords(c.Data))
		c.Release()
	}
	b.SetBytes(total / int64(b.N))
}

func countRecords(data []byte) int {
	n := 0
	for p := 0; p < len(data); {
		h, _ := record.ParseHeader(data[p:])
		n += int(h.LastOffsetDelta) + 1
		p += h.Size()
	}
	return n
}

// BenchmarkRecover measures Open after a kill with a 1 GiB active segment
// (16 MiB with -short) and no checkpoint past its start: every batch is read
// and CRC-checked.
func BenchmarkRecover(b *testing.B) {
	dir := b.TempDir()
	l, _ := mustOpen(b, dir, Options{RetentionAge: -1})
	data := batchOfSize(64 << 10)
	tail := int64(1 << 30)
	if testing.Short() {
		tail = 16 << 20
	}
	for l.Size()+int64(len(data)) <= tail-1<<16 {
		mustAppend(b, l, data)
	}
	size := l.Size()
	l.Abandon()
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l, rep := mustOpen(b, dir, Options{RetentionAge: -1})
		if rep.Scanned != size || rep.Cut() {
			b.Fatalf("recovery scanned %d of %d bytes: %v", rep.Scanned, size, rep)
		}
		b.ReportMetric(rep.Duration.Seconds(), "s/recovery")
		l.Abandon()
	}
}

// BenchmarkRecoverRetained measures Open after a kill of a log retaining
// 10 GiB in 1 GiB segments (64 MiB in 4 MiB segments with -short), with a
// 64 MiB (4 MiB) tail written after the last checkpoint: only the tail is
// verified, so recovery time does not grow with what is retained.
func BenchmarkRecoverRetained(b *testing.B) {
	retained, seg, tail := int64(10<<30), int64(1<<30), int64(64<<20)
	if testing.Short() {
		retained, seg, tail = 64<<20, 4<<20, 4<<20
	}
	dir := b.TempDir()
	o := Options{SegmentBytes: seg, RetentionAge: -1}
	l, _ := mustOpen(b, dir, o)
	data := batchOfSize(64 << 10)
	for l.Size() < retained {
		mustAppend(b, l, data)
	}
	if err := l.Sync(); err != nil { // checkpoint at the end of what is retained
		b.Fatal(err)
	}
	for written := int64(0); written < tail; written += int64(len(data)) {
		mustAppend(b, l, data)
	}
	size := l.Size()
	l.Abandon()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l, rep := mustOpen(b, dir, o)
		if rep.Cut() || l.Size() != size {
			b.Fatalf("recovery lost data: %v", rep)
		}
		b.ReportMetric(rep.Duration.Seconds(), "s/recovery")
		b.ReportMetric(float64(rep.Scanned)/(1<<20), "MiB-verified")
		b.ReportMetric(float64(size)/(1<<30), "GiB-retained")
		l.Abandon()
	}
}
