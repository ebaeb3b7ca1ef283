package linearizability

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
)

// partition is one topic-partition's share of a history and what the checks
// learn about it. One goroutine owns it.
type partition struct {
	topic string
	part  int32
	ops   []*Op // its produce and fetch operations, in line order
	nOps  int   // every operation naming it, commits included

	ids    map[string]int32 // interned values
	opIDs  [][]int32        // ops[i].Values, interned
	vals   []string         // id -> value
	values []valueInfo      // id -> what is known of the value
	table  offsetTable      // offset -> first value seen there
	lo, hi int64            // offsets the table covers; lo > hi when none
	base   int64            // the lowest offset any produce or fetch names: where the model's log starts
	maxGap int64            // the longest run of offsets in [base, hi] nobody saw a value at

	anomalies []Anomaly

	outcome Outcome
	detail  string
}

// valueInfo is what the linear pass knows of one value.
type valueInfo struct {
	off                           int64 // first offset it was seen at; -1 when none
	offLine                       int   // the line that put it there
	readLine                      int   // first fetch that returned it; 0 if never read
	okLine, unknownLine, failLine int   // first produce of each status that sent it
	dupDone, abortDone            bool  // anomalies reported once per value
}

func (p *partition) intern(v string) int32 {
	if id, ok := p.ids[v]; ok {
		return id
	}
	id := int32(len(p.vals))
	p.ids[v] = id
	p.vals = append(p.vals, v)
	p.values = append(p.values, valueInfo{off: -1})
	return id
}

func (p *partition) report(kind AnomalyKind, client *int, explain string, lines ...int) {
	slices.Sort(lines)
	p.anomalies = append(p.anomalies, Anomaly{
		Kind: kind, Topic: p.topic, Partition: p.part, Client: client,
		Lines: slices.Compact(lines), Explain: explain,
	})
}

// placed reports whether op put its values at offsets: an acked produce or
// a successful fetch.
func placed(op *Op) bool {
	return op.Status == StatusOK && (op.Kind == Produce || op.Kind == Fetch)
}

// linear runs the Jepsen-style pass: every anomaly but NotLinearizable and
// CommittedBackwards. It runs in O(n log n) for n operations.
func (p *partition) linear() {
	p.index()
	high, highLine := int64(-1), 0 // the highest offset any fetch returned
	for j, op := range p.ops {
		if !placed(op) {
			continue
		}
		for i, id := range p.opIDs[j] {
			off := op.Offset + int64(i)
			p.place(off, id, op)
			if op.Kind == Fetch {
				p.read(id, op, off)
				if off > high {
					high, highLine = off, op.Line
				}
			}
		}
	}
	p.maxGap = p.longestGap()
	p.unread(high, highLine)
	p.clientOrder()
	p.stale()
}

// index interns every value sent or read, notes which produces sent each,
// and sizes the offset table.
func (p *partition) index() {
	nv := 0
	for _, op := range p.ops {
		nv += len(op.Values)
	}
	p.ids = make(map[string]int32, nv/2) // most values are sent once and read once
	p.vals = make([]string, 0, nv/2)
	p.values = make([]valueInfo, 0, nv/2)
	p.opIDs = make([][]int32, len(p.ops))
	flat := make([]int32, 0, nv)
	p.lo, p.hi, p.base = math.MaxInt64, math.MinInt64, math.MaxInt64
	n := 0
	for i, op := range p.ops {
		if op.Kind == Produce || placed(op) {
			start := len(flat)
			for _, v := range op.Values {
				flat = append(flat, p.intern(v))
			}
			p.opIDs[i] = flat[start:len(flat):len(flat)]
		}
		if op.Kind == Produce {
			p.sent(op, p.opIDs[i])
		}
		if placed(op) {
			p.base = min(p.base, op.Offset)
			if len(op.Values) > 0 {
				p.lo = min(p.lo, op.Offset)
				p.hi = max(p.hi, op.Offset+int64(len(op.Values))-1)
				n += len(op.Values)
			}
		}
	}
	if p.base == math.MaxInt64 {
		p.base = 0
	}
	p.table = newOffsetTable(p.lo, p.hi, n)
}

// sent notes the first produce of each status that sent each value.
func (p *partition) sent(op *Op, ids []int32) {
	for _, id := range ids {
		vi := &p.values[id]
		switch {
		case op.Status == StatusOK && vi.okLine == 0:
			vi.okLine = op.Line
		case op.Status == StatusUnknown && vi.unknownLine == 0:
			vi.unknownLine = op.Line
		case op.Status == StatusFail && vi.failLine == 0:
			vi.failLine = op.Line
		}
	}
}

