package seglog

import (
	"testing"

	"gale/broker/vfs"
)

// FuzzRecover opens a log whose only segment holds arbitrary bytes. Recovery
// must not panic, and whatever it keeps must read back as valid batches
// with contiguous offsets.
func FuzzRecover(f *testing.F) {
	var good []byte
	for i := 0; i < 4; i++ {
		b := batch(1+i, 20*i, int64(i))
		off := int64(0)
		if i > 0 {
			off = int64(i * (i + 1) / 2)
		}
		putOffset(b, off)
		good = append(good, b...)
	}
	f.Add(good)
	f.Add(good[:len(good)-7])
	f.Add(append(append([]byte(nil), good...), 0xff, 0, 0, 0))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		mem := vfs.NewMem()
		mem.MkdirAll("/d")
		w, err := mem.Create(segPath0, int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		w.WriteAt(data, 0)
		w.Sync()
		w.Close()
		l, _, err := Open("/d", Options{FS: mem, SegmentBytes: 1 << 16, IndexIntervalBytes: 64})
		if err != nil {
			return // an error is fine; a panic or a bad batch is not
		}
		defer l.Close()
		readAll(t, l)
		if _, err := l.Append(batch(1, 1, 1)); err != nil {
			t.Fatalf("append after recovery: %v", err)
		}
	})
}

func putOffset(b []byte, off int64) {
	for i := 7; i >= 0; i-- {
		b[i] = byte(off)
		off >>= 8
	}
}
