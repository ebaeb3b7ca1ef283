package seglog

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gale/broker/record"
	"gale/broker/vfs"
)

// RecoveryReport says what Open found and what it cut.
type RecoveryReport struct {
	Segments   int   // segment files kept
	Checkpoint bool  // a valid checkpoint was found and used
	Trusted    int64 // bytes covered by the checkpoint, not re-verified
	Scanned    int64 // bytes verified batch by batch (CRC and offsets)

	// The cut: bytes past the last whole, valid batch, removed. CutFrom is
	// the first offset lost (the log's end offset after recovery); CutTo is
	// one past the last offset whose header could still be read in the cut
	// bytes (a lower bound on what was lost when the damage hides headers).
	CutBytes    int64
	CutFrom     int64
	CutTo       int64
	CutSegments int   // whole segment files deleted past the cut
	CutReason   error // the first invalid batch's error, or the offset gap

	Duration time.Duration
}

// Cut reports whether recovery removed anything.
func (r RecoveryReport) Cut() bool { return r.CutBytes > 0 || r.CutSegments > 0 }

func (r RecoveryReport) String() string {
	s := fmt.Sprintf("recovered %d segments in %v: %d bytes trusted from checkpoint, %d bytes verified",
		r.Segments, r.Duration.Round(time.Microsecond), r.Trusted, r.Scanned)
	if !r.Checkpoint {
		s += " (no checkpoint)"
	}
	if r.Cut() {
		s += fmt.Sprintf("; cut %d bytes and %d segments, offsets [%d, %d): %v",
			r.CutBytes, r.CutSegments, r.CutFrom, r.CutTo, r.CutReason)
	}
	return s
}

// prefetchStep is how far ahead of the recovery scan the file is mapped.
const prefetchStep = 8 << 20

var errGap = errors.New("seglog: segment does not continue the offsets before it")

// Open opens the log in dir, creating it if needed, and recovers it: the
// part the checkpoint covers is trusted (its index is loaded or rebuilt from
// batch headers); every batch past it is verified (CRC-32C, length, and that
// its base offset continues the log); the log is cut at the first batch that
// fails, and segments past the cut are deleted. The report says what was cut.
func Open(dir string, o Options) (*Log, RecoveryReport, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, RecoveryReport{}, err
	}
	began := time.Now()
	l := &Log{dir: dir, opts: o, fs: o.FS}
	if err := l.fs.MkdirAll(dir); err != nil {
		return nil, RecoveryReport{}, fmt.Errorf("seglog: %w", err)
	}
	names, err := l.fs.List(dir)
	if err != nil {
		return nil, RecoveryReport{}, fmt.Errorf("seglog: %w", err)
	}
	var rep RecoveryReport
	cp, hasCP := l.readCheckpoint()
	rep.Checkpoint = hasCP
	trust := hasCP && !o.VerifyAll

	bases := segmentBases(names)
	l.removeOrphans(names, bases)
	var segs []*segment
	var failed error
	expected := int64(-1)
	for _, base := range bases {
		if failed == nil && expected >= 0 && base != expected {
			failed = fmt.Errorf("%w: segment %d, expected %d", errGap, base, expected)
			rep.CutReason = failed
			rep.CutFrom = expected
		}
		if failed != nil {
			l.cutSegment(base, &rep)
			continue
		}
		s, err := l.recoverSegment(base, cp, trust, &rep)
		if err != nil {
			for _, s := range segs {
				s.release()
			}
			return nil, rep, err
		}
		segs = append(segs, s)
		expected = s.next.Load()
		if rep.CutReason != nil {
			failed = rep.CutReason
		}
	}
	if len(segs) == 0 {
		s, err := l.createSegment(max(expected, 0))
		if err != nil {
			return nil, rep, err
		}
		segs = append(segs, s)
	} else if err := l.reopenActive(segs); err != nil {
		for _, s := range segs {
			s.release()
		}
		return nil, rep, err
	}
	l.active = segs[len(segs)-1]
	l.segs.Store(&segs)
	l.start.Store(segs[0].base)
	l.end.Store(l.active.next.Load())
	if !rep.Cut() {
		rep.CutFrom, rep.CutTo = l.EndOffset(), l.EndOffset()
	}
	rep.Segments = len(segs)
	if !hasCP {
		cp = checkpoint{next: segs[0].base, segment: segs[0].base}
	}
	l.fl.start(l, cp, hasCP)
	rep.Duration = time.Since(began)
	return l, rep, nil
}

