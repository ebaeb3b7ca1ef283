package loadgen

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// memDriver is an in-memory broker for tests: one channel per topic, one
// subscription. It acks each send at once, unless stallAt says to hold
// that send (message number, counted from 1) for stall first: a broker
// that stops answering for a while.
type memDriver struct {
	stallAt int64
	stall   time.Duration
	failAt  int64 // > 0: sends from this one on fail
	// recvErr, when set, is reported once by each consumer as an error it
	// survives (as a driver reports a failed fetch).
	recvErr error

	sends atomic.Int64
	mu    sync.Mutex // guards topics
	topic map[string]chan Delivery
}

func newMemDriver() *memDriver { return &memDriver{topic: map[string]chan Delivery{}} }

func (d *memDriver) CreateTopic(_ context.Context, t string, _ int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.topic[t] = make(chan Delivery, 1<<16)
	return nil
}

func (d *memDriver) ch(t string) chan Delivery {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.topic[t]
}

func (d *memDriver) NewProducer(_ context.Context, t string) (Producer, error) {
	return &memProducer{d: d, ch: d.ch(t)}, nil
}

func (d *memDriver) NewConsumer(_ context.Context, t, _ string) (Consumer, error) {
	return &memConsumer{ch: d.ch(t), err: d.recvErr}, nil
}

func (d *memDriver) Close() error { return nil }

type memProducer struct {
	d  *memDriver
	ch chan Delivery
}

func (p *memProducer) Send(ctx context.Context, m Message, done func(error)) {
	n := p.d.sends.Add(1)
	if n == p.d.stallAt {
		time.Sleep(p.d.stall)
	}
	if p.d.failAt > 0 && n >= p.d.failAt {
		done(errors.New("mem: broker down"))
		return
	}
	select {
	case p.ch <- Delivery{SentAt: m.SentAt, Bytes: len(m.Value), Tagged: m.Tagged, Poison: m.Poison, Producer: m.Producer, Seq: m.Seq}:
		done(nil)
	case <-ctx.Done():
		done(ctx.Err())
	}
}

func (p *memProducer) Close(context.Context) error { return nil }

type memConsumer struct {
	ch  chan Delivery
	err error
}

func (c *memConsumer) Receive(ctx context.Context, fn func(Delivery) Outcome, failed func(error)) error {
	if c.err != nil {
		failed(c.err)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case d := <-c.ch:
			if fn(d) == Abandon {
				return nil
			}
		}
	}
}

func (c *memConsumer) Close() error { return nil }
