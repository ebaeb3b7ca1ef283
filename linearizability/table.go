package linearizability

// A slot is what one offset of a partition is known to hold: the first
// value any acked produce or read put there.
type slot struct {
	id      int32 // interned value; -1 for a hole (nothing known)
	line    int   // the history line that put it there
	flagged bool  // an inconsistent-offset anomaly was reported for it
}

// offsetTable maps offsets to slots: a slice from the lowest offset when the
// offsets are dense enough, a map when a history names a few far-flung ones.
type offsetTable struct {
	base   int64
	dense  []slot
	sparse map[int64]slot
}

// newOffsetTable makes a table for offsets in [lo, hi], about n of them.
func newOffsetTable(lo, hi int64, n int) offsetTable {
	if n == 0 {
		return offsetTable{}
	}
	if span := hi - lo + 1; span <= 4*int64(n)+1<<16 {
		t := offsetTable{base: lo, dense: make([]slot, span)}
		for i := range t.dense {
			t.dense[i].id = -1
		}
		return t
	}
	return offsetTable{sparse: make(map[int64]slot, n)}
}

// get returns the slot at off, with id -1 for a hole.
func (t *offsetTable) get(off int64) slot {
	if t.sparse != nil {
		if s, ok := t.sparse[off]; ok {
			return s
		}
		return slot{id: -1}
	}
	if i := off - t.base; i >= 0 && i < int64(len(t.dense)) {
		return t.dense[i]
	}
	return slot{id: -1}
}

// set stores s at off, which must lie in the range the table was made for.
func (t *offsetTable) set(off int64, s slot) {
	if t.sparse != nil {
		t.sparse[off] = s
		return
	}
	t.dense[off-t.base] = s
}
