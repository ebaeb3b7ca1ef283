package seglog

import (
	"fmt"
	"time"

	"gale/broker/vfs"
)

// FlushPolicy says when appended bytes are made durable (fsync).
type FlushPolicy int

const (
	// FlushNever leaves appended bytes in the page cache: they survive a
	// process crash (kill -9) but not a power loss. Sealed segments are still
	// synced in the background when the log rolls, as Kafka does, so the
	// recovery point advances.
	FlushNever FlushPolicy = iota
	// FlushInterval syncs in the background every Options.FlushInterval.
	FlushInterval
	// FlushAlways makes Append return only after an fsync that covers it.
	// Appends that wait at the same time share one fsync (group commit).
	FlushAlways
)

// ParseFlushPolicy parses "never", "interval" or "always".
func ParseFlushPolicy(s string) (FlushPolicy, error) {
	switch s {
	case "never":
		return FlushNever, nil
	case "interval":
		return FlushInterval, nil
	case "always":
		return FlushAlways, nil
	}
	return 0, fmt.Errorf("seglog: unknown flush policy %q (want never, interval or always)", s)
}

func (p FlushPolicy) String() string {
	switch p {
	case FlushNever:
		return "never"
	case FlushInterval:
		return "interval"
	case FlushAlways:
		return "always"
	}
	return fmt.Sprintf("FlushPolicy(%d)", int(p))
}

// MaxSegmentBytes is the largest segment: index positions are 32-bit.
const MaxSegmentBytes = 1<<31 - 1

// Options configures a Log. The zero value gives Kafka's defaults. Open works
// on a copy; the caller's Options are never modified.
type Options struct {
	// FS is the file layer. Default vfs.DefaultOS (mmap'd files on disk).
	FS vfs.FS
	// SegmentBytes is the size at which the active segment rolls; segment
	// files are preallocated to it. Default 1 GiB, at most MaxSegmentBytes.
	SegmentBytes int64
	// SegmentAge rolls a non-empty active segment this long after it was
	// created (checked on append). Default 7 days.
	SegmentAge time.Duration
	// RetentionAge deletes sealed segments whose newest batch timestamp is
	// older than this. Default 7 days; negative means no time limit.
	RetentionAge time.Duration
	// RetentionBytes deletes the oldest sealed segments while the log stays
	// at least this large without them. Default -1: no size limit.
	RetentionBytes int64
	// Flush is the durability policy. Default FlushNever.
	Flush FlushPolicy
	// FlushInterval is the background sync period under FlushInterval.
	// Default 1 s.
	FlushInterval time.Duration
	// CheckpointInterval is the least time between two recovery checkpoints
	// written after background syncs. Default 1 s.
	CheckpointInterval time.Duration
	// IndexIntervalBytes is how many bytes are appended between two sparse
	// index entries. Default 4096.
	IndexIntervalBytes int
	// VerifyAll makes Open verify every batch of every segment instead of
	// trusting what the recovery checkpoint covers. Recovery then reads all
	// the data; use it to check a log, not on every start.
	VerifyAll bool
	// Now is the clock; it is called from the log's flusher goroutine too,
	// so it must be safe for concurrent use. Default time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() (Options, error) {
	if o.FS == nil {
		o.FS = vfs.DefaultOS
	}
	if o.SegmentBytes == 0 {
		o.SegmentBytes = 1 << 30
	}
	if o.SegmentBytes < 1024 || o.SegmentBytes > MaxSegmentBytes {
		return o, fmt.Errorf("seglog: SegmentBytes %d out of range [1024, %d]", o.SegmentBytes, MaxSegmentBytes)
	}
	if o.SegmentAge == 0 {
		o.SegmentAge = 7 * 24 * time.Hour
	}
	if o.RetentionAge == 0 {
		o.RetentionAge = 7 * 24 * time.Hour
	}
	if o.RetentionBytes == 0 {
		o.RetentionBytes = -1
	}
	if o.Flush < FlushNever || o.Flush > FlushAlways {
		return o, fmt.Errorf("seglog: invalid flush policy %d", int(o.Flush))
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = time.Second
	}
	if o.CheckpointInterval <= 0 {
		o.CheckpointInterval = time.Second
	}
	if o.IndexIntervalBytes <= 0 {
		o.IndexIntervalBytes = 4096
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}
