package seglog

import (
	"errors"
	"sync/atomic"
	"testing"

	"gale/broker/vfs"
)

// failingFS wraps an FS so that Sync fails while failSync is set.
type failingFS struct {
	vfs.FS
	failSync atomic.Bool
}

var errInjected = errors.New("injected fsync failure")

type failingFile struct {
	vfs.File
	fs *failingFS
}

func (f *failingFile) Sync() error {
	if f.fs.failSync.Load() {
		return errInjected
	}
	return f.File.Sync()
}

func (f *failingFS) Create(name string, size int64) (vfs.File, error) {
	file, err := f.FS.Create(name, size)
	if err != nil {
		return nil, err
	}
	return &failingFile{file, f}, nil
}

func (f *failingFS) Open(name string, size int64) (vfs.File, error) {
	file, err := f.FS.Open(name, size)
	if err != nil {
		return nil, err
	}
	return &failingFile{file, f}, nil
}

// TestSyncFailureIsSticky: once an fsync fails, the log refuses appends
// (as Kafka stops a log dir after an I/O error) instead of acknowledging
// writes whose durability it cannot promise; what was durable survives.
func TestSyncFailureIsSticky(t *testing.T) {
	mem := vfs.NewMem()
	ffs := &failingFS{FS: mem}
	l, _ := mustOpen(t, "/d", Options{FS: ffs, SegmentBytes: 1 << 20, Flush: FlushAlways})
	mustAppend(t, l, batch(2, 10, 1))
	ffs.failSync.Store(true)
	if _, err := l.Append(batch(2, 10, 1)); !errors.Is(err, errInjected) {
		t.Fatalf("append with failing fsync: %v, want the injected error", err)
	}
	ffs.failSync.Store(false)
	if _, err := l.Append(batch(2, 10, 1)); !errors.Is(err, errInjected) {
		t.Fatalf("append after a failed fsync: %v, want the sticky error", err)
	}
	if l.FlushedOffset() != 2 {
		t.Fatalf("flushed offset %d, want 2", l.FlushedOffset())
	}
	l.Abandon()
	l2, _ := mustOpen(t, "/d", Options{FS: mem.CrashClone(vfs.CrashOptions{}), SegmentBytes: 1 << 20})
	defer l2.Close()
	if l2.EndOffset() < 2 {
		t.Fatalf("acknowledged records lost: end %d", l2.EndOffset())
	}
	readAll(t, l2)
}
