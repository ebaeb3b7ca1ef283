package kafka

// The consumer-group coordinator at the edge: one goroutine owns the
// group.Coordinator state machine, ticks it, persists the offset records it
// emits to the offsets log, and hands each reply to the request waiting for
// it. Handlers of API keys 8, 9 and 11-16 submit their request and wait.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"gale/broker/group"
	"gale/broker/record"
	"gale/broker/seglog"
)

const (
	// offsetsDirName is the offsets log's directory in the data directory.
	// It is not a topic: not in meta.json, Metadata or the topic listing,
	// and not named like a partition directory (<topic>-<n>).
	offsetsDirName = "__gale_offsets"
	// offsetsSegmentBytes is the offsets log's segment size (at most; a
	// smaller Config.Log.SegmentBytes wins).
	offsetsSegmentBytes = 16 << 20
	// offsetsBatchBytes bounds one batch of offset records; a larger
	// commit is appended as several batches.
	offsetsBatchBytes = 1 << 20
	// groupTick is how often the coordinator's clock advances.
	groupTick = 100 * time.Millisecond
)

// errClosing ends a connection whose request cannot be answered because the
// server is closing; it wraps net.ErrClosed so that it is not logged.
var errClosing = fmt.Errorf("kafka: server closing: %w", net.ErrClosed)

// coordinator runs the group state machine on its own goroutine (run), which
// takes work as closures on a channel. Every field below work is owned by
// that goroutine once run has started.
type coordinator struct {
	s     *Server
	start time.Time // the origin of the state machine's clock
	work  chan func()

	c       *group.Coordinator
	log     *seglog.Log // the offsets log; run is its only writer
	next    group.Token // the last token handed out; 0 is reserved
	waiters map[group.Token]chan<- groupResult
	vals    []byte          // encoded offset records, reused
	recs    []record.Record // one batch's records, reused
}

// groupResult is a group request's outcome: the response, or an error that
// closes the connection (a request the state machine does not serve).
type groupResult struct {
	resp kmsg.Response
	err  error
}

// groupMax is the highest version of a group API key the coordinator
// serves; dispatch.go advertises it.
func groupMax(key int16) int16 {
	v, ok := group.MaxVersion(key)
	if !ok {
		panic(fmt.Sprintf("kafka: package group does not serve api key %d", key))
	}
	return v
}

// openCoordinator opens (recovering) the offsets log, replays it into a new
// state machine and returns the coordinator, not yet running.
func (s *Server) openCoordinator() (*coordinator, error) {
	gc, err := group.New(s.cfg.Group)
	if err != nil {
		return nil, fmt.Errorf("kafka: Config.Group: %w", err)
	}
	dir := filepath.Join(s.cfg.Dir, offsetsDirName)
	l, rep, err := seglog.Open(dir, offsetsOptions(s.cfg.Log))
	if err != nil {
		return nil, fmt.Errorf("kafka: open offsets log %s: %w", dir, err)
	}
	if rep.Cut() {
		s.log.Warn("kafka: offsets log recovered with a cut", "dir", dir, "report", rep.String())
	}
	co := &coordinator{
		s:       s,
		start:   time.Now(),
		work:    make(chan func()),
		c:       gc,
		log:     l,
		waiters: make(map[group.Token]chan<- groupResult),
	}
	n, err := co.replay()
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("kafka: replay offsets log %s: %w", dir, err)
	}
	s.log.Debug("kafka: offsets log replayed", "dir", dir, "records", n, "end_offset", l.EndOffset())
	return co, nil
}

// offsetsOptions returns the offsets log's options, given the partitions'.
func offsetsOptions(opts seglog.Options) seglog.Options {
	opts.SegmentBytes = min(opts.SegmentBytes, offsetsSegmentBytes)
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = offsetsSegmentBytes
	}
	opts.RetentionAge, opts.RetentionBytes = -1, -1
	return opts
}

