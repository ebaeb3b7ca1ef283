package kafka

// Bug switches: deliberately broken behaviour for negative controls only.
// Every checker of package linearizability must be shown to catch
// something; these switches give it something to catch. The zero Bugs is a
// correct broker and costs one nil check per produce, fetch and partition
// read.

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/twmb/franz-go/pkg/kmsg"

	"gale/broker/record"
	"gale/broker/seglog"
	"gale/broker/vfs"
)

// Bugs is deliberately broken behaviour for negative controls only: each
// switch makes the broker break its contract in one small, deterministic
// way (counters, no randomness), so that a test can show the history
// checker catches it. The zero value is a correct broker. Never set these
// outside tests and demonstrations; New logs a warning naming every switch
// that is on, and each time a switch acts it logs one line at Info.
//
// The every-Nth switches count per partition (produces) or per server
// (fetches, partition reads), from the broker's start; N = 1 means every
// time. They are meant for batches without a producer id: the bypassed or
// repeated appends ignore the idempotent producer's state.
type Bugs struct {
	// LoseAckedTailOnRestart: when New opens an existing data directory,
	// each partition log loses its last N batches, acknowledged or not (the
	// log is rewritten without them before it is opened). New produces then
	// reuse those offsets. Caught as lost-write or unseen, and
	// inconsistent-offset once the offsets are reused. Logs whose start
	// offset is not 0 (retention) are left alone.
	LoseAckedTailOnRestart int

	// DuplicateBatch: every Nth produce to a partition is appended twice
	// and answered with the second copy's offset. Caught as duplicate.
	DuplicateBatch int

	// ReorderBatches: every Nth produce to a partition is held back and
	// answered at once with the partition's end offset, as if appended
	// there; the next produce to the partition is appended first and the
	// held batch after it, so the two are stored in swapped order and the
	// first answer was wrong. A batch still held when the server closes is
	// lost. Caught as nonmonotonic-send (one producer's next batch lands
	// below its previous one), inconsistent-offset and nonlinearizable.
	ReorderBatches int

	// StaleFetch: every Nth Fetch request that asks some partition for an
	// offset holding data is answered at once with no records (and the true
	// high watermarks). Caught as stale-read.
	StaleFetch int

	// SkipFetch: every Nth partition read whose offset is followed by at
	// least one more batch is served from the next batch instead of the
	// one holding the offset. Caught as skip (the consumer's next read
	// starts past where its previous one ended) and lost-write (nobody
	// reads the skipped batch).
	SkipFetch int

	// AckThenFail: every Nth produce to a partition is appended, then
	// answered CORRUPT_MESSAGE, which says it was rejected. Caught as
	// aborted-read once a consumer reads it.
	AckThenFail int

	// ForgetCommits: when New opens an existing data directory, the offsets
	// log loses its last N batches (each accepted OffsetCommit appends one
	// batch per 1 MiB of offset records), so the newest committed offsets
	// fall back to older ones. Caught as committed-offset-backwards.
	ForgetCommits int
}

// bugNames are the switches' names as String prints and ParseBugs reads
// them, in field order.
var bugNames = [...]string{
	"lose-acked-tail-on-restart", "duplicate-batch", "reorder-batches",
	"stale-fetch", "skip-fetch", "ack-then-fail", "forget-commits",
}

// fields returns pointers to b's switches, in bugNames order.
func (b *Bugs) fields() []*int {
	return []*int{
		&b.LoseAckedTailOnRestart, &b.DuplicateBatch, &b.ReorderBatches,
		&b.StaleFetch, &b.SkipFetch, &b.AckThenFail, &b.ForgetCommits,
	}
}

// String lists the switches that are on as "name=N,name=N" (ParseBugs
// reads it back); "" for a correct broker.
func (b Bugs) String() string {
	var parts []string
	for i, f := range b.fields() {
		if *f != 0 {
			parts = append(parts, bugNames[i]+"="+strconv.Itoa(*f))
		}
	}
	return strings.Join(parts, ",")
}

// ParseBugs parses a comma-separated list of switch names, each optionally
// followed by "=N" (default 1; for the every-Nth switches, every time), as
// String prints them: "duplicate-batch=5,stale-fetch".
func ParseBugs(s string) (Bugs, error) {
	var b Bugs
	if s == "" {
		return b, nil
	}
	for _, item := range strings.Split(s, ",") {
		name, num, hasNum := strings.Cut(strings.TrimSpace(item), "=")
		i := slices.Index(bugNames[:], name)
		if i < 0 {
			return Bugs{}, fmt.Errorf("kafka: unknown bug %q (want one of %s)", name, strings.Join(bugNames[:], ", "))
		}
		n := 1
		if hasNum {
			var err error
			if n, err = strconv.Atoi(num); err != nil || n < 1 {
				return Bugs{}, fmt.Errorf("kafka: bug %s: want a positive count, got %q", name, num)
			}
		}
		*b.fields()[i] = n
	}
	return b, nil
}

