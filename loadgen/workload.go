package loadgen

import (
	"errors"
	"fmt"
	"time"
)

// Workload is what a run does: OpenMessaging Benchmark's workload fields, as
// OMB spells them, plus gale's own. The zero value of every field selects
// the default documented on it; Validate fills them in on a copy.
//
// Where gale's field and OMB's field say the same thing (rate and
// producerRate, duration and testDurationMinutes, warmup and
// warmupDurationMinutes), gale's field wins when it is set.
type Workload struct {
	// Name labels the run in results. Default "workload".
	Name string `yaml:"name" json:"name"`

	// Topics is the number of topics. Default 1.
	Topics int `yaml:"topics" json:"topics"`
	// PartitionsPerTopic is each topic's partition count (Kafka targets;
	// AMQP and NATS have one queue or stream per topic). Default 1.
	PartitionsPerTopic int `yaml:"partitionsPerTopic" json:"partitionsPerTopic"`
	// MessageSize is the payload size in bytes. Default 1024 (OMB's).
	// With PayloadFile it is the file's size.
	MessageSize int `yaml:"messageSize" json:"messageSize"`
	// PayloadFile is a file whose bytes are every message's payload; a
	// relative path is relative to the workload file. Default: none.
	PayloadFile string `yaml:"payloadFile" json:"payloadFile,omitempty"`
	// UseRandomizedPayloads makes payloads random bytes, RandomBytesRatio of
	// each payload random and the rest zero. Default false: all zero.
	UseRandomizedPayloads bool `yaml:"useRandomizedPayloads" json:"useRandomizedPayloads"`
	// RandomBytesRatio is the random fraction of a randomized payload, in
	// [0, 1]. Default 0 with UseRandomizedPayloads means 1 (all random).
	RandomBytesRatio float64 `yaml:"randomBytesRatio" json:"randomBytesRatio"`
	// RandomizedPayloadPoolSize is how many distinct randomized payloads
	// are cycled through. Default 1000.
	RandomizedPayloadPoolSize int `yaml:"randomizedPayloadPoolSize" json:"randomizedPayloadPoolSize"`
	// KeyDistributor chooses message keys: NO_KEY (default),
	// KEY_ROUND_ROBIN (keys cycle through a fixed set of 10,000) or
	// RANDOM_NANO (a fresh key per message from the clock).
	KeyDistributor string `yaml:"keyDistributor" json:"keyDistributor"`
	// SubscriptionsPerTopic is the number of subscriptions (consumer
	// groups) per topic, each receiving every message (pub/sub). 0 gives a
	// produce-only run. Default 1.
	SubscriptionsPerTopic *int `yaml:"subscriptionsPerTopic" json:"subscriptionsPerTopic"`
	// ProducersPerTopic is the number of producers per topic. Default 1.
	ProducersPerTopic int `yaml:"producersPerTopic" json:"producersPerTopic"`
	// ConsumerPerSubscription is the number of consumers sharing each
	// subscription (point-to-point). Default 1.
	ConsumerPerSubscription int `yaml:"consumerPerSubscription" json:"consumerPerSubscription"`
	// ProducerRate is the total publish rate, msg/s over all producers; 0
	// means as fast as possible (closed loop). Default 0.
	ProducerRate int `yaml:"producerRate" json:"producerRate"`
	// ConsumerBacklogSizeGB is OMB's replay test: producers build a
	// backlog of this many GiB before consumers start reading from the
	// earliest offset, while producers go on; the results report the
	// catch-up (Summary.Replay). Default 0: consumers start at once.
	ConsumerBacklogSizeGB int `yaml:"consumerBacklogSizeGB" json:"consumerBacklogSizeGB"`
	// BacklogBytes, when positive, overrides ConsumerBacklogSizeGB, in
	// bytes of payload.
	BacklogBytes int64 `yaml:"backlogBytes" json:"backlogBytes,omitempty"`
	// BacklogDrainRatio is OMB's; accepted and ignored, as above.
	BacklogDrainRatio float64 `yaml:"backlogDrainRatio" json:"backlogDrainRatio,omitempty"`
	// TestDurationMinutes is the measured duration. Default 1 (when
	// Duration is also unset).
	TestDurationMinutes int `yaml:"testDurationMinutes" json:"testDurationMinutes"`
	// WarmupDurationMinutes runs load, unmeasured, before the test.
	// Default 0.
	WarmupDurationMinutes int `yaml:"warmupDurationMinutes" json:"warmupDurationMinutes"`

	// Batch bounds producer batching (gale).
	Batch Batching `yaml:"batch" json:"batch"`
	// Compression is the producer batch codec on Kafka targets: none
	// (default), gzip, snappy, lz4 or zstd.
	Compression string `yaml:"compression" json:"compression"`
	// Acks is the Kafka acknowledgement level: "all" (default), "1" or "0".
	// AMQP and NATS targets always wait for the broker's confirmation.
	Acks string `yaml:"acks" json:"acks"`
	// Producer picks the Kafka producer: "client" (default: franz-go's)
	// or "raw" (gale's own batch producer: one RecordBatch built at the
	// start and resent, Batch.MaxMessages records a batch, or as many as
	// fit Batch.MaxBytes; no keys, no compression, acks all or 1).
	Producer string `yaml:"producer" json:"producer"`
	// Rate, when positive, overrides ProducerRate (msg/s, all producers).
	Rate int `yaml:"rate" json:"rate"`
	// Duration, when positive, overrides TestDurationMinutes ("30s", "2m").
	Duration time.Duration `yaml:"duration" json:"duration_ns"`
	// Warmup, when positive, overrides WarmupDurationMinutes.
	Warmup time.Duration `yaml:"warmup" json:"warmup_ns"`
	// MaxInFlight bounds each producer's unacknowledged messages, so a
	// closed-loop run cannot buffer without limit. Default 10,000.
	MaxInFlight int `yaml:"maxInFlight" json:"maxInFlight"`
	// Prefetch is how many unacknowledged messages a consumer may hold:
	// RabbitMQ's basic.qos prefetch count, NATS's pull batch size, and,
	// with a consumer model, the most records of a Kafka poll (unused on
	// Kafka otherwise). Default 1000.
	Prefetch int `yaml:"prefetch" json:"prefetch"`
	// Messages, when positive, bounds each run to this many messages in
	// all (warmup included). Default 0: bounded by time only.
	Messages int64 `yaml:"messages" json:"messages,omitempty"`
	// Sweep runs the workload once per value of one field.
	Sweep *Sweep `yaml:"sweep" json:"sweep,omitempty"`
	// FindMaxRate, when set, searches for the highest sustainable rate
	// instead of running once (see FindMaxRate). OMB finds the max rate
	// when producerRate is 0; gale runs closed loop then, which measures
	// max throughput directly, and searches only when asked.
	FindMaxRate *FindMaxRate `yaml:"findMaxRate" json:"findMaxRate,omitempty"`
	// Consumer is the consumer processing model (processing time, poison
	// messages, retries, dead letters, commit mode; see ConsumerModel).
	// Default none: consumers only count what they receive.
	Consumer *ConsumerModel `yaml:"consumer" json:"consumer,omitempty"`
}

