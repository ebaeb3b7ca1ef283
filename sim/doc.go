// Package sim injects faults while load runs: process kill, pause and
// restart; a TCP fault proxy (latency, jitter, bandwidth, partitions,
// resets); disk faults through the partition log's file seam (lose unsynced
// writes, tear the tail, flip bits, fail fsync). Every fault is a printable
// value parsed back from the same text, and a run's schedule comes from one
// seeded source, so a seed replays a run exactly.
//
// The package holds no code yet (issue 6); the seams it will drive exist:
// broker/vfs.Mem.CrashClone and broker/seglog.Log.Abandon.
package sim
