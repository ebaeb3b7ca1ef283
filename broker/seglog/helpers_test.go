package seglog

import (
	"bytes"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"gale/broker/record"
	"gale/broker/vfs"
)

// batch builds a valid batch of n records of size bytes each, stamped ts.
func batch(n, size int, ts int64) []byte {
	recs := make([]record.Record, n)
	for i := range recs {
		v := bytes.Repeat([]byte{byte('a' + i%26)}, size)
		recs[i] = record.Record{Value: v, TimestampDelta: int64(i)}
	}
	return record.AppendBatch(nil, record.BatchOptions{BaseTimestamp: ts, ProducerID: -1}, recs)
}

// fileLayers runs a test on the in-memory layer and on real files in both
// write modes.
func fileLayers(t *testing.T, fn func(t *testing.T, fs vfs.FS, dir string)) {
	t.Run("fs=mem", func(t *testing.T) { fn(t, vfs.NewMem(), "/log/t-0") })
	for _, m := range []vfs.WriteMode{vfs.WritePwrite, vfs.WriteMmap, vfs.WriteAuto} {
		t.Run("fs=os/"+m.String(), func(t *testing.T) {
			// A small PwriteMin so WriteAuto takes both paths.
			fn(t, vfs.NewOS(vfs.OSOptions{WriteMode: m, PwriteMin: 512}), t.TempDir())
		})
	}
}

func mustOpen(t testing.TB, dir string, o Options) (*Log, RecoveryReport) {
	t.Helper()
	l, rep, err := Open(dir, o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return l, rep
}

func mustAppend(t testing.TB, l *Log, b []byte) int64 {
	t.Helper()
	off, err := l.Append(b)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return off
}

// readAll reads the log from StartOffset to EndOffset and checks every
// batch: valid CRC, contiguous offsets.
func readAll(t testing.TB, l *Log) []record.Header {
	t.Helper()
	var hs []record.Header
	off := l.StartOffset()
	for off < l.EndOffset() {
		c, err := l.Read(off, 1<<20)
		if err != nil {
			t.Fatalf("Read(%d): %v", off, err)
		}
		if len(c.Data) == 0 {
			t.Fatalf("Read(%d) returned nothing before the end %d", off, l.EndOffset())
		}
		for p := 0; p < len(c.Data); {
			h, err := record.Validate(c.Data[p:])
			if err != nil {
				t.Fatalf("batch at offset %d: %v", off, err)
			}
			if h.BaseOffset != off {
				t.Fatalf("batch base offset %d, want %d", h.BaseOffset, off)
			}
			hs = append(hs, h)
			off = h.NextOffset()
			p += h.Size()
		}
		c.Release()
	}
	return hs
}

// fakeClock is a clock tests advance by hand; the flusher reads it too.
type fakeClock struct{ ms atomic.Int64 }

func (c *fakeClock) Now() time.Time          { return time.UnixMilli(c.ms.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }

func newClock() *fakeClock {
	c := &fakeClock{}
	c.ms.Store(1_700_000_000_000)
	return c
}

func isOutOfRange(err error) bool { return errors.Is(err, ErrOffsetOutOfRange) }

func name(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func (l *Log) crash() { l.Abandon() }
