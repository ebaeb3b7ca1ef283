package loadgen

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsDriver drives NATS JetStream. A topic is a file-backed stream
// holding one subject of the same name; a subscription is a durable pull
// consumer, shared by the subscription's consumers. Producers publish
// asynchronously and count a message acknowledged when its PubAck
// arrives. Every producer and consumer has its own connection. Close
// deletes the streams the run created.
type natsDriver struct {
	url string
	w   Workload
	nc  *nats.Conn
	js  jetstream.JetStream

	mu      sync.Mutex // guards streams
	streams []string
	// crashable: consumers get a short AckWait, so what a crashed member
	// held is redelivered within seconds (prepareCrashes).
	crashable bool
}

// prepareCrashes shortens the consumers' AckWait (Control).
func (d *natsDriver) prepareCrashes() { d.crashable = true }

// crashAckWait is the consumers' AckWait when crashes may happen
// (JetStream's default is 30 s).
const crashAckWait = 5 * time.Second

func (d *natsDriver) connect() (*nats.Conn, error) {
	nc, err := nats.Connect(d.url, nats.Timeout(dialTimeout), nats.Name("gale-loadgen"))
	if err != nil {
		return nil, fmt.Errorf("loadgen: nats unreachable: %w", err)
	}
	return nc, nil
}

func openNATS(ctx context.Context, url string, w Workload) (*natsDriver, error) {
	d := &natsDriver{url: url, w: w}
	nc, err := d.connect()
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err == nil {
		actx, cancel := context.WithTimeout(ctx, dialTimeout)
		_, err = js.AccountInfo(actx)
		cancel()
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("loadgen: nats: JetStream not available: %w", err)
	}
	d.nc, d.js = nc, js
	return d, nil
}

func (d *natsDriver) CreateTopic(ctx context.Context, topic string, _ int) error {
	if err := d.createStream(ctx, topic); err != nil {
		return err
	}
	if m := d.w.Consumer; m != nil && m.DeadLetter {
		return d.createStream(ctx, topic+dlqSuffix)
	}
	return nil
}

// createStream makes the file stream topic, holding the subject topic.
func (d *natsDriver) createStream(ctx context.Context, topic string) error {
	_, err := d.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:     topic,
		Subjects: []string{topic},
		Storage:  jetstream.FileStorage,
	})
	if err != nil {
		return fmt.Errorf("loadgen: nats: create stream %s: %w", topic, err)
	}
	d.mu.Lock()
	d.streams = append(d.streams, topic)
	d.mu.Unlock()
	return nil
}

func (d *natsDriver) NewProducer(_ context.Context, topic string) (Producer, error) {
	nc, err := d.connect()
	if err != nil {
		return nil, err
	}
	p := &natsProducer{nc: nc, subject: topic, pending: make(map[*nats.Msg]func(error))}
	js, err := jetstream.New(nc,
		jetstream.WithPublishAsyncMaxPending(d.w.MaxInFlight),
		jetstream.WithPublishAsyncTimeout(30*time.Second),
		jetstream.WithPublishAsyncAckHandler(func(_ jetstream.JetStream, m *nats.Msg, _ *jetstream.PubAck) {
			p.finish(m, nil)
		}),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, m *nats.Msg, err error) {
			p.finish(m, err)
		}))
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("loadgen: nats producer: %w", err)
	}
	p.js = js
	return p, nil
}

// natsProducer matches PubAcks to done callbacks by message.
type natsProducer struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	subject string

	mu      sync.Mutex // guards pending
	pending map[*nats.Msg]func(error)
}

func (p *natsProducer) finish(m *nats.Msg, err error) {
	p.mu.Lock()
	done := p.pending[m]
	delete(p.pending, m)
	p.mu.Unlock()
	if done != nil {
		done(err)
	}
}

func (p *natsProducer) Send(_ context.Context, m Message, done func(error)) {
	msg := &nats.Msg{Subject: p.subject, Data: m.Value, Header: nats.Header{timestampHeader: {strconv.FormatInt(m.SentAt, 10)}}}
	if m.Tagged {
		msg.Header[msgHeader] = []string{strconv.FormatUint(uint64(m.Producer), 10) + "-" + strconv.FormatUint(m.Seq, 10)}
		if m.Poison {
			msg.Header[poisonHeader] = []string{"1"}
		}
	}
	p.mu.Lock()
	p.pending[msg] = done
	p.mu.Unlock()
	if _, err := p.js.PublishMsgAsync(msg); err != nil {
		p.finish(msg, fmt.Errorf("loadgen: nats publish: %w", err))
	}
}

func (p *natsProducer) Close(ctx context.Context) error {
	var err error
	select {
	case <-p.js.PublishAsyncComplete():
	case <-ctx.Done():
		err = ctx.Err()
	}
	p.nc.Close()
	p.mu.Lock()
	pending := p.pending
	p.pending = map[*nats.Msg]func(error){}
	p.mu.Unlock()
	for _, done := range pending {
		done(errors.New("loadgen: nats: connection closed before PubAck"))
	}
	return err
}

