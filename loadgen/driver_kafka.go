package loadgen

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"gale/linearizability"
)

// kafkaDriver drives any Kafka-protocol cluster through franz-go: one
// client per producer and per consumer, as OMB's Kafka driver does.
type kafkaDriver struct {
	w     Workload
	base  []kgo.Opt // seeds, dialing, TLS, SASL
	admin *kgo.Client
	after func() error // run by Close after the clients (embedded: stop the broker)
	hist  *history     // set by recordHistory before any producer or consumer
	// crashable: consumers dial through a connTracker and use a short
	// session timeout (prepareCrashes, before any consumer). Their options
	// are made from seeds and sec rather than base: franz-go takes a dialer
	// or a TLS config, not both.
	crashable bool
	sec       Security
	seeds     []string
}

// prepareCrashes makes the driver's consumers crashable (Control).
func (d *kafkaDriver) prepareCrashes() { d.crashable = true }

// recordHistory makes the driver's producers and consumers record their
// operations to h (history.go). The raw producer does not record.
func (d *kafkaDriver) recordHistory(h *history) error {
	if d.w.Producer == "raw" {
		return errors.New("loadgen: history is recorded with the client producer only, not the raw one")
	}
	d.hist = h
	return nil
}

func openKafka(ctx context.Context, seeds []string, w Workload, sec Security) (*kafkaDriver, error) {
	base := []kgo.Opt{kgo.SeedBrokers(seeds...), kgo.DialTimeout(dialTimeout)}
	sopts, err := sec.kgoOpts()
	if err != nil {
		return nil, err
	}
	base = append(base, sopts...)
	admin, err := kgo.NewClient(base...)
	if err != nil {
		return nil, fmt.Errorf("loadgen: kafka: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	if err := admin.Ping(pctx); err != nil {
		admin.Close()
		return nil, fmt.Errorf("loadgen: kafka %s unreachable: %w", strings.Join(seeds, ","), err)
	}
	return &kafkaDriver{w: w, base: base, admin: admin, sec: sec, seeds: seeds}, nil
}

// kgoOpts turns the TLS and SASL settings into client options.
func (s Security) kgoOpts() ([]kgo.Opt, error) {
	var opts []kgo.Opt
	if s.TLS || s.CAFile != "" || s.CertFile != "" || s.tlsConfig != nil {
		cfg, err := s.tlsConf()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(cfg))
	}
	switch strings.ToUpper(s.SASLMechanism) {
	case "":
	case "PLAIN":
		opts = append(opts, kgo.SASL(plain.Auth{User: s.SASLUser, Pass: s.SASLPassword}.AsMechanism()))
	case "SCRAM-SHA-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: s.SASLUser, Pass: s.SASLPassword}.AsSha256Mechanism()))
	case "SCRAM-SHA-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: s.SASLUser, Pass: s.SASLPassword}.AsSha512Mechanism()))
	default:
		return nil, fmt.Errorf("loadgen: SASL mechanism %q: want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", s.SASLMechanism)
	}
	return opts, nil
}