// replay feeds every record of the offsets log, in order, to Restore and
// returns how many there were.
func (co *coordinator) replay() (int, error) {
	n := 0
	for off := co.log.StartOffset(); off < co.log.EndOffset(); {
		ch, err := co.log.Read(off, offsetsBatchBytes)
		if err != nil {
			return n, err
		}
		off, err = co.restoreBatches(ch.Data, &n)
		ch.Release()
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// restoreBatches restores the records of whole batches and returns the
// offset after the last one.
func (co *coordinator) restoreBatches(data []byte, n *int) (next int64, err error) {
	for len(data) > 0 {
		h, err := record.ParseHeader(data)
		if err != nil {
			return next, err
		}
		var bad error
		err = record.Records(data[:h.Size()], func(delta int32, r record.Record) bool {
			rec, err := group.DecodeOffsetRecord(r.Value)
			if err != nil {
				bad = fmt.Errorf("offset %d: %w", h.BaseOffset+int64(delta), err)
				return false
			}
			co.c.Restore(rec)
			*n++
			return true
		})
		if err = errors.Join(err, bad); err != nil {
			return next, err
		}
		next = h.NextOffset()
		data = data[h.Size():]
	}
	return next, nil
}

// run owns the state machine until the server closes: it runs submitted
// closures and ticks. Requests still waiting then are ended by their
// handlers, which also watch s.done.
func (co *coordinator) run() {
	defer co.s.wg.Done()
	t := time.NewTicker(groupTick)
	defer t.Stop()
	for {
		select {
		case <-co.s.done:
			return
		case fn := <-co.work:
			fn()
		case <-t.C:
			co.apply(co.c.Tick(time.Since(co.start)), nil)
		}
	}
}

// do runs fn on the coordinator's goroutine; false if the server closed
// first.
func (co *coordinator) do(fn func()) bool {
	select {
	case co.work <- fn:
		return true
	case <-co.s.done:
		return false
	}
}

// handle hands one request to the state machine; ch gets its result, now
// or from a later call. Runs on the coordinator's goroutine.
func (co *coordinator) handle(gr group.Request, ch chan<- groupResult) {
	co.next++
	gr.Token = co.next
	var undo []group.OffsetRecord
	if req, ok := gr.Msg.(*kmsg.OffsetCommitRequest); ok {
		undo = co.committed(req)
	}
	co.waiters[gr.Token] = ch
	rd, err := co.c.Handle(gr)
	if err != nil {
		delete(co.waiters, gr.Token)
		ch <- groupResult{err: err}
		return
	}
	co.apply(rd, undo)
}

// apply persists rd's records, then sends its replies. If the records
// cannot be persisted, the commits are undone in memory (undo holds the
// offsets before them) and answered with NOT_COORDINATOR, as Kafka answers
// a commit its log rejected; the client looks the coordinator up again and
// retries.
func (co *coordinator) apply(rd group.Ready, undo []group.OffsetRecord) {
	if len(rd.Records) > 0 {
		if err := co.persist(rd.Records); err != nil {
			level := slog.LevelError
			if errors.Is(err, seglog.ErrClosed) {
				level = slog.LevelInfo // the server is stopping
			}
			co.s.log.Log(context.Background(), level, "kafka: offsets log append failed", "dir", co.log.Dir(), "records", len(rd.Records), "err", err)
			for _, rec := range undo {
				co.c.Restore(rec)
			}
			failCommits(rd.Replies, kerr.NotCoordinator.Code)
		}
	}
	for _, rp := range rd.Replies {
		if ch, ok := co.waiters[rp.Token]; ok {
			delete(co.waiters, rp.Token)
			ch <- groupResult{resp: rp.Response}
		}
	}
}

// persist appends recs to the offsets log, one record per offset record,
// in batches of at most offsetsBatchBytes. Under FlushAlways it returns
// after an fsync.
func (co *coordinator) persist(recs []group.OffsetRecord) error {
	co.vals = co.vals[:0]
	ends := make([]int, len(recs))
	for i, rec := range recs {
		co.vals = rec.AppendTo(co.vals)
		ends[i] = len(co.vals)
	}
	opts := record.BatchOptions{
		BaseTimestamp: time.Now().UnixMilli(),
		ProducerID:    -1, ProducerEpoch: -1, BaseSequence: -1, PartitionLeaderEpoch: -1,
	}
	from, batchStart := 0, 0
	for i := range recs {
		last := i == len(recs)-1
		if !last && ends[i+1]-batchStart <= offsetsBatchBytes {
			continue
		}
		co.recs = co.recs[:0]
		prev := batchStart
		for j := from; j <= i; j++ {
			co.recs = append(co.recs, record.Record{Value: co.vals[prev:ends[j]]})
			prev = ends[j]
		}
		if _, err := co.log.Append(record.AppendBatch(nil, opts, co.recs)); err != nil {
			return err
		}
		from, batchStart = i+1, ends[i]
	}
	return nil
}

// committed returns, as offset records, what the group has committed now
// for the partitions req commits (offset -1 where nothing), to undo the
// commit if it cannot be persisted.
func (co *coordinator) committed(req *kmsg.OffsetCommitRequest) []group.OffsetRecord {
	q := kmsg.NewPtrOffsetFetchRequest()
	q.Version, q.Group = 7, req.Group
	for _, t := range req.Topics {
		qt := kmsg.NewOffsetFetchRequestTopic()
		qt.Topic = t.Topic
		for _, p := range t.Partitions {
			qt.Partitions = append(qt.Partitions, p.Partition)
		}
		q.Topics = append(q.Topics, qt)
	}
	rd, err := co.c.Handle(group.Request{Token: 0, Msg: q})
	if err != nil || len(rd.Replies) != 1 {
		return nil
	}
	var out []group.OffsetRecord
	for _, t := range rd.Replies[0].Response.(*kmsg.OffsetFetchResponse).Topics {
		for _, p := range t.Partitions {
			rec := group.OffsetRecord{Group: req.Group, Topic: t.Topic, Partition: p.Partition, Offset: p.Offset, LeaderEpoch: p.LeaderEpoch}
			if p.Metadata != nil {
				rec.Metadata = *p.Metadata
			}
			out = append(out, rec)
		}
	}
	return out
}

// failCommits sets code on every partition of the OffsetCommit responses
// among replies that had succeeded.
func failCommits(replies []group.Reply, code int16) {
	for _, rp := range replies {
		resp, ok := rp.Response.(*kmsg.OffsetCommitResponse)
		if !ok {
			continue
		}
		for i := range resp.Topics {
			for j := range resp.Topics[i].Partitions {
				if p := &resp.Topics[i].Partitions[j]; p.ErrorCode == 0 {
					p.ErrorCode = code
				}
			}
		}
	}
}

// handleGroup serves the group API keys: it submits the request to the
// coordinator and waits for the reply. JoinGroup and SyncGroup may wait
// for other members (bounded by the rebalance timeout); meanwhile later
// requests on the connection wait too, as in Kafka. The wait also ends
// when the server closes or the client hangs up, closing the connection.
func (s *Server) handleGroup(r *request) (response, error) {
	ch := make(chan groupResult, 1)
	gr := group.Request{ClientID: r.clientID, ClientHost: clientHost(r.c), Msg: r.kreq}
	if !s.groups.do(func() { s.groups.handle(gr, ch) }) {
		return response{}, errClosing
	}
	var hangup <-chan struct{}
	if r.c != nil && (r.key == kmsg.JoinGroup.Int16() || r.key == kmsg.SyncGroup.Int16()) {
		var stop func()
		hangup, stop = r.c.watchHangup()
		defer stop()
	}
	select {
	case res := <-ch:
		return groupReply(r, res)
	case <-s.done:
		return response{}, errClosing
	case <-hangup:
		return response{}, fmt.Errorf("kafka: client left while api key %d waited: %w", r.key, net.ErrClosed)
	}
}

func groupReply(r *request, res groupResult) (response, error) {
	if res.err != nil {
		return response{}, fmt.Errorf("%w: api key %d version %d: %v", errBadRequest, r.key, r.version, res.err)
	}
	return reply(res.resp)
}

// clientHost is the client's address as DescribeGroups shows it ("/ip", as
// Kafka does).
func clientHost(c *conn) string {
	if c == nil {
		return ""
	}
	if host, _, err := net.SplitHostPort(c.remote); err == nil {
		return "/" + host
	}
	return "/" + c.remote
}

// watchHangup watches the connection while its reading goroutine waits
// for a reply: the returned channel is closed if the client hangs up. stop
// ends the watch (the reader may read again once it returns); call it
// exactly once. Requests the client pipelines meanwhile are buffered, not
// handled, so a hang-up behind them is seen too, until the read buffer is
// full; then the watch ends without closing the channel.
func (c *conn) watchHangup() (hangup <-chan struct{}, stop func()) {
	gone := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for n := c.br.Buffered() + 1; n <= c.br.Size(); n = c.br.Buffered() + 1 {
			_, err := c.br.Peek(n)
			switch {
			case errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, bufio.ErrBufferFull):
				return
			case err != nil:
				close(gone)
				return
			}
		}
	}()
	return gone, func() {
		c.nc.SetReadDeadline(time.Now()) // wakes the Peek
		<-done
		c.nc.SetReadDeadline(time.Time{})
	}
}
