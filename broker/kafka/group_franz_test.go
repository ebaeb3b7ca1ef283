package kafka

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"gale/broker/seglog"
)

// Consumer groups with the real franz-go client on loopback.

// stallGate sits in a client's connections, like a proxy that can stop
// forwarding: while stalled, nothing the client writes reaches the broker
// (its heartbeats, fetches and commits wait in Write); responses to what was
// already sent still arrive, so no request is left half answered.
type stallGate struct {
	mu   sync.Mutex
	open chan struct{} // closed while traffic flows
}

func newStallGate() *stallGate {
	g := &stallGate{open: make(chan struct{})}
	close(g.open)
	return g
}

func (g *stallGate) stall() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.open = make(chan struct{})
}

func (g *stallGate) resume() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

func (g *stallGate) wait() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.open
}

// dial is a kgo.Dialer: a TCP connection to the broker behind the gate.
func (g *stallGate) dial(ctx context.Context, network, host string) (net.Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, host)
	if err != nil {
		return nil, err
	}
	return &gatedConn{Conn: nc, g: g, closed: make(chan struct{})}, nil
}

type gatedConn struct {
	net.Conn
	g      *stallGate
	once   sync.Once
	closed chan struct{}
}

func (c *gatedConn) Write(p []byte) (int, error) {
	select {
	case <-c.g.wait():
		return c.Conn.Write(p)
	case <-c.closed:
		return 0, net.ErrClosed
	}
}

func (c *gatedConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// groupLedger records, for every record of a test, which members
// committed it: a record counts as consumed once its offset is committed.
type groupLedger struct {
	mu     sync.Mutex
	by     map[int][]string          // sequence number -> committing members
	owned  map[string]map[int32]bool // member -> partitions it owns now
	fenced int                       // commits refused (stale members)
}

func newGroupLedger() *groupLedger {
	return &groupLedger{by: make(map[int][]string), owned: make(map[string]map[int32]bool)}
}

func (l *groupLedger) assign(member string, ps []int32, own bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.owned[member] == nil {
		l.owned[member] = make(map[int32]bool)
	}
	for _, p := range ps {
		if own {
			l.owned[member][p] = true
		} else {
			delete(l.owned[member], p)
		}
	}
}

// ownership returns each member's partition count.
func (l *groupLedger) ownership() map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]int)
	for m, ps := range l.owned {
		if len(ps) > 0 {
			out[m] = len(ps)
		}
	}
	return out
}

func (l *groupLedger) committed(member string, seqs []int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range seqs {
		l.by[s] = append(l.by[s], member)
	}
}

func (l *groupLedger) refused() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fenced
}

// complete reports whether records [from, to) were all committed.
func (l *groupLedger) complete(from, to int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for s := from; s < to; s++ {
		if len(l.by[s]) == 0 {
			return false
		}
	}
	return true
}

// committers returns who committed records [from, to), and an error for
// any record committed other than exactly once.
func (l *groupLedger) committers(from, to int) (map[string]int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	who := make(map[string]int)
	for s := from; s < to; s++ {
		if len(l.by[s]) != 1 {
			return who, fmt.Errorf("record %d committed by %v, want exactly one member", s, l.by[s])
		}
		who[l.by[s][0]]++
	}
	return who, nil
}

// groupMember is a franz-go group consumer that commits what each poll
// returns, synchronously, and records it in the ledger once the commit
// succeeds.
type groupMember struct {
	name string
	cl   *kgo.Client
	gate *stallGate
	stop context.CancelFunc
	done chan struct{}
	// stallOnCommit stalls the member's connections once it has polled
	// records, before it commits them.
	stallOnCommit atomic.Bool
	// maxPoll, if positive, bounds the records one poll returns; the
	// member stops polling once it has committed limit records, if
	// positive.
	maxPoll, limit int
}

func startMember(t *testing.T, b *testBroker, l *groupLedger, name, grp, topic string, session time.Duration, opts ...func(*groupMember)) *groupMember {
	t.Helper()
	m := &groupMember{name: name, gate: newStallGate(), done: make(chan struct{})}
	for _, o := range opts {
		o(m)
	}
	track := func(own bool) func(context.Context, *kgo.Client, map[string][]int32) {
		return func(_ context.Context, _ *kgo.Client, ps map[string][]int32) { l.assign(name, ps[topic], own) }
	}
	m.cl = b.client(t,
		kgo.ClientID(name),
		kgo.Dialer(m.gate.dial),
		kgo.ConsumerGroup(grp),
		kgo.ConsumeTopics(topic),
		kgo.DisableAutoCommit(),
		kgo.SessionTimeout(session),
		kgo.HeartbeatInterval(200*time.Millisecond),
		kgo.FetchMaxWait(200*time.Millisecond),
		kgo.OnPartitionsAssigned(track(true)),
		kgo.OnPartitionsRevoked(track(false)),
		kgo.OnPartitionsLost(track(false)),
	)
	ctx, cancel := context.WithCancel(context.Background())
	m.stop = cancel
	go m.consume(ctx, t, l)
	t.Cleanup(m.close)
	return m
}

