package vfs

import (
	"fmt"
	"io/fs"
	"slices"
	"sync"
)

// memNode is one file of a Mem: the inode, shared by every File open on it.
type memNode struct {
	mu sync.Mutex // guards every field below

	// buf holds the current contents: the largest array handed out by
	// Data. buf[min(size, len(buf)):] is zero, and so is any byte past
	// len(buf) below size.
	buf  []byte
	size int64
	// files lists the Files open on this node. Those marked stale map an
	// older, shorter array (buf grew since they were opened); writes are
	// copied into those too, as into another mapping of the same pages.
	files []*memFile

	// dur holds the contents as of the last Sync; the bytes in
	// [len(dur), durSize) are zero.
	dur     []byte
	durSize int64
	// pending lists the writes since the last Sync, in order; unsynced is
	// the sum of their lengths.
	pending  []memWrite
	unsynced int
}

// memWrite is one WriteAt call: p (a copy) written at off.
type memWrite struct {
	off int64
	p   []byte
}

// newMemNode returns a node whose current contents are buf and durable
// contents are dur (zero-extended to len(buf)), with nothing unsynced.
func newMemNode(buf, dur []byte) *memNode {
	return &memNode{buf: buf, size: int64(len(buf)), dur: dur, durSize: int64(len(buf))}
}

// open returns a new File on n, first extending n to size if it is smaller.
func (n *memNode) open(name string, size int64) *memFile {
	n.mu.Lock()
	defer n.mu.Unlock()
	if size > n.size {
		n.size = size
		n.durSize = size
	}
	if n.size > int64(len(n.buf)) {
		nb := make([]byte, n.size)
		copy(nb, n.buf)
		n.buf = nb
		for _, f := range n.files {
			f.stale = true
		}
	}
	f := &memFile{node: n, name: name, data: n.buf[:n.size:n.size]}
	n.files = append(n.files, f)
	return f
}

// crash returns a closed, synced copy of n as a power loss leaves it,
// keeping a prefix of the unsynced writes chosen by keep.
func (n *memNode) crash(name string, keep func(string, int) int) *memNode {
	n.mu.Lock()
	defer n.mu.Unlock()
	k := 0
	if keep != nil {
		k = min(max(keep(name, n.unsynced), 0), n.unsynced)
	}
	size := n.durSize
	dur := slices.Clone(n.dur)
	for _, w := range n.pending {
		if k == 0 {
			break
		}
		p := w.p[:min(len(w.p), k)]
		k -= len(p)
		end := w.off + int64(len(p))
		dur = growZero(dur, end)
		copy(dur[w.off:], p)
		size = max(size, end)
	}
	buf := make([]byte, size)
	copy(buf, dur)
	return newMemNode(buf, dur)
}

// contents returns a copy of the current contents.
func (n *memNode) contents() []byte {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]byte, n.size)
	copy(out, n.buf)
	return out
}

func (n *memNode) describe(name string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return fmt.Sprintf("%s(size=%d unsynced=%d)", name, n.size, n.unsynced)
}

// growZero returns b extended with zeros to length end, if it is shorter.
func growZero(b []byte, end int64) []byte {
	old := int64(len(b))
	if end <= old {
		return b
	}
	b = slices.Grow(b, int(end-old))[:end]
	clear(b[old:])
	return b
}

// memFile is a File open on a Mem.
type memFile struct {
	node *memNode
	name string
	data []byte // immutable: Data() reads it without locks

	closed bool // node.mu guards closed and stale
	stale  bool // data is not node.buf's array
}

var _ File = (*memFile)(nil)

func (f *memFile) Data() []byte { return f.data }

func (f *memFile) Size() int64 {
	f.node.mu.Lock()
	defer f.node.mu.Unlock()
	return f.node.size
}

// WriteAt implements File. A write that ends past Size extends the file.
func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	n := f.node
	n.mu.Lock()
	defer n.mu.Unlock()
	if f.closed {
		return 0, f.pathErr("write", fs.ErrClosed)
	}
	if off < 0 || off > int64(len(f.data)) || int64(len(p)) > int64(len(f.data))-off {
		return 0, f.pathErr("write", fmt.Errorf("%w: %d bytes at %d, mapping is %d", ErrOutOfRange, len(p), off, len(f.data)))
	}
	copy(n.buf[off:], p)
	for _, o := range n.files {
		if o.stale && off < int64(len(o.data)) {
			copy(o.data[off:], p)
		}
	}
	n.size = max(n.size, off+int64(len(p)))
	n.pending = append(n.pending, memWrite{off: off, p: slices.Clone(p)})
	n.unsynced += len(p)
	return len(p), nil
}

// Sync implements File: the unsynced writes become the durable contents.
func (f *memFile) Sync() error {
	n := f.node
	n.mu.Lock()
	defer n.mu.Unlock()
	if f.closed {
		return f.pathErr("sync", fs.ErrClosed)
	}
	for _, w := range n.pending {
		n.dur = growZero(n.dur, w.off+int64(len(w.p)))
		copy(n.dur[w.off:], w.p)
	}
	n.durSize = n.size
	n.pending = nil
	n.unsynced = 0
	return nil
}

// Truncate implements File. The new size is durable at once; unsynced
// writes are cut at it, since their bytes past it are gone anyway.
func (f *memFile) Truncate(size int64) error {
	n := f.node
	n.mu.Lock()
	defer n.mu.Unlock()
	if f.closed {
		return f.pathErr("truncate", fs.ErrClosed)
	}
	if size < 0 {
		return f.pathErr("truncate", fs.ErrInvalid)
	}
	if size < n.size {
		zeroRange(n.buf, size, n.size)
		for _, o := range n.files {
			if o.stale {
				zeroRange(o.data, size, n.size)
			}
		}
		if int64(len(n.dur)) > size {
			n.dur = n.dur[:size]
		}
		kept := n.pending[:0]
		n.unsynced = 0
		for _, w := range n.pending {
			if w.off >= size {
				continue
			}
			w.p = w.p[:min(int64(len(w.p)), size-w.off)]
			kept = append(kept, w)
			n.unsynced += len(w.p)
		}
		n.pending = kept
	}
	n.size = size
	n.durSize = size
	return nil
}

// zeroRange clears b[from:to], clipped to b.
func zeroRange(b []byte, from, to int64) {
	to = min(to, int64(len(b)))
	if from < to {
		clear(b[from:to])
	}
}

// Close implements File. A second Close returns an error wrapping
// fs.ErrClosed.
func (f *memFile) Close() error {
	n := f.node
	n.mu.Lock()
	defer n.mu.Unlock()
	if f.closed {
		return f.pathErr("close", fs.ErrClosed)
	}
	f.closed = true
	n.files = slices.DeleteFunc(n.files, func(o *memFile) bool { return o == f })
	return nil
}

func (f *memFile) pathErr(op string, err error) error {
	return &fs.PathError{Op: op, Path: f.name, Err: err}
}