func (d *natsDriver) NewConsumer(ctx context.Context, topic, sub string) (Consumer, error) {
	policy := jetstream.AckAllPolicy
	if d.w.ConsumerPerSubscription > 1 {
		policy = jetstream.AckExplicitPolicy // AckAll would ack other members' messages
	}
	nc, err := d.connect()
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	var cons jetstream.Consumer
	if err == nil {
		cfg := jetstream.ConsumerConfig{
			Durable:       sub,
			AckPolicy:     policy,
			DeliverPolicy: jetstream.DeliverAllPolicy,
			MaxAckPending: 4 * d.w.Prefetch,
		}
		if d.crashable {
			cfg.AckWait = crashAckWait
		}
		cons, err = js.CreateOrUpdateConsumer(ctx, topic, cfg)
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("loadgen: nats consumer: %w", err)
	}
	return &natsConsumer{nc: nc, js: js, cons: cons, batch: d.w.Prefetch, ackAll: policy == jetstream.AckAllPolicy, model: d.w.Consumer, dlq: topic + dlqSuffix}, nil
}

type natsConsumer struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	cons   jetstream.Consumer
	batch  int
	ackAll bool
	model  *ConsumerModel // nil: no consumer model
	dlq    string         // the dead-letter stream and subject
}

// natsDelivery reads m's delivery.
func natsDelivery(m jetstream.Msg) Delivery {
	h := m.Headers()
	sent, _ := strconv.ParseInt(h.Get(timestampHeader), 10, 64)
	d := Delivery{SentAt: sent, Bytes: len(m.Data())}
	if p, s, ok := strings.Cut(h.Get(msgHeader), "-"); ok {
		pi, err1 := strconv.ParseUint(p, 10, 32)
		si, err2 := strconv.ParseUint(s, 10, 64)
		if err1 == nil && err2 == nil {
			d.Tagged, d.Producer, d.Seq = true, uint32(pi), si
		}
	}
	d.Poison = h.Get(poisonHeader) != ""
	return d
}

// Receive pulls continuously, keeping up to batch messages requested
// ahead (Consumer.Messages), and acks every batch/4 messages (AckAll: the
// ack covers the ones before) or each message (AckExplicit).
func (c *natsConsumer) Receive(ctx context.Context, fn func(Delivery) Outcome, failed func(error)) error {
	it, err := c.cons.Messages(jetstream.PullMaxMessages(c.batch))
	if err != nil {
		return fmt.Errorf("loadgen: nats consume: %w", err)
	}
	stop := context.AfterFunc(ctx, it.Stop)
	defer stop()
	defer it.Stop()
	ackEvery := max(1, c.batch/4)
	before := c.model != nil && c.model.Commit == CommitBefore
	for n := 1; ; n++ {
		m, err := it.Next()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return nil
			}
			failed(fmt.Errorf("loadgen: nats consume: %w", err))
			continue
		}
		if before {
			m.Ack()
		}
		switch out := fn(natsDelivery(m)); {
		case out == Abandon:
			return nil
		case out == DeadLetter:
			c.deadLetter(ctx, m, !before, failed)
		case out == Discard && !before:
			m.Term()
		case !before && (!c.ackAll || n%ackEvery == 0):
			m.Ack()
		}
	}
}

// deadLetter publishes m to the dead-letter stream and waits for its
// PubAck; then, unless m was acked already (commit before), terminates
// m, so the stream does not redeliver it. Publishing the message itself,
// rather than relying on MaxDeliver and its advisory (which carries only
// the stream sequence), keeps the dead letter's body and headers even if
// the source stream's limits drop the original, and needs no redelivery
// rounds of AckWait each.
func (c *natsConsumer) deadLetter(ctx context.Context, m jetstream.Msg, term bool, failed func(error)) {
	dl := &nats.Msg{Subject: c.dlq, Data: m.Data(), Header: m.Headers()}
	if _, err := c.js.PublishMsg(ctx, dl); err != nil && ctx.Err() == nil {
		failed(fmt.Errorf("loadgen: nats dead letter to %s: %w", c.dlq, err))
		return // not terminated: redelivered after AckWait, tried again
	}
	if term {
		m.Term()
	}
}

func (c *natsConsumer) Close() error {
	c.nc.Close()
	return nil
}

func (d *natsDriver) Close() error {
	d.mu.Lock()
	streams := d.streams
	d.mu.Unlock()
	var first error
	for _, s := range streams {
		ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
		if err := d.js.DeleteStream(ctx, s); err != nil && first == nil {
			first = err
		}
		cancel()
	}
	d.nc.Close()
	return first
}
