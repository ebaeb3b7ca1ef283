package seglog

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"

	"gale/broker/record"
	"gale/broker/vfs"
)

// Errors returned by a Log.
var (
	// ErrOffsetOutOfRange is wrapped by *OffsetOutOfRangeError.
	ErrOffsetOutOfRange = errors.New("seglog: offset out of range")
	// ErrClosed is returned by every call after Close.
	ErrClosed = errors.New("seglog: log closed")
	// ErrTooLarge is returned by Append for batches that cannot fit in one
	// segment.
	ErrTooLarge = errors.New("seglog: batches larger than a segment")
)

// OffsetOutOfRangeError says a read asked for an offset the log does not
// have; Start and End are the log's offsets at the time.
type OffsetOutOfRangeError struct {
	Offset, Start, End int64
}

func (e *OffsetOutOfRangeError) Error() string {
	return fmt.Sprintf("seglog: offset %d out of range [%d, %d]", e.Offset, e.Start, e.End)
}

func (e *OffsetOutOfRangeError) Unwrap() error { return ErrOffsetOutOfRange }

// Log is one partition's log. See the package doc for the concurrency
// contract.
type Log struct {
	dir  string
	opts Options
	fs   vfs.FS

	// mu serializes writers: Append, roll, retention, Close.
	mu     sync.Mutex
	active *segment // guarded by mu
	closed bool     // guarded by mu

	segs  atomic.Pointer[[]*segment] // immutable list, oldest first
	start atomic.Int64
	end   atomic.Int64

	// waitMu guards waitCh, closed at the next append.
	waitMu sync.Mutex
	waitCh chan struct{}

	fl flusher
}

// Dir returns the log's directory.
func (l *Log) Dir() string { return l.dir }

// StartOffset is the earliest offset the log holds.
func (l *Log) StartOffset() int64 { return l.start.Load() }

// EndOffset is the offset the next appended record gets (the log end
// offset; with one replica also the high watermark).
func (l *Log) EndOffset() int64 { return l.end.Load() }

// FlushedOffset is the offset below which every record is durable.
func (l *Log) FlushedOffset() int64 { return l.fl.flushed.Load() }

// Size is the total bytes of the log's batches.
func (l *Log) Size() int64 {
	var n int64
	for _, s := range *l.segs.Load() {
		n += s.size.Load()
	}
	return n
}

// Segments is the number of segment files.
func (l *Log) Segments() int { return len(*l.segs.Load()) }

// Append validates batches (one or more whole RecordBatch v2, concatenated),
// assigns them consecutive offsets by patching each baseOffset in place in
// the caller's slice (the bytes outside the CRC), writes them to the active
// segment and returns the first batch's base offset. An invalid input is
// rejected whole with an error wrapping record.ErrCorrupt and nothing is
// written. Under FlushAlways, Append returns after an fsync covers the
// batches. Safe for concurrent use; appends are serialized.
func (l *Log) Append(batches []byte) (int64, error) {
	if _, _, err := record.ValidateAll(batches); err != nil {
		return 0, err
	}
	l.mu.Lock()
	base, end, err := l.appendLocked(batches)
	l.mu.Unlock()
	if err != nil {
		return 0, err
	}
	l.notify()
	if l.opts.Flush == FlushAlways {
		if err := l.fl.waitFor(end); err != nil {
			return 0, err
		}
	}
	return base, nil
}

// testHookPublish, set by tests only, runs inside an append between moving
// the end and publishing the bytes: it widens the window a preempted
// appender would leave.
var testHookPublish func()

func (l *Log) appendLocked(b []byte) (base, end int64, err error) {
	if l.closed {
		return 0, 0, ErrClosed
	}
	if err := l.fl.err(); err != nil {
		return 0, 0, err
	}
	if int64(len(b)) > l.opts.SegmentBytes {
		return 0, 0, fmt.Errorf("%w: %d bytes, segment size %d", ErrTooLarge, len(b), l.opts.SegmentBytes)
	}
	s := l.active
	size := s.size.Load()
	if size > 0 && (size+int64(len(b)) > l.opts.SegmentBytes || l.opts.Now().Sub(s.created) >= l.opts.SegmentAge) {
		if s, err = l.rollLocked(); err != nil {
			return 0, 0, err
		}
		size = 0
	}
	base = l.end.Load()
	next := base
	for p := 0; p < len(b); {
		record.SetBaseOffset(b[p:], next)
		h, _ := record.ParseHeader(b[p:])
		next = h.NextOffset()
		p += h.Size()
	}
	if _, err := s.f.WriteAt(b, size); err != nil {
		return 0, 0, fmt.Errorf("seglog: write %s: %w", s.path, err)
	}
	for p := 0; p < len(b); {
		h, _ := record.ParseHeader(b[p:])
		s.noteBatch(h, size+int64(p), l.opts.IndexIntervalBytes)
		p += h.Size()
	}
	// The end moves first: a reader that sees the new bytes (size) must
	// never see an older end, or a consumer that read them would ask next
	// for an offset past the end and be told it is out of range (an
	// appender preempted between the two stores made that happen).
	// Read, which loads end before size, spins in the short window where
	// end has moved and next has not.
	l.end.Store(next)
	if testHookPublish != nil {
		testHookPublish()
	}
	s.size.Store(size + int64(len(b)))
	s.next.Store(next)
	return base, next, nil
}

