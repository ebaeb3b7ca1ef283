// Package producer is the broker's bookkeeping for idempotent producers: it
// hands out producer ids (IDs) and, per partition, decides whether a
// producer's batch is new, a retry of a batch already in the log, or out of
// order (State). It is a pure, deterministic state machine: no goroutines,
// no I/O, no clock. Time, where needed, is passed in as milliseconds.
//
// # Contract
//
// The partition's writer owns one State and drives it on the produce path:
//
//	d, err := st.Check(h)  // h: the header of a batch that passed record.Validate
//	switch {
//	case err != nil:       // reject: answer err.(*producer.Error).Kerr.Code, append nothing
//	case d.Duplicate:      // a retry: answer d.BaseOffset with no error, append nothing
//	default:               // append the batch; the log assigns its base offset
//		h.BaseOffset = base
//		st.Appended(h)     // only if the append succeeded
//	}
//
// Check never changes the State, so a failed append needs no undo: skip
// Appended and the State still matches the log. Appended must follow its
// Check before the next Check: a request whose records hold several batches
// is handled one batch at a time (Check, append, Appended, then the next).
//
// On restart, before serving produce requests, call Replay with the header of
// every batch of the retained log in log order, then Expire(now). Replay and
// Appended record a batch the same way, so the rebuilt State decides exactly
// as the State that wrote the log would have (up to expiry, see below). The
// whole retained log suffices and is what this package assumes: Kafka without
// a producer snapshot does the same. A shorter tail loses any producer
// whose last batch is not in it, and an unknown producer may start at any
// sequence, so a retry of one of its batches could be appended twice.
//
// Replay also tracks the largest producer id seen (MaxProducerID): seed IDs
// with at least MaxProducerID+1 of every partition, in case the persisted
// id counter was lost.
//
// # Semantics
//
// Check mirrors Apache Kafka 3.x (ProducerStateEntry, ProducerAppendInfo
// and UnifiedLog.analyzeAndValidateProducerState), in this order:
//
//   - A control batch is rejected with INVALID_RECORD, as Kafka's
//     LogValidator rejects control batches from clients. A transactional
//     batch is rejected with INVALID_TXN_STATE: gale's broker has no
//     transaction coordinator, so no transaction can be open (Kafka answers
//     the same for a transactional batch outside a verified transaction).
//   - A batch without a producer (ProducerID < 0) is appended; State keeps
//     nothing about it. A batch with a producer id but a negative
//     BaseSequence is rejected with INVALID_RECORD (LogValidator).
//   - The producer's last Retained (5) batches of its current epoch are
//     remembered. A batch with the same epoch and exactly the first and last
//     sequence of one of them is a duplicate: the server answers with that
//     batch's original offsets and no error (Kafka has not answered
//     DUPLICATE_SEQUENCE_NUMBER for years; clients treat either as success).
//   - An epoch below the producer's is rejected with INVALID_PRODUCER_EPOCH.
//   - An epoch above it must start at sequence 0, else
//     OUT_OF_ORDER_SEQUENCE_NUMBER.
//   - The same epoch must continue at the last sequence + 1, wrapping from
//     math.MaxInt32 to 0, else OUT_OF_ORDER_SEQUENCE_NUMBER. This covers
//     gaps and retries older than the last 5 batches alike.
//   - A producer id the State does not know (never seen, expired, or its
//     batches deleted before a restart) is accepted at any sequence and any
//     epoch. This is Kafka's behaviour since 2.5 (KIP-360, KAFKA-8710);
//     before, such a batch with a sequence other than 0 got
//     UNKNOWN_PRODUCER_ID, which this package never returns.
//
// A batch's last sequence is BaseSequence + LastOffsetDelta, wrapping past
// math.MaxInt32 to 0, as in Kafka's DefaultRecordBatch.incrementSequence.
//
// # Expiry
//
// Expire(now) forgets producers whose last batch's MaxTimestamp is
// Options.ExpirationMs (Kafka's producer.id.expiration.ms, default one day)
// or more before now; Kafka checks every producer.id.expiration.check.interval.ms
// (10 minutes), which is a fine period for calling Expire. An expired
// producer is unknown again, so its next batch is accepted at any sequence.
// With CreateTime topics MaxTimestamp is the producer's clock, as in Kafka.
//
// # Concurrency
//
// Neither State nor IDs is safe for concurrent use; the caller serializes
// (the server calls a partition's State under that partition's append lock,
// and IDs under its own lock). Check and Appended allocate nothing for a
// producer the State already knows.
//
// # Simplifications
//
//   - No transactions: no transactional batches, control records, last
//     stable offset or aborted-transaction index.
//   - No producer-state snapshots: restart replays the whole retained log.
//     Consequently a producer whose batches have all been deleted by
//     retention is forgotten at restart even if it has not expired, whereas
//     the running State keeps it until it expires (Kafka's snapshots keep
//     it across restarts).
//   - A batch with a producer id and a negative epoch is rejected with
//     INVALID_RECORD; Kafka would accept it and track nothing useful.
//   - No replication origin: every Check is a client append.
package producer