func segmentBases(names []string) []int64 {
	var bases []int64
	for _, n := range names {
		if b, ok := parseSegmentName(filepath.Base(n)); ok {
			bases = append(bases, b)
		}
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i] < bases[j] })
	return bases
}

// removeOrphans deletes index files whose segment is gone (written by a
// background sync that raced retention).
func (l *Log) removeOrphans(names []string, bases []int64) {
	have := make(map[string]bool, len(bases))
	for _, b := range bases {
		have[segmentName(b)] = true
	}
	for _, n := range names {
		n = filepath.Base(n)
		stem, ext, _ := strings.Cut(n, ".")
		if (ext == "index" || ext == "timeindex") && !have[stem] {
			l.fs.Remove(filepath.Join(l.dir, n))
		}
	}
}

func (l *Log) readCheckpoint() (checkpoint, bool) {
	b, err := l.fs.ReadFile(filepath.Join(l.dir, checkpointName))
	if err != nil {
		return checkpoint{}, false
	}
	cp, err := parseCheckpoint(b)
	return cp, err == nil
}

// recoverSegment opens one segment and rebuilds its state. It records a cut
// in rep (and truncates the file) when it finds an invalid batch.
func (l *Log) recoverSegment(base int64, cp checkpoint, trust bool, rep *RecoveryReport) (*segment, error) {
	path := filepath.Join(l.dir, segmentName(base)+".log")
	f, err := l.fs.Open(path, 0)
	if err != nil {
		return nil, fmt.Errorf("seglog: open segment: %w", err)
	}
	size := f.Size()
	trusted := int64(0)
	switch {
	case trust && base < cp.segment:
		trusted = size
	case trust && base == cp.segment:
		trusted = min(cp.position, size)
	}
	interval := l.opts.IndexIntervalBytes
	s := newSegment(l.dir, base, f, nil, l.opts.Now(), interval)
	from := int64(0)
	if trusted > 0 {
		s.idx, from = l.loadIndex(s, trusted)
	}
	if s.idx == nil {
		s.idx = newIndex(max(size, l.opts.SegmentBytes), interval)
	}
	next := base
	data := f.Data()[:size]
	pos := from
	// The trusted part: walk headers only.
	for pos < trusted {
		h, err := record.ParseHeader(data[pos:trusted])
		if err != nil || h.Size() < record.HeaderSize || pos+int64(h.Size()) > trusted {
			break // the checkpoint overstated: verify from here
		}
		s.noteBatch(h, pos, interval)
		next = h.NextOffset()
		pos += int64(h.Size())
	}
	if pos > 0 && next == base {
		next = s.batchAt(s.lastBatchBefore(pos)).NextOffset()
	}
	rep.Trusted += pos
	// The rest: verify every batch, mapping the file ahead of the scan in
	// steps (not all at once: an active segment is mostly preallocation).
	scanFrom := pos
	pf, _ := f.(vfs.Prefetcher)
	fetched := pos
	for pos < size {
		if pf != nil && pos+record.HeaderSize > fetched {
			pf.Prefetch(fetched, prefetchStep)
			fetched += prefetchStep
		}
		h, err := record.Validate(data[pos:])
		if err == nil && h.BaseOffset != next {
			err = fmt.Errorf("seglog: batch at byte %d of %s has base offset %d, expected %d", pos, path, h.BaseOffset, next)
		}
		if err != nil {
			if !zeroHeader(data[pos:]) {
				rep.CutReason = err
				rep.CutFrom = next
				cutEnd, lastNext := walkPlausible(data, pos)
				rep.CutBytes += cutEnd - pos
				rep.CutTo = max(rep.CutTo, lastNext, next)
			}
			break
		}
		s.noteBatch(h, pos, interval)
		next = h.NextOffset()
		pos += int64(h.Size())
	}
	rep.Scanned += pos - scanFrom
	s.size.Store(pos)
	s.next.Store(next)
	if pos < size {
		if err := f.Truncate(pos); err != nil {
			f.Close()
			return nil, fmt.Errorf("seglog: truncate %s: %w", path, err)
		}
		s.idx.truncate(uint32(pos))
	}
	return s, nil
}