// longestGap measures the longest run of offsets in [base, hi] that no
// acked produce or read put a value at. With a sparse table it assumes the
// worst.
func (p *partition) longestGap() int64 {
	if p.lo > p.hi {
		return 0
	}
	if p.table.sparse != nil {
		return p.hi - p.base + 1
	}
	longest, run := p.lo-p.base, int64(0)
	for _, s := range p.table.dense {
		if s.id >= 0 {
			run = 0
			continue
		}
		run++
		longest = max(longest, run)
	}
	return longest
}

// place records that op saw value id at off: inconsistent offsets and
// duplicates show up here.
func (p *partition) place(off int64, id int32, op *Op) {
	s := p.table.get(off)
	switch {
	case s.id < 0:
		p.table.set(off, slot{id: id, line: op.Line})
	case s.id != id && !s.flagged:
		p.report(InconsistentOffset, nil, fmt.Sprintf("offset %d holds %q (line %d) and %q (line %d)",
			off, p.vals[s.id], s.line, p.vals[id], op.Line), s.line, op.Line)
		s.flagged = true
		p.table.set(off, s)
	}
	vi := &p.values[id]
	switch {
	case vi.off < 0:
		vi.off, vi.offLine = off, op.Line
	case vi.off != off && !vi.dupDone:
		vi.dupDone = true
		p.report(Duplicate, nil, fmt.Sprintf("value %q is at offset %d (line %d) and at offset %d (line %d)",
			p.vals[id], vi.off, vi.offLine, off, op.Line), vi.offLine, op.Line)
	}
}

// read records that fetch op returned value id at off.
func (p *partition) read(id int32, op *Op, off int64) {
	vi := &p.values[id]
	if vi.readLine == 0 {
		vi.readLine = op.Line
	}
	if vi.okLine == 0 && vi.unknownLine == 0 && vi.failLine != 0 && !vi.abortDone {
		vi.abortDone = true
		p.report(AbortedRead, nil, fmt.Sprintf("value %q was read at offset %d (line %d), though the produce that sent it failed (line %d)",
			p.vals[id], off, op.Line, vi.failLine), vi.failLine, op.Line)
	}
}

// unread finds acked values no fetch returned: lost writes when some fetch
// returned a higher offset, unseen when the consumers read to the end after
// they were acked.
func (p *partition) unread(high int64, highLine int) {
	lastAck := int64(math.MinInt64)
	for _, op := range p.ops {
		if op.Kind == Produce && op.Status == StatusOK {
			lastAck = max(lastAck, op.Return)
		}
	}
	drainLine, drainOff := 0, int64(0) // an empty read that began after the last ack
	for _, op := range p.ops {
		if op.Kind == Fetch && op.Status == StatusOK && len(op.Values) == 0 && op.Call > lastAck {
			drainLine, drainOff = op.Line, op.Offset
			break
		}
	}
	for j, op := range p.ops {
		if op.Kind != Produce || op.Status != StatusOK {
			continue
		}
		var lost, unseen []int // indexes into op.Values
		for i, id := range p.opIDs[j] {
			if p.values[id].readLine != 0 {
				continue
			}
			if op.Offset+int64(i) <= high {
				lost = append(lost, i)
			} else if drainLine != 0 {
				unseen = append(unseen, i)
			}
		}
		if len(lost) > 0 {
			p.report(LostWrite, nil, fmt.Sprintf("%s acked by line %d never read, though line %d read offset %d",
				describeValues(op, lost), op.Line, highLine, high), op.Line, highLine)
		}
		if len(unseen) > 0 {
			p.report(Unseen, nil, fmt.Sprintf("%s acked by line %d never read, though line %d read to the end (offset %d) after the last ack",
				describeValues(op, unseen), op.Line, drainLine, drainOff), op.Line, drainLine)
		}
	}
}

// describeValues names the values of op at the given indexes.
func describeValues(op *Op, idx []int) string {
	vs := make([]string, len(idx))
	for i, j := range idx {
		vs[i] = op.Values[j]
	}
	first, last := op.Offset+int64(idx[0]), op.Offset+int64(idx[len(idx)-1])
	if len(idx) == 1 {
		return fmt.Sprintf("value %q at offset %d", vs[0], first)
	}
	return fmt.Sprintf("%d values %s at offsets %d-%d", len(idx), quoteValues(vs, 3), first, last)
}

