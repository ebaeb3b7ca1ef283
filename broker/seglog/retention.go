package seglog

// EnforceRetention deletes the oldest sealed segments that are past
// RetentionAge (their newest batch timestamp, or their creation time when
// no batch had one) or that the log can lose while staying at least
// RetentionBytes large. The active segment is never deleted. Files are
// unlinked at once; a segment's mapping lives until its last reader
// releases it, so readers never fault. It returns how many segments went.
func (l *Log) EnforceRetention() (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, ErrClosed
	}
	segs := *l.segs.Load()
	now := l.opts.Now()
	total := l.Size()
	n := 0
	for ; n < len(segs)-1; n++ {
		s := segs[n]
		newest := s.maxTs.Load()
		if newest < 0 {
			newest = s.created.UnixMilli()
		}
		byAge := l.opts.RetentionAge >= 0 && now.UnixMilli()-newest > l.opts.RetentionAge.Milliseconds()
		bySize := l.opts.RetentionBytes >= 0 && total-s.size.Load() >= l.opts.RetentionBytes
		if !byAge && !bySize {
			break
		}
		total -= s.size.Load()
	}
	if n == 0 {
		return 0, nil
	}
	rest := append([]*segment(nil), segs[n:]...)
	l.start.Store(rest[0].base)
	l.segs.Store(&rest)
	for _, s := range segs[:n] {
		for _, p := range []string{s.path, s.indexPath(), s.timeIndexPath()} {
			l.fs.Remove(p)
		}
		s.release()
	}
	return n, nil
}