func (s Security) tlsConf() (*tls.Config, error) {
	if s.tlsConfig != nil {
		return s.tlsConfig.Clone(), nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if s.CAFile != "" {
		pem, err := os.ReadFile(s.CAFile)
		if err != nil {
			return nil, fmt.Errorf("loadgen: TLS CA: %w", err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("loadgen: TLS CA %s holds no PEM certificate", s.CAFile)
		}
	}
	if s.CertFile != "" || s.KeyFile != "" {
		cert, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("loadgen: TLS client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

func (d *kafkaDriver) CreateTopic(ctx context.Context, topic string, partitions int) error {
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, int32(partitions), -1
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 30000
	resp, err := req.RequestWith(ctx, d.admin)
	if err != nil {
		return fmt.Errorf("loadgen: kafka: create topic %s: %w", topic, err)
	}
	for _, t := range resp.Topics {
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("loadgen: kafka: create topic %s: %w", topic, err)
		}
	}
	if m := d.w.Consumer; m != nil && m.DeadLetter && !strings.HasSuffix(topic, dlqSuffix) {
		return d.CreateTopic(ctx, topic+dlqSuffix, partitions)
	}
	return nil
}

// dlqSuffix names a topic's (stream's, queue's) dead-letter destination.
const dlqSuffix = "-dlq"

// codec maps Workload.Compression to franz-go's codec.
func codec(name string) kgo.CompressionCodec {
	switch name {
	case "gzip":
		return kgo.GzipCompression()
	case "snappy":
		return kgo.SnappyCompression()
	case "lz4":
		return kgo.Lz4Compression()
	case "zstd":
		return kgo.ZstdCompression()
	}
	return kgo.NoCompression()
}

// batchBytes is the batch size cap: Batch.MaxBytes, lowered so that no
// more than Batch.MaxMessages records of this workload fit (franz-go caps
// batches by bytes only). Records vary by a byte or two (the timestamp
// and offset deltas), so a cap of m records can admit about one more per
// hundred, and franz-go refuses caps under 512 bytes, so small batches
// of small records hold a few more than m.
func batchBytes(w Workload) int32 {
	n := w.Batch.MaxBytes
	if m := w.Batch.MaxMessages; m > 0 {
		per := recordSize(w, m)
		n = min(n, recordBatchHeader+m*per+per/2)
	}
	return int32(max(n, minBatchBytes))
}

// minBatchBytes is franz-go's least ProducerBatchMaxBytes.
const minBatchBytes = 512

// recordBatchHeader is the size of a RecordBatch v2 header.
const recordBatchHeader = 61

// recordSize is the encoded size of one of the workload's records, in a
// batch of m records, with a two-byte timestamp delta.
func recordSize(w Workload, m int) int {
	key := -1
	switch w.KeyDistributor {
	case KeyRoundRobin:
		key = len("key-9999")
	case RandomNano:
		key = 19
	}
	body := 1 + 2 + varintLen(int64(m)) + varintLen(int64(key)) + max(key, 0) +
		varintLen(int64(w.MessageSize)) + w.MessageSize +
		1 + varintLen(int64(len(timestampHeader))) + len(timestampHeader) + 1 + 8
	if w.Consumer != nil { // gale-msg (gale-poison, on a few, is not counted)
		body += varintLen(int64(len(msgHeader))) + len(msgHeader) + 1 + 12
	}
	return varintLen(int64(body)) + body
}

// varintLen is the length of v as a zigzag varint.
func varintLen(v int64) int {
	u := uint64(v<<1) ^ uint64(v>>63)
	n := 1
	for u >= 0x80 {
		u >>= 7
		n++
	}
	return n
}

func (d *kafkaDriver) NewProducer(ctx context.Context, topic string) (Producer, error) {
	w := d.w
	if w.Producer == "raw" {
		return d.newRawProducer(ctx, topic)
	}
	opts := append(d.base[:len(d.base):len(d.base)],
		kgo.DefaultProduceTopic(topic),
		kgo.ProducerBatchMaxBytes(batchBytes(w)),
		kgo.ProducerLinger(w.Batch.Linger),
		kgo.ProducerBatchCompression(codec(w.Compression)),
		kgo.MaxBufferedRecords(w.MaxInFlight),
	)
	switch w.Acks {
	case "0":
		opts = append(opts, kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite())
	case "1":
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite())
	}
	p := &kafkaProducer{hist: d.hist, topic: topic, idempotent: w.Acks != "0" && w.Acks != "1"}
	if p.hist != nil {
		p.client = p.hist.newClient()
	}
	opts = append(opts, kgo.WithHooks(batchHook{&p.batches}))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("loadgen: kafka producer: %w", err)
	}
	p.cl = cl
	return p, nil
}

type kafkaProducer struct {
	cl      *kgo.Client
	batches atomic.Int64 // batches the broker acknowledged
	hist    *history     // nil: no history
	topic   string
	client  int   // history client id
	seq     int64 // history values sent; Send's goroutine only
	// idempotent: franz-go's idempotent producer (acks all), whose
	// rejections are definite (history.go)
	idempotent bool
}

// Batches counts the batches written: throughput by batch size needs it.
func (p *kafkaProducer) Batches() int64 { return p.batches.Load() }

// batchHook counts written batches (kgo.HookProduceBatchWritten).
type batchHook struct{ n *atomic.Int64 }

func (h batchHook) OnProduceBatchWritten(kgo.BrokerMetadata, string, int32, kgo.ProduceBatchMetrics) {
	h.n.Add(1)
}

// sendRec is one message in flight: the record, its header and
// timestamp bytes and the caller's done, in one allocation. The record
// comes first, so the promise (sendPromise) finds the rest from it.
type sendRec struct {
	r    kgo.Record
	hdr  [3]kgo.RecordHeader // gale-sent-ns; gale-msg and gale-poison when tagged
	ts   [8]byte
	id   [12]byte
	done func(error)
}

// This line fails to compile unless r is at offset 0 of sendRec, which
// sendPromise's cast depends on (franz-go hands the promise the same
// *Record that Produce was given).
var _ = [1]struct{}{}[unsafe.Offsetof(sendRec{}.r)]

// sendPromise is every plain Send's promise: r is the first field of a
// sendRec, so a pointer to it is a pointer to the sendRec. One func for
// all records, where a closure per record would cost an allocation.
func sendPromise(r *kgo.Record, err error) {
	(*sendRec)(unsafe.Pointer(r)).done(err)
}

// Send produces m. Its record's timestamp is m.SentAt (the send time, or
// the intended one in open loop), which spares franz-go a clock read.
func (p *kafkaProducer) Send(ctx context.Context, m Message, done func(error)) {
	if p.hist == nil {
		s := &sendRec{done: done}
		binary.BigEndian.PutUint64(s.ts[:], uint64(m.SentAt))
		s.hdr[0] = kgo.RecordHeader{Key: timestampHeader, Value: s.ts[:]}
		hdrs := s.hdr[:1]
		if m.Tagged {
			hdrs = append(hdrs, kgo.RecordHeader{Key: msgHeader, Value: appendMsgID(s.id[:0], m.Producer, m.Seq)})
			if m.Poison {
				hdrs = append(hdrs, kgo.RecordHeader{Key: poisonHeader, Value: []byte{1}})
			}
		}
		s.r = kgo.Record{Key: m.Key, Value: m.Value, Headers: hdrs, Timestamp: time.Unix(0, m.SentAt)}
		p.cl.Produce(ctx, &s.r, sendPromise)
		return
	}
	ts := make([]byte, 8)
	binary.BigEndian.PutUint64(ts, uint64(m.SentAt))
	p.seq++
	id := appendID(make([]byte, 0, 24), p.client, p.seq)
	r := &kgo.Record{Key: m.Key, Value: m.Value, Headers: []kgo.RecordHeader{{Key: timestampHeader, Value: ts}, {Key: idHeader, Value: id}}}
	if m.Tagged {
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: msgHeader, Value: appendMsgID(nil, m.Producer, m.Seq)})
		if m.Poison {
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: poisonHeader, Value: []byte{1}})
		}
	}
	call := p.hist.now()
	p.cl.Produce(ctx, r, func(r *kgo.Record, err error) {
		if r.Partition < 0 { // no partition to record it under; never sent
			done(err)
			return
		}
		op := linearizability.Op{
			Client: p.client, Kind: linearizability.Produce, Topic: p.topic, Partition: r.Partition,
			Offset: r.Offset, Values: []string{string(id)}, Status: produceStatus(err, p.idempotent),
			Call: call, Return: p.hist.now(),
		}
		p.hist.rec.Record(op)
		done(err)
	})
}