// validate reports a negative switch.
func (b Bugs) validate() error {
	for i, f := range b.fields() {
		if *f < 0 {
			return fmt.Errorf("kafka: Config.Bugs: %s = %d is negative", bugNames[i], *f)
		}
	}
	return nil
}

// bugs is a Server's running bug switches; nil when every switch is off,
// and every method is a no-op on nil.
type bugs struct {
	cfg Bugs
	log *slog.Logger

	mu    sync.Mutex
	parts map[*seglog.Log]*partBugs // mu guards parts

	fetches atomic.Int64 // Fetch requests that asked for existing data
	reads   atomic.Int64 // partition reads with a batch past the one asked for
}

// partBugs is one partition's produce counter and held-back batch.
type partBugs struct {
	mu       sync.Mutex // held across the partition's appends while a produce switch is on
	produces int64
	held     []byte // a batch ReorderBatches holds back, or nil
}

func newBugs(cfg Bugs, log *slog.Logger) *bugs {
	if cfg == (Bugs{}) {
		return nil
	}
	log.Warn("kafka: DELIBERATELY BROKEN broker: bug switches on, for negative controls only", "bugs", cfg.String())
	return &bugs{cfg: cfg, log: log, parts: make(map[*seglog.Log]*partBugs)}
}

// every reports whether the kth event is one an every-nth switch hits.
func every(n int, k int64) bool { return n > 0 && k%int64(n) == 0 }

func (b *bugs) part(l *seglog.Log) *partBugs {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.parts[l]
	if p == nil {
		p = &partBugs{}
		b.parts[l] = p
	}
	return p
}

// appendRecords is Server.appendRecords with the produce switches
// (DuplicateBatch, ReorderBatches, AckThenFail) applied.
func (b *bugs) appendRecords(s *Server, l *seglog.Log, records []byte) (int64, error) {
	if b == nil || b.cfg.DuplicateBatch == 0 && b.cfg.ReorderBatches == 0 && b.cfg.AckThenFail == 0 {
		return s.appendRecords(l, records)
	}
	p := b.part(l)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.produces++
	k := p.produces
	switch {
	case p.held != nil:
		base, err := s.appendRecords(l, records)
		held, herr := s.appendRecords(l, p.held)
		b.log.Info("kafka: bug reorder-batches: appended the held-back batch after the next one", "dir", l.Dir(), "next_at", base, "held_at", held, "err", herr)
		p.held = nil
		return base, err
	case every(b.cfg.ReorderBatches, k):
		p.held = slices.Clone(records)
		end := l.EndOffset()
		b.log.Info("kafka: bug reorder-batches: holding a batch back, answered as appended", "dir", l.Dir(), "answered", end)
		return end, nil
	case every(b.cfg.DuplicateBatch, k):
		first, err := s.appendRecords(l, records)
		if err != nil {
			return first, err
		}
		second, err := l.Append(records) // not appendRecords: the producer state would call it a retry
		b.log.Info("kafka: bug duplicate-batch: appended a batch twice, answered the second", "dir", l.Dir(), "first", first, "second", second, "err", err)
		return second, err
	case every(b.cfg.AckThenFail, k):
		base, err := s.appendRecords(l, records)
		if err != nil {
			return base, err
		}
		return 0, fmt.Errorf("%w: bug ack-then-fail: the batch was appended at offset %d", record.ErrCorrupt, base)
	}
	return s.appendRecords(l, records)
}