func (m *groupMember) consume(ctx context.Context, t *testing.T, l *groupLedger) {
	defer close(m.done)
	for total := 0; m.limit <= 0 || total < m.limit; {
		fs := m.cl.PollRecords(ctx, m.maxPoll)
		if ctx.Err() != nil || fs.IsClientClosed() {
			return
		}
		var seqs []int
		recs := fs.Records()
		for _, r := range recs {
			seqs = append(seqs, seqOf(t, r.Value))
		}
		if len(recs) == 0 {
			continue
		}
		if m.stallOnCommit.Load() {
			m.gate.stall()
		}
		if err := m.cl.CommitRecords(ctx, recs...); err != nil {
			l.mu.Lock()
			l.fenced++
			l.mu.Unlock()
			t.Logf("%s: commit refused: %v", m.name, err)
			continue // not consumed: the partition's next owner reads them again
		}
		l.committed(m.name, seqs)
		total += len(seqs)
	}
}

// close stops the poll loop, then closes the client (leaving the group).
// Idempotent.
func (m *groupMember) close() {
	m.gate.resume()
	m.stop()
	<-m.done
	m.cl.Close()
}

// eventually polls cond every 20 ms until it holds or the time runs out.
func eventually(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %v", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// owns reports a condition on the ledger: exactly these members own
// partitions, with these counts.
func owns(l *groupLedger, want map[string]int) func() bool {
	return func() bool { return maps.Equal(l.ownership(), want) }
}

// TestKgoGroupRebalances runs a 3-member franz-go group over a 6-partition
// topic through a leave (client Close) and a member that stops
// heartbeating (its connections stall): every record is committed exactly
// once across members, each phase by the members that own partitions then,
// and the remaining members take over the partitions of the one gone.
func TestKgoGroupRebalances(t *testing.T) {
	const parts = 6
	b := groupBroker(t, "")
	b.createTopic(t, "grp", parts)
	l := newGroupLedger()
	per := 600
	if testing.Short() || raceEnabled {
		per = 120
	}
	a := startMember(t, b, l, "a", "g", "grp", 10*time.Second)
	bm := startMember(t, b, l, "b", "g", "grp", 2*time.Second)
	c := startMember(t, b, l, "c", "g", "grp", 10*time.Second)
	eventually(t, "three members, two partitions each", time.Minute, owns(l, map[string]int{"a": 2, "b": 2, "c": 2}))

	// settle waits until records [from, from+per) are committed and checks
	// each was, exactly once, by one of members, and every member took part.
	settle := func(from int, members ...string) {
		t.Helper()
		to := from + per
		eventually(t, fmt.Sprintf("records %d-%d committed", from, to), time.Minute, func() bool { return l.complete(from, to) })
		who, err := l.committers(from, to)
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Sorted(maps.Keys(who)); !slices.Equal(got, members) {
			t.Fatalf("records %d-%d committed by %v, want %v", from, to, who, members)
		}
		t.Logf("records %d-%d: committed by %v", from, to, who)
	}
	phase := func(from int, members ...string) {
		t.Helper()
		produce(t, b, "grp", parts, from, from+per)
		settle(from, members...)
	}
	phase(0, "a", "b", "c")

	// c leaves: a and b take over its partitions.
	c.close()
	eventually(t, "c's partitions taken over", time.Minute, owns(l, map[string]int{"a": 3, "b": 3}))
	phase(per, "a", "b")

	// b stops heartbeating, with records polled but not committed: after
	// its 2 s session it is removed and a takes everything, b's records
	// included.
	bm.stallOnCommit.Store(true)
	produce(t, b, "grp", parts, 2*per, 3*per)
	eventually(t, "b stalled with records polled", time.Minute, func() bool {
		select {
		case <-bm.gate.wait():
			return false
		default:
			return true
		}
	})
	stalled := time.Now()
	eventually(t, "b's partitions taken over", time.Minute, func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return len(l.owned["a"]) == parts
	})
	if d := time.Since(stalled); d < 1500*time.Millisecond { // heartbeats are 200 ms apart
		t.Errorf("b removed %v after it stalled, before its 2 s session timeout", d)
	}
	settle(2*per, "a")

	// b comes back: its stale commit is refused and it rejoins.
	bm.stallOnCommit.Store(false)
	bm.gate.resume()
	eventually(t, "b's stale commit refused", time.Minute, func() bool { return l.refused() > 0 })
	eventually(t, "b back in the group", time.Minute, owns(l, map[string]int{"a": 3, "b": 3}))
	phase(3*per, "a", "b")
	if _, err := l.committers(0, 4*per); err != nil {
		t.Fatal(err)
	}

	// The committed offsets are the log end offsets.
	resp := offsetFetch(t, a.cl, "g", "grp", parts)
	for p, o := range resp {
		if want := int64(4 * per / parts); o != want {
			t.Errorf("partition %d: committed %d, want %d", p, o, want)
		}
	}
}