func (p *kafkaProducer) Close(ctx context.Context) error {
	err := p.cl.Flush(ctx)
	p.cl.Close()
	return err
}

func (d *kafkaDriver) NewConsumer(ctx context.Context, topic, sub string) (Consumer, error) {
	c := &kafkaConsumer{assigned: make(chan struct{}), hist: d.hist, model: d.w.Consumer, topic: topic, maxPoll: d.w.Prefetch}
	base := d.base[:len(d.base):len(d.base)]
	if d.crashable {
		var err error
		if base, err = d.crashableOpts(c); err != nil {
			return nil, err
		}
	}
	opts := append(base,
		kgo.ConsumerGroup(sub),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(500*time.Millisecond),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, assigned map[string][]int32) {
			c.assign(assigned)
			c.once.Do(func() { close(c.assigned) })
		}),
	)
	if c.hist != nil || c.model != nil {
		// Rebalances wait while a poll's records are recorded, so they
		// are recorded under the assignment that read them, and while
		// they are processed and committed (the consumer model).
		opts = append(opts, kgo.BlockRebalanceOnPoll())
	}
	if c.model != nil {
		opts = append(opts, kgo.DisableAutoCommit()) // commits follow the commit mode
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("loadgen: kafka consumer: %w", err)
	}
	c.cl = cl
	return c, nil
}