// FindMaxRate configures the max-sustainable-rate search. A closed-loop
// probe bounds the rate from above; then open-loop probes bisect between
// the highest rate that held and the lowest that did not. A rate holds
// when, over the probe, the publish rate reached 95% of it, the backlog at
// the end is at most half a second of messages, nothing failed, and the
// p99 latency (end to end, or publish latency without consumers) is at
// most P99. The search stops when the bracket is narrower than Precision
// of its top, or after MaxProbes probes.
type FindMaxRate struct {
	// P99 is the latency limit. Default 5 ms (DESIGN's budget).
	P99 time.Duration `yaml:"p99" json:"p99_ns"`
	// Probe is each probe's measured duration. Default the workload's
	// duration.
	Probe time.Duration `yaml:"probe" json:"probe_ns"`
	// Precision is the relative width at which the search stops. Default
	// 0.05.
	Precision float64 `yaml:"precision" json:"precision"`
	// MaxProbes bounds the probes, the closed-loop one included. Default 10.
	MaxProbes int `yaml:"maxProbes" json:"maxProbes"`
}

// Batching bounds a producer's batches. What a driver makes of it:
// Kafka targets cap batch bytes at min(MaxBytes, MaxMessages x record
// size), at least 512 B (franz-go's floor), and linger Linger; AMQP and
// NATS have no batches (Workload.MaxInFlight bounds the publishes awaiting
// confirmation there).
type Batching struct {
	// MaxMessages is the most messages in one batch. Default 0: no limit
	// but MaxBytes.
	MaxMessages int `yaml:"maxMessages" json:"maxMessages"`
	// MaxBytes is the most bytes in one batch. Default 1 MiB.
	MaxBytes int `yaml:"maxBytes" json:"maxBytes"`
	// Linger is how long a producer waits to fill a batch. Default 1 ms.
	Linger time.Duration `yaml:"linger" json:"linger_ns"`
}

