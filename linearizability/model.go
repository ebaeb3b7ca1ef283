package linearizability

import (
	"fmt"
	"time"

	"github.com/anishathalye/porcupine"
)

// logState is the model's state: how many records the log holds past the
// partition's base offset, and a chained hash of their values. It never
// grows. Counting from the base lets one model serve every partition.
type logState struct {
	n    int64  // records appended; the next one gets offset base+n
	hash uint64 // chain over every value appended, in log order
}

// chain extends h by one value's digest. Order matters: chain(chain(h,a),b)
// differs from chain(chain(h,b),a).
func chain(h, digest uint64) uint64 {
	h ^= digest
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	return h ^ h>>33
}

// step classes of the model's operations.
const (
	stepProduce        = iota // acked produce: appends at exactly its offset
	stepProduceUnknown        // unknown produce: appends at whatever the end is, or never
	stepFetch                 // successful fetch
)

// modelOp is one operation as the model sees it.
type modelOp struct {
	p       *partition
	op      *Op
	class   int
	ids     []int32  // interned values
	digests []uint64 // their digests
	agrees  bool     // acked produce or fetch: its values match the offset table
}

// lineMeta rides along in porcupine operations: it names the history line
// and, for visualisations of several partitions, the partition.
type lineMeta struct {
	line int
	part int
}

// logModel is the porcupine model of a partition's log. Its Step checks
// values against the operation's partition's offset table, which is built
// from every acked produce and successful fetch before the search starts,
// so the state only needs the log's length; see the package doc for why
// that is sound.
var logModel = porcupine.Model{
	Init: func() any { return logState{} },
	Step: func(state, input, _ any) (bool, any) {
		m := input.(*modelOp)
		return m.p.step(state.(logState), m)
	},
	Equal: func(a, b any) bool { return a.(logState) == b.(logState) },
	Hash: func(state any) uint64 {
		s := state.(logState)
		return s.hash ^ uint64(s.n)*0x9e3779b97f4a7c15
	},
	DescribeOperation: func(input, _ any) string { return input.(*modelOp).op.String() },
	DescribeState: func(state any) string {
		s := state.(logState)
		return fmt.Sprintf("%d records, hash %016x", s.n, s.hash)
	},
	DescribeOperationMetadata: func(meta any) string {
		if m, ok := meta.(lineMeta); ok {
			return fmt.Sprintf("line %d", m.line)
		}
		return ""
	},
}

// step is the sequential specification of one partition's log.
func (p *partition) step(s logState, m *modelOp) (bool, any) {
	next := p.base + s.n
	switch m.class {
	case stepProduce:
		if !m.agrees || m.op.Offset != next {
			return false, s
		}
		return true, s.appended(m.digests)
	case stepProduceUnknown:
		// Past every offset anyone saw, taking effect is indistinguishable
		// from never happening: say it never did, so the order in which such
		// produces are placed makes no difference to the state.
		if next > p.hi {
			return true, s
		}
		// Otherwise it takes effect at the end of the log, so its values must
		// fit what was seen there.
		for i, id := range m.ids {
			if t := p.table.get(next + int64(i)); t.id >= 0 && t.id != id {
				return false, s
			}
		}
		return true, s.appended(m.digests)
	default: // stepFetch
		if len(m.ids) == 0 {
			return m.op.Offset >= next, s // empty only at or past the end
		}
		return m.agrees && m.op.Offset+int64(len(m.ids)) <= next, s
	}
}

