package producer

// ReserveBlock is how many producer ids one reservation covers: IDs asks the
// server to persist a new bound once per ReserveBlock ids handed out.
const ReserveBlock = 1000

// IDs hands out producer ids for InitProducerId requests without a
// transactional id: every call gets a fresh id with epoch 0, as in Kafka.
// An id must never be handed out twice, not even across broker restarts
// (partitions remember producer ids in their logs, and a reused id would
// meet another producer's sequence numbers), so IDs works with a bound the
// server persists, a block at a time:
//
//   - The persisted value B means "no id at or above B has been handed out".
//     On start, NewIDs(B) (0 if nothing was ever persisted).
//   - Before Next, ask NeedsReserve. If it returns (upTo, true), durably
//     write upTo (write a small file, fsync it, rename it over the old one),
//     then call Reserved(upTo). Next then hands out ids below upTo without
//     further writes, ReserveBlock of them.
//   - A crash at any point loses at most the unused rest of a block: the
//     next run starts at the persisted bound, above every id handed out.
//
// IDs starts at 0 and counts up; 2^63 ids will not run out.
type IDs struct {
	next     int64 // the id Next hands out next
	reserved int64 // ids below reserved are covered by a persisted bound
}

// NewIDs returns IDs that hand out ids from next on, where next is the bound
// persisted by the last run (0 on first start; a negative value counts as
// 0). Nothing is reserved yet, so the first Next needs a reservation.
func NewIDs(next int64) *IDs {
	next = max(next, 0)
	return &IDs{next: next, reserved: next}
}

// NeedsReserve reports whether a bound must be persisted before the next
// call to Next, and which: ok is true when the ids reserved so far are used
// up, and upTo is then Peek()+ReserveBlock.
func (p *IDs) NeedsReserve() (upTo int64, ok bool) {
	if p.next < p.reserved {
		return 0, false
	}
	return p.next + ReserveBlock, true
}

// Reserved records that upTo has been persisted: ids below it may be handed
// out. A bound not above the current one changes nothing.
func (p *IDs) Reserved(upTo int64) {
	p.reserved = max(p.reserved, upTo)
}

// Next hands out a fresh producer id and its epoch (always 0). It panics if
// the id is not covered by a reservation: call NeedsReserve first.
func (p *IDs) Next() (id int64, epoch int16) {
	if p.next >= p.reserved {
		panic("producer: IDs.Next without a reservation (call NeedsReserve and Reserved first)")
	}
	id = p.next
	p.next++
	return id, 0
}

// Peek returns the id the next call to Next will hand out.
func (p *IDs) Peek() int64 { return p.next }