// Sweep names one field, by its YAML path (for example "batch.maxMessages"
// or "messageSize"), and the values it takes, one run per value.
type Sweep struct {
	Field  string   `yaml:"field" json:"field"`
	Values []string `yaml:"values" json:"values"`
}

// Key distributors (Workload.KeyDistributor).
const (
	NoKey         = "NO_KEY"
	KeyRoundRobin = "KEY_ROUND_ROBIN"
	RandomNano    = "RANDOM_NANO"
)

// ErrWorkload marks every workload error (parse or validation).
var ErrWorkload = errors.New("loadgen: bad workload")

func werr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrWorkload}, args...)...)
}

// Subscriptions returns SubscriptionsPerTopic with its default.
func (w Workload) Subscriptions() int {
	if w.SubscriptionsPerTopic == nil {
		return 1
	}
	return *w.SubscriptionsPerTopic
}

// TotalRate is the configured publish rate in msg/s; 0 means closed loop.
func (w Workload) TotalRate() int {
	if w.Rate > 0 {
		return w.Rate
	}
	return w.ProducerRate
}

// Validate returns a copy of w with defaults filled in, or an error naming
// the first bad field. w itself is never modified.
func (w Workload) Validate() (Workload, error) {
	if w.Name == "" {
		w.Name = "workload"
	}
	defInt(&w.Topics, 1)
	defInt(&w.PartitionsPerTopic, 1)
	defInt(&w.ProducersPerTopic, 1)
	defInt(&w.ConsumerPerSubscription, 1)
	defInt(&w.RandomizedPayloadPoolSize, 1000)
	defInt(&w.MaxInFlight, 10000)
	defInt(&w.Prefetch, 1000)
	defInt(&w.Batch.MaxBytes, 1<<20)
	if w.PayloadFile == "" {
		defInt(&w.MessageSize, 1024)
	}
	if w.SubscriptionsPerTopic != nil {
		v := *w.SubscriptionsPerTopic
		w.SubscriptionsPerTopic = &v // never share the caller's pointer
	}
	if w.UseRandomizedPayloads && w.RandomBytesRatio == 0 {
		w.RandomBytesRatio = 1
	}
	if w.Batch.Linger == 0 {
		w.Batch.Linger = time.Millisecond
	}
	if w.KeyDistributor == "" {
		w.KeyDistributor = NoKey
	}
	if w.Compression == "" {
		w.Compression = "none"
	}
	if w.BacklogBytes == 0 {
		w.BacklogBytes = int64(w.ConsumerBacklogSizeGB) << 30
	}
	if w.Producer == "" {
		w.Producer = "client"
	}
	if w.Acks == "" {
		w.Acks = "all"
	}
	if w.Duration == 0 {
		w.Duration = time.Duration(w.TestDurationMinutes) * time.Minute
		if w.Duration == 0 {
			w.Duration = time.Minute
		}
	}
	if w.Warmup == 0 {
		w.Warmup = time.Duration(w.WarmupDurationMinutes) * time.Minute
	}
	if f := w.FindMaxRate; f != nil {
		c := *f // never share the caller's
		if c.P99 == 0 {
			c.P99 = 5 * time.Millisecond
		}
		if c.Probe == 0 {
			c.Probe = w.Duration
		}
		if c.Precision == 0 {
			c.Precision = 0.05
		}
		defInt(&c.MaxProbes, 10)
		w.FindMaxRate = &c
		if c.P99 < 0 || c.Probe < 0 || c.Precision < 0 || c.Precision >= 1 || c.MaxProbes < 2 {
			return w, werr("findMaxRate: p99 and probe must be positive, precision within (0, 1), maxProbes >= 2")
		}
		if w.Sweep != nil {
			return w, werr("findMaxRate and sweep cannot be combined yet")
		}
	}
	if w.Consumer != nil {
		m, err := w.Consumer.validate() // a copy: never share the caller's
		w.Consumer = &m
		if err != nil {
			return w, err
		}
		if w.Producer == "raw" {
			return w, errConsumerModelRaw
		}
	}
	return w, w.check()
}

