package vfs

import (
	"errors"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
)

// Mem is an in-memory FS that can crash. Names are slash paths, cleaned with
// path.Clean; "." and "/" exist from the start, and a file can only be made
// in a directory made by MkdirAll. Mem is safe for concurrent use.
//
// Each file keeps its current contents (what a reader of the page cache
// would see), its durable contents as of its last Sync, and the writes made
// since, in order. CrashClone builds the filesystem a power loss would
// leave. Simplifications: creating, removing and replacing files
// (WriteFileAtomic), and every change of a file's size by Create, Open or
// Truncate, are durable at once, as if the directory and the inode were
// synced, and so is making and removing directories (MkdirAll, Remove,
// RemoveAll); only the bytes written by WriteAt wait for Sync.
type Mem struct {
	mu    sync.Mutex
	files map[string]*memNode // mu guards files and dirs
	dirs  map[string]bool
}

// NewMem returns an empty Mem.
func NewMem() *Mem {
	return &Mem{
		files: make(map[string]*memNode),
		dirs:  map[string]bool{".": true, "/": true},
	}
}

var _ FS = (*Mem)(nil)

// CrashOptions chooses what a crash keeps.
type CrashOptions struct {
	// Keep returns how many bytes of the file's unsynced writes (unsynced
	// of them, replayed in the order they were made) reach the disk before
	// the power goes. A write cut in the middle is a torn write. The result
	// is clamped to [0, unsynced]. Nil keeps none.
	Keep func(name string, unsynced int) int
}

// CrashClone returns a new Mem holding what survives a power loss at this
// moment: each file's contents as of its last Sync, then a prefix of its
// unsynced writes chosen by o.Keep. Every file of the clone is closed and
// fully synced. m is left as it was and keeps working; Files open on m stay
// attached to m. o.Keep runs with m locked and must not call m.
func (m *Mem) CrashClone(o CrashOptions) *Mem {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := NewMem()
	for d := range m.dirs {
		c.dirs[d] = true
	}
	for name, n := range m.files {
		c.files[name] = n.crash(name, o.Keep)
	}
	return c
}

