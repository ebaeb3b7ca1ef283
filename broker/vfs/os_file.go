package vfs

import (
	"fmt"
	"io/fs"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// osFile is an open, mapped file of an OS.
type osFile struct {
	fd   int
	name string
	opts OSOptions // with defaults
	data []byte    // the mapping; nil for a file mapped at size 0

	size   atomic.Int64 // the file's size as this File last set or found it
	closed atomic.Bool

	// Writer-only state.
	populated  int64 // WriteMmapPopulate: data[:populated] is prefaulted
	noPopulate bool  // the kernel refused MADV_POPULATE_WRITE
}

var _ File = (*osFile)(nil)

func (f *osFile) Data() []byte { return f.data }

func (f *osFile) Size() int64 { return f.size.Load() }

// WriteAt implements File. A write that ends past Size extends the file
// first (in the mmap modes, by fallocate, so that no store lands past the end
// of the file, which would raise SIGBUS).
func (f *osFile) WriteAt(p []byte, off int64) (int, error) {
	if f.closed.Load() {
		return 0, f.pathErr("write", fs.ErrClosed)
	}
	if off < 0 || off > int64(len(f.data)) || int64(len(p)) > int64(len(f.data))-off {
		return 0, f.pathErr("write", fmt.Errorf("%w: %d bytes at %d, mapping is %d", ErrOutOfRange, len(p), off, len(f.data)))
	}
	end := off + int64(len(p))
	if f.opts.WriteMode == WritePwrite || f.opts.WriteMode == WriteAuto && len(p) >= f.opts.PwriteMin {
		return f.pwrite(p, off, end)
	}
	if size := f.size.Load(); end > size {
		if err := preallocate(f.fd, size, end); err != nil {
			return 0, f.pathErr("write", err)
		}
		f.size.Store(end)
	}
	if f.opts.WriteMode == WriteMmapPopulate && end > f.populated && !f.noPopulate {
		f.populate(end)
	}
	return copy(f.data[off:], p), nil
}

func (f *osFile) pwrite(p []byte, off, end int64) (int, error) {
	n := 0
	for n < len(p) {
		m, err := unix.Pwrite(f.fd, p[n:], off+int64(n))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, f.pathErr("write", err)
		}
		n += m
	}
	if end > f.size.Load() {
		f.size.Store(end)
	}
	return n, nil
}

// populate prefaults the mapping from f.populated to PopulateAhead bytes past
// end, within the file. It is only an optimisation: errors are ignored, and
// EINVAL (a kernel without MADV_POPULATE_WRITE) turns it off for this file.
func (f *osFile) populate(end int64) {
	page := int64(unix.Getpagesize())
	to := min(end+f.opts.PopulateAhead, int64(len(f.data)), f.size.Load())
	to = (to + page - 1) &^ (page - 1)
	if to <= f.populated {
		return
	}
	err := unix.Madvise(f.data[f.populated:min(to, int64(len(f.data)))], unix.MADV_POPULATE_WRITE)
	if err == unix.EINVAL {
		f.noPopulate = true
	}
	f.populated = to
}

// Prefetch implements Prefetcher: it maps [off, off+n) of a file already in
// the page cache (or reads it in) with one madvise(MADV_POPULATE_READ)
// instead of a page fault per page; MADV_WILLNEED where the kernel lacks it.
func (f *osFile) Prefetch(off, n int64) {
	if f.closed.Load() || off < 0 || n <= 0 || off >= int64(len(f.data)) {
		return
	}
	page := int64(unix.Getpagesize())
	from := off &^ (page - 1)
	to := min(off+n, int64(len(f.data)), f.size.Load())
	if to <= from {
		return
	}
	if err := unix.Madvise(f.data[from:to], unix.MADV_POPULATE_READ); err != nil {
		unix.Madvise(f.data[from:to], unix.MADV_WILLNEED)
	}
}

// Sync implements File with fdatasync. It covers stores into the mapping as
// well as pwrites: on Linux the first store to a clean page of a MAP_SHARED
// file mapping faults (the page is write-protected while clean), which
// marks the page dirty in the page cache, and fdatasync writes back every
// dirty page of the file and write-protects it again. (msync(MS_SYNC) on
// Linux does the same fsync of the file, limited to a range.)
func (f *osFile) Sync() error {
	if f.closed.Load() {
		return f.pathErr("sync", fs.ErrClosed)
	}
	for {
		err := unix.Fdatasync(f.fd)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return f.pathErr("sync", err)
		}
		return nil
	}
}

// Truncate implements File: ftruncate to shrink, fallocate (as Create) to
// extend. The mapping keeps its length; touching its pages wholly past the
// new size raises SIGBUS.
func (f *osFile) Truncate(size int64) error {
	if f.closed.Load() {
		return f.pathErr("truncate", fs.ErrClosed)
	}
	if size < 0 {
		return f.pathErr("truncate", fs.ErrInvalid)
	}
	var st unix.Stat_t
	if err := unix.Fstat(f.fd, &st); err != nil {
		return f.pathErr("stat", err)
	}
	var err error
	if size > st.Size {
		err = preallocate(f.fd, st.Size, size)
	} else {
		err = unix.Ftruncate(f.fd, size)
	}
	if err != nil {
		return f.pathErr("truncate", err)
	}
	f.size.Store(size)
	page := int64(unix.Getpagesize())
	f.populated = min(f.populated, size&^(page-1))
	return nil
}

// Close implements File: it unmaps and closes the file. A second Close
// returns an error wrapping fs.ErrClosed and does nothing else.
func (f *osFile) Close() error {
	if !f.closed.CompareAndSwap(false, true) {
		return f.pathErr("close", fs.ErrClosed)
	}
	var err error
	if f.data != nil {
		if e := unix.Munmap(f.data); e != nil {
			err = f.pathErr("munmap", e)
		}
	}
	if e := unix.Close(f.fd); e != nil && err == nil {
		err = f.pathErr("close", e)
	}
	return err
}

func (f *osFile) pathErr(op string, err error) error {
	return &fs.PathError{Op: op, Path: f.name, Err: err}
}