// staleFetch returns, for every StaleFetch-th Fetch request that asks some
// partition for an offset holding data, a response with no records; nil
// otherwise.
func (b *bugs) staleFetch(r *request, req *kmsg.FetchRequest, targets []fetchTarget) *fetchFrame {
	if b == nil || b.cfg.StaleFetch == 0 {
		return nil
	}
	has := false
	k := 0
	for _, rt := range req.Topics {
		for _, rp := range rt.Partitions {
			if l := targets[k].l; l != nil && rp.FetchOffset >= l.StartOffset() && rp.FetchOffset < l.EndOffset() {
				has = true
			}
			k++
		}
	}
	if !has || !every(b.cfg.StaleFetch, b.fetches.Add(1)) {
		return nil
	}
	f := newFetchFrame()
	f.begin(r.version, r.corr, 0, 0, len(req.Topics))
	k = 0
	for _, rt := range req.Topics {
		f.topic(rt.Topic, len(rt.Partitions))
		for _, rp := range rt.Partitions {
			t := targets[k]
			k++
			p := fetchPart{partition: rp.Partition, highWatermark: -1, lastStable: -1, logStartOffset: -1}
			if t.code != nil {
				p.errorCode = t.code.Code
			} else {
				p.highWatermark, p.logStartOffset = t.l.EndOffset(), t.l.StartOffset()
				p.lastStable = p.highWatermark
			}
			f.partition(p, nil)
		}
		f.endTopic()
	}
	f.end()
	b.log.Info("kafka: bug stale-fetch: answered a fetch with no records")
	return f
}

// skipFetch returns the offset to read a partition from: offset, or for
// every SkipFetch-th read that has a batch past the one holding offset, the
// next batch's base offset.
func (b *bugs) skipFetch(l *seglog.Log, offset int64) int64 {
	if b == nil || b.cfg.SkipFetch == 0 {
		return offset
	}
	c, err := l.Read(offset, 1)
	if err != nil {
		return offset
	}
	h, herr := record.ParseHeader(c.Data)
	c.Release()
	if herr != nil || h.NextOffset() >= l.EndOffset() || !every(b.cfg.SkipFetch, b.reads.Add(1)) {
		return offset
	}
	b.log.Info("kafka: bug skip-fetch: serving a read from the next batch", "dir", l.Dir(), "asked", offset, "served", h.NextOffset())
	return h.NextOffset()
}

// opening applies the restart switches to the data directory cfg.Dir
// before New opens it: LoseAckedTailOnRestart to every partition log,
// ForgetCommits to the offsets log.
func (b *bugs) opening(cfg Config) error {
	if b == nil {
		return nil
	}
	if n := b.cfg.LoseAckedTailOnRestart; n > 0 {
		dirs, err := partitionDirs(cfg.Log.FS, cfg.Dir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		names := make([]string, 0, len(dirs))
		for d := range dirs {
			names = append(names, d)
		}
		slices.Sort(names)
		for _, d := range names {
			if err := b.dropTail(d, cfg.Log, n); err != nil {
				return err
			}
		}
	}
	if n := b.cfg.ForgetCommits; n > 0 {
		return b.dropTail(filepath.Join(cfg.Dir, offsetsDirName), offsetsOptions(cfg.Log), n)
	}
	return nil
}

// dropTail rewrites the log in dir without its last n batches. A missing or
// empty log, or one that does not start at offset 0, is left alone.
func (b *bugs) dropTail(dir string, opts seglog.Options, n int) error {
	fsys := opts.FS
	if fsys == nil {
		fsys = vfs.DefaultOS
	}
	if names, err := fsys.List(dir); err != nil || len(names) == 0 {
		return nil
	}
	l, _, err := seglog.Open(dir, opts)
	if err != nil {
		return err
	}
	if l.StartOffset() != 0 || l.EndOffset() == 0 {
		return l.Close()
	}
	var data []byte
	var ends []int // where each batch ends in data
	for off := int64(0); off < l.EndOffset(); {
		c, err := l.Read(off, 1<<20)
		if err != nil {
			l.Close()
			return err
		}
		for p := 0; p < len(c.Data); {
			h, err := record.ParseHeader(c.Data[p:])
			if err != nil {
				c.Release()
				l.Close()
				return err
			}
			data = append(data, c.Data[p:p+h.Size()]...)
			ends = append(ends, len(data))
			off, p = h.NextOffset(), p+h.Size()
		}
		c.Release()
	}
	end := l.EndOffset()
	if err := l.Close(); err != nil {
		return err
	}
	names, err := fsys.List(dir)
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := fsys.Remove(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	if l, _, err = seglog.Open(dir, opts); err != nil {
		return err
	}
	keep, prev := max(len(ends)-n, 0), 0
	for _, e := range ends[:keep] {
		if _, err := l.Append(data[prev:e]); err != nil {
			l.Close()
			return err
		}
		prev = e
	}
	b.log.Info("kafka: bug: dropped the last batches of a log", "dir", dir, "batches", len(ends)-keep, "end_offset_was", end, "end_offset", l.EndOffset())
	return l.Close()
}
