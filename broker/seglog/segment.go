package seglog

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"gale/broker/record"
	"gale/broker/vfs"
)

// segment is one <base>.log file with its index. The writer appends under
// Log.mu and publishes size, next and maxTs after the bytes are in place;
// readers load them and read below size without locks.
//
// refs counts the log's own reference (while the segment is in the list)
// plus one per reader or syncer holding it. The file is unmapped when it
// drops to zero, never before, so no reader can touch unmapped memory.
type segment struct {
	base    int64
	path    string // the .log file
	f       vfs.File
	idx     *index
	created time.Time // when this segment was created or reopened

	size  atomic.Int64 // bytes of whole batches
	next  atomic.Int64 // offset after the last batch
	maxTs atomic.Int64 // largest batch MaxTimestamp, or -1

	// Writer-only state.
	lastIndexed int64 // position of the last index entry, or -interval
	tsRunning   int64 // running max timestamp of the batches appended

	refs     atomic.Int32
	onRemove func() // removes the files when the last reference goes; set by retention
}

func segmentName(base int64) string { return fmt.Sprintf("%020d", base) }

// parseSegmentName returns the base offset of a "<base>.log" name.
func parseSegmentName(name string) (int64, bool) {
	s, ok := strings.CutSuffix(name, ".log")
	if !ok || len(s) != 20 {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil && n >= 0
}

func (s *segment) indexPath() string     { return strings.TrimSuffix(s.path, ".log") + ".index" }
func (s *segment) timeIndexPath() string { return strings.TrimSuffix(s.path, ".log") + ".timeindex" }

func newSegment(dir string, base int64, f vfs.File, idx *index, now time.Time, interval int) *segment {
	s := &segment{
		base:        base,
		path:        filepath.Join(dir, segmentName(base)+".log"),
		f:           f,
		idx:         idx,
		created:     now,
		lastIndexed: -int64(interval),
		tsRunning:   -1,
	}
	s.next.Store(base)
	s.maxTs.Store(-1)
	s.refs.Store(1)
	return s
}

// tryAcquire takes a reference unless the segment is already released.
func (s *segment) tryAcquire() bool {
	for {
		n := s.refs.Load()
		if n <= 0 {
			return false
		}
		if s.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// release drops a reference; the last one unmaps the file.
func (s *segment) release() {
	if s.refs.Add(-1) == 0 {
		s.f.Close()
		if s.onRemove != nil {
			s.onRemove()
		}
	}
}

// noteBatch records a batch written at pos in the index and the published
// timestamps. Writer only; call before publishing size.
func (s *segment) noteBatch(h record.Header, pos int64, interval int) {
	if pos-s.lastIndexed >= int64(interval) {
		s.idx.add(entry{rel: uint32(h.BaseOffset - s.base), pos: uint32(pos), tsBefore: s.tsRunning})
		s.lastIndexed = pos
	}
	if h.MaxTimestamp > s.tsRunning {
		s.tsRunning = h.MaxTimestamp
		s.maxTs.Store(h.MaxTimestamp)
	}
}

// batchAt returns the header of the batch at pos, which the caller knows is
// below size. Headers are not re-validated: only whole, validated batches
// are ever published.
func (s *segment) batchAt(pos int64) record.Header {
	h, _ := record.ParseHeader(s.f.Data()[pos:])
	return h
}

// find returns the position of the batch holding offset, which must be in
// [base, next) for the given published size.
func (s *segment) find(offset, size int64) int64 {
	pos := int64(s.idx.floorOffset(uint32(offset - s.base)))
	for pos < size {
		h := s.batchAt(pos)
		if h.NextOffset() > offset {
			return pos
		}
		pos += int64(h.Size())
	}
	return size
}

// cut returns the end of the whole batches from pos that fit in maxBytes,
// but at least one batch.
func (s *segment) cut(pos int64, maxBytes int, size int64) int64 {
	limit := pos + int64(maxBytes)
	if limit >= size {
		return size
	}
	p := int64(s.idx.floorPos(uint32(limit)))
	if p <= pos {
		p = pos
	}
	end := p
	for end < size {
		n := end + int64(s.batchAt(end).Size())
		if n > limit && end > pos {
			break
		}
		end = n
		if end >= limit {
			break
		}
	}
	return end
}

// firstAtTime returns the offset of the first batch with MaxTimestamp >= ts,
// or -1. The index bounds where to start; the walk ends at the batch.
func (s *segment) firstAtTime(ts int64) int64 {
	size := s.size.Load()
	for pos := int64(s.idx.timeFloor(ts)); pos < size; {
		h := s.batchAt(pos)
		if h.MaxTimestamp >= ts {
			return h.BaseOffset
		}
		pos += int64(h.Size())
	}
	return -1
}
