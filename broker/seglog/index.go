package seglog

import (
	"encoding/binary"
	"errors"
	"sort"
	"sync/atomic"
)

// entry is one sparse index entry: the batch whose base offset is
// segment base + rel starts at byte pos, and every batch before it has a
// MaxTimestamp of at most tsBefore (the running maximum, exclusive).
type entry struct {
	rel      uint32
	pos      uint32
	tsBefore int64
}

const chunkLen = 1024

// index is a sparse offset + time index that one goroutine appends to while
// others read it without locks: an entry is written before n is published,
// and chunks are never moved, so a reader sees entries [0, n) whole.
type index struct {
	n      atomic.Int64
	chunks []*[chunkLen]entry // fixed length; chunks[i] set before n passes i*chunkLen
}

// newIndex makes an index for a segment of segmentBytes with an entry at most
// every interval bytes. Only the chunk table is allocated up front.
func newIndex(segmentBytes int64, interval int) *index {
	entries := segmentBytes/int64(interval) + 2
	return &index{chunks: make([]*[chunkLen]entry, entries/chunkLen+1)}
}

func (x *index) len() int { return int(x.n.Load()) }

func (x *index) at(i int) entry { return x.chunks[i/chunkLen][i%chunkLen] }

// add appends e. Writer only.
func (x *index) add(e entry) {
	n := int(x.n.Load())
	c := n / chunkLen
	if c == len(x.chunks) {
		return // a full index only makes lookups walk further
	}
	if x.chunks[c] == nil {
		x.chunks[c] = new([chunkLen]entry)
	}
	x.chunks[c][n%chunkLen] = e
	x.n.Store(int64(n + 1))
}

// truncate drops entries at or past byte pos. Writer only, with no readers
// (used by recovery).
func (x *index) truncate(pos uint32) {
	n := x.len()
	for n > 0 && x.at(n-1).pos >= pos {
		n--
	}
	x.n.Store(int64(n))
}

// floorOffset returns the position of the last entry whose offset is <= rel,
// or 0 when there is none (the segment's first batch starts at 0).
func (x *index) floorOffset(rel uint32) uint32 {
	n := x.len()
	i := sort.Search(n, func(i int) bool { return x.at(i).rel > rel })
	if i == 0 {
		return 0
	}
	return x.at(i - 1).pos
}

// floorPos returns the position of the last entry at or before byte pos,
// or 0.
func (x *index) floorPos(pos uint32) uint32 {
	n := x.len()
	i := sort.Search(n, func(i int) bool { return x.at(i).pos > pos })
	if i == 0 {
		return 0
	}
	return x.at(i - 1).pos
}

// timeFloor returns the position of the last entry before which every
// batch has MaxTimestamp < ts: the first batch with MaxTimestamp >= ts is at
// or after it (and before the next entry).
func (x *index) timeFloor(ts int64) uint32 {
	n := x.len()
	i := sort.Search(n, func(i int) bool { return x.at(i).tsBefore >= ts })
	if i == 0 {
		return 0
	}
	return x.at(i - 1).pos
}

// On disk, the offset index (<base>.index) holds 8-byte entries, relative
// offset and position (uint32 big-endian each), and the time index
// (<base>.timeindex) 12-byte entries, timestamp int64 and relative offset
// uint32, as Kafka lays them out. gale writes one time entry per offset entry,
// holding the largest batch timestamp before that entry's batch.

func (x *index) marshal() (offsets, times []byte) {
	n := x.len()
	offsets = make([]byte, 0, 8*n)
	times = make([]byte, 0, 12*n)
	for i := 0; i < n; i++ {
		e := x.at(i)
		offsets = binary.BigEndian.AppendUint32(offsets, e.rel)
		offsets = binary.BigEndian.AppendUint32(offsets, e.pos)
		times = binary.BigEndian.AppendUint64(times, uint64(e.tsBefore))
		times = binary.BigEndian.AppendUint32(times, e.rel)
	}
	return offsets, times
}

var errBadIndex = errors.New("seglog: index file does not match its segment")

// unmarshalIndex loads index files written by marshal. Entries must be
// strictly increasing in offset and position and below size.
func unmarshalIndex(offsets, times []byte, size int64, interval int) (*index, error) {
	if len(offsets)%8 != 0 || len(times)%12 != 0 || len(offsets)/8 != len(times)/12 {
		return nil, errBadIndex
	}
	x := newIndex(max(size, int64(len(offsets)/8)*int64(interval)), interval)
	for i := 0; i < len(offsets)/8; i++ {
		e := entry{
			rel:      binary.BigEndian.Uint32(offsets[8*i:]),
			pos:      binary.BigEndian.Uint32(offsets[8*i+4:]),
			tsBefore: int64(binary.BigEndian.Uint64(times[12*i:])),
		}
		if binary.BigEndian.Uint32(times[12*i+8:]) != e.rel || int64(e.pos) >= size {
			return nil, errBadIndex
		}
		if i > 0 {
			p := x.at(i - 1)
			if e.rel <= p.rel || e.pos <= p.pos || e.tsBefore < p.tsBefore {
				return nil, errBadIndex
			}
		}
		x.add(e)
	}
	return x, nil
}
