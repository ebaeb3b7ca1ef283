package loadgen

import "context"

// nullDriver is the null target: every send is acknowledged at once and
// discarded, and consumers receive nothing. It measures the harness alone
// (the load loops, pacing and recording), so runs against it are
// produce-only. With producer "raw" its producers take whole batches, as
// the raw producer does, so the harness's own per-batch path is measured.
type nullDriver struct{ batch int } // batch > 0: batch producers

func openNull(w Workload) nullDriver {
	if w.Producer == "raw" {
		return nullDriver{batch: rawBatchSize(w)}
	}
	return nullDriver{}
}

func (nullDriver) CreateTopic(context.Context, string, int) error { return nil }

func (d nullDriver) NewProducer(context.Context, string) (Producer, error) {
	if d.batch > 0 {
		return nullBatchProducer{d.batch}, nil
	}
	return nullProducer{}, nil
}

func (nullDriver) NewConsumer(context.Context, string, string) (Consumer, error) {
	return nullConsumer{}, nil
}

func (nullDriver) Close() error { return nil }

type nullProducer struct{}

func (nullProducer) Send(_ context.Context, _ Message, done func(error)) { done(nil) }

// SendMessages acks the batch at once (messageBatchSender): the load
// loop's batched path, one clock read and one call per batch of
// messages due.
func (nullProducer) SendMessages(_ context.Context, _ []Message, done func(error)) { done(nil) }

func (nullProducer) Close(context.Context) error { return nil }

type nullConsumer struct{}

func (nullConsumer) Receive(ctx context.Context, _ func(Delivery) Outcome, _ func(error)) error {
	<-ctx.Done()
	return nil
}

func (nullConsumer) Close() error { return nil }

type nullBatchProducer struct{ n int }

func (p nullBatchProducer) BatchSize() int { return p.n }

func (nullBatchProducer) SendBatch(_ context.Context, _ []int64, done func(error)) { done(nil) }

func (nullBatchProducer) Send(_ context.Context, _ Message, done func(error)) { done(nil) }

func (nullBatchProducer) Close(context.Context) error { return nil }