// rollLocked seals the active segment and starts a new one at the log end.
// The sealed segment is trimmed to its size here and synced, indexed and
// checkpointed by the flusher in the background.
func (l *Log) rollLocked() (*segment, error) {
	old := l.active
	if err := old.f.Truncate(old.size.Load()); err != nil {
		return nil, fmt.Errorf("seglog: trim %s: %w", old.path, err)
	}
	s, err := l.createSegment(l.end.Load())
	if err != nil {
		return nil, err
	}
	segs := append(append([]*segment(nil), *l.segs.Load()...), s)
	l.segs.Store(&segs)
	l.active = s
	l.fl.sealed(old)
	return s, nil
}

func (l *Log) createSegment(base int64) (*segment, error) {
	path := filepath.Join(l.dir, segmentName(base)+".log")
	f, err := l.fs.Create(path, l.opts.SegmentBytes)
	if err != nil {
		return nil, fmt.Errorf("seglog: create segment: %w", err)
	}
	return newSegment(l.dir, base, f, newIndex(l.opts.SegmentBytes, l.opts.IndexIntervalBytes), l.opts.Now(), l.opts.IndexIntervalBytes), nil
}

func (l *Log) notify() {
	l.waitMu.Lock()
	if l.waitCh != nil {
		close(l.waitCh)
		l.waitCh = nil
	}
	l.waitMu.Unlock()
}

// Wait returns a channel closed at the next append (or at Close), for
// long-polling readers. Check EndOffset after taking the channel.
func (l *Log) Wait() <-chan struct{} {
	l.waitMu.Lock()
	defer l.waitMu.Unlock()
	if l.waitCh == nil {
		l.waitCh = make(chan struct{})
	}
	return l.waitCh
}

// Chunk is a read's result: whole batches, as they are in the segment.
// Data is a slice of mapped memory: do not modify it and do not use it
// after Release.
type Chunk struct {
	Data []byte
	// Offset is the base offset of the first batch in Data.
	Offset int64
	seg    *segment
}

// Release gives the chunk's segment reference back. Call it exactly once
// for every Chunk Read returned, empty or not.
func (c Chunk) Release() {
	if c.seg != nil {
		c.seg.release()
	}
}

// Read returns the whole batches that start with the batch holding offset,
// from one segment, up to maxBytes but at least one batch. At EndOffset it
// returns an empty Chunk; below StartOffset or past EndOffset an
// *OffsetOutOfRangeError. Read does not copy and does not allocate. Safe for
// concurrent use with everything.
func (l *Log) Read(offset int64, maxBytes int) (Chunk, error) {
	for {
		segs := *l.segs.Load()
		if len(segs) == 0 {
			return Chunk{}, ErrClosed
		}
		end := l.end.Load()
		start := l.start.Load()
		if offset == end {
			return Chunk{Offset: offset}, nil
		}
		if offset < start || offset > end {
			return Chunk{}, &OffsetOutOfRangeError{Offset: offset, Start: start, End: end}
		}
		i := sort.Search(len(segs), func(i int) bool { return segs[i].base > offset }) - 1
		if i < 0 {
			continue // retention moved start since we loaded it
		}
		s := segs[i]
		if !s.tryAcquire() {
			continue // deleted under us: load the list again
		}
		if offset >= s.next.Load() {
			// A roll happened after we loaded the list (offset is in a
			// newer segment), or an append has moved the end but not yet
			// published its bytes.
			s.release()
			runtime.Gosched()
			continue
		}
		size := s.size.Load() // stored before next: covers offset
		pos := s.find(offset, size)
		stop := s.cut(pos, maxBytes, size)
		return Chunk{Data: s.f.Data()[pos:stop:stop], Offset: s.batchAt(pos).BaseOffset, seg: s}, nil
	}
}

// OffsetForTime returns the base offset of the first batch whose
// MaxTimestamp is at least ms, or EndOffset when there is none.
func (l *Log) OffsetForTime(ms int64) (int64, error) {
	for {
		segs := *l.segs.Load()
		if len(segs) == 0 {
			return 0, ErrClosed
		}
		retry := false
		for _, s := range segs {
			if s.maxTs.Load() < ms {
				continue
			}
			if !s.tryAcquire() {
				retry = true
				break
			}
			off := s.firstAtTime(ms)
			s.release()
			if off >= 0 {
				return max(off, l.start.Load()), nil
			}
		}
		if !retry {
			return l.end.Load(), nil
		}
	}
}

// Sync makes every appended batch durable now, whatever the policy.
func (l *Log) Sync() error {
	l.mu.Lock()
	closed := l.closed
	l.mu.Unlock()
	if closed {
		return ErrClosed
	}
	return l.fl.syncNow()
}

// Close syncs the log, writes a checkpoint and releases the segments.
// Readers still holding chunks keep their segments mapped until they
// release them.
func (l *Log) Close() error { return l.shutdown(true) }

// Abandon stops the log the way kill -9 stops a process: no sync, no
// checkpoint, no index files; the flusher goroutine ends, appends waiting
// for an fsync get ErrClosed, and the segments are released. What is on
// disk (or, on vfs.Mem, what a CrashClone keeps) is what a recovery will
// find. For tests, benchmarks and the simulator.
func (l *Log) Abandon() { l.shutdown(false) }

func (l *Log) shutdown(clean bool) error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return ErrClosed
	}
	l.closed = true
	l.mu.Unlock()
	var err error
	if clean {
		err = l.fl.stop()
	} else {
		close(l.fl.quit)
		<-l.fl.done
		l.fl.halt()
	}
	segs := *l.segs.Load()
	empty := []*segment{}
	l.segs.Store(&empty)
	for _, s := range segs {
		s.release()
	}
	l.notify()
	return err
}