type kafkaConsumer struct {
	cl       *kgo.Client
	model    *ConsumerModel // nil: no consumer model (autocommit)
	topic    string
	maxPoll  int          // records per poll with a consumer model (Workload.Prefetch)
	conns    *connTracker // crashable consumers only
	cancel   context.CancelFunc
	once     sync.Once
	assigned chan struct{} // closed when the group first assigns partitions
	hist     *history      // nil: no history
	mu       sync.Mutex
	clients  map[topicPartition]int // mu guards it: history client id per assignment
}

type topicPartition struct {
	topic     string
	partition int32
}

// assign gives every partition just assigned a new history client: a
// member that gets a partition (back) resumes from the committed offset,
// which is a seek.
func (c *kafkaConsumer) assign(assigned map[string][]int32) {
	if c.hist == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.clients == nil {
		c.clients = make(map[topicPartition]int)
	}
	for t, ps := range assigned {
		for _, p := range ps {
			c.clients[topicPartition{t, p}] = c.hist.newClient()
		}
	}
}

// client returns the history client reading tp.
func (c *kafkaConsumer) client(tp topicPartition) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.clients[tp]
	if !ok { // not announced by OnPartitionsAssigned: a client of its own
		if c.clients == nil {
			c.clients = make(map[topicPartition]int)
		}
		id = c.hist.newClient()
		c.clients[tp] = id
	}
	return id
}

