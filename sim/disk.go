package sim

import (
	"fmt"
	"sync/atomic"
	"syscall"

	"gale/broker/vfs"
)

// FaultFS wraps a vfs.FS and fails its operations on demand: while SyncFail
// is on, every File.Sync and WriteFileAtomic fails with EIO (a failed
// fsync); while Full is on, every WriteAt, Create, WriteFileAtomic and
// MkdirAll fails with ENOSPC (disk full). Either
// fault applies at once to files already open. Other operations pass
// through. FaultFS is safe for concurrent use.
type FaultFS struct {
	vfs.FS // the wrapped filesystem; methods not listed here pass through

	syncFail atomic.Bool
	full     atomic.Bool
}

// NewFaultFS returns fs wrapped, with no fault on.
func NewFaultFS(fs vfs.FS) *FaultFS { return &FaultFS{FS: fs} }

// SetSyncFail turns the failed-fsync fault on or off.
func (d *FaultFS) SetSyncFail(on bool) { d.syncFail.Store(on) }

// SetFull turns the disk-full fault on or off.
func (d *FaultFS) SetFull(on bool) { d.full.Store(on) }

func (d *FaultFS) errFull(op, name string) error {
	return &pathError{op: op, name: name, err: syscall.ENOSPC}
}

// pathError is the error an injected fault returns: it names the operation
// and the file, says it was injected, and unwraps to the errno.
type pathError struct {
	op, name string
	err      syscall.Errno
}

func (e *pathError) Error() string {
	return fmt.Sprintf("%s %s: %v (injected by sim)", e.op, e.name, e.err)
}
func (e *pathError) Unwrap() error { return e.err }

// Create implements vfs.FS.
func (d *FaultFS) Create(name string, size int64) (vfs.File, error) {
	if d.full.Load() {
		return nil, d.errFull("create", name)
	}
	f, err := d.FS.Create(name, size)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: f, fs: d, name: name}, nil
}

// Open implements vfs.FS.
func (d *FaultFS) Open(name string, size int64) (vfs.File, error) {
	f, err := d.FS.Open(name, size)
	if err != nil {
		return nil, err
	}
	return &faultFile{File: f, fs: d, name: name}, nil
}

// WriteFileAtomic implements vfs.FS.
func (d *FaultFS) WriteFileAtomic(name string, data []byte) error {
	if d.full.Load() {
		return d.errFull("write", name)
	}
	if d.syncFail.Load() {
		return &pathError{op: "sync", name: name, err: syscall.EIO}
	}
	return d.FS.WriteFileAtomic(name, data)
}

// MkdirAll implements vfs.FS.
func (d *FaultFS) MkdirAll(dir string) error {
	if d.full.Load() {
		return d.errFull("mkdir", dir)
	}
	return d.FS.MkdirAll(dir)
}

// faultFile is a File of a FaultFS.
type faultFile struct {
	vfs.File
	fs   *FaultFS
	name string
}

func (f *faultFile) WriteAt(p []byte, off int64) (int, error) {
	if f.fs.full.Load() {
		return 0, f.fs.errFull("write", f.name)
	}
	return f.File.WriteAt(p, off)
}

func (f *faultFile) Sync() error {
	if f.fs.syncFail.Load() {
		return &pathError{op: "sync", name: f.name, err: syscall.EIO}
	}
	return f.File.Sync()
}
