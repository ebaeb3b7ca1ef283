// Package group is the broker's consumer-group coordinator for the classic
// (pre-KIP-848) group protocol, plus the group's committed offsets. It is a
// pure, deterministic state machine in the style of etcd raft's RawNode: it
// owns no goroutines, sockets, locks or clock. The same inputs in the same
// order always give the same outputs, so tests and the simulator drive it
// directly.
//
// # Contract
//
// The server feeds it two kinds of input and acts on what comes back:
//
//   - Handle(Request) takes one decoded request (kmsg) with an opaque Token
//     that the server chooses and maps back to a connection and correlation
//     id. Served: JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit,
//     OffsetFetch, DescribeGroups, ListGroups (MaxVersion gives the versions;
//     anything else returns ErrUnsupported and the server answers it).
//   - Tick(now) advances time and fires what is due: session timeouts,
//     rebalance timeouts, the initial rebalance delay, pending-member and
//     pending-sync expiry.
//
// Both return a Ready: Records to append to the offsets log, and Replies, each
// a Token with a kmsg.Response whose Version equals its request's. Persist the
// Records (AppendTo) before sending the Replies, as with raft's Ready: a
// client must not learn of a commit that a crash could lose. Every Token gets
// exactly one Reply, though not necessarily from the call that took it:
// JoinGroup waits for the rebalance to complete and SyncGroup for the
// leader's assignment, so their replies come out of a later Handle or Tick.
// Every wait is bounded by a rebalance or session timeout, so a server that
// keeps ticking sees every Token answered. A Reply to a Token whose
// connection has closed is simply dropped. Kafka answers a connection's
// requests in order, so a server that pipelines must hold a connection's
// later responses behind its pending JoinGroup or SyncGroup.
//
// A short flow, three consumers on v5 (JoinGroup v4+ first answers
// MEMBER_ID_REQUIRED with an assigned member id, and the client joins again
// with it):
//
//	c.Handle(Request{Token: 1, Msg: join("")})   // -> reply 1: MEMBER_ID_REQUIRED, id m1
//	c.Handle(Request{Token: 2, Msg: join("m1")}) // -> nothing yet: group is PreparingRebalance
//	...                                          // m2, m3 join the same way (tokens 3..6)
//	                                             // -> when all have joined: replies 2, 4, 6,
//	                                             //    generation 1, leader m1 gets the member list
//	c.Handle(Request{Token: 7, Msg: sync("m2")}) // -> nothing yet: waits for the leader
//	c.Handle(Request{Token: 8, Msg: sync("m1", assignments...)})
//	                                             // -> replies 7 and 8 with assignments; Stable
//	c.Tick(now)                                  // -> members that stopped heartbeating expire
//
// # Time
//
// Time is a time.Duration since an origin the server picks (for example
// time.Since(start)); the coordinator starts at zero and only moves forward
// (a Tick with an earlier time is ignored). Requests are stamped with the
// time of the latest Tick, so deadlines are accurate to the tick interval:
// tick every 100 ms or so, well under the smallest session timeout (6 s by
// default). Timeouts fire on the first Tick at or past their deadline.
//
// # Offsets and durability
//
// Committed offsets live in memory (group -> topic -> partition). Each
// accepted commit also comes out as an OffsetRecord, a small versioned binary
// record (see OffsetRecord.AppendTo) for the server to append to an internal
// log; on restart, Restore each record in log order to rebuild the offsets
// (last record wins). A record with Offset -1 is a tombstone: a commit of -1
// deletes the committed offset, which OffsetFetch cannot tell from "never
// committed" anyway. Group membership is not persisted: after a restart
// members get UNKNOWN_MEMBER_ID and rejoin, as after a coordinator move in
// Kafka. Config.MemberIDSalt keeps member ids of different runs apart.
//
// # Concurrency
//
// A Coordinator is not safe for concurrent use; one goroutine owns it and
// calls Handle, Tick and Restore. It copies what it keeps from requests
// (protocol metadata, assignments), so request buffers may be reused, and
// responses are fresh values owned by the caller.
//
// # Simplifications
//
// Semantics follow Apache Kafka's classic GroupCoordinator (3.x), with these
// differences:
//
//   - Static membership (group.instance.id) is kept simple: the instance id
//     is stored and echoed, requests carrying a stale member id for a known
//     instance get FENCED_INSTANCE_ID, LeaveGroup accepts an instance id,
//     and a JoinGroup with a known instance id and no member id replaces
//     (fences) the old member; but that replacement always triggers a full
//     rebalance (no KIP-345 "rejoin without rebalance", JoinGroup v9
//     SkipAssignment is always false), and a static member that stops
//     heartbeating is removed on session timeout like any other.
//   - The protocol is chosen as in Kafka, by one vote per member for its
//     most preferred protocol that every member supports; ties go to the
//     leader's order (Kafka breaks ties arbitrarily).
//   - Group metadata is not persisted, KIP-394's separate new-member join
//     timeout is not modelled (a new member awaiting its join is bounded by
//     the rebalance timeout), and an Empty group without committed offsets
//     or pending members is forgotten at once (Kafka keeps it until offset
//     retention cleans it up), so its generation restarts at 1.
//   - Offsets never expire (no offsets.retention.minutes; OffsetCommit's
//     retention time and v1 timestamp are ignored), topics and partitions
//     are not checked for existence, there are no transactional offsets
//     (OffsetFetch's RequireStable is ignored) and no ACLs (DescribeGroups
//     reports every group operation as authorized).
//   - OffsetCommit and OffsetFetch are served up to v8 (v8 is OffsetFetch's
//     multi-group form); later versions carry KIP-848 member epochs or
//     topic ids. DeleteGroups, OffsetDelete and the KIP-848
//     ConsumerGroupHeartbeat are not served.
package group
