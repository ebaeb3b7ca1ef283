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
// producer (client or raw), rate, duration, warmup, maxInFlight, prefetch
// (also a Kafka consumer's records per poll under a consumer model),
// messages, backlogBytes, sweep (one field, a list of values: one run per
// value), findMaxRate and consumer (below). An unknown field is an error naming it and its
// line. consumerBacklogSizeGB (or backlogBytes) runs the replay test:
// consumers start once the backlog is built and their catch-up is
// reported. backlogDrainRatio is accepted and ignored. Where OMB runs its
// max-rate finder for producerRate 0, gale runs closed loop (max
// throughput) and searches only when findMaxRate is set.
//
// # Consumer processing model
//
// A workload's consumer section (ConsumerModel) makes consumers do what
// real ones do with each message, on the consumer's goroutine, a poll's
// records in order:
//
//	consumer:
//	  processing: 2ms      # fixed; or {distribution: exponential|uniform|normal, mean: 2ms, max: 20ms, stddev: 0.5ms}
//	  poisonRate: 0.001    # fraction of messages whose processing always fails
//	  retries: 3           # attempts after the first, before dead-lettering
//	  deadLetter: true     # send what exhausts its retries to the dead-letter destination
//	  commit: after        # before processing (at-most-once) | after (at-least-once)
//
// processing is each attempt's duration: a fixed one, or drawn per attempt
// from the consumer's own seeded source (exponential with the mean;
// uniform on [0, 2 x mean]; normal with stddev, default mean/4), capped at
// max (default 10 x mean) and at 0. Times under 500 µs are spent spinning
// (yielding between clock reads), longer ones asleep. poisonRate (default
// 0): the producer marks a message poison at send (a pure function of the
// run's seed, the producer and the sequence number) in a gale-poison
// header; every attempt on it fails. retries (default 0) follow at once.
// A message that exhausts them is dead-lettered when deadLetter is true
// (default false: discarded, i.e. acked and counted as discarded). The
// dead-letter destination is, on Kafka targets (embedded, kafka://), the
// topic <topic>-dlq, produced to by the consumer's own client, acks all,
// before the commit; on RabbitMQ the queue's x-dead-letter-exchange
// <topic>-dlx (a fanout, bound to the durable queue <topic>-dlq), the
// message nacked with requeue=false after its retries; on NATS JetStream
// the stream (and subject) <topic>-dlq, published to with a PubAck, then
// the message is terminated (Term): the dead letter keeps the body and
// headers, and no AckWait-long redelivery rounds are spent, which
// MaxDeliver and its advisory (a stream sequence only) would cost.
// commit (default after): Kafka consumers turn autocommit off, block
// rebalances while a poll (at most prefetch records) is processed, and
// commit the poll's offsets before processing it or after it (and after
// its dead letters were acknowledged); RabbitMQ and NATS consumers ack
// each message before processing it, or after. With commit before, a
// dead letter on RabbitMQ is published to the dead-letter exchange by the
// consumer (the message is acked already), and on NATS not terminated.
// The raw producer cannot carry the headers, so it takes no consumer
// section.
//
// With a consumer model every message carries gale-msg (producer index
// and sequence number), so the run counts distinct messages per
// subscription (a bitset per producer), and Summary.Consumer (and each
// Interval's) reports consumed_distinct, redelivered, processed,
// retried, dead_lettered, discarded and their rates, and the check
// processed + dead_lettered + discarded == consumed_distinct (balanced;
// unfinished is the difference: what commit before lost in a crash).
// Consumed and the backlog then count distinct messages, and the drain
// waits until every distinct message ended or no consumer holds one.
//
// # Control: crashing a consumer
//
// Config.Control takes a *Control that another goroutine acts on while
// Run runs: CrashConsumer(restartAfter) ends one consumer group member
// abruptly (chosen with the run's seed) and starts a replacement member of
// the same subscription restartAfter later. On Kafka targets the member's
// connections are cut and its client closed with no LeaveGroup, so the
// group rebalances when its session times out: with a Control, Kafka
// consumers use a 6 s session timeout (the broker minimum), 1 s
// heartbeats and a 15 s rebalance timeout. RabbitMQ and NATS members are
// closed (unacked messages are requeued; NATS consumers then use a 5 s
// AckWait). The notes record the crash and the replacement's start;
// a recorded history shows each member's assignments as clients of
// their own.
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
// Producers sleep until a message is due, and spin (yield between clock
// reads) only for the last 1/20 of the time between messages, at most
// 1 ms (pacing.go, spinMax): a busy-waiting pacer would take the cores
// the system under test needs, so the harness pays Go's timer resolution
// instead (an idle process wakes up to 1 ms late), as publish delay.
// Times come from one clock (nowNs, pacing.go): the wall time at start
// plus the monotonic clock, read once per message sent and once per ack;
// a consumer that receives in batches (a Kafka poll) reads it once per
// batch, so its records share a receive time. A producer that takes
// messages in batches (the null target's) is handed, at each clock read,
// every message due by then (up to 256): each keeps its own intended
// time, and its publish delay is that read minus it. The Kafka driver's record
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
// Run may be called concurrently with different Configs (and different
// Controls). A Control's methods are safe for concurrent use with Run. A Driver is used
// from several goroutines; each Producer and Consumer from one, except
// that Send's callbacks run on driver goroutines. Config.Progress and
// Config.Logf are called from Run's goroutine. Imports point down: loadgen
// uses broker/kafka (embedded), broker/record (raw batches) and
// linearizability (the history format), never the reverse.
package loadgen
