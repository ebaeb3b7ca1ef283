package seglog

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gale/broker/vfs"
)

const segPath0 = "/d/00000000000000000000.log"

// TestCrashAtEveryByte tears the last, unsynced batch at every byte
// boundary and checks that recovery keeps exactly the whole batches.
func TestCrashAtEveryByte(t *testing.T) {
	o := Options{SegmentBytes: 64 << 10, IndexIntervalBytes: 256}
	build := func(fs vfs.FS, dir string) (synced int64, last []byte) {
		o := o
		o.FS = fs
		l, _ := mustOpen(t, dir, o)
		for i := 0; i < 20; i++ {
			mustAppend(t, l, batch(3, 40, int64(i)))
		}
		if err := l.Sync(); err != nil {
			t.Fatal(err)
		}
		last = batch(4, 30, 99)
		mustAppend(t, l, last)
		synced = 60
		l.crash()
		return synced, last
	}
	check := func(t *testing.T, fs vfs.FS, dir string, keep int, last []byte, synced int64) {
		o := o
		o.FS = fs
		l, rep := mustOpen(t, dir, o)
		defer l.Close()
		total := len(last)
		want := synced
		// Whole when what was lost reads back the same from the zeroed
		// preallocation (a batch may end in zero bytes).
		if keep >= 8 && bytes.Count(last[keep:], []byte{0}) == total-keep {
			want = synced + 4
		}
		if l.EndOffset() != want {
			t.Fatalf("keep %d/%d bytes: end offset %d, want %d (%v)", keep, total, l.EndOffset(), want, rep)
		}
		if hs := readAll(t, l); len(hs) != 20+int(want-synced)/4 {
			t.Fatalf("keep %d/%d: read %d batches", keep, total, len(hs))
		}
		// A torn write whose surviving bytes are all zero looks like no
		// write at all; any other torn write is reported as a cut.
		if keep >= 8 && want == synced && (!rep.Cut() || rep.CutFrom != synced) {
			t.Fatalf("keep %d/%d: report does not show the cut at %d: %v", keep, total, synced, rep)
		}
		// The log takes appends again at the cut.
		if off := mustAppend(t, l, batch(1, 10, 1)); off != want {
			t.Fatalf("append after recovery at %d, want %d", off, want)
		}
	}

	t.Run("fs=mem", func(t *testing.T) {
		mem := vfs.NewMem()
		synced, last := build(mem, "/d")
		if n := mem.Unsynced(segPath0); n != len(last) {
			t.Fatalf("unsynced bytes = %d, want the last batch's %d", n, len(last))
		}
		for keep := 0; keep <= len(last); keep++ {
			crashed := mem.CrashClone(vfs.CrashOptions{Keep: func(name string, n int) int {
				if name == segPath0 {
					return keep
				}
				return n
			}})
			check(t, crashed, "/d", keep, last, synced)
		}
	})
	t.Run("fs=os", func(t *testing.T) {
		dir := t.TempDir()
		synced, last := build(vfs.DefaultOS, dir)
		seg := filepath.Join(dir, segmentName(0)+".log")
		full, err := os.ReadFile(seg)
		if err != nil {
			t.Fatal(err)
		}
		prefix := int(lenOfBatches(full)) - len(last)
		for keep := 0; keep <= len(last); keep++ {
			d := t.TempDir()
			copyDir(t, dir, d)
			// A torn tail: the last batch's first keep bytes, then zeros.
			torn := append(append([]byte(nil), full[:prefix+keep]...), make([]byte, len(full)-prefix-keep)...)
			if err := os.WriteFile(filepath.Join(d, segmentName(0)+".log"), torn, 0o644); err != nil {
				t.Fatal(err)
			}
			check(t, vfs.DefaultOS, d, keep, last, synced)
		}
	})
}

