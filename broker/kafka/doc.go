// Package kafka is the Kafka-protocol server of gale's reference broker: it
// accepts Kafka client connections, decodes requests with franz-go's kmsg,
// and serves them from one seglog.Log per partition.
//
// # Contract
//
// A Server owns a data directory holding one sub-directory per partition,
// <Dir>/<topic>-<partition>/, and meta.json, which records the cluster id and
// every topic (name, id, partition count) so a restart reopens them. Batches
// are stored exactly as producers sent them (RecordBatch v2, compressed or
// not) and served back as they are: the Fetch path writes slices of the
// mapped segments with one vectored write (net.Buffers, writev) behind a
// hand-encoded response header, so record bytes are never copied in user
// space.
//
// Every file operation of a Server goes through one file seam,
// Config.Log.FS (package vfs; default the real filesystem): the partition
// logs, the offsets log, meta.json, the producer-id file, listing the
// partition directories at start and removing them when a topic is
// deleted. With a vfs.Mem the whole broker runs in memory and can be
// crashed: Abandon stops it as kill -9 would, and a CrashClone of the Mem
// is what a power loss would leave.
//
// The broker is a single node: it leads every partition, its replica set and
// ISR are itself, and the high watermark (and last stable offset) of a
// partition is its log end offset.
//
// Each API key lives in its own file (00_produce.go, 01_fetch.go, ...) that
// opens with the versions served and what is simplified; dispatch.go holds
// the table that routes keys to them and advertises their versions.
//
// # Consumer groups and the offsets log
//
// The group APIs (OffsetCommit, OffsetFetch, JoinGroup, Heartbeat,
// LeaveGroup, SyncGroup, DescribeGroups, ListGroups) are served by package
// group's deterministic state machine, which one goroutine owns: handlers
// submit their request as a closure on a channel and wait for the reply, and
// the goroutine ticks the machine every 100 ms with the time since New.
// FindCoordinator names this broker for every group.
//
// Committed offsets are kept in memory and in the offsets log,
// <Dir>/__gale_offsets/: a seglog.Log (segments of at most 16 MiB, the
// partitions' flush policy, no retention) that is not a topic: it is not in
// meta.json, Metadata or any topic listing. Each accepted commit is
// appended as uncompressed batches holding one record per partition, whose
// value is a group.OffsetRecord (AppendTo), and made as durable as
// Config.Log.Flush says (under FlushAlways, fsynced) before the
// OffsetCommit response goes out; a commit that cannot be appended is
// undone and answered NOT_COORDINATOR. New replays the whole log, in order,
// into the state machine (the last record of a partition wins; offset -1
// deletes). The log is never compacted: it grows with every commit and a
// restart reads all of it. Group membership is not persisted: after a
// restart, members rejoin.
//
// # Connections
//
// Each connection has a reading goroutine, which decodes and handles its
// requests one at a time in arrival order, and a writing goroutine, which
// writes the responses in the same order while the next request is handled.
// A long-polling Fetch, or a JoinGroup or SyncGroup waiting for the other
// members, therefore delays only later requests on its own connection, as
// in Kafka. A request that cannot be decoded, names an
// unknown API key or version, or announces more than MaxRequestBytes closes
// its connection with one log line; other connections are unaffected.
//
// # Concurrency
//
// Server's methods are safe for concurrent use. Serve may be called on
// several listeners. Close stops every listener and connection, waits for
// their goroutines (a request waiting for the group coordinator ends its
// connection), then closes every log (flush and checkpoint). Abandon stops
// the same goroutines without any flush, and returns once none of them can
// touch the filesystem.
//
// # Bug switches
//
// Config.Bugs (bugs.go) makes the broker deliberately wrong in one named
// way: lose the acked tail on restart, duplicate or reorder batches, serve
// stale or skipping fetches, fail after appending, forget commits. They
// exist only as negative controls: the tests in package scenarios prove
// that the checkers in package linearizability catch each one. The zero
// value is a correct broker; New logs a warning when any switch is on.
package kafka