// Ready waits until the group has assigned this member partitions, so the
// run does not start measuring while consumers are still joining. A
// member left without partitions (more members than partitions) never is;
// the wait is bounded by ctx.
func (c *kafkaConsumer) Ready(ctx context.Context) error {
	select {
	case <-c.assigned:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *kafkaConsumer) Receive(ctx context.Context, fn func(Delivery) Outcome, failed func(error)) error {
	for ctx.Err() == nil {
		var call int64
		if c.hist != nil {
			call = c.hist.now()
		}
		var fs kgo.Fetches
		if c.model != nil {
			fs = c.cl.PollRecords(ctx, c.maxPoll)
		} else {
			fs = c.cl.PollFetches(ctx)
		}
		if c.hist != nil {
			c.recordPoll(fs, call, c.hist.now())
		}
		if c.hist != nil && c.model == nil {
			c.cl.AllowRebalance()
		}
		if fs.IsClientClosed() {
			return errors.New("loadgen: kafka consumer: client closed")
		}
		fs.EachError(func(_ string, _ int32, err error) {
			if ctx.Err() == nil && !errors.Is(err, context.Canceled) {
				failed(fetchError(err))
			}
		})
		now := nowNs() // one clock read per poll: its records arrived together
		if c.model != nil {
			stop := c.processPoll(ctx, fs, now, fn, failed)
			c.cl.AllowRebalance()
			if stop {
				return nil
			}
			continue
		}
		fs.EachRecord(func(r *kgo.Record) { fn(kafkaDelivery(r, now)) })
	}
	return nil
}

// fetchError is the error a failed fetch reports: franz-go's data-loss
// error (the broker said the offset after what the client read is out of
// range) is marked ErrDataLoss, so the run counts it.
func fetchError(err error) error {
	if dl := (*kgo.ErrDataLoss)(nil); errors.As(err, &dl) {
		err = fmt.Errorf("%w: %v", ErrDataLoss, err)
	}
	return fmt.Errorf("loadgen: kafka fetch: %w", err)
}

// kafkaDelivery reads a record's delivery, received at now.
func kafkaDelivery(r *kgo.Record, now int64) Delivery {
	d := Delivery{Bytes: len(r.Value), ReceivedAt: now}
	for _, h := range r.Headers {
		switch h.Key {
		case timestampHeader:
			if len(h.Value) == 8 {
				d.SentAt = int64(binary.BigEndian.Uint64(h.Value))
			}
		case msgHeader:
			d.setMsgID(h.Value)
		case poisonHeader:
			d.Poison = true
		}
	}
	return d
}

// processPoll runs the consumer model over one poll's records, in order:
// commit "before" commits the poll's offsets first (at-most-once); commit
// "after" commits them once every record ended (at-least-once), after the
// dead letters were produced. It reports true when fn abandoned a record:
// the rest of the poll is then neither processed nor committed.
func (c *kafkaConsumer) processPoll(ctx context.Context, fs kgo.Fetches, now int64, fn func(Delivery) Outcome, failed func(error)) bool {
	if fs.NumRecords() == 0 {
		return false
	}
	before := c.model.Commit == CommitBefore
	if before {
		if err := c.cl.CommitUncommittedOffsets(ctx); err != nil && ctx.Err() == nil {
			failed(fmt.Errorf("loadgen: kafka commit: %w", err))
		}
	}
	abandoned := false
	fs.EachRecord(func(r *kgo.Record) {
		if abandoned && !before {
			return // not committed: the group redelivers it
		}
		// Committed before processing, the rest of an abandoned poll is
		// lost; fn sees it (and abandons it at once: its ctx ended), so
		// the results count it received and never ended.
		switch fn(kafkaDelivery(r, now)) {
		case Abandon:
			abandoned = true
		case DeadLetter:
			c.deadLetter(ctx, r, failed)
		}
	})
	if abandoned {
		return true
	}
	if !before {
		if err := c.cl.CommitUncommittedOffsets(ctx); err != nil && ctx.Err() == nil {
			failed(fmt.Errorf("loadgen: kafka commit: %w", err))
		}
	}
	return false
}

// deadLetter produces r, headers and all, to its topic's dead-letter
// topic and waits for the ack, so that a commit after it never covers a
// dead letter that was not written.
func (c *kafkaConsumer) deadLetter(ctx context.Context, r *kgo.Record, failed func(error)) {
	dl := &kgo.Record{Topic: c.topic + dlqSuffix, Key: r.Key, Value: r.Value, Headers: r.Headers, Partition: r.Partition}
	if err := c.cl.ProduceSync(ctx, dl).FirstErr(); err != nil && ctx.Err() == nil {
		failed(fmt.Errorf("loadgen: kafka dead letter to %s: %w", dl.Topic, err))
	}
}

// recordPoll records what one poll returned, one fetch per partition.
func (c *kafkaConsumer) recordPoll(fs kgo.Fetches, call, ret int64) {
	fs.EachPartition(func(p kgo.FetchTopicPartition) {
		if len(p.Records) > 0 {
			c.hist.recordFetch(c.client(topicPartition{p.Topic, p.Partition}), p.Topic, p.Partition, p.Records, call, ret)
		}
	})
}

func (c *kafkaConsumer) Close() error {
	if c.model != nil {
		c.cl.AllowRebalance() // Close leaves the group, which waits for it
	}
	c.cl.Close()
	return nil
}

// Crash ends the member as a killed process would: its connections are
// cut and no new ones are made, so it sends no LeaveGroup and commits
// nothing more; the group notices when its session times out.
func (c *kafkaConsumer) Crash() {
	if c.conns == nil { // not crashable: the best we can do
		c.Close()
		return
	}
	c.conns.kill()
	c.cancel() // the client's context: Close's LeaveGroup fails at once
	c.cl.AllowRebalance()
	c.cl.Close()
}

func (d *kafkaDriver) Close() error {
	d.admin.Close()
	if d.after != nil {
		return d.after()
	}
	return nil
}
