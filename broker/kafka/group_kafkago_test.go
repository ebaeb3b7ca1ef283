package kafka

import (
	"context"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// A consumer group of segmentio/kafka-go Readers, whose group requests pin
// old versions (FindCoordinator v0, JoinGroup v1/v2, SyncGroup v0,
// Heartbeat v0, LeaveGroup v0, OffsetCommit v2, OffsetFetch v1).

// goReader is one kafka-go group member that fetches, commits each message
// synchronously and records it in the ledger once the commit succeeds.
type goReader struct {
	r    *kafkago.Reader
	stop context.CancelFunc
	done chan struct{}
	once sync.Once
}

func startReader(t *testing.T, b *testBroker, l *groupLedger, name, grp, topic string) *goReader {
	t.Helper()
	r := kafkago.NewReader(kafkago.ReaderConfig{
		Brokers:           []string{b.addr},
		GroupID:           grp,
		Topic:             topic,
		Dialer:            &kafkago.Dialer{ClientID: name, Timeout: 10 * time.Second},
		MinBytes:          1,
		MaxBytes:          1 << 20,
		MaxWait:           200 * time.Millisecond,
		HeartbeatInterval: 200 * time.Millisecond,
		SessionTimeout:    6 * time.Second,
		RebalanceTimeout:  6 * time.Second,
		JoinGroupBackoff:  200 * time.Millisecond,
		StartOffset:       kafkago.FirstOffset,
		ErrorLogger:       kafkago.LoggerFunc(func(msg string, args ...any) { t.Logf(name+": "+msg, args...) }),
	})
	ctx, cancel := context.WithCancel(context.Background())
	gr := &goReader{r: r, stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(gr.done)
		for {
			m, err := r.FetchMessage(ctx)
			if err != nil {
				return // closed
			}
			if err := r.CommitMessages(ctx, m); err != nil {
				if ctx.Err() == nil {
					t.Logf("%s: commit refused: %v", name, err)
				}
				continue
			}
			l.committed(name, []int{seqOf(t, m.Value)})
		}
	}()
	t.Cleanup(gr.close)
	return gr
}

// close stops fetching and closes the reader, which leaves the group.
func (gr *goReader) close() {
	gr.once.Do(func() {
		gr.stop()
		<-gr.done
		gr.r.Close()
	})
}

// describe returns the group's state and member count, over the wire.
func describeGroup(t *testing.T, b *testBroker, grp string) (string, int) {
	t.Helper()
	req := kmsg.NewPtrDescribeGroupsRequest()
	req.Groups = []string{grp}
	g := b.dial(t).roundTrip(req).(*kmsg.DescribeGroupsResponse).Groups[0]
	return g.State, len(g.Members)
}

func TestKafkaGoGroup(t *testing.T) {
	const parts, per = 4, 400
	b := groupBroker(t, "")
	b.createTopic(t, "kg", parts)
	l := newGroupLedger()
	startReader(t, b, l, "r1", "kgg", "kg")
	r2 := startReader(t, b, l, "r2", "kgg", "kg")
	eventually(t, "two kafka-go members, group Stable", time.Minute, func() bool {
		state, n := describeGroup(t, b, "kgg")
		return state == "Stable" && n == 2
	})

	settle := func(from int, members ...string) {
		t.Helper()
		produce(t, b, "kg", parts, from, from+per)
		eventually(t, "records committed", time.Minute, func() bool { return l.complete(from, from+per) })
		who, err := l.committers(from, from+per)
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Sorted(maps.Keys(who)); !slices.Equal(got, members) {
			t.Fatalf("records %d-%d committed by %v, want %v", from, from+per, who, members)
		}
		t.Logf("records %d-%d: committed by %v", from, from+per, who)
	}
	settle(0, "r1", "r2")

	// r2 leaves (LeaveGroup v0); r1 takes over its partitions.
	r2.close()
	eventually(t, "one member left", time.Minute, func() bool {
		state, n := describeGroup(t, b, "kgg")
		return state == "Stable" && n == 1
	})
	settle(per, "r1")

	got := offsetFetch(t, b.client(t), "kgg", "kg", parts)
	for p := range int32(parts) {
		if want := int64(2 * per / parts); got[p] != want {
			t.Errorf("partition %d: committed %d, want %d", p, got[p], want)
		}
	}
}
