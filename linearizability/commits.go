package linearizability

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
)

// groupKey names one consumer group's committed offset for one partition.
type groupKey struct {
	group, topic string
	partition    int32
}

// commitObs is an observation of a committed offset: an acked commit (which
// wrote it) or a successful fetch_committed (which read it).
type commitObs struct {
	value     int64
	call, ret int64
	op        *Op
}

// checkCommits finds reads of a committed offset lower than one already
// observed, when no commit asked for the lower offset.
//
// A fetch_committed F returning y is wrong when some observation X of a
// value x > y finished before F began, unless a commit B of y (acked or
// unknown) could have taken effect between them: B did not end before X
// began, and B began before F ended. If any X admits no such B, the X that
// began last admits none, so only that one is checked; a Fenwick tree over
// the values finds it in O(log n).
func checkCommits(key groupKey, ops []*Op) []Anomaly {
	var obs, reads []commitObs
	askers := make(map[int64][]*Op) // offset -> commits that may have stored it
	for _, op := range ops {
		switch {
		case op.Kind == Commit && op.Status != StatusFail:
			askers[op.Offset] = append(askers[op.Offset], op)
			if op.Status == StatusOK {
				obs = append(obs, commitObs{op.Offset, op.Call, op.Return, op})
			}
		case op.Kind == FetchCommitted && op.Status == StatusOK:
			o := commitObs{op.Offset, op.Call, op.Return, op}
			obs = append(obs, o)
			reads = append(reads, o)
		}
	}
	if len(reads) == 0 {
		return nil
	}
	vals := make([]int64, len(obs))
	for i, o := range obs {
		vals[i] = o.value
	}
	slices.Sort(vals)
	vals = slices.Compact(vals)
	latest := newMaxTree(len(vals))
	slices.SortFunc(obs, func(a, b commitObs) int { return cmp.Compare(a.ret, b.ret) })
	slices.SortFunc(reads, func(a, b commitObs) int { return cmp.Compare(a.call, b.call) })

	var out []Anomaly
	next := 0
	for _, f := range reads {
		for ; next < len(obs) && obs[next].ret < f.call; next++ {
			o := obs[next]
			r, _ := slices.BinarySearch(vals, o.value)
			latest.add(len(vals)-r, o) // higher values at lower positions
		}
		above := sort.Search(len(vals), func(i int) bool { return vals[i] > f.value })
		x, ok := latest.max(len(vals) - above)
		if !ok || askedAfter(askers[f.value], x, f) {
			continue
		}
		what := "committed"
		if x.op.Kind == FetchCommitted {
			what = "read committed offset"
		}
		got, asked := fmt.Sprintf("committed offset %d", f.value), fmt.Sprint(f.value)
		if f.value < 0 {
			got, asked = "no committed offset", "its removal"
		}
		out = append(out, Anomaly{
			Kind: CommittedBackwards, Topic: key.topic, Partition: key.partition, Group: key.group,
			Lines: sortedLines(x.op.Line, f.op.Line),
			Explain: fmt.Sprintf("group %q read %s (line %d), though line %d %s %d before that read began, and no commit asked for %s since",
				key.group, got, f.op.Line, x.op.Line, what, x.value, asked),
		})
	}
	return out
}

// askedAfter reports whether one of the commits could have taken effect
// after observation x and before read f.
func askedAfter(commits []*Op, x, f commitObs) bool {
	for _, b := range commits {
		if (b.Status == StatusUnknown || b.Return >= x.call) && b.Call <= f.ret {
			return true
		}
	}
	return false
}

func sortedLines(a, b int) []int {
	if a > b {
		a, b = b, a
	}
	if a == b {
		return []int{a}
	}
	return []int{a, b}
}

// maxTree is a Fenwick tree over positions 1..n answering "the observation
// with the latest call among positions 1..i".
type maxTree struct {
	t   []commitObs
	set []bool
}

func newMaxTree(n int) *maxTree {
	return &maxTree{t: make([]commitObs, n+1), set: make([]bool, n+1)}
}

func (m *maxTree) add(i int, o commitObs) {
	for ; i < len(m.t); i += i & -i {
		if !m.set[i] || o.call > m.t[i].call {
			m.t[i], m.set[i] = o, true
		}
	}
}

func (m *maxTree) max(i int) (commitObs, bool) {
	var best commitObs
	found := false
	for ; i > 0; i -= i & -i {
		if m.set[i] && (!found || m.t[i].call > best.call) {
			best, found = m.t[i], true
		}
	}
	return best, found
}
