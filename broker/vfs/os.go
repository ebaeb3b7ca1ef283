package vfs

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// WriteMode is how an OS File carries out WriteAt. Every mode reads through
// the same MAP_SHARED mapping; only the write path differs.
type WriteMode int

const (
	// WriteDefault selects the mode measured fastest for the broker's
	// pattern (append, then read back through Data()): WriteMmap. See the
	// package doc for the figures.
	WriteDefault WriteMode = iota
	// WritePwrite writes with pwrite(2) on the file descriptor, and maps
	// the file read-only. Fastest for writes of 16 KiB and more, but the
	// first read of each page through Data() then takes a page fault.
	WritePwrite
	// WriteMmap copies into the mapping. The first store to each page takes
	// a page fault inside the writing goroutine (which keeps its P while
	// the kernel handles it), and leaves the page mapped for readers. If the
	// filesystem cannot preallocate (no fallocate), a store into a hole
	// when the disk is full raises SIGBUS instead of returning ENOSPC.
	WriteMmap
	// WriteMmapPopulate copies into the mapping like WriteMmap, and keeps
	// OSOptions.PopulateAhead bytes past the end of the latest write
	// prefaulted with madvise(MADV_POPULATE_WRITE), so the faults are taken
	// in batches inside one system call. On kernels without it (before
	// 5.14) it behaves as WriteMmap. Prefaulting dirties the pages ahead, so
	// a Sync may also write up to PopulateAhead bytes of zeros.
	WriteMmapPopulate
	// WriteAuto copies writes smaller than OSOptions.PwriteMin into the
	// mapping (no system call: what small batches need) and pwrites larger
	// ones (no page faults in the writer: what large batches need).
	WriteAuto
)

func (m WriteMode) String() string {
	switch m {
	case WriteDefault:
		return "default"
	case WritePwrite:
		return "pwrite"
	case WriteMmap:
		return "mmap"
	case WriteMmapPopulate:
		return "mmap-populate"
	case WriteAuto:
		return "auto"
	}
	return fmt.Sprintf("WriteMode(%d)", int(m))
}

// defaultWriteMode is what WriteDefault resolves to.
const defaultWriteMode = WriteAuto

// OSOptions configures an OS. The zero value is valid and gives the
// defaults documented on each field.
type OSOptions struct {
	// WriteMode is how WriteAt writes. Default WriteDefault (WriteAuto).
	WriteMode WriteMode
	// PwriteMin is the smallest write WriteAuto pwrites. Default 8 KiB.
	PwriteMin int
	// PopulateAhead is how far past the latest write WriteMmapPopulate
	// keeps pages prefaulted. Default 4 MiB; ignored by other modes.
	PopulateAhead int64
}

func (o OSOptions) withDefaults() OSOptions {
	if o.WriteMode == WriteDefault {
		o.WriteMode = defaultWriteMode
	}
	if o.PwriteMin <= 0 {
		o.PwriteMin = 8 << 10
	}
	if o.PopulateAhead <= 0 {
		o.PopulateAhead = 4 << 20
	}
	return o
}

// OS is the real filesystem (Linux only): files preallocated with fallocate,
// mapped MAP_SHARED, written per OSOptions.WriteMode and synced with
// fdatasync. Names are operating-system paths. An OS holds no mutable state
// and is safe for concurrent use; the zero OS is valid and equals
// NewOS(OSOptions{}).
type OS struct {
	opts OSOptions
}

// DefaultOS is the filesystem the broker uses unless told otherwise.
var DefaultOS FS = NewOS(OSOptions{})

// NewOS returns an OS configured by o (copied; the defaults are filled in).
func NewOS(o OSOptions) *OS {
	return &OS{opts: o.withDefaults()}
}

// Mode returns the write mode files opened by o use.
func (o *OS) Mode() WriteMode { return o.opts.withDefaults().WriteMode }

var _ FS = (*OS)(nil)

