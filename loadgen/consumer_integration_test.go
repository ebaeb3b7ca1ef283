package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"gale/broker/kafka"
	"gale/linearizability"
)

// poisonCount recomputes how many of n messages of one producer are
// poison: the producer marks them from the seed alone.
func poisonCount(seed uint64, producers int, n int64, rate float64) int64 {
	k := int64(0)
	for p := range producers {
		per := n / int64(producers)
		if int64(p) < n%int64(producers) {
			per++
		}
		for i := range per {
			if isPoison(seed, p, i, rate) {
				k++
			}
		}
	}
	return k
}

// runModel runs w (validated) against d, which the caller closes.
func runModel(t *testing.T, d Driver, w Workload, seed uint64) *Summary {
	t.Helper()
	res, err := Run(testContext(t), Config{Driver: d, Workload: w, Seed: seed, DrainTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	t.Logf("published %d consumed %d; consumer %+v; notes %q", s.Published, s.Consumed, *s.Consumer, s.Notes)
	return s
}

// checkBalanced: every published message ended processed or
// dead-lettered, the dead letters being exactly the poison messages.
func checkBalanced(t *testing.T, s *Summary, poison int64) {
	t.Helper()
	c := s.Consumer
	if !c.Balanced || c.Distinct != s.Published || c.Processed+c.DeadLettered != s.Published || s.Errors != 0 {
		t.Errorf("processed %d + dead-lettered %d vs published %d (distinct consumed %d, errors %d)", c.Processed, c.DeadLettered, s.Published, c.Distinct, s.Errors)
	}
	if c.DeadLettered != poison {
		t.Errorf("dead-lettered %d, want the %d poison messages", c.DeadLettered, poison)
	}
}

// modelWorkload is the integration tests' workload: n messages at rate,
// 5% poison, one retry, dead letters on, commit mode commit.
func modelWorkload(t *testing.T, name string, n int64, rate int, commit string) Workload {
	t.Helper()
	w, err := Workload{
		Name: name, MessageSize: 100, PartitionsPerTopic: 2, Rate: rate, Messages: n, Duration: 30 * time.Second,
		Consumer: &ConsumerModel{Processing: Processing{Mean: 100 * time.Microsecond}, PoisonRate: 0.05, Retries: 1, DeadLetter: true, Commit: commit},
	}.Validate()
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// Against the embedded broker, poison messages end in the <topic>-dlq
// topic, and processed + dead-lettered == published, in both commit modes.
func TestConsumerModelEmbedded(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a broker")
	}
	const n, seed = 2000, 11
	for _, commit := range []string{CommitAfter, CommitBefore} {
		t.Run(commit, func(t *testing.T) {
			w := modelWorkload(t, "dlq-"+commit, n, 4000, commit)
			d, err := openEmbedded(testContext(t), w, kafka.Bugs{})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			s := runModel(t, d, w, seed)
			poison := poisonCount(seed, 1, n, 0.05)
			checkBalanced(t, s, poison)
			if got := kafkaDLQRecords(t, d, poison); got != poison {
				t.Errorf("the dead-letter topic holds %d records, want %d", got, poison)
			}
		})
	}
}

// kafkaDLQRecords reads every record of the driver's -dlq topics, waiting
// (10 s at most) for want of them, and checks they are poison.
func kafkaDLQRecords(t *testing.T, d *kafkaDriver, want int64) int64 {
	t.Helper()
	ctx := testContext(t)
	meta, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, d.admin)
	if err != nil {
		t.Fatal(err)
	}
	var topics []string
	for _, tp := range meta.Topics {
		if tp.Topic != nil && strings.HasSuffix(*tp.Topic, dlqSuffix) {
			topics = append(topics, *tp.Topic)
		}
	}
	if len(topics) == 0 {
		t.Fatal("no dead-letter topic")
	}
	cl, err := kgo.NewClient(append(d.base[:len(d.base):len(d.base)], kgo.ConsumeTopics(topics...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var got int64
	for got < want && pctx.Err() == nil {
		cl.PollFetches(pctx).EachRecord(func(r *kgo.Record) {
			got++
			if !kafkaDelivery(r, 0).Poison {
				t.Errorf("dead letter %s/%d@%d is not marked poison", r.Topic, r.Partition, r.Offset)
			}
		})
	}
	return got
}

// CrashConsumer on the embedded broker: one of two group members dies
// without leaving, the group rebalances after the session timeout, a
// replacement joins, and the run still consumes everything published.
// Commit after processing (at-least-once) may redeliver and loses
// nothing; commit before (at-most-once) may lose what the crashed member
// held and redelivers nothing. Either way the counts are consistent.
func TestCrashConsumerEmbedded(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a broker; waits out a 6 s session timeout")
	}
	const n, seed = 3000, 3
	for _, commit := range []string{CommitAfter, CommitBefore} {
		t.Run(commit, func(t *testing.T) {
			w := modelWorkload(t, "crash-"+commit, n, 500, commit)
			w.PartitionsPerTopic, w.ConsumerPerSubscription = 4, 2
			w.Consumer.Processing = Processing{Distribution: Uniform, Mean: time.Millisecond, Max: 2 * time.Millisecond}
			w.Prefetch = 200 // a poll is ~200 ms of processing: the crash lands inside one
			var ctl Control
			var hist bytes.Buffer
			crashed := make(chan error, 1)
			res, err := Run(testContext(t), Config{
				Target: Target{Kind: "embedded"}, Workload: w, Seed: seed, Control: &ctl, DrainTimeout: 30 * time.Second, History: &hist,
				OnStart: func(int, time.Time) {
					go func() {
						time.Sleep(1500 * time.Millisecond)
						crashed <- ctl.CrashConsumer(500 * time.Millisecond)
					}()
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := <-crashed; err != nil {
				t.Fatal(err)
			}
			s := res.Summary
			c := s.Consumer
			notes := strings.Join(s.Notes, "\n")
			t.Logf("published %d consumed %d; consumer %+v\n%s", s.Published, s.Consumed, *c, notes)
			if c.Crashes != 1 || !strings.Contains(notes, "crashed at") || !strings.Contains(notes, "replacement") {
				t.Errorf("the crash is not in the results")
			}
			if s.Published != n || c.Distinct != s.Published {
				t.Errorf("consumed %d distinct of %d published: the group did not recover the crashed member's partitions", c.Distinct, s.Published)
			}
			if c.Processed+c.DeadLettered+c.Unfinished != c.Distinct || c.Discarded != 0 {
				t.Errorf("counts inconsistent: %+v", *c)
			}
			if commit == CommitAfter && !c.Balanced {
				t.Errorf("at-least-once lost %d messages", c.Unfinished)
			}
			if commit == CommitBefore && c.Redelivered != 0 {
				t.Errorf("at-most-once redelivered %d messages", c.Redelivered)
			}
			checkMembersInHistory(t, &hist, w.PartitionsPerTopic)
		})
	}
}

// checkMembersInHistory: the history shows the rebalance. Each partition
// assignment of a group member is a client of its own in the history, so
// the two first members give two clients and a rebalance (the replacement
// joining, the crashed member timing out) gives more. Whether some
// partition is read under two assignments depends on timing (a member
// that crashed before its first records read none), so that is logged,
// not required.
func checkMembersInHistory(t *testing.T, hist *bytes.Buffer, partitions int) {
	t.Helper()
	ops, err := linearizability.ReadHistory(hist)
	if err != nil {
		t.Fatal(err)
	}
	readers := map[int32]map[int]bool{}
	clients := map[int]bool{}
	for _, op := range ops {
		if op.Kind == linearizability.Fetch {
			if readers[op.Partition] == nil {
				readers[op.Partition] = map[int]bool{}
			}
			readers[op.Partition][op.Client] = true
			clients[op.Client] = true
		}
	}
	moved := 0
	for _, cs := range readers {
		if len(cs) > 1 {
			moved++
		}
	}
	t.Logf("history: %d operations; %d assignments read; %d of %d partitions read under more than one", len(ops), len(clients), moved, partitions)
	if len(clients) <= 2 {
		t.Errorf("the history shows %d member assignments reading: no rebalance recorded", len(clients))
	}
}

// Against RabbitMQ and NATS JetStream on this machine: dead letters reach
// the dead-letter queue (exchange) or stream, in both commit modes.
func TestConsumerModelExternal(t *testing.T) {
	const n, seed = 600, 13
	for _, tc := range []struct {
		name, addr, url string
		dlq             func(t *testing.T, d Driver) int64
	}{
		{"RabbitMQ", "127.0.0.1:5672", "amqp://guest:guest@127.0.0.1:5672/", amqpDLQMessages},
		{"NATS JetStream", "127.0.0.1:4222", "nats://127.0.0.1:4222", natsDLQMessages},
	} {
		for _, commit := range []string{CommitAfter, CommitBefore} {
			t.Run(tc.name+"/"+commit, func(t *testing.T) {
				needServer(t, tc.name, tc.addr)
				tgt, err := ParseTarget(tc.url)
				if err != nil {
					t.Fatal(err)
				}
				w := modelWorkload(t, "dlq-"+commit, n, 2000, commit)
				d, err := Open(testContext(t), tgt, w, Security{})
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				s := runModel(t, d, w, seed)
				poison := poisonCount(seed, 1, n, 0.05)
				checkBalanced(t, s, poison)
				var got int64
				for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
					if got = tc.dlq(t, d); got >= poison {
						break
					}
				}
				if got != poison {
					t.Errorf("the dead-letter destination holds %d messages, want %d", got, poison)
				}
			})
		}
	}
}

// amqpDLQMessages counts the messages in the run's <topic>-dlq queue.
func amqpDLQMessages(t *testing.T, d Driver) int64 {
	ad := d.(*amqpDriver)
	ad.mu.Lock()
	names := append([]amqpName(nil), ad.declared...)
	ad.mu.Unlock()
	var total int64
	for _, nm := range names {
		if !nm.queue || !strings.HasSuffix(nm.name, dlqSuffix) {
			continue
		}
		err := ad.withChannel(func(ch *amqp.Channel) error {
			q, err := ch.QueueDeclarePassive(nm.name, true, false, false, false, nil)
			total += int64(q.Messages)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return total
}

// natsDLQMessages counts the messages in the run's <topic>-dlq stream.
func natsDLQMessages(t *testing.T, d Driver) int64 {
	nd := d.(*natsDriver)
	nd.mu.Lock()
	streams := append([]string(nil), nd.streams...)
	nd.mu.Unlock()
	var total int64
	for _, s := range streams {
		if !strings.HasSuffix(s, dlqSuffix) {
			continue
		}
		st, err := nd.js.Stream(testContext(t), s)
		if err != nil {
			t.Fatal(err)
		}
		info, err := st.Info(testContext(t))
		if err != nil {
			t.Fatal(fmt.Errorf("stream %s: %w", s, err))
		}
		total += int64(info.State.Msgs)
	}
	return total
}
