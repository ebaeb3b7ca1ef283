package linearizability

import (
	"cmp"
	"container/heap"
	"fmt"
	"math/rand/v2"
	"slices"
)

// genConfig shapes a generated history.
type genConfig struct {
	partitions int     // topic-partitions, all of topic "t"
	producers  int     // producer clients per partition
	consumers  int     // consumer clients per partition, all in one group
	ops        int     // operations to generate in all, before the final drain
	maxBatch   int     // values per produce, 1..maxBatch
	maxFetch   int     // records per fetch, 1..maxFetch
	unknown    float64 // share of produces that time out (half of them take effect)
	fail       float64 // share of produces and fetches that fail
	commits    float64 // share of consumer operations that commit or read the committed offset
}

// generate simulates a correct, linearizable broker serving concurrent
// clients and returns the history it would record, lines in return order
// (as a Recorder fed at completion writes them). Each operation takes
// effect at a random instant between its call and its return; every client
// runs one operation at a time. After cfg.ops operations the producers stop
// and each consumer reads on until it finds the end of the log.
func generate(rng *rand.Rand, cfg genConfig) []Op {
	var ops []Op
	for p := range cfg.partitions {
		ops = append(ops, generatePartition(rng, cfg, int32(p), cfg.ops/cfg.partitions)...)
	}
	slices.SortStableFunc(ops, func(a, b Op) int { return cmp.Or(cmp.Compare(a.Return, b.Return), cmp.Compare(a.Call, b.Call)) })
	for i := range ops {
		ops[i].Line = i + 1
	}
	return ops
}

// pending is an operation in flight, ordered by the instant it takes effect.
type pending struct {
	at     int64 // when it takes effect
	client int
	op     Op
}

type pendingHeap []pending

func (h pendingHeap) Len() int           { return len(h) }
func (h pendingHeap) Less(i, j int) bool { return h[i].at < h[j].at }
func (h pendingHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *pendingHeap) Push(x any)        { *h = append(*h, x.(pending)) }
func (h *pendingHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// simClient is one client's own state.
type simClient struct {
	id       int
	producer bool
	seq      int   // values sent so far (producers)
	pos      int64 // next offset to read (consumers)
	drained  bool  // found the end after the producers stopped
}

func generatePartition(rng *rand.Rand, cfg genConfig, part int32, budget int) []Op {
	var (
		log        []string
		committed  = int64(-1)
		clients    []*simClient
		h          pendingHeap
		out        []Op
		producing  = cfg.producers // producers still running
		lastAck    int64
		group      = fmt.Sprintf("g%d", part)
		idBase     = int(part) * 1000
		randDur    = func() int64 { return 1_000 + rng.Int64N(200_000) }
		randPause  = func() int64 { return rng.Int64N(50_000) }
		stopped    = func() bool { return len(out) >= budget }
		schedule   func(c *simClient, at int64)
		takeEffect func(p *pending)
	)
	schedule = func(c *simClient, at int64) {
		d := randDur()
		op := Op{Client: c.id, Topic: "t", Partition: part, Call: at, Return: at + d}
		switch {
		case c.producer:
			op.Kind = Produce
			n := 1 + rng.IntN(cfg.maxBatch)
			for range n {
				op.Values = append(op.Values, fmt.Sprintf("c%d-%d", c.id, c.seq))
				c.seq++
			}
		case rng.Float64() < cfg.commits/2:
			op.Kind, op.Group, op.Offset = Commit, group, c.pos
		case rng.Float64() < cfg.commits/2:
			op.Kind, op.Group = FetchCommitted, group
		default:
			op.Kind, op.Offset = Fetch, c.pos
		}
		heap.Push(&h, pending{at: at + rng.Int64N(d+1), client: c.id - idBase, op: op})
	}
	takeEffect = func(p *pending) {
		op := &p.op
		c := clients[p.client]
		r := rng.Float64()
		switch op.Kind {
		case Produce:
			switch {
			case r < cfg.fail:
				op.Status = StatusFail
			case r < cfg.fail+cfg.unknown:
				op.Status = StatusUnknown
				if rng.IntN(2) == 0 {
					log = append(log, op.Values...)
				}
			default:
				op.Status, op.Offset = StatusOK, int64(len(log))
				log = append(log, op.Values...)
				lastAck = max(lastAck, op.Return)
			}
		case Fetch:
			if r < cfg.fail {
				op.Status = StatusFail
				break
			}
			op.Status = StatusOK
			op.Values = []string{}
			if avail := int64(len(log)) - c.pos; avail > 0 {
				k := 1 + rng.Int64N(min(avail, int64(cfg.maxFetch)))
				op.Values = slices.Clone(log[c.pos : c.pos+k])
				c.pos += k
			} else if producing == 0 && op.Call > lastAck {
				c.drained = true
			}
		case Commit:
			op.Status = StatusOK
			if r < cfg.unknown {
				op.Status = StatusUnknown
				if rng.IntN(2) == 0 {
					break
				}
			}
			committed = op.Offset
		case FetchCommitted:
			op.Status, op.Offset = StatusOK, committed
		}
	}
	for i := range cfg.producers + cfg.consumers {
		c := &simClient{id: idBase + i, producer: i < cfg.producers}
		clients = append(clients, c)
		schedule(c, rng.Int64N(10_000))
	}
	for h.Len() > 0 {
		p := heap.Pop(&h).(pending)
		takeEffect(&p)
		out = append(out, p.op)
		c := clients[p.client]
		switch {
		case c.producer && stopped():
			producing--
		case !c.producer && c.drained:
		default:
			schedule(c, p.op.Return+randPause())
		}
	}
	return out
}