// lenOfBatches returns the bytes of whole batches at the start of b.
func lenOfBatches(b []byte) int64 {
	end, _ := walkPlausible(b, 0)
	return end
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPowerLoss: under FlushAlways nothing acknowledged is lost; under
// FlushNever a power loss loses what was not synced, and recovery says so.
func TestPowerLoss(t *testing.T) {
	for _, p := range []FlushPolicy{FlushAlways, FlushNever} {
		t.Run("flush="+p.String(), func(t *testing.T) {
			mem := vfs.NewMem()
			o := Options{FS: mem, SegmentBytes: 16 << 10, Flush: p}
			l, _ := mustOpen(t, "/d", o)
			var acked int64
			for i := 0; i < 100; i++ {
				mustAppend(t, l, batch(2, 100, int64(i)))
				acked += 2
			}
			l.crash()
			l, rep := mustOpen(t, "/d", Options{FS: mem.CrashClone(vfs.CrashOptions{}), SegmentBytes: 16 << 10})
			defer l.Close()
			readAll(t, l)
			switch p {
			case FlushAlways:
				if l.EndOffset() != acked {
					t.Fatalf("lost acked records under flush=always: end %d, acked %d (%v)", l.EndOffset(), acked, rep)
				}
			case FlushNever:
				if l.EndOffset() >= acked {
					t.Fatalf("flush=never kept every unsynced record through a power loss: end %d", l.EndOffset())
				}
				// Rolled segments were synced in the background, so the
				// loss is at most about the active segment.
				t.Logf("flush=never kept %d of %d acked records: %v", l.EndOffset(), acked, rep)
			}
		})
	}
}

// TestRandomCorruption flips random bytes in a crashed log and checks that
// recovery never yields a batch that fails its CRC and keeps a prefix of
// what was written. By default recovery trusts the checkpointed part (as
// Kafka trusts its recovery point), so flips go past the checkpoint, where
// a crash can damage data; with VerifyAll they go anywhere.
func TestRandomCorruption(t *testing.T) {
	for _, verifyAll := range []bool{false, true} {
		t.Run(name("verify-all=%v", verifyAll), func(t *testing.T) { randomCorruption(t, verifyAll) })
	}
}

func randomCorruption(t *testing.T, verifyAll bool) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed = %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	for iter := 0; iter < 200; iter++ {
		mem := vfs.NewMem()
		o := Options{FS: mem, SegmentBytes: 8 << 10, IndexIntervalBytes: 128}
		l, _ := mustOpen(t, "/d", o)
		var written [][]byte
		for i := 0; i < 1+rng.IntN(60); i++ {
			b := batch(1+rng.IntN(5), rng.IntN(200), int64(i))
			mustAppend(t, l, b)
			written = append(written, b)
			if rng.IntN(10) == 0 {
				l.Sync()
			}
		}
		l.crash()
		crashed := mem.CrashClone(vfs.CrashOptions{Keep: func(_ string, n int) int { return rng.IntN(n + 1) }})
		cp := checkpoint{}
		if b, err := crashed.ReadFile("/d/" + checkpointName); err == nil {
			cp, _ = parseCheckpoint(b)
		}
		names, _ := crashed.List("/d")
		for _, n := range names {
			base, ok := parseSegmentName(filepath.Base(n))
			if !ok {
				continue
			}
			from := int64(0)
			switch {
			case verifyAll:
			case base < cp.segment:
				continue
			case base == cp.segment:
				from = cp.position
			}
			flipBytes(t, crashed, filepath.Join("/d", filepath.Base(n)), from, rng)
		}
		l2, rep, err := Open("/d", Options{FS: crashed, SegmentBytes: 8 << 10, IndexIntervalBytes: 128, VerifyAll: verifyAll})
		if err != nil {
			t.Fatalf("seed %d iter %d: Open: %v", seed, iter, err)
		}
		hs := readAll(t, l2) // fails the test on any batch with a bad CRC
		if len(hs) > len(written) {
			t.Fatalf("seed %d iter %d: recovered %d batches, only %d written", seed, iter, len(hs), len(written))
		}
		for i, h := range hs {
			c, _ := l2.Read(h.BaseOffset, 1)
			// Bytes 0-15 (baseOffset, batchLength checked by framing,
			// partitionLeaderEpoch) are outside the CRC by design.
			if !bytes.Equal(c.Data[16:], written[i][16:]) {
				t.Fatalf("seed %d iter %d: batch %d differs from what was written (%v)", seed, iter, i, rep)
			}
			c.Release()
		}
		l2.Close()
	}
}

func flipBytes(t *testing.T, fs vfs.FS, path string, from int64, rng *rand.Rand) {
	f, err := fs.Open(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sz := f.Size()
	if sz <= from {
		return
	}
	for k := 0; k < 1+rng.IntN(4); k++ {
		at := from + rng.Int64N(sz-from)
		f.WriteAt([]byte{f.Data()[at] ^ byte(1+rng.IntN(255))}, at)
	}
	f.Sync()
}
