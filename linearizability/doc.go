// Package linearizability judges recorded histories: porcupine
// linearizability per topic-partition with a state that does not grow, and
// a linear, Jepsen-style pass that names anomalies (lost write, duplicate,
// inconsistent offset, skip, non-monotonic read or send, aborted read,
// unseen, stale read, committed offset gone backwards). It reads histories
// only, never broker or loadgen internals, so it judges every broker alike.
//
// # Histories
//
// A history is JSON Lines, one completed operation per line (Op; Reader
// reads, Recorder writes). These fields are fixed; others may be added and
// are ignored:
//
//	client     int     every line     the client; its operations are sequential
//	op         string  every line     produce | fetch | commit | fetch_committed
//	status     string  every line     ok | fail (definitely no effect) | unknown (maybe)
//	topic      string  every line
//	partition  int     every line     >= 0
//	call_ns    int     every line     monotonic, one clock for all clients
//	return_ns  int     every line     >= call_ns
//	offset     int     produce ok     the base offset assigned
//	                   fetch          the first offset read
//	                   commit         the offset committed
//	                   fetch_committed ok: the committed offset read, -1 for none
//	values     [str]   produce        the batch sent, at least one value
//	                   fetch ok       the records read, consecutive from offset; may be []
//	group      string  commit, fetch_committed
//
// Where a field does not apply it may be absent and is ignored. Blank lines
// are skipped. A line that is not a JSON object, names an unknown op or
// status, lacks a field it needs, holds an out-of-range value or returns
// before it was called is an error naming its line (*LineError).
//
// The checks assume what gale's loadgen provides: values are unique within a
// topic-partition (a value sent again is a retry of the same message); each
// record takes one offset, so offsets are dense (no transaction markers, no
// compaction); a consumer client reads forward, a client that seeks starts
// a new client id; the consumers together read each partition from the
// first offset the history names.
//
// # Linearizability
//
// With Expect = Linearizable, porcupine searches each partition for a single
// log that every produce and fetch fits, in an order consistent with real
// time. The sequential specification: an acked produce of n values at
// offset o is legal iff o is the log's end, which then advances by n; a
// fetch at o returning values v is legal iff v is non-empty and the log
// holds v at [o, o+len(v)) (any non-empty prefix of what exists), or v is
// empty and o is at or past the end. A produce with status unknown returns
// "at infinity", so it may be placed anywhere after its call; placed while
// the log ends within the offsets anyone observed, it appends; placed past
// them it changes nothing, since there taking effect cannot be told from
// never happening, and a no-op keeps the order of such produces from
// mattering to the search (without it, a few unread unknown produces made
// the search time out). Failed produces and unsuccessful fetches are left
// out.
//
// The state does not grow: the log's length past the partition's first
// offset and a chained hash of its values (logState). Reads cannot be
// checked against a hash, so values are checked against an offset table
// built before the search from every acked produce and successful fetch:
// the first value anyone put at each offset. An acked produce or a fetch
// that disagrees with the table can never be placed (the history is not
// linearizable, and the linear pass names the inconsistent offset); an
// unknown produce may take the end of the log only where its values match
// the table or nothing was seen. This is sound and complete: in any
// linearization every offset below the end is filled by exactly one
// placed produce, each checked against the table wherever anyone observed
// that offset, so every fetch reads the values the linearized log holds;
// conversely a real execution of a correct broker fills each observed
// offset with the value observed there, which is the table's. Two states of
// equal length therefore behave alike from then on; the hash tells apart
// logs that differ only at offsets nobody read, which costs a little
// pruning and nothing else. An unknown produce none of whose values were
// read, in a partition without a run of unseen offsets long enough to hold
// it, is left out of the search: it can only have landed past every
// observed offset, which is the no-op above.
//
// The search is NP-complete in general. It runs per partition, in parallel
// (Options.Workers), under one deadline (Options.Timeout); a partition the
// deadline cuts short is OutcomeTimedOut and the verdict Undecided unless
// something else is a violation. Porcupine runs only for Linearizable:
// delivery guarantees make no promise about recency (a poll may lag), so
// they are judged by the linear pass alone.
//
// # Anomalies
//
// The linear pass runs in O(n log n) and reports each anomaly with the
// history lines involved and a one-line explanation:
//
//	lost-write          an acked value no fetch returned, at or below the highest offset any
//	                    fetch returned (Jepsen's definition)
//	unseen              an acked value no fetch returned, above that offset, when some fetch
//	                    that began after the last ack found the end of the log (a final drain)
//	duplicate           one value observed at two offsets (acked or read)
//	inconsistent-offset one offset observed holding two values
//	skip                a consumer's next successful fetch starts past where its previous one
//	                    ended (offset + number of records)
//	nonmonotonic-read   a consumer's next successful fetch starts before that point
//	nonmonotonic-send   a producer's next acked batch lands below the end of its previous one
//	aborted-read        a fetch returned a value whose every produce failed
//	stale-read          a fetch returned nothing at offset o, though an acked produce or a
//	                    returned fetch covering o or above finished before it began (offsets
//	                    are dense, so o existed)
//	committed-offset-backwards
//	                    a fetch_committed read y though an observation of x > y (an acked
//	                    commit, or a read) finished before it began, and no commit of y (acked
//	                    or unknown) could have taken effect in between
//	nonlinearizable     porcupine found no linearization; the report names the operation
//	                    the longest partial linearizations cannot place
//
// Options.Expect decides which anomalies are violations; see Guarantee for
// the table. Every anomaly is reported either way, marked as violating or
// tolerated.
//
// # Concurrency
//
// A Reader is not safe for concurrent use; a Recorder is. Check does not
// modify its input and may run concurrently with other Checks; it starts
// its own goroutines and waits for all of them before returning. A Result
// is not modified after Check returns, and its methods only read it.
package linearizability
