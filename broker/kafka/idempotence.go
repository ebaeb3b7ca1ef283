package kafka

// Idempotent produce: producer ids for InitProducerId, and one
// producer.State per partition for Produce. Package producer makes the
// decisions; this file owns their storage and locking.
//
// # Producer ids
//
// Ids come from one producer.IDs, created at the first InitProducerId from
// the bound in <Dir>/producer-ids, a one-line file
//
//	gale-producer-ids v1 next=<id>
//
// meaning no id at or above next was ever handed out. A new bound is written
// atomically and durably (temporary file, fsync, rename, fsync of the
// directory) before the ids it covers are handed out, once per
// producer.ReserveBlock ids. Without the file (a new data directory, or one
// written before idempotence existed) the ids start above the largest
// producer id found in any partition's log, which loads every partition's
// state once (see below). A file that cannot be parsed fails InitProducerId
// with COORDINATOR_NOT_AVAILABLE and an error log line: handing out ids from
// a guess could reuse one.
//
// # Partition state
//
// A partition's State is built on the first batch that carries a producer
// id (or a control or transactional flag) after the server opened the
// partition: every batch header of the retained log is read, in order, from
// StartOffset to EndOffset, and replayed, then producers idle longer than
// producer.DefaultExpirationMs are expired (again every ten minutes of
// produce traffic). The cost is one 61-byte header read per batch, which
// in a freshly mapped sealed segment is one page fault per batch, so it
// grows with the number of batches retained, not their bytes. Measured on
// the 2-core development VM with other work running
// (BenchmarkProducerStateReplay), 1 GiB of 16 KiB batches (65,557 batches)
// replays in 40-75 ms when it is all in the active segment (even after its
// file was evicted from the page cache: opening the log brings it back),
// about 180 ms in 128 MiB sealed segments whose
// files are in the page cache (2.7 us per batch, nearly all of it the page
// fault; faults cost 1-10 us on this VM depending on the file and the
// load), and 0.4-0.6 s when the files must be read from disk. The first
// idempotent batch for the partition waits that long. Batches without a
// producer id, what non-idempotent producers send, need no state: they
// never wait for a replay and never take the partition's state lock.
//
// The state lock is held from Check to Appended, so a partition's
// idempotent batches are checked and appended one at a time. Under
// seglog.FlushAlways the lock is held across the append's fsync, so
// concurrent idempotent producers to one partition do not share an fsync
// (producers to different partitions, and non-idempotent ones, still do).
//
// States are keyed by the partition's *seglog.Log. States of deleted
// topics are dropped by a sweep that runs when as many states have been
// added since the last sweep as there were partitions at it (amortized
// constant cost per partition).

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"gale/broker/producer"
	"gale/broker/record"
	"gale/broker/seglog"
)

// producerIDsName is the file, in the data directory, that holds the
// producer id bound.
const producerIDsName = "producer-ids"

// expireEvery is how often, at most, a partition's State forgets idle
// producers (Kafka's producer.id.expiration.check.interval.ms).
const expireEvery = 10 * time.Minute

// idempotence is the Server's producer-id allocator and per-partition
// producer states. Its zero value is ready to use.
type idempotence struct {
	idsMu sync.Mutex    // guards ids; taken before any partState.mu
	ids   *producer.IDs // nil until the first InitProducerId

	parts sync.Map // *seglog.Log -> *partState

	sweepMu sync.Mutex // guards added and live
	added   int        // partStates added since the last sweep
	live    int        // partitions that existed at the last sweep
}

// partState is one partition's producer state.
type partState struct {
	mu         sync.Mutex      // guards st and lastExpire; held from Check to Appended
	st         *producer.State // nil until loaded
	lastExpire time.Time
}

// stateless reports whether producer.State.Check accepts h without looking
// at any producer's state: a batch with no producer id that is neither a
// control nor a transactional batch, which is what non-idempotent
// producers send.
func stateless(h record.Header) bool {
	return h.ProducerID < 0 && !h.Control() && !h.Transactional()
}

// partState returns the state holder of the partition whose log is l.
func (s *Server) partState(l *seglog.Log) *partState {
	if v, ok := s.idem.parts.Load(l); ok {
		return v.(*partState)
	}
	v, loaded := s.idem.parts.LoadOrStore(l, new(partState))
	if !loaded {
		s.sweepPartStates()
	}
	return v.(*partState)
}

// sweepPartStates drops the states of partitions no longer in any topic,
// once as many states were added as there were partitions at the last
// sweep.
func (s *Server) sweepPartStates() {
	m := &s.idem
	m.sweepMu.Lock()
	defer m.sweepMu.Unlock()
	m.added++
	if m.added <= m.live+16 {
		return
	}
	live := make(map[*seglog.Log]bool)
	for _, t := range s.sortedTopics() {
		for _, l := range t.parts {
			live[l] = true
		}
	}
	m.parts.Range(func(k, _ any) bool {
		if !live[k.(*seglog.Log)] {
			m.parts.Delete(k)
		}
		return true
	})
	m.added, m.live = 0, len(live)
}

