package loadgen

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// amqpDriver drives RabbitMQ (AMQP 0-9-1). A topic is a durable fanout
// exchange; a subscription is a durable queue bound to it, shared by the
// subscription's consumers. Producers publish persistent messages and wait
// for publisher confirms; consumers ack manually under a prefetch limit.
// Every producer and consumer has its own connection. Close deletes the
// exchanges and queues the run declared.
type amqpDriver struct {
	url   string
	w     Workload
	admin *amqp.Connection

	mu       sync.Mutex // guards declared
	declared []amqpName
}

type amqpName struct {
	name  string
	queue bool
}

func (d *amqpDriver) dial() (*amqp.Connection, error) {
	c, err := amqp.DialConfig(d.url, amqp.Config{Dial: amqp.DefaultDial(dialTimeout)})
	if err != nil {
		var ae *amqp.Error
		if errors.As(err, &ae) {
			return nil, fmt.Errorf("loadgen: amqp: %s", ae.Reason)
		}
		return nil, fmt.Errorf("loadgen: amqp unreachable: %v", redactURLErr(err))
	}
	return c, nil
}

// redactURLErr drops everything but the innermost message, which for the
// dial errors seen never holds the URL (and so no password).
func redactURLErr(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}

func openAMQP(_ context.Context, url string, w Workload) (*amqpDriver, error) {
	d := &amqpDriver{url: url, w: w}
	c, err := d.dial()
	if err != nil {
		return nil, err
	}
	d.admin = c
	return d, nil
}

// withChannel runs fn on a fresh channel of the admin connection.
func (d *amqpDriver) withChannel(fn func(*amqp.Channel) error) error {
	ch, err := d.admin.Channel()
	if err != nil {
		return fmt.Errorf("loadgen: amqp: %w", err)
	}
	defer ch.Close()
	return fn(ch)
}

func (d *amqpDriver) CreateTopic(_ context.Context, topic string, _ int) error {
	err := d.withChannel(func(ch *amqp.Channel) error {
		return ch.ExchangeDeclare(topic, amqp.ExchangeFanout, true, false, false, false, nil)
	})
	if err != nil {
		return fmt.Errorf("loadgen: amqp: declare exchange %s: %w", topic, err)
	}
	d.remember(amqpName{name: topic})
	if m := d.w.Consumer; m != nil && m.DeadLetter {
		return d.declareDeadLetter(topic)
	}
	return nil
}

// dlxSuffix names a topic's dead-letter exchange; its queue is
// <topic>-dlq (dlqSuffix).
const dlxSuffix = "-dlx"

// declareDeadLetter declares topic's dead-letter exchange, a durable
// fanout, and the durable queue <topic>-dlq bound to it, which keeps what
// is dead-lettered.
func (d *amqpDriver) declareDeadLetter(topic string) error {
	x, q := topic+dlxSuffix, topic+dlqSuffix
	err := d.withChannel(func(ch *amqp.Channel) error {
		if err := ch.ExchangeDeclare(x, amqp.ExchangeFanout, true, false, false, false, nil); err != nil {
			return err
		}
		if _, err := ch.QueueDeclare(q, true, false, false, false, nil); err != nil {
			return err
		}
		return ch.QueueBind(q, "", x, false, nil)
	})
	if err != nil {
		return fmt.Errorf("loadgen: amqp: declare dead-letter exchange %s: %w", x, err)
	}
	d.remember(amqpName{name: x})
	d.remember(amqpName{name: q, queue: true})
	return nil
}

func (d *amqpDriver) remember(n amqpName) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, m := range d.declared {
		if m == n {
			return
		}
	}
	d.declared = append(d.declared, n)
}

func (d *amqpDriver) NewProducer(_ context.Context, topic string) (Producer, error) {
	c, err := d.dial()
	if err != nil {
		return nil, err
	}
	ch, err := c.Channel()
	if err == nil {
		err = ch.Confirm(false)
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("loadgen: amqp producer: %w", err)
	}
	p := &amqpProducer{conn: c, ch: ch, exchange: topic, drained: make(chan struct{})}
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, 1024))
	go p.confirmLoop(confirms)
	return p, nil
}