// Create implements FS. The file and its preallocated size are synced, and
// so is the directory, before Create returns.
func (o *OS) Create(name string, size int64) (File, error) {
	if size < 0 || size > math.MaxInt {
		return nil, &fs.PathError{Op: "create", Path: name, Err: fs.ErrInvalid}
	}
	fd, err := openFD(name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL)
	if err != nil {
		return nil, &fs.PathError{Op: "create", Path: name, Err: err}
	}
	f, err := o.setup(fd, name, 0, size)
	if err != nil {
		unix.Close(fd)
		os.Remove(name)
		return nil, &fs.PathError{Op: "create", Path: name, Err: err}
	}
	if err := syncDir(filepath.Dir(name)); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Open implements FS. If the file is extended, the new size is synced
// before Open returns.
func (o *OS) Open(name string, size int64) (File, error) {
	if size < 0 || size > math.MaxInt {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	fd, err := openFD(name, unix.O_RDWR)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("vfs: not a regular file")}
	}
	f, err := o.setup(fd, name, st.Size, size)
	if err != nil {
		unix.Close(fd)
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return f, nil
}

func openFD(name string, flags int) (int, error) {
	for {
		fd, err := unix.Open(name, flags|unix.O_CLOEXEC, 0o644)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// setup extends the file at fd from cur to size bytes if size is larger and
// maps it.
func (o *OS) setup(fd int, name string, cur, size int64) (*osFile, error) {
	if size > cur {
		// From 0, not cur: also fills any hole left by a pwrite past the
		// end, so no store into the mapping needs a block allocated.
		if err := preallocate(fd, 0, size); err != nil {
			return nil, err
		}
		if err := unix.Fdatasync(fd); err != nil {
			return nil, err
		}
	} else {
		size = cur
	}
	if size > math.MaxInt {
		return nil, fmt.Errorf("vfs: file of %d bytes cannot be mapped", size)
	}
	f := &osFile{fd: fd, name: name, opts: o.opts.withDefaults()}
	if size > 0 {
		prot := unix.PROT_READ | unix.PROT_WRITE
		if f.opts.WriteMode == WritePwrite {
			prot = unix.PROT_READ // a store into Data() is a bug: fault at once
		}
		data, err := unix.Mmap(fd, 0, int(size), prot, unix.MAP_SHARED)
		if err != nil {
			return nil, fmt.Errorf("mmap: %w", err)
		}
		f.data = data
	}
	f.size.Store(size)
	return f, nil
}

// preallocate allocates zeroed blocks for [from, size) where there are none,
// extending the file to size bytes if it is shorter; where the filesystem
// cannot preallocate, it only extends the file (leaving a hole).
func preallocate(fd int, from, size int64) error {
	for {
		err := unix.Fallocate(fd, 0, from, size-from)
		switch err {
		case nil:
			return nil
		case unix.EINTR:
			continue
		case unix.EOPNOTSUPP:
			return unix.Ftruncate(fd, size)
		}
		return fmt.Errorf("fallocate: %w", err)
	}
}

// syncDir makes the directory's entries durable.
func syncDir(dir string) error {
	fd, err := openFD(dir, unix.O_RDONLY|unix.O_DIRECTORY)
	if err != nil {
		return &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(fd)
	if err := unix.Fsync(fd); err != nil {
		return &fs.PathError{Op: "fsync", Path: dir, Err: err}
	}
	return nil
}

// ReadFile implements FS.
func (o *OS) ReadFile(name string) ([]byte, error) { return os.ReadFile(name) }

// WriteFileAtomic implements FS. The temporary file is named
// ".<base>.tmp<random>" in name's directory; after a crash during the call it
// may be left behind, and List returns it, so callers should ignore names
// they do not recognise.
func (o *OS) WriteFileAtomic(name string, data []byte) (err error) {
	dir, base := filepath.Split(name)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o644); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return err
	}
	return syncDir(dir)
}

// Remove implements FS. The directory is synced before Remove returns.
func (o *OS) Remove(name string) error {
	if err := os.Remove(name); err != nil {
		return err
	}
	return syncDir(filepath.Dir(name))
}

// List implements FS: the base names of the regular files in dir, sorted.
// Directories, symbolic links and other special files are left out.
func (o *OS) List(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	return names, nil // os.ReadDir sorts by name
}

// MkdirAll implements FS (mode 0755).
func (o *OS) MkdirAll(dir string) error { return os.MkdirAll(dir, 0o755) }

// ListDirs implements FS: the base names of the directories in dir, sorted.
// Symbolic links to directories are left out.
func (o *OS) ListDirs(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names, nil // os.ReadDir sorts by name
}

// RemoveAll implements FS. If anything was removed, the parent directory is
// synced before RemoveAll returns.
func (o *OS) RemoveAll(name string) error {
	if _, err := os.Lstat(name); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := os.RemoveAll(name); err != nil {
		return err
	}
	return syncDir(filepath.Dir(name))
}
