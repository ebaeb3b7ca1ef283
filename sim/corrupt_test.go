package sim

import (
	"bytes"
	"context"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"gale/broker/vfs"
)

// fakeBatches returns n batch-shaped byte runs of the given size (a valid
// length and magic, the rest a pattern), back to back, then zeros.
func fakeBatches(n, size, room int) []byte {
	b := make([]byte, room)
	for i := range n {
		at := i * size
		binary.BigEndian.PutUint32(b[at+batchLenOff:], uint32(size-12))
		b[at+batchMagic] = 2
		for j := batchCRCFrom; j < size; j++ {
			b[at+j] = byte(j)
		}
	}
	return b
}

func writeFile(t *testing.T, fs vfs.FS, name string, data []byte) {
	t.Helper()
	f, err := fs.Create(name, int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestFlipBit: exactly one bit changes, inside the CRC-covered part of a
// batch of the sealed segment, never in the active one; the same seed
// flips the same bit.
func TestFlipBit(t *testing.T) {
	flip := func(seed uint64) (sealed, active []byte, what string) {
		fs := vfs.NewMem()
		for _, d := range []string{"/d/t-0", "/d/__gale_offsets-0"} {
			if err := fs.MkdirAll(d); err != nil {
				t.Fatal(err)
			}
		}
		writeFile(t, fs, "/d/t-0/00000000000000000000.log", fakeBatches(3, 100, 400))
		writeFile(t, fs, "/d/t-0/00000000000000000003.log", fakeBatches(2, 100, 400))
		writeFile(t, fs, "/d/__gale_offsets-0/00000000000000000000.log", fakeBatches(2, 100, 400))
		writeFile(t, fs, "/d/__gale_offsets-0/00000000000000000002.log", fakeBatches(2, 100, 400))
		what, err := flipBit(fs, "/d", rand.New(rand.NewPCG(seed, 1)))
		if err != nil {
			t.Fatal(err)
		}
		sealed, _ = fs.ReadFile("/d/t-0/00000000000000000000.log")
		active, _ = fs.ReadFile("/d/t-0/00000000000000000003.log")
		if o, _ := fs.ReadFile("/d/__gale_offsets-0/00000000000000000000.log"); !bytes.Equal(o, fakeBatches(2, 100, 400)) {
			t.Fatal("an internal topic was flipped")
		}
		return sealed, active, what
	}
	sealed, active, what := flip(9)
	t.Log(what)
	if !bytes.Equal(active, fakeBatches(2, 100, 400)) {
		t.Fatal("the active segment changed")
	}
	orig := fakeBatches(3, 100, 400)
	diff := 0
	for i := range orig {
		if x := orig[i] ^ sealed[i]; x != 0 {
			diff++
			if x&(x-1) != 0 || i >= 300 || i%100 < batchCRCFrom {
				t.Fatalf("byte %d changed %08b: not one bit inside a batch's CRC range", i, x)
			}
		}
	}
	if diff != 1 {
		t.Fatalf("%d bytes changed, want 1", diff)
	}
	if again, _, _ := flip(9); !bytes.Equal(again, sealed) {
		t.Fatal("the same seed flipped another bit")
	}
	if _, err := flipBit(vfs.NewMem(), "/", rand.New(rand.NewPCG(1, 1))); err == nil || !strings.Contains(err.Error(), "no sealed segment") {
		t.Fatalf("no segments: %v", err)
	}
}

// TestTearTail: the end of the last batch of the newest segment is zeroed,
// and nothing else changes.
func TestTearTail(t *testing.T) {
	fs := vfs.NewMem()
	fs.MkdirAll("/d/t-0")
	writeFile(t, fs, "/d/t-0/00000000000000000000.log", fakeBatches(3, 100, 400))
	writeFile(t, fs, "/d/t-0/00000000000000000003.log", fakeBatches(2, 100, 400))
	what, err := tearTail(fs, "/d", rand.New(rand.NewPCG(3, 1)))
	if err != nil {
		t.Fatal(err)
	}
	t.Log(what)
	got, _ := fs.ReadFile("/d/t-0/00000000000000000003.log")
	orig := fakeBatches(2, 100, 400)
	if !bytes.Equal(got[:100], orig[:100]) || bytes.Equal(got[100:200], orig[100:200]) || got[199] != 0 {
		t.Fatalf("torn segment: first batch kept %v, second changed %v, last byte %d",
			bytes.Equal(got[:100], orig[:100]), !bytes.Equal(got[100:200], orig[100:200]), got[199])
	}
	if old, _ := fs.ReadFile("/d/t-0/00000000000000000000.log"); !bytes.Equal(old, fakeBatches(3, 100, 400)) {
		t.Fatal("the sealed segment changed")
	}
}

// TestTornTailRecovers: after a torn-tail crash the broker restarts and
// serves a prefix of what was acknowledged, on each target.
func TestTornTailRecovers(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  EnvConfig
	}{
		{"embedded-memory", EnvConfig{Memory: true, Flush: "never"}},
		{"embedded-disk", EnvConfig{Flush: "never"}},
		{"subprocess", EnvConfig{Broker: Subprocess, Flush: "never"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.cfg.SegmentBytes, c.cfg.Seed = 1<<20, 6
			e := newEnv(t, c.cfg)
			cl := client(t, e, "torn", 20*time.Second)
			acks := produceN(t, cl, 500, "v")
			undo, err := e.Inject(context.Background(), mustFault(t, "{at: 0s, torn-tail: broker, restart_after: 1s}"))
			if err != nil {
				t.Fatal(err)
			}
			if err := undo(context.Background()); err != nil {
				t.Fatal(err)
			}
			end := endOffsets(t, cl, "torn", 1)[0]
			t.Logf("%d acked, %d kept", len(acks), end)
			if end > int64(len(acks)) {
				t.Fatalf("log end offset %d > %d acked", end, len(acks))
			}
			if c.name != "embedded-memory" && end == int64(len(acks)) {
				t.Fatalf("nothing torn: log end offset %d", end)
			}
			got := readAll(t, e, "torn", []int64{end})
			for _, a := range acks[:end] {
				if got[0][a.offset] != a.value {
					t.Fatalf("offset %d: %q, acked %q", a.offset, got[0][a.offset], a.value)
				}
			}
		})
	}
}

// TestBitflipDetected: a bit flipped in a sealed segment of a live broker
// reaches the consumer as a CRC mismatch.
func TestBitflipDetected(t *testing.T) {
	for _, c := range []EnvConfig{{Memory: true}, {Broker: Subprocess}} {
		name := "embedded-memory"
		if c.Broker == Subprocess {
			name = "subprocess"
		}
		t.Run(name, func(t *testing.T) {
			c.SegmentBytes, c.Seed = 64<<10, 7
			e := newEnv(t, c)
			cl := client(t, e, "flip", 20*time.Second)
			rng := rand.New(rand.NewPCG(7, 7))
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			for range 300 {
				val := make([]byte, 1000) // random, so compression keeps its size
				for i := range val {
					val[i] = byte(rng.Uint32())
				}
				if err := cl.ProduceSync(ctx, &kgo.Record{Value: val}).FirstErr(); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := e.Inject(ctx, mustFault(t, "{at: 0s, bitflip: broker}")); err != nil {
				t.Fatal(err)
			}
			rd := client(t, e, "flip", 20*time.Second, kgo.ConsumeTopics("flip"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			for n := 0; n < 300; {
				fs := rd.PollFetches(ctx)
				if ctx.Err() != nil {
					t.Fatalf("read %d records and no CRC error", n)
				}
				var ferr error
				fs.EachError(func(_ string, _ int32, err error) { ferr = err })
				if ferr != nil {
					if !strings.Contains(ferr.Error(), "crc") {
						t.Fatalf("fetch error %v, want a CRC mismatch", ferr)
					}
					t.Logf("after %d records: %v", n, ferr)
					return
				}
				n += fs.NumRecords()
			}
			t.Fatal("read every record; no CRC error")
		})
	}
}