// byClient groups the operations matching keep by client, each group in
// the client's own order (call time, then line).
func (p *partition) byClient(keep func(*Op) bool) map[int][]*Op {
	m := make(map[int][]*Op)
	for _, op := range p.ops {
		if keep(op) {
			m[op.Client] = append(m[op.Client], op)
		}
	}
	for _, ops := range m {
		slices.SortStableFunc(ops, func(a, b *Op) int { return cmp.Compare(a.Call, b.Call) })
	}
	return m
}

// sortedClients returns m's keys in order, so reports are deterministic.
func sortedClients(m map[int][]*Op) []int {
	cs := make([]int, 0, len(m))
	for c := range m {
		cs = append(cs, c)
	}
	slices.Sort(cs)
	return cs
}

// clientOrder checks each consumer reads forward without gaps and each
// producer's batches land in the order it sent them.
func (p *partition) clientOrder() {
	reads := p.byClient(func(op *Op) bool { return op.Kind == Fetch && op.Status == StatusOK })
	for _, c := range sortedClients(reads) {
		ops := reads[c]
		for i := 1; i < len(ops); i++ {
			prev, next := ops[i-1], ops[i]
			pos := prev.Offset + int64(len(prev.Values))
			switch {
			case next.Offset > pos:
				p.report(Skip, &c, fmt.Sprintf("client %d %s, then its next read started at offset %d (line %d), skipping %s",
					c, readUpTo(prev), next.Offset, next.Line, offsetRange(pos, next.Offset-1)), prev.Line, next.Line)
			case next.Offset < pos:
				p.report(NonmonotonicRead, &c, fmt.Sprintf("client %d %s, then its next read went back to offset %d (line %d)",
					c, readUpTo(prev), next.Offset, next.Line), prev.Line, next.Line)
			}
		}
	}
	sends := p.byClient(func(op *Op) bool { return op.Kind == Produce && op.Status == StatusOK })
	for _, c := range sortedClients(sends) {
		ops := sends[c]
		for i := 1; i < len(ops); i++ {
			prev, next := ops[i-1], ops[i]
			if end := prev.Offset + int64(len(prev.Values)); next.Offset < end {
				p.report(NonmonotonicSend, &c, fmt.Sprintf("client %d's batch at line %d got offset %d, below the end (%d) of its previous batch at offset %d (line %d)",
					c, next.Line, next.Offset, end, prev.Offset, prev.Line), prev.Line, next.Line)
			}
		}
	}
}

// offsetRange names the offsets [first, last].
func offsetRange(first, last int64) string {
	if first == last {
		return fmt.Sprintf("offset %d", first)
	}
	return fmt.Sprintf("offsets %d-%d", first, last)
}

func readUpTo(op *Op) string {
	if len(op.Values) == 0 {
		return fmt.Sprintf("found nothing at offset %d (line %d)", op.Offset, op.Line)
	}
	return fmt.Sprintf("read up to offset %d (line %d)", op.Offset+int64(len(op.Values))-1, op.Line)
}

// existence is evidence that offset last (and so every offset below it:
// offsets are dense) existed by time ret.
type existence struct {
	last int64
	ret  int64
	line int
	kind OpKind
}

// stale finds empty reads at offsets that were known to exist before the
// read began: an acked produce or a returned fetch at or above the offset.
func (p *partition) stale() {
	var ev []existence
	for _, op := range p.ops {
		if placed(op) && len(op.Values) > 0 {
			ev = append(ev, existence{op.Offset + int64(len(op.Values)) - 1, op.Return, op.Line, op.Kind})
		}
	}
	if len(ev) == 0 {
		return
	}
	slices.SortFunc(ev, func(a, b existence) int { return cmp.Compare(a.last, b.last) })
	// earliest[i]: the earliest evidence among ev[i:].
	earliest := make([]existence, len(ev))
	earliest[len(ev)-1] = ev[len(ev)-1]
	for i := len(ev) - 2; i >= 0; i-- {
		earliest[i] = ev[i]
		if e := earliest[i+1]; e.ret < ev[i].ret || e.ret == ev[i].ret && e.line < ev[i].line {
			earliest[i] = e
		}
	}
	for _, op := range p.ops {
		if op.Kind != Fetch || op.Status != StatusOK || len(op.Values) > 0 {
			continue
		}
		i := sort.Search(len(ev), func(i int) bool { return ev[i].last >= op.Offset })
		if i == len(ev) || earliest[i].ret >= op.Call {
			continue
		}
		e := earliest[i]
		verb := "acked"
		if e.kind == Fetch {
			verb = "read"
		}
		p.report(StaleRead, nil, fmt.Sprintf("the read at offset %d (line %d) returned nothing, though line %d had %s up to offset %d before it began",
			op.Offset, op.Line, e.line, verb, e.last), e.line, op.Line)
	}
}