// amqpProducer publishes on one confirm-mode channel. Confirmations arrive
// in delivery-tag order, one per message, so the done callbacks wait in a
// FIFO.
type amqpProducer struct {
	conn     *amqp.Connection
	ch       *amqp.Channel
	exchange string
	drained  chan struct{} // closed when confirmLoop ends

	mu      sync.Mutex // guards pending, and orders publishes with it
	pending []func(error)
	closed  bool
}

func (p *amqpProducer) Send(ctx context.Context, m Message, done func(error)) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		done(errors.New("loadgen: amqp producer: channel closed"))
		return
	}
	p.pending = append(p.pending, done)
	headers := amqp.Table{timestampHeader: m.SentAt}
	if m.Tagged {
		headers[msgHeader] = appendMsgID(nil, m.Producer, m.Seq)
		if m.Poison {
			headers[poisonHeader] = true
		}
	}
	err := p.ch.PublishWithContext(ctx, p.exchange, "", false, false, amqp.Publishing{
		Headers:      headers,
		DeliveryMode: amqp.Persistent,
		Body:         m.Value,
	})
	if err != nil {
		p.pending = p.pending[:len(p.pending)-1]
	}
	p.mu.Unlock()
	if err != nil {
		done(fmt.Errorf("loadgen: amqp publish: %w", err))
	}
}

func (p *amqpProducer) confirmLoop(confirms <-chan amqp.Confirmation) {
	defer close(p.drained)
	for c := range confirms {
		p.mu.Lock()
		var done func(error)
		if len(p.pending) > 0 {
			done = p.pending[0]
			p.pending[0] = nil
			p.pending = p.pending[1:]
		}
		p.mu.Unlock()
		if done == nil {
			continue
		}
		if c.Ack {
			done(nil)
		} else {
			done(errors.New("loadgen: amqp: publish nacked"))
		}
	}
	// The channel closed: what is still pending will never be confirmed.
	p.mu.Lock()
	pending := p.pending
	p.pending, p.closed = nil, true
	p.mu.Unlock()
	for _, done := range pending {
		done(errors.New("loadgen: amqp: channel closed before confirm"))
	}
}

// Close waits (up to ctx) for outstanding confirms, then closes.
func (p *amqpProducer) Close(ctx context.Context) error {
	for {
		p.mu.Lock()
		n := len(p.pending)
		p.mu.Unlock()
		if n == 0 || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-p.drained:
		case <-time.After(10 * time.Millisecond):
		}
	}
	err := p.conn.Close()
	<-p.drained
	if errors.Is(err, amqp.ErrClosed) {
		err = nil
	}
	return err
}

func (d *amqpDriver) NewConsumer(_ context.Context, topic, sub string) (Consumer, error) {
	queue := topic + "." + sub
	var args amqp.Table
	if m := d.w.Consumer; m != nil && m.DeadLetter {
		args = amqp.Table{"x-dead-letter-exchange": topic + dlxSuffix}
	}
	err := d.withChannel(func(ch *amqp.Channel) error {
		if _, err := ch.QueueDeclare(queue, true, false, false, false, args); err != nil {
			return err
		}
		return ch.QueueBind(queue, "", topic, false, nil)
	})
	if err != nil {
		return nil, fmt.Errorf("loadgen: amqp: declare queue %s: %w", queue, err)
	}
	d.remember(amqpName{name: queue, queue: true})
	c, err := d.dial()
	if err != nil {
		return nil, err
	}
	ch, err := c.Channel()
	if err == nil {
		err = ch.Qos(d.w.Prefetch, 0, false)
	}
	var deliveries <-chan amqp.Delivery
	if err == nil {
		deliveries, err = ch.Consume(queue, "", false, false, false, false, nil)
	}
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("loadgen: amqp consumer: %w", err)
	}
	return &amqpConsumer{conn: c, ch: ch, deliveries: deliveries, ackEvery: max(1, d.w.Prefetch/4), model: d.w.Consumer, dlx: topic + dlxSuffix}, nil
}

