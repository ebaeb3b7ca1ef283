package seglog

import (
	"errors"
	"hash/crc32"
	"sync"
	"testing"
	"time"

	"gale/broker/record"
	"gale/broker/vfs"
)

func TestRetention(t *testing.T) {
	b := batch(10, 100, 0) // ~1.1 KiB
	tests := []struct {
		name       string
		opts       Options
		age        time.Duration
		wantDelete bool
	}{
		{"by size", Options{RetentionBytes: 8 << 10, RetentionAge: -1}, 0, true},
		{"size within limit", Options{RetentionBytes: 1 << 30, RetentionAge: -1}, 0, false},
		{"by age", Options{RetentionAge: time.Hour}, 2 * time.Hour, true},
		{"not old enough", Options{RetentionAge: time.Hour}, 30 * time.Minute, false},
		{"no limits", Options{RetentionAge: -1}, 1000 * time.Hour, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			o := tt.opts
			o.FS, o.SegmentBytes, o.Now = vfs.NewMem(), 4<<10, clk.Now
			l, _ := mustOpen(t, "/d", o)
			defer l.Close()
			for i := 0; i < 40; i++ {
				mustAppend(t, l, batch(10, 100, clk.Now().UnixMilli()))
			}
			before := l.Segments()
			clk.Advance(tt.age)
			n, err := l.EnforceRetention()
			if err != nil {
				t.Fatal(err)
			}
			if (n > 0) != tt.wantDelete {
				t.Fatalf("deleted %d segments of %d, want deletion: %v", n, before, tt.wantDelete)
			}
			if l.Segments() != before-n || l.Segments() < 1 {
				t.Fatalf("segments %d, before %d, deleted %d", l.Segments(), before, n)
			}
			if tt.opts.RetentionBytes > 0 && tt.wantDelete && l.Size() < tt.opts.RetentionBytes-int64(len(b)) {
				t.Fatalf("size retention went below the limit: %d < %d", l.Size(), tt.opts.RetentionBytes)
			}
			if n > 0 {
				if _, err := l.Read(0, 100); !errors.Is(err, ErrOffsetOutOfRange) {
					t.Fatalf("read below the new start: %v", err)
				}
				names, _ := o.FS.List("/d")
				for _, nm := range names {
					if base, ok := parseSegmentName(nm); ok && base < l.StartOffset() {
						t.Fatalf("segment file %s still there, start is %d", nm, l.StartOffset())
					}
				}
			}
			readAll(t, l)
			// Reopen: the start offset survives.
			start := l.StartOffset()
			l.Close()
			l2, _ := mustOpen(t, "/d", o)
			defer l2.Close()
			if l2.StartOffset() != start {
				t.Fatalf("start after reopen %d, want %d", l2.StartOffset(), start)
			}
		})
	}
}

// TestRetentionRacesReaders deletes segments of real mmap'd files while
// readers read them; run with -race. A segment unmapped under a reader
// would crash the test with SIGBUS or fail a CRC.
func TestRetentionRacesReaders(t *testing.T) {
	l, _ := mustOpen(t, t.TempDir(), Options{SegmentBytes: 8 << 10, RetentionBytes: 32 << 10, RetentionAge: -1})
	defer l.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var reads sync.Map
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			for ; ; n++ {
				select {
				case <-stop:
					reads.Store(r, n)
					return
				default:
				}
				c, err := l.Read(l.StartOffset(), 16<<10)
				if errors.Is(err, ErrOffsetOutOfRange) {
					continue // retention moved the start between the two calls
				}
				if err != nil {
					t.Error(err)
					return
				}
				time.Sleep(50 * time.Microsecond) // hold the segment a while
				for p := 0; p < len(c.Data); {
					h, err := record.Validate(c.Data[p:])
					if err != nil {
						t.Errorf("read a bad batch while retention ran: %v", err)
						break
					}
					p += h.Size()
				}
				_ = crc32.ChecksumIEEE(c.Data) // touch every byte
				c.Release()
			}
		}()
	}
	deleted := 0
	for i := 0; i < 3000; i++ {
		mustAppend(t, l, batch(4, 100, int64(i)))
		if i%10 == 0 {
			n, err := l.EnforceRetention()
			if err != nil {
				t.Fatal(err)
			}
			deleted += n
		}
	}
	close(stop)
	wg.Wait()
	if deleted == 0 {
		t.Fatal("retention deleted nothing; the race was not exercised")
	}
	t.Logf("deleted %d segments while 4 readers read", deleted)
}
