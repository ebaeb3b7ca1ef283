// Package loadgen drives a workload against a broker and measures it:
// publish and consume rates, throughput by batch size, and publish and
// end-to-end latency percentiles that a stalled broker cannot hide.
//
// # Workloads
//
// A Workload is an OpenMessaging Benchmark workload file, read as it is
// (name, topics, partitionsPerTopic, messageSize, payloadFile,
// useRandomizedPayloads, randomBytesRatio, randomizedPayloadPoolSize,
// keyDistributor, subscriptionsPerTopic, producersPerTopic,
// consumerPerSubscription, producerRate, consumerBacklogSizeGB,
// backlogDrainRatio, testDurationMinutes, warmupDurationMinutes), plus
// gale's fields: batch (maxMessages, maxBytes, linger), compression, acks,
// producer (client or raw), rate, duration, warmup, maxInFlight, prefetch,
// messages, backlogBytes, sweep (one field, a list of values: one run per
// value) and findMaxRate. An unknown field is an error naming it and its
// line. consumerBacklogSizeGB (or backlogBytes) runs the replay test:
// consumers start once the backlog is built and their catch-up is
// reported. backlogDrainRatio is accepted and ignored. Where OMB runs its
// max-rate finder for producerRate 0, gale runs closed loop (max
// throughput) and searches only when findMaxRate is set.
//
// # Targets and drivers
//
// A Driver connects the load loops to one kind of broker, each in its own
// file: embedded (gale's broker in-process, on a temporary directory and a
// loopback port), kafka (franz-go, with TLS and SASL), amqp (RabbitMQ:
// fanout exchange per topic, durable queue per subscription, persistent
// messages, publisher confirms, prefetch), nats (JetStream: file stream,
// async publish, durable pull consumer) and null (acks at once: the
// harness alone). gale's raw batch producer (driver_raw.go) builds one
// RecordBatch v2 and resends it through kmsg. Every message carries its
// send timestamp, Unix nanoseconds, in a header (gale-sent-ns), so
// end-to-end latency has microsecond precision; across machines it is
// only as good as their clock sync.
//
// # Measurement
//
// Closed loop (rate 0): each producer sends as fast as its in-flight
// window (maxInFlight) allows; latency counts from the actual send.
// Open loop (rate > 0): message i of a producer is due at start + i/rate,
// and publish and end-to-end latency count from that intended time, so a
// stall delays every message due during it (no coordinated omission);
// how late the harness actually sent is reported apart, as publish delay.
// Times come from one clock (nowNs, pacing.go): the wall time at start
// plus the monotonic clock, read once per message sent and once per ack;
// a consumer that receives in batches (a Kafka poll) reads it once per
// batch, so its records share a receive time. The Kafka driver's record
// timestamp is the message's send timestamp.
// Latencies go into HdrHistograms (1 ns to 1 h, 3 significant digits),
// one window per producer and consumer, swapped out once per interval
// (1 s) into per-interval figures and, after the warmup, into the totals.
// Every load loop is bounded: producers by the duration (and messages),
// the drain after them by Config.DrainTimeout, joining by ReadyTimeout.
//
// # Results
//
// Run returns Results, written as results.json (SchemaVersion); each run's
// interval histograms go to an .hlog (HdrHistogram log v1.3, tags
// publish, publish_delay, e2e, nanoseconds), which HdrHistogram tools can
// merge across machines. Targets are recorded without credentials, and
// Security's fields are never printed or recorded.
//
// # History
//
// Config.History (gale loadgen --history FILE) records the run's
// operations for package linearizability, on kafka and embedded targets
// with the client producer (history.go): each record carries a value
// unique in its partition, "<producer client>-<seq>", in a gale-id
// header; each produced record is a produce operation (ok with its
// offset, fail only for an error code that rejects it, unknown
// otherwise), each partition's records in a poll a fetch operation (its
// first record's offset and the values in order), each partition
// assignment of a group member a client of its own. Timestamps are
// nanoseconds since Run began, on the monotonic clock.
//
// # Concurrency
//
// Run may be called concurrently with different Configs. A Driver is used
// from several goroutines; each Producer and Consumer from one, except
// that Send's callbacks run on driver goroutines. Config.Progress and
// Config.Logf are called from Run's goroutine. Imports point down: loadgen
// uses broker/kafka (embedded), broker/record (raw batches) and
// linearizability (the history format), never the reverse.
package loadgen