// stateLocked returns the partition's State, replaying l on first use and
// expiring idle producers every expireEvery. ps.mu must be held.
func (s *Server) stateLocked(ps *partState, l *seglog.Log) (*producer.State, error) {
	now := time.Now()
	if ps.st == nil {
		st := producer.NewState(producer.Options{})
		start := time.Now()
		batches, err := replayLog(l, st)
		if err != nil {
			return nil, err
		}
		if took := time.Since(start); st.Len() > 0 || took >= 100*time.Millisecond {
			s.log.Info("kafka: producer state rebuilt", "dir", l.Dir(), "batches", batches,
				"producers", st.Len(), "took", took.Round(time.Microsecond))
		}
		ps.st, ps.lastExpire = st, time.Time{}
	}
	if now.Sub(ps.lastExpire) >= expireEvery {
		ps.st.Expire(now.UnixMilli())
		ps.lastExpire = now
	}
	return ps.st, nil
}

// replayLog replays the header of every batch of l, from StartOffset to
// EndOffset, into st, and returns how many it read. It reads the mapped
// segments in place: one header per batch, no copy.
func replayLog(l *seglog.Log, st *producer.State) (int, error) {
	n := 0
	for off := l.StartOffset(); ; {
		c, err := l.Read(off, math.MaxInt32)
		if err != nil {
			var oor *seglog.OffsetOutOfRangeError
			if errors.As(err, &oor) && off < oor.Start {
				off = oor.Start // retention deleted segments under us
				continue
			}
			return n, err
		}
		if len(c.Data) == 0 {
			c.Release()
			return n, nil
		}
		for b := c.Data; len(b) >= record.HeaderSize; {
			h, _ := record.ParseHeader(b)
			st.Replay(h)
			n++
			off = h.NextOffset()
			b = b[h.Size():]
		}
		c.Release()
	}
}

// nextProducerID hands out a fresh producer id (epoch 0), persisting a new
// bound first when the reserved block is used up.
func (s *Server) nextProducerID() (int64, int16, error) {
	m := &s.idem
	m.idsMu.Lock()
	defer m.idsMu.Unlock()
	if m.ids == nil {
		next, err := s.loadProducerIDBound()
		if err != nil {
			return -1, -1, err
		}
		m.ids = producer.NewIDs(next)
	}
	if upTo, ok := m.ids.NeedsReserve(); ok {
		line := fmt.Appendf(nil, "gale-producer-ids v1 next=%d\n", upTo)
		if err := s.fsys.WriteFileAtomic(filepath.Join(s.cfg.Dir, producerIDsName), line); err != nil {
			return -1, -1, fmt.Errorf("kafka: persisting producer ids: %w", err)
		}
		m.ids.Reserved(upTo)
	}
	id, epoch := m.ids.Next()
	return id, epoch, nil
}

// loadProducerIDBound reads the persisted bound, or, without the file, one
// more than the largest producer id in any partition's log.
func (s *Server) loadProducerIDBound() (int64, error) {
	name := filepath.Join(s.cfg.Dir, producerIDsName)
	b, err := s.fsys.ReadFile(name)
	if err == nil {
		next, err := parseProducerIDs(b)
		if err != nil {
			return 0, fmt.Errorf("kafka: %s: %w", name, err)
		}
		return next, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	next := int64(0)
	topics := s.sortedTopics()
	for _, t := range topics {
		for _, l := range t.parts {
			ps := s.partState(l)
			ps.mu.Lock()
			st, err := s.stateLocked(ps, l)
			if err == nil {
				next = max(next, st.MaxProducerID()+1)
			}
			ps.mu.Unlock()
			if err != nil && !errors.Is(err, seglog.ErrClosed) {
				return 0, err
			}
		}
	}
	if len(topics) > 0 {
		s.log.Info("kafka: no producer id file; ids start above those in the logs", "file", name, "next", next)
	}
	return next, nil
}

// parseProducerIDs parses the producer-ids file.
func parseProducerIDs(b []byte) (int64, error) {
	rest, ok := bytes.CutPrefix(b, []byte("gale-producer-ids v1 next="))
	if !ok || !bytes.HasSuffix(rest, []byte("\n")) {
		return 0, errors.New("not a gale producer id file")
	}
	next, err := strconv.ParseInt(string(rest[:len(rest)-1]), 10, 64)
	if err != nil || next < 0 {
		return 0, fmt.Errorf("bad bound %q", rest[:len(rest)-1])
	}
	return next, nil
}
