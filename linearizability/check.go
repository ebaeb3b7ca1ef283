package linearizability

import (
	"cmp"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"time"
)

// DefaultTimeout bounds the linearizability search when Options.Timeout is 0.
const DefaultTimeout = 60 * time.Second

// Options configures Check.
type Options struct {
	// Expect is the guarantee the history must uphold; it decides which
	// anomalies are violations (see Guarantee). Default: Linearizable.
	Expect Guarantee
	// Timeout bounds the linearizability search over all partitions
	// together; a partition it cuts short is undecided. Default:
	// DefaultTimeout. It must not be negative.
	Timeout time.Duration
	// Workers is how many partitions are checked at once. Default:
	// GOMAXPROCS.
	Workers int
}

func (o Options) withDefaults() (Options, error) {
	if o.Timeout < 0 {
		return o, errors.New("linearizability: negative timeout")
	}
	if o.Expect > ExactlyOnce {
		return o, fmt.Errorf("linearizability: unknown guarantee %d", o.Expect)
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	return o, nil
}

// Outcome is the linearizability search's answer for one partition.
type Outcome uint8

// Search outcomes.
const (
	OutcomeNotChecked      Outcome = iota // the expected guarantee does not need it
	OutcomeLinearizable                   // a linearization exists
	OutcomeNotLinearizable                // none exists
	OutcomeTimedOut                       // the search ran out of time: undecided
)

var outcomeNames = [...]string{"not-checked", "linearizable", "not-linearizable", "timed-out"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// MarshalText writes the outcome's name.
func (o Outcome) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// Verdict is a check's overall answer.
type Verdict uint8

// Verdicts.
const (
	Valid     Verdict = iota // the history upholds the expected guarantee
	Violation                // some anomaly breaks it
	Undecided                // nothing breaks it, but the search timed out somewhere
)

var verdictNames = [...]string{"valid", "violation", "undecided"}

func (v Verdict) String() string {
	if int(v) < len(verdictNames) {
		return verdictNames[v]
	}
	return fmt.Sprintf("Verdict(%d)", int(v))
}

// MarshalText writes the verdict's name.
func (v Verdict) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// PartitionResult summarises one topic-partition.
type PartitionResult struct {
	Topic           string  `json:"topic"`
	Partition       int32   `json:"partition"`
	Operations      int     `json:"operations"`
	Linearizability Outcome `json:"linearizability"`
	Detail          string  `json:"detail,omitempty"` // why not linearizable, or what timed out
}

// Result is what Check found. Its exported fields marshal as the JSON that
// `gale check --json` prints.
type Result struct {
	Expect     Guarantee         `json:"expect"`
	Verdict    Verdict           `json:"verdict"`
	Operations int               `json:"operations"`
	Partitions []PartitionResult `json:"partitions"`
	// Anomalies, ordered by kind (in AnomalyKinds order), topic, partition
	// and first line. Each says whether it violates Expect.
	Anomalies []Anomaly `json:"anomalies"`

	parts []*partition // for WriteHTML
	ops   []Op         // the history, lines numbered
	opts  Options
}

// Violations returns how many anomalies violate the expected guarantee.
func (r *Result) Violations() int {
	n := 0
	for _, a := range r.Anomalies {
		if a.Violation {
			n++
		}
	}
	return n
}

// Check judges a history: per topic-partition, the linear pass that names
// anomalies and, when opts.Expect is Linearizable, porcupine's search; per
// group and partition, the committed-offset check. It uses opts.Workers
// goroutines and waits for all of them. It does not modify ops, and ops may
// be in any order. Reports name operations by Op.Line; when some Line is 0
// (operations built in memory), every operation is named by its index + 1.
func Check(ops []Op, opts Options) (*Result, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if slices.ContainsFunc(ops, func(op Op) bool { return op.Line == 0 }) {
		ops = slices.Clone(ops)
		for i := range ops {
			ops[i].Line = i + 1
		}
	}
	parts, groups := split(ops)
	deadline := time.Now().Add(opts.Timeout)

	work := make(chan *partition)
	var wg sync.WaitGroup
	for range min(opts.Workers, max(len(parts), 1)) {
		wg.Go(func() {
			for p := range work {
				p.linear()
				if opts.Expect.runsPorcupine() {
					p.linearize(deadline)
				}
			}
		})
	}
	for _, p := range parts {
		work <- p
	}
	close(work)
	wg.Wait()

	r := &Result{
		Expect: opts.Expect, Operations: len(ops),
		Partitions: []PartitionResult{}, Anomalies: []Anomaly{}, // [] rather than null in JSON
		parts: parts, ops: ops, opts: opts,
	}
	for _, p := range parts {
		r.Partitions = append(r.Partitions, PartitionResult{
			Topic: p.topic, Partition: p.part, Operations: p.nOps,
			Linearizability: p.outcome, Detail: p.detail,
		})
		r.Anomalies = append(r.Anomalies, p.anomalies...)
	}
	for _, g := range sortedGroups(groups) {
		r.Anomalies = append(r.Anomalies, checkCommits(g, groups[g])...)
	}
	r.judge()
	return r, nil
}

// judge marks the anomalies that violate r.Expect and sets the verdict.
func (r *Result) judge() {
	rank := make(map[AnomalyKind]int)
	for i, k := range AnomalyKinds() {
		rank[k] = i
	}
	slices.SortStableFunc(r.Anomalies, func(a, b Anomaly) int {
		return cmp.Or(
			cmp.Compare(rank[a.Kind], rank[b.Kind]),
			cmp.Compare(a.Topic, b.Topic),
			cmp.Compare(a.Partition, b.Partition),
			cmp.Compare(firstLine(a), firstLine(b)),
		)
	})
	r.Verdict = Valid
	for i := range r.Anomalies {
		a := &r.Anomalies[i]
		a.Violation = r.Expect.Violates(a.Kind)
		if a.Violation {
			r.Verdict = Violation
		}
	}
	if r.Verdict == Valid {
		for _, p := range r.Partitions {
			if p.Linearizability == OutcomeTimedOut {
				r.Verdict = Undecided
			}
		}
	}
}

func firstLine(a Anomaly) int {
	if len(a.Lines) == 0 {
		return 0
	}
	return a.Lines[0]
}

type partKey struct {
	topic     string
	partition int32
}

// split sorts ops into partitions (produces and fetches) and group
// partitions (commits and fetch_committed), each in line order.
func split(ops []Op) ([]*partition, map[groupKey][]*Op) {
	byKey := make(map[partKey]*partition)
	groups := make(map[groupKey][]*Op)
	for i := range ops {
		op := &ops[i]
		k := partKey{op.Topic, op.Partition}
		p := byKey[k]
		if p == nil {
			p = &partition{topic: op.Topic, part: op.Partition}
			byKey[k] = p
		}
		p.nOps++
		switch op.Kind {
		case Produce, Fetch:
			p.ops = append(p.ops, op)
		case Commit, FetchCommitted:
			g := groupKey{op.Group, op.Topic, op.Partition}
			groups[g] = append(groups[g], op)
		}
	}
	parts := make([]*partition, 0, len(byKey))
	for _, p := range byKey {
		slices.SortStableFunc(p.ops, func(a, b *Op) int { return cmp.Compare(a.Line, b.Line) })
		parts = append(parts, p)
	}
	slices.SortFunc(parts, func(a, b *partition) int {
		return cmp.Or(cmp.Compare(a.topic, b.topic), cmp.Compare(a.part, b.part))
	})
	for _, g := range groups {
		slices.SortStableFunc(g, func(a, b *Op) int { return cmp.Compare(a.Line, b.Line) })
	}
	return parts, groups
}

func sortedGroups(m map[groupKey][]*Op) []groupKey {
	ks := make([]groupKey, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.SortFunc(ks, func(a, b groupKey) int {
		return cmp.Or(cmp.Compare(a.topic, b.topic), cmp.Compare(a.partition, b.partition), cmp.Compare(a.group, b.group))
	})
	return ks
}