// offsetFetch asks the broker, through cl, for grp's committed offsets of
// partitions [0, parts) of topic.
func offsetFetch(t *testing.T, cl *kgo.Client, grp, topic string, parts int) map[int32]int64 {
	t.Helper()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = grp
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic = topic
	for p := range int32(parts) {
		rt.Partitions = append(rt.Partitions, p)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(errorFor(resp.ErrorCode)); err != nil {
		t.Fatal(err)
	}
	out := make(map[int32]int64)
	for _, rt := range resp.Topics {
		for _, p := range rt.Partitions {
			out[p.Partition] = p.Offset
		}
	}
	return out
}

func errorFor(code int16) error {
	if code == 0 {
		return nil
	}
	return fmt.Errorf("error code %d", code)
}

// TestCommittedOffsetsSurviveRestart commits offsets with a franz-go group
// member, restarts the broker on the same data directory and checks
// OffsetFetch gives them back and a new member resumes from them, under
// each flush policy.
func TestCommittedOffsetsSurviveRestart(t *testing.T) {
	for _, flush := range []seglog.FlushPolicy{seglog.FlushNever, seglog.FlushAlways} {
		t.Run(flush.String(), func(t *testing.T) {
			const parts, n = 3, 600
			dir := t.TempDir()
			policy := func(c *Config) { c.Log.Flush = flush }
			b := groupBroker(t, dir, policy)
			b.createTopic(t, "rs", parts)
			produce(t, b, "rs", parts, 0, n)

			// A member commits part of the records, then leaves.
			l := newGroupLedger()
			m := startMember(t, b, l, "first", "rg", "rs", 10*time.Second, func(m *groupMember) { m.maxPoll, m.limit = 20, 250 })
			<-m.done
			m.close()
			before := offsetFetch(t, b.client(t), "rg", "rs", parts)
			var committed int64
			for _, o := range before {
				committed += max(o, 0)
			}
			if committed < 250 || committed >= 270 {
				t.Fatalf("committed offsets %v add up to %d, want 250 to 269", before, committed)
			}
			t.Logf("committed before the restart: %v", before)
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}

			b = groupBroker(t, dir, policy)
			if got := offsetFetch(t, b.client(t), "rg", "rs", parts); !maps.Equal(got, before) {
				t.Fatalf("after restart: committed %v, want %v", got, before)
			}
			if lines := b.logs.lines("offsets log replayed"); len(lines) != 1 || !strings.Contains(lines[0], "records=") {
				t.Errorf("replay log lines: %q", lines)
			}

			// A new member resumes from the committed offsets: it gets
			// exactly the records not committed before.
			l = newGroupLedger()
			startMember(t, b, l, "second", "rg", "rs", 10*time.Second)
			rest := n - int(committed)
			eventually(t, "the rest committed", time.Minute, func() bool {
				l.mu.Lock()
				defer l.mu.Unlock()
				return len(l.by) >= rest
			})
			l.mu.Lock()
			defer l.mu.Unlock()
			for seq, who := range l.by {
				p, off := int32(seq%parts), int64(seq/parts)
				if off < max(before[p], 0) || len(who) != 1 {
					t.Errorf("record %d (partition %d offset %d) consumed again after a restart (committed %d) by %v", seq, p, off, before[p], who)
				}
			}
			if len(l.by) != rest {
				t.Errorf("%d records consumed after the restart, want %d", len(l.by), rest)
			}
		})
	}
}