func defInt(p *int, def int) {
	if *p == 0 {
		*p = def
	}
}

// check reports the first out-of-range field of a defaulted workload.
func (w Workload) check() error {
	for _, c := range []struct {
		name string
		v    int
		min  int
	}{
		{"topics", w.Topics, 1}, {"partitionsPerTopic", w.PartitionsPerTopic, 1},
		{"producersPerTopic", w.ProducersPerTopic, 1}, {"consumerPerSubscription", w.ConsumerPerSubscription, 1},
		{"subscriptionsPerTopic", w.Subscriptions(), 0}, {"producerRate", w.ProducerRate, 0},
		{"rate", w.Rate, 0}, {"maxInFlight", w.MaxInFlight, 1}, {"prefetch", w.Prefetch, 1}, {"batch.maxMessages", w.Batch.MaxMessages, 0},
		{"batch.maxBytes", w.Batch.MaxBytes, 1}, {"randomizedPayloadPoolSize", w.RandomizedPayloadPoolSize, 1},
		{"messageSize", w.MessageSize, 0}, {"testDurationMinutes", w.TestDurationMinutes, 0},
		{"warmupDurationMinutes", w.WarmupDurationMinutes, 0}, {"consumerBacklogSizeGB", w.ConsumerBacklogSizeGB, 0},
	} {
		if c.v < c.min {
			return werr("%s = %d, want >= %d", c.name, c.v, c.min)
		}
	}
	switch {
	case w.MessageSize > 64<<20:
		return werr("messageSize = %d, want <= 64 MiB", w.MessageSize)
	case w.RandomBytesRatio < 0 || w.RandomBytesRatio > 1:
		return werr("randomBytesRatio = %v, want within [0, 1]", w.RandomBytesRatio)
	case w.Duration < 0 || w.Warmup < 0 || w.Batch.Linger < 0:
		return werr("duration, warmup and batch.linger must not be negative")
	case w.BacklogBytes < 0:
		return werr("backlogBytes = %d, want >= 0", w.BacklogBytes)
	case w.Messages < 0:
		return werr("messages = %d, want >= 0", w.Messages)
	case w.Topics*w.PartitionsPerTopic > 100000:
		return werr("topics x partitionsPerTopic = %d, want <= 100000", w.Topics*w.PartitionsPerTopic)
	}
	switch w.KeyDistributor {
	case NoKey, KeyRoundRobin, RandomNano:
	default:
		return werr("keyDistributor %q, want NO_KEY, KEY_ROUND_ROBIN or RANDOM_NANO", w.KeyDistributor)
	}
	switch w.Compression {
	case "none", "gzip", "snappy", "lz4", "zstd":
	default:
		return werr("compression %q, want none, gzip, snappy, lz4 or zstd", w.Compression)
	}
	switch w.Producer {
	case "client":
	case "raw":
		if w.Compression != "none" || w.Acks == "0" {
			return werr("producer raw sends uncompressed batches with acks all or 1")
		}
	default:
		return werr("producer %q, want client or raw", w.Producer)
	}
	switch w.Acks {
	case "all", "1", "0", "-1":
	default:
		return werr("acks %q, want all, 1 or 0", w.Acks)
	}
	return nil
}