// fnv64a is the 64-bit FNV-1a hash of s: a value's digest.
func fnv64a(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func (s logState) appended(digests []uint64) logState {
	for _, d := range digests {
		s.hash = chain(s.hash, d)
	}
	s.n += int64(len(digests))
	return s
}

// modelOps turns p's produces and fetches into porcupine operations, in line
// order. Failed operations and unsuccessful fetches are left out: they
// changed and observed nothing. Unknown produces return at "infinity",
// after everything else. part tags the operations for visualisation.
func (p *partition) modelOps(part int) []porcupine.Operation {
	digests := make([]uint64, len(p.vals))
	for id, v := range p.vals {
		digests[id] = fnv64a(v)
	}
	clients := make(map[int]int)
	var end int64
	for _, op := range p.ops {
		end = max(end, op.Return)
	}
	var out []porcupine.Operation
	for j, op := range p.ops {
		m := &modelOp{p: p, op: op}
		switch {
		case op.Kind == Produce && op.Status == StatusOK:
			m.class = stepProduce
		case op.Kind == Produce && op.Status == StatusUnknown:
			if !p.mayMatter(p.opIDs[j]) {
				continue
			}
			m.class = stepProduceUnknown
		case op.Kind == Fetch && op.Status == StatusOK:
			m.class = stepFetch
		default:
			continue
		}
		m.ids = p.opIDs[j]
		m.digests = make([]uint64, len(op.Values))
		m.agrees = true
		for i := range m.ids {
			m.digests[i] = digests[m.ids[i]]
			if m.class != stepProduceUnknown && p.table.get(op.Offset+int64(i)).id != m.ids[i] {
				m.agrees = false
			}
		}
		ret := op.Return
		if m.class == stepProduceUnknown {
			ret = end + 1
		}
		c, ok := clients[op.Client]
		if !ok {
			c = len(clients)
			clients[op.Client] = c
		}
		out = append(out, porcupine.Operation{
			ClientId: c, Input: m, Call: op.Call, Return: ret, Metadata: lineMeta{op.Line, part},
		})
	}
	return out
}

// mayMatter reports whether an unknown produce of the values ids could
// tell in the search. One whose values nobody read either filled a gap in
// what was read (a run of unseen offsets at least as long as the batch) or
// took effect past every offset anyone saw, which is no different from not
// at all. Without such a gap it is left out, which saves trying it at
// every step of the search.
func (p *partition) mayMatter(ids []int32) bool {
	for _, id := range ids {
		if p.values[id].readLine != 0 {
			return true
		}
	}
	return int64(len(ids)) <= p.maxGap
}

// linearize runs porcupine on p until deadline and sets p.outcome and
// p.detail.
func (p *partition) linearize(deadline time.Time) {
	ops := p.modelOps(0)
	if len(ops) == 0 {
		p.outcome = OutcomeLinearizable
		return
	}
	// An operation whose values contradict the offset table can never be
	// linearized; say so without a search.
	for _, o := range ops {
		if m := o.Input.(*modelOp); !m.agrees {
			p.illegal(m.op.Line, fmt.Sprintf("line %d (%s) contradicts what other operations saw at those offsets", m.op.Line, m.op))
			return
		}
	}
	model := logModel
	remaining := time.Until(deadline)
	if remaining <= 0 {
		p.outcome, p.detail = OutcomeTimedOut, "no time left for the search"
		return
	}
	switch porcupine.CheckOperationsTimeout(model, ops, remaining) {
	case porcupine.Ok:
		p.outcome = OutcomeLinearizable
		return
	case porcupine.Unknown:
		p.outcome, p.detail = OutcomeTimedOut, "the search timed out"
		return
	}
	// Search again, keeping the partial linearizations, to say where it
	// gets stuck.
	line, detail := 0, "no linearization exists"
	if res, info := porcupine.CheckOperationsVerbose(model, ops, max(time.Until(deadline), time.Second)); res == porcupine.Illegal {
		line, detail = stuckAt(ops, info.PartialLinearizations())
	}
	p.illegal(line, detail)
}

// illegal records that p has no linearization; line, when not 0, is the
// operation the search could not place.
func (p *partition) illegal(line int, detail string) {
	p.outcome, p.detail = OutcomeNotLinearizable, detail
	lines := []int{}
	if line > 0 {
		lines = append(lines, line)
	}
	p.anomalies = append(p.anomalies, Anomaly{
		Kind: NotLinearizable, Topic: p.topic, Partition: p.part, Lines: lines,
		Explain: "no order of the partition's produces and fetches fits a single log: " + detail,
	})
}

// stuckAt describes where the longest partial linearizations stop: at the
// first operation (by return time) they leave out, which had to be placed
// before it returned and could not be.
func stuckAt(ops []porcupine.Operation, partials [][][]int) (int, string) {
	if len(partials) == 0 {
		return 0, "no linearization exists"
	}
	// The empty sequence is a partial linearization too: when even the
	// first operation cannot be placed, porcupine reports none.
	seqs := append([][]int{nil}, partials[0]...)
	longest := 0
	for _, seq := range seqs {
		longest = max(longest, len(seq))
	}
	best, bestOp := -1, -1
	for _, seq := range seqs {
		if len(seq) < longest {
			continue
		}
		in := make([]bool, len(ops))
		for _, id := range seq {
			in[id] = true
		}
		blocked := -1
		for i := range ops {
			if !in[i] && (blocked < 0 || ops[i].Return < ops[blocked].Return ||
				ops[i].Return == ops[blocked].Return && lineOf(ops[i]) < lineOf(ops[blocked])) {
				blocked = i
			}
		}
		if blocked < 0 {
			continue
		}
		if len(seq) > best || len(seq) == best && lineOf(ops[blocked]) < lineOf(ops[bestOp]) {
			best, bestOp = len(seq), blocked
		}
	}
	if bestOp < 0 {
		return 0, "no linearization exists"
	}
	m := ops[bestOp].Input.(*modelOp)
	return m.op.Line, fmt.Sprintf("no linearization gets past line %d (%s); the longest places %d of %d operations",
		m.op.Line, m.op, best, len(ops))
}

func lineOf(o porcupine.Operation) int { return o.Metadata.(lineMeta).line }