// Unsynced returns how many bytes have been written to name with WriteAt
// since its last Sync (0 if there is no such file): the range of
// CrashOptions.Keep.
func (m *Mem) Unsynced(name string) int {
	m.mu.Lock()
	n := m.files[path.Clean(name)]
	m.mu.Unlock()
	if n == nil {
		return 0
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.unsynced
}

// Create implements FS.
func (m *Mem) Create(name string, size int64) (File, error) {
	name = path.Clean(name)
	if size < 0 {
		return nil, &fs.PathError{Op: "create", Path: name, Err: fs.ErrInvalid}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.checkNewLocked("create", name); err != nil {
		return nil, err
	}
	n := newMemNode(make([]byte, size), nil)
	m.files[name] = n
	return n.open(name, size), nil
}

// Open implements FS.
func (m *Mem) Open(name string, size int64) (File, error) {
	name = path.Clean(name)
	if size < 0 {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	m.mu.Lock()
	n := m.files[name]
	m.mu.Unlock()
	if n == nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return n.open(name, size), nil
}

// ReadFile implements FS.
func (m *Mem) ReadFile(name string) ([]byte, error) {
	name = path.Clean(name)
	m.mu.Lock()
	n := m.files[name]
	m.mu.Unlock()
	if n == nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return n.contents(), nil
}

// WriteFileAtomic implements FS. The new contents are durable at once.
func (m *Mem) WriteFileAtomic(name string, data []byte) error {
	name = path.Clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dirs[name] {
		return &fs.PathError{Op: "rename", Path: name, Err: errIsDir}
	}
	if !m.dirs[path.Dir(name)] {
		return &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	n := newMemNode(slices.Clone(data), slices.Clone(data))
	m.files[name] = n
	return nil
}

// Remove implements FS. It removes a file, or an empty directory. Files
// open on the removed file keep working.
func (m *Mem) Remove(name string) error {
	name = path.Clean(name)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.files[name]; ok {
		delete(m.files, name)
		return nil
	}
	if !m.dirs[name] || name == "." || name == "/" {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	for other := range m.files {
		if path.Dir(other) == name {
			return &fs.PathError{Op: "remove", Path: name, Err: errNotEmpty}
		}
	}
	for other := range m.dirs {
		if other != name && path.Dir(other) == name {
			return &fs.PathError{Op: "remove", Path: name, Err: errNotEmpty}
		}
	}
	delete(m.dirs, name)
	return nil
}

// List implements FS: the base names of the files directly in dir, sorted.
func (m *Mem) List(dir string) ([]string, error) {
	dir = path.Clean(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[dir] {
		return nil, &fs.PathError{Op: "open", Path: dir, Err: fs.ErrNotExist}
	}
	var names []string
	for name := range m.files {
		if path.Dir(name) == dir {
			names = append(names, path.Base(name))
		}
	}
	slices.Sort(names)
	return names, nil
}

// ListDirs implements FS: the base names of the directories directly in
// dir, sorted.
func (m *Mem) ListDirs(dir string) ([]string, error) {
	dir = path.Clean(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.dirs[dir] {
		return nil, &fs.PathError{Op: "open", Path: dir, Err: fs.ErrNotExist}
	}
	var names []string
	for d := range m.dirs {
		if d != dir && path.Dir(d) == dir {
			names = append(names, path.Base(d))
		}
	}
	slices.Sort(names)
	return names, nil
}

// RemoveAll implements FS. The removal is durable at once. Removing "." or
// "/" is refused (fs.ErrInvalid).
func (m *Mem) RemoveAll(name string) error {
	name = path.Clean(name)
	if name == "." || name == "/" {
		return &fs.PathError{Op: "removeall", Path: name, Err: fs.ErrInvalid}
	}
	prefix := name + "/"
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.files, name)
	for f := range m.files {
		if strings.HasPrefix(f, prefix) {
			delete(m.files, f)
		}
	}
	delete(m.dirs, name)
	for d := range m.dirs {
		if strings.HasPrefix(d, prefix) {
			delete(m.dirs, d)
		}
	}
	return nil
}

// MkdirAll implements FS.
func (m *Mem) MkdirAll(dir string) error {
	dir = path.Clean(dir)
	m.mu.Lock()
	defer m.mu.Unlock()
	var todo []string
	for d := dir; !m.dirs[d]; d = path.Dir(d) {
		if _, ok := m.files[d]; ok {
			return &fs.PathError{Op: "mkdir", Path: d, Err: errNotDir}
		}
		todo = append(todo, d)
	}
	for _, d := range todo {
		m.dirs[d] = true
	}
	return nil
}

// checkNewLocked reports why name cannot be created, if it cannot.
func (m *Mem) checkNewLocked(op, name string) error {
	if _, ok := m.files[name]; ok || m.dirs[name] {
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrExist}
	}
	if !m.dirs[path.Dir(name)] {
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	return nil
}

var (
	errIsDir    = errors.New("is a directory")
	errNotDir   = errors.New("not a directory")
	errNotEmpty = errors.New("directory not empty")
)

// String lists the files of m with their sizes and unsynced byte counts, for
// test failures.
func (m *Mem) String() string {
	m.mu.Lock()
	names := make([]string, 0, len(m.files))
	for name := range m.files {
		names = append(names, name)
	}
	m.mu.Unlock()
	slices.Sort(names)
	var b strings.Builder
	b.WriteString("vfs.Mem{")
	for i, name := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		m.mu.Lock()
		n := m.files[name]
		m.mu.Unlock()
		if n != nil {
			b.WriteString(n.describe(name))
		}
	}
	b.WriteString("}")
	return b.String()
}
