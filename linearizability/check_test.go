package linearizability

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

// testSeed returns a fresh seed and logs it, so a failure can be replayed
// by pinning it.
func testSeed(t testing.TB) uint64 {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed = %d", seed)
	return seed
}

var smallConfig = genConfig{
	partitions: 3, producers: 3, consumers: 2, ops: 3000,
	maxBatch: 4, maxFetch: 6, unknown: 0.02, fail: 0.02, commits: 0.1,
}

// TestGeneratedHistoriesAreValid: what a correct broker does passes every
// check under every guarantee.
func TestGeneratedHistoriesAreValid(t *testing.T) {
	seeds := []uint64{1, 2, 3, testSeed(t)}
	for _, seed := range seeds {
		ops := generate(rand.New(rand.NewPCG(seed, 0)), smallConfig)
		for _, g := range Guarantees() {
			res, err := Check(ops, Options{Expect: g, Timeout: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != Valid {
				var b bytes.Buffer
				res.WriteText(&b)
				t.Fatalf("seed %d, %s: %s", seed, g, b.String())
			}
		}
	}
}

// mutation breaks a valid history in one way; it reports false when the
// history offers no place to do it.
type mutation struct {
	name  string
	want  AnomalyKind
	apply func(rng *rand.Rand, ops []Op) bool
}

// pick returns a random operation satisfying ok, or nil.
func pick(rng *rand.Rand, ops []Op, ok func(*Op) bool) *Op {
	var idx []int
	for i := range ops {
		if ok(&ops[i]) {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return nil
	}
	return &ops[idx[rng.IntN(len(idx))]]
}

func okFetch(op *Op) bool   { return op.Kind == Fetch && op.Status == StatusOK && len(op.Values) > 0 }
func okProduce(op *Op) bool { return op.Kind == Produce && op.Status == StatusOK }

var mutations = []mutation{
	{"a fetch loses its first record", Skip, func(rng *rand.Rand, ops []Op) bool {
		// Only a consumer's non-first read shows a skip; the last record read
		// by a later fetch keeps others from turning it into a lost write.
		op := pick(rng, ops, func(op *Op) bool { return okFetch(op) && len(op.Values) > 1 && op.Offset > 0 })
		if op == nil {
			return false
		}
		op.Offset, op.Values = op.Offset+1, op.Values[1:]
		return true
	}},
	{"a fetch rereads its first record", NonmonotonicRead, func(rng *rand.Rand, ops []Op) bool {
		op := pick(rng, ops, func(op *Op) bool { return okFetch(op) && op.Offset > 0 })
		if op == nil {
			return false
		}
		for i := range ops {
			if q := &ops[i]; okFetch(q) && q.Topic == op.Topic && q.Partition == op.Partition && q.Offset+int64(len(q.Values)) == op.Offset {
				op.Offset, op.Values = op.Offset-1, append([]string{q.Values[len(q.Values)-1]}, op.Values...)
				return true
			}
		}
		return false
	}},
	{"an acked batch is reported failed", AbortedRead, func(rng *rand.Rand, ops []Op) bool {
		op := pick(rng, ops, okProduce)
		if op == nil {
			return false
		}
		op.Status, op.Offset = StatusFail, 0
		return true
	}},
	{"a produce is acked at another's offset", InconsistentOffset, func(rng *rand.Rand, ops []Op) bool {
		op := pick(rng, ops, func(op *Op) bool { return okProduce(op) && op.Offset > 0 })
		if op == nil {
			return false
		}
		op.Offset--
		return true
	}},
	{"a fetch finds nothing where records were", StaleRead, func(rng *rand.Rand, ops []Op) bool {
		op := pick(rng, ops, func(op *Op) bool {
			if !okFetch(op) {
				return false
			}
			for i := range ops {
				if q := &ops[i]; okProduce(q) && q.Topic == op.Topic && q.Partition == op.Partition &&
					q.Offset <= op.Offset && q.Return < op.Call {
					return true
				}
			}
			return false
		})
		if op == nil {
			return false
		}
		op.Values = []string{}
		return true
	}},
}

// TestMutationsAreCaught: each way of breaking a generated valid history is
// named, and the verdict is a violation.
func TestMutationsAreCaught(t *testing.T) {
	seed := testSeed(t)
	rng := rand.New(rand.NewPCG(seed, 1))
	valid := generate(rng, genConfig{partitions: 2, producers: 2, consumers: 2, ops: 400, maxBatch: 3, maxFetch: 4})
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			ops := slices.Clone(valid)
			for i := range ops {
				ops[i].Values = slices.Clone(ops[i].Values)
			}
			if !m.apply(rng, ops) {
				t.Skip("no place to apply it in this history")
			}
			res, err := Check(ops, Options{Timeout: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(res.Anomalies, func(a Anomaly) bool { return a.Kind == m.want }) || res.Verdict != Violation {
				var b bytes.Buffer
				res.WriteText(&b)
				t.Fatalf("want %s:\n%s", m.want, b.String())
			}
		})
	}
}

// TestUnreadUnknownProduces pins a search blow-up: unknown produces that
// took effect but were never read leave gaps any unknown produce of the
// same length could fill, and the unread ones that never happened could be
// placed at the end in any order. The history stays linearizable (removing
// fetches cannot break that) and must be decided.
func TestUnreadUnknownProduces(t *testing.T) {
	seed := testSeed(t)
	cfg := smallConfig
	cfg.unknown = 0.05
	ops := generate(rand.New(rand.NewPCG(seed, 0)), cfg)
	unknown := make(map[string]bool)
	for _, op := range ops {
		if op.Kind == Produce && op.Status == StatusUnknown {
			for _, v := range op.Values {
				unknown[v] = true
			}
		}
	}
	ops = slices.DeleteFunc(ops, func(op Op) bool {
		return op.Kind == Fetch && slices.ContainsFunc(op.Values, func(v string) bool { return unknown[v] })
	})
	res, err := Check(ops, Options{Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Partitions {
		if p.Linearizability != OutcomeLinearizable {
			t.Errorf("%s/%d: %s %s", p.Topic, p.Partition, p.Linearizability, p.Detail)
		}
	}
}

// TestTimeoutIsUndecided: a search cut short is its own outcome, not a
// verdict either way.
func TestTimeoutIsUndecided(t *testing.T) {
	ops := generate(rand.New(rand.NewPCG(7, 0)), smallConfig)
	res, err := Check(ops, Options{Timeout: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != Undecided {
		t.Fatalf("verdict %s, want undecided", res.Verdict)
	}
	for _, p := range res.Partitions {
		if p.Linearizability != OutcomeTimedOut {
			t.Errorf("%s/%d: %s, want timed-out", p.Topic, p.Partition, p.Linearizability)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	if _, err := Check(nil, Options{Timeout: -1}); err == nil {
		t.Error("negative timeout accepted")
	}
	if _, err := Check(nil, Options{Expect: Guarantee(9)}); err == nil {
		t.Error("unknown guarantee accepted")
	}
	res, err := Check(nil, Options{})
	if err != nil || res.Verdict != Valid {
		t.Errorf("empty history: %v, %v", res, err)
	}
}

func TestParseGuarantee(t *testing.T) {
	for _, g := range Guarantees() {
		if got, err := ParseGuarantee(g.String()); err != nil || got != g {
			t.Errorf("ParseGuarantee(%q) = %v, %v", g, got, err)
		}
	}
	if _, err := ParseGuarantee("twice"); err == nil {
		t.Error("ParseGuarantee accepted nonsense")
	}
}

// benchConfig is the figure DESIGN.md budgets: 100 k operations over 8
// partitions, a few concurrent clients on each.
var benchConfig = genConfig{
	partitions: 8, producers: 3, consumers: 2, ops: 100_000,
	maxBatch: 4, maxFetch: 8, unknown: 0.01, fail: 0.01, commits: 0.05,
}

// benchSeed seeds the generated benchmark histories, which are built once
// per process (a benchmark function runs more than once).
var benchSeed = uint64(time.Now().UnixNano())

var (
	benchHistory   = sync.OnceValue(func() []Op { return benchGenerate(benchConfig.ops) })
	benchHistory1M = sync.OnceValue(func() []Op { return benchGenerate(1_000_000) })
)

// benchGenerate makes a benchmark history of about ops operations, a
// hundredth of that with -short (the smoke run does 100 iterations).
func benchGenerate(ops int) []Op {
	cfg := benchConfig
	cfg.ops = ops
	if testing.Short() {
		cfg.ops /= 100
	}
	return generate(rand.New(rand.NewPCG(benchSeed, 0)), cfg)
}

// BenchmarkCheck checks a generated valid history of 100 k operations over
// 8 partitions: the linear pass and porcupine. Budget: 10 s.
func BenchmarkCheck(b *testing.B) {
	b.Logf("seed = %d", benchSeed)
	benchCheck(b, benchHistory(), Linearizable)
}

// BenchmarkLinearPass runs the linear pass alone (exactly-once needs no
// search) over 1 M operations. Budget: 10 s.
func BenchmarkLinearPass(b *testing.B) {
	b.Logf("seed = %d", benchSeed)
	benchCheck(b, benchHistory1M(), ExactlyOnce)
}

func benchCheck(b *testing.B, ops []Op, g Guarantee) {
	n := 0
	for b.Loop() {
		res, err := Check(ops, Options{Expect: g, Timeout: 5 * time.Minute})
		if err != nil || res.Verdict != Valid {
			b.Fatalf("%v %v", res.Verdict, err)
		}
		n++
	}
	b.ReportMetric(float64(len(ops)), "history-ops")
	b.ReportMetric(float64(len(ops)*n)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkReadHistory parses the 100 k-operation history.
func BenchmarkReadHistory(b *testing.B) {
	ops := benchHistory()
	var data []byte
	for i := range ops {
		data = ops[i].AppendJSON(data)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ReadHistory(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