type amqpConsumer struct {
	conn       *amqp.Connection
	ch         *amqp.Channel
	deliveries <-chan amqp.Delivery
	ackEvery   int
	model      *ConsumerModel // nil: no consumer model
	dlx        string         // the dead-letter exchange
}

// amqpDelivery reads d's delivery.
func amqpDelivery(d amqp.Delivery) Delivery {
	sent, _ := d.Headers[timestampHeader].(int64)
	del := Delivery{SentAt: sent, Bytes: len(d.Body)}
	if id, ok := d.Headers[msgHeader].([]byte); ok {
		del.setMsgID(id)
	}
	del.Poison, _ = d.Headers[poisonHeader].(bool)
	return del
}

// Receive acks with multiple=true every ackEvery messages, and whenever
// no further delivery is waiting, so acks never lag the prefetch window.
// With a consumer model, commit "before" acks each message before fn
// (and publishes a dead letter to the dead-letter exchange itself, the
// message being acked already); commit "after" acks once fn processed
// it, and nacks without requeue what fn dead-lettered or discarded, so
// the queue's x-dead-letter-exchange routes it.
func (c *amqpConsumer) Receive(ctx context.Context, fn func(Delivery) Outcome, _ func(error)) error {
	unacked := 0
	var last amqp.Delivery // the latest processed delivery not yet acked
	flush := func() error {
		if unacked == 0 {
			return nil
		}
		unacked = 0
		return last.Ack(true)
	}
	before := c.model != nil && c.model.Commit == CommitBefore
	for {
		select {
		case <-ctx.Done():
			flush()
			return nil
		case d, ok := <-c.deliveries:
			if !ok {
				return errors.New("loadgen: amqp consumer: delivery channel closed")
			}
			if before {
				if err := d.Ack(false); err != nil {
					return fmt.Errorf("loadgen: amqp ack: %w", err)
				}
			}
			var err error
			switch out := fn(amqpDelivery(d)); {
			case out == Abandon:
				flush()
				return nil
			case before:
				if out == DeadLetter {
					err = c.publishDeadLetter(ctx, d)
				}
			case out == Processed:
				last, unacked = d, unacked+1
			default: // DeadLetter, Discard: to the dead-letter exchange, if any
				if err = d.Nack(false, false); err != nil {
					err = fmt.Errorf("loadgen: amqp nack: %w", err)
				}
			}
			if err == nil && (unacked >= c.ackEvery || len(c.deliveries) == 0) {
				if err = flush(); err != nil {
					err = fmt.Errorf("loadgen: amqp ack: %w", err)
				}
			}
			if err != nil {
				return err
			}
		}
	}
}

// publishDeadLetter publishes d, already acked, to the dead-letter
// exchange, as the broker would have routed a nacked message.
func (c *amqpConsumer) publishDeadLetter(ctx context.Context, d amqp.Delivery) error {
	err := c.ch.PublishWithContext(ctx, c.dlx, "", false, false, amqp.Publishing{
		Headers: d.Headers, DeliveryMode: amqp.Persistent, Body: d.Body,
	})
	if err != nil {
		return fmt.Errorf("loadgen: amqp dead letter to %s: %w", c.dlx, err)
	}
	return nil
}

func (c *amqpConsumer) Close() error {
	err := c.conn.Close()
	if errors.Is(err, amqp.ErrClosed) {
		err = nil
	}
	return err
}

func (d *amqpDriver) Close() error {
	d.mu.Lock()
	declared := d.declared
	d.mu.Unlock()
	var first error
	for i := len(declared) - 1; i >= 0; i-- {
		n := declared[i]
		err := d.withChannel(func(ch *amqp.Channel) error {
			if n.queue {
				_, err := ch.QueueDelete(n.name, false, false, false)
				return err
			}
			return ch.ExchangeDelete(n.name, false, false)
		})
		if err != nil && first == nil {
			first = err
		}
	}
	if err := d.admin.Close(); err != nil && first == nil && !errors.Is(err, amqp.ErrClosed) {
		first = err
	}
	return first
}
