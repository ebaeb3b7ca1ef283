package loadgen

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"gale/broker/record"
)

// rawProducer is gale's own Kafka batch producer (Workload.Producer
// "raw"): it builds one uncompressed RecordBatch v2 of BatchSize records
// at the start and sends it, again and again, in Produce requests issued
// through franz-go's kmsg, round-robin over the topic's partitions, each
// to its leader. Per send it only copies the template, writes each
// record's send timestamp into its header and recomputes the CRC, so it
// reaches rates a general-purpose client does not. It has no
// idempotence, no retries and no compression; keys are not sent.
type rawProducer struct {
	cl      *kgo.Client
	topic   string
	leaders []int32 // partition -> leader node
	acks    int16
	tmpl    []byte // the batch
	stamps  []int  // offset of each record's timestamp header value in tmpl
	bufs    sync.Pool
	next    atomic.Uint64 // round-robin partition
	batches atomic.Int64
	wg      sync.WaitGroup // requests in flight
}

// rawAcks maps Workload.Acks to the Produce request's acks and the client
// option that must agree with it (kgo rewrites a request's acks to its
// own setting).
func rawAcks(acks string) (int16, []kgo.Opt, error) {
	switch acks {
	case "all", "-1":
		return -1, nil, nil
	case "1":
		return 1, []kgo.Opt{kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite()}, nil
	}
	return 0, nil, fmt.Errorf("loadgen: the raw producer needs acks all or 1, not %q", acks)
}

func (d *kafkaDriver) newRawProducer(ctx context.Context, topic string) (*rawProducer, error) {
	acks, aopts, err := rawAcks(d.w.Acks)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(append(d.base[:len(d.base):len(d.base)], aopts...)...)
	if err != nil {
		return nil, fmt.Errorf("loadgen: raw producer: %w", err)
	}
	p := &rawProducer{cl: cl, topic: topic, acks: acks}
	if p.leaders, err = leaders(ctx, cl, topic); err != nil {
		cl.Close()
		return nil, err
	}
	pl, err := newPayloads(d.w, nil)
	if err != nil {
		cl.Close()
		return nil, err
	}
	p.tmpl, p.stamps = buildTemplate(pl, rawBatchSize(d.w))
	return p, nil
}

// rawBatchSize is the raw producer's records per batch: Batch.MaxMessages,
// or as many as fit Batch.MaxBytes (at most 10,000).
func rawBatchSize(w Workload) int {
	if w.Batch.MaxMessages > 0 {
		return w.Batch.MaxMessages
	}
	per := recordSize(w, 10000)
	return max(1, min(10000, (w.Batch.MaxBytes-recordBatchHeader)/per))
}

// leaders maps each partition of topic to its leader's node id.
func leaders(ctx context.Context, cl *kgo.Client, topic string) ([]int32, error) {
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("loadgen: raw producer: metadata: %w", err)
	}
	for _, t := range resp.Topics {
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			return nil, fmt.Errorf("loadgen: raw producer: metadata of %s: %w", topic, err)
		}
		ls := make([]int32, len(t.Partitions))
		for _, p := range t.Partitions {
			if int(p.Partition) < len(ls) {
				ls[p.Partition] = p.Leader
			}
		}
		if len(ls) > 0 {
			return ls, nil
		}
	}
	return nil, fmt.Errorf("loadgen: raw producer: topic %s has no partitions", topic)
}

// buildTemplate builds the batch of n records, each with a timestamp
// header holding a unique marker, and finds where each marker landed.
func buildTemplate(pl *payloads, n int) ([]byte, []int) {
	recs := make([]record.Record, n)
	markers := make([][]byte, n)
	for i := range recs {
		markers[i] = binary.BigEndian.AppendUint64(nil, 0xFA1E_0000_0000_0000|uint64(i))
		recs[i] = record.Record{Value: pl.value(int64(i)), Headers: []record.RecordHeader{{Key: timestampHeader, Value: markers[i]}}}
	}
	b := record.AppendBatch(nil, record.BatchOptions{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, PartitionLeaderEpoch: -1}, recs)
	stamps := make([]int, n)
	at := record.HeaderSize
	for i, m := range markers {
		j := bytes.Index(b[at:], m)
		if j < 0 {
			panic("loadgen: raw producer: timestamp marker not found") // the builder lost a header
		}
		at += j
		stamps[i] = at
		at += len(m)
	}
	return b, stamps
}

// stamp writes the send timestamps into a copy b of the template and the
// batch timestamps (ms), then recomputes the CRC.
func stamp(b []byte, stamps []int, sentAt []int64, ms int64) {
	for i, at := range stamps {
		binary.BigEndian.PutUint64(b[at:], uint64(sentAt[i]))
	}
	binary.BigEndian.PutUint64(b[27:], uint64(ms)) // baseTimestamp
	binary.BigEndian.PutUint64(b[35:], uint64(ms)) // maxTimestamp
	binary.BigEndian.PutUint32(b[17:], record.Checksum(b))
}

// BatchSize is the records in each batch SendBatch sends.
func (p *rawProducer) BatchSize() int { return len(p.stamps) }

// Batches counts the batches the broker acknowledged.
func (p *rawProducer) Batches() int64 { return p.batches.Load() }

// SendBatch sends one batch whose records carry the send timestamps
// sentAt (len BatchSize), and calls done once with the outcome.
func (p *rawProducer) SendBatch(ctx context.Context, sentAt []int64, done func(error)) {
	buf, _ := p.bufs.Get().(*[]byte)
	if buf == nil {
		b := make([]byte, len(p.tmpl))
		buf = &b
	}
	b := *buf
	copy(b, p.tmpl)
	stamp(b, p.stamps, sentAt, time.Now().UnixMilli())

	part := int32(p.next.Add(1) % uint64(len(p.leaders)))
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = p.acks, 30000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = p.topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = part, b
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	br := p.cl.Broker(int(p.leaders[part]))
	p.wg.Go(func() {
		resp, err := br.Request(ctx, req)
		p.bufs.Put(buf)
		if err == nil {
			err = produceError(resp.(*kmsg.ProduceResponse))
		}
		if err == nil {
			p.batches.Add(1)
		}
		done(err)
	})
}

func produceError(resp *kmsg.ProduceResponse) error {
	for _, t := range resp.Topics {
		for _, pt := range t.Partitions {
			if err := kerr.ErrorForCode(pt.ErrorCode); err != nil {
				return err
			}
		}
	}
	return nil
}

// Send sends m alone, as a batch of one record built on the spot; the
// load loop uses SendBatch, this keeps rawProducer a Producer.
func (p *rawProducer) Send(ctx context.Context, m Message, done func(error)) {
	sent := make([]int64, p.BatchSize())
	for i := range sent {
		sent[i] = m.SentAt
	}
	p.SendBatch(ctx, sent, done)
}

func (p *rawProducer) Close(ctx context.Context) error {
	waited := make(chan struct{})
	go func() { p.wg.Wait(); close(waited) }()
	var err error
	select {
	case <-waited:
	case <-ctx.Done():
		err = ctx.Err()
	}
	p.cl.Close()
	<-waited
	return err
}
