// Package linearizability judges recorded histories: porcupine
// linearizability per topic-partition with a state that does not grow, and
// a linear, Jepsen-style pass that names anomalies (lost write, duplicate,
// inconsistent offset, skip, non-monotonic read or send, aborted read,
// stale read). It reads histories only, never broker or loadgen internals,
// so it judges every broker alike.
//
// The package holds no code yet (issue 5).
package linearizability