// loadIndex loads a segment's index files and returns the index with
// entries only below trusted, plus the position to walk from; nil if the
// files are missing or wrong.
func (l *Log) loadIndex(s *segment, trusted int64) (*index, int64) {
	offsets, err1 := l.fs.ReadFile(s.indexPath())
	times, err2 := l.fs.ReadFile(s.timeIndexPath())
	if err1 != nil || err2 != nil {
		return nil, 0
	}
	x, err := unmarshalIndex(offsets, times, max(s.f.Size(), l.opts.SegmentBytes), l.opts.IndexIntervalBytes)
	if err != nil {
		return nil, 0
	}
	x.truncate(uint32(trusted))
	n := x.len()
	if n == 0 {
		return x, 0
	}
	e := x.at(n - 1)
	h, err := record.ParseHeader(s.f.Data()[e.pos:trusted])
	if err != nil || h.BaseOffset != s.base+int64(e.rel) {
		return nil, 0 // the index does not match the data
	}
	// Resume as if the walk had just indexed the batch at e.pos.
	x.truncate(e.pos)
	s.lastIndexed = int64(e.pos) - int64(l.opts.IndexIntervalBytes)
	s.tsRunning = e.tsBefore
	return x, int64(e.pos)
}

// lastBatchBefore returns the start of the last batch that ends at or
// before pos. Used only when a walk resumed from the index.
func (s *segment) lastBatchBefore(pos int64) int64 {
	p := int64(s.idx.floorPos(uint32(pos)))
	for {
		n := p + int64(s.batchAt(p).Size())
		if n >= pos {
			return p
		}
		p = n
	}
}

func zeroHeader(b []byte) bool {
	b = b[:min(len(b), record.HeaderSize)]
	return len(bytes.Trim(b, "\x00")) == 0
}

// walkPlausible walks headers that still look like batches past a bad one,
// to tell how much is being cut.
func walkPlausible(data []byte, pos int64) (end, lastNext int64) {
	end = pos
	for end < int64(len(data)) {
		h, err := record.ParseHeader(data[end:])
		if err != nil || h.Magic != record.Magic || h.Size() < record.HeaderSize || end+int64(h.Size()) > int64(len(data)) {
			if end == pos {
				end = int64(len(data)) // not even the first header reads: all of it goes
				for end > pos && data[end-1] == 0 {
					end--
				}
			}
			return end, lastNext
		}
		lastNext = max(lastNext, h.NextOffset())
		end += int64(h.Size())
	}
	return end, lastNext
}

// cutSegment deletes a segment that lies past the cut.
func (l *Log) cutSegment(base int64, rep *RecoveryReport) {
	path := filepath.Join(l.dir, segmentName(base)+".log")
	if f, err := l.fs.Open(path, 0); err == nil {
		end, lastNext := walkPlausible(f.Data()[:f.Size()], 0)
		rep.CutBytes += end
		rep.CutTo = max(rep.CutTo, lastNext)
		f.Close()
	}
	rep.CutSegments++
	s := &segment{path: path}
	for _, p := range []string{path, s.indexPath(), s.timeIndexPath()} {
		l.fs.Remove(p) // best effort: a leftover past the gap is cut again at the next open
	}
}

// reopenActive maps the last segment again at the full segment size, so it
// can take appends, and drops its index files, which appends will outdate.
func (l *Log) reopenActive(segs []*segment) error {
	s := segs[len(segs)-1]
	if err := s.f.Close(); err != nil {
		return fmt.Errorf("seglog: %w", err)
	}
	f, err := l.fs.Open(s.path, max(l.opts.SegmentBytes, s.size.Load()))
	if err != nil {
		return fmt.Errorf("seglog: reopen active segment: %w", err)
	}
	s.f = f
	l.fs.Remove(s.indexPath())
	l.fs.Remove(s.timeIndexPath())
	return nil
}
