package kafka

// Fetch, versions 4-12.
//
// v4 is the first version that carries RecordBatch v2, the only format
// stored; v13+ name topics by id and are not served. The response is
// hand-encoded (fetch_frame.go) so that record bytes, slices of the mapped
// segments, go out with one vectored write and are never copied.
//
// Long poll: if fewer than MinBytes are available, the request waits (up to
// MaxWait, capped by Config.MaxFetchWait) for an append to any of its
// partitions, then reads again. A partition error answers at once.
//
// Sizes: each partition returns whole batches from one segment, up to its
// PartitionMaxBytes, and the response stays within MaxBytes, except that
// the first partition with data returns at least one whole batch however
// large (KIP-74). A later partition whose next batch exceeds what is left
// returns no records (Kafka would send a partial batch).
//
// Simplified: no fetch sessions (SessionID 0 in every response, so clients
// send full requests; a request naming a session gets
// FETCH_SESSION_ID_NOT_FOUND), no transactions (no aborted transactions,
// last stable offset = high watermark = log end offset), leader epochs are
// not checked, forgotten topics and rack are ignored.

import (
	"math"
	"reflect"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"gale/broker/seglog"
)

// fetchTarget is one requested partition resolved to its log.
type fetchTarget struct {
	l    *seglog.Log
	code *kerr.Error // why there is no log
}

func (s *Server) handleFetch(r *request) (response, error) {
	req := r.kreq.(*kmsg.FetchRequest)
	if req.SessionID != 0 {
		f := newFetchFrame()
		f.begin(r.version, r.corr, kerr.FetchSessionIDNotFound.Code, 0, 0)
		f.end()
		return response{fetch: f}, nil
	}
	var targets []fetchTarget
	for _, rt := range req.Topics {
		for _, rp := range rt.Partitions {
			l, code := s.partition(rt.Topic, rp.Partition)
			targets = append(targets, fetchTarget{l, code})
		}
	}
	if f := s.bugs.staleFetch(r, req, targets); f != nil {
		return response{fetch: f}, nil
	}
	wait := min(time.Duration(max(req.MaxWaitMillis, 0))*time.Millisecond, s.cfg.MaxFetchWait)
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		mayWait := req.MinBytes > 0 && wait > 0
		var waits []<-chan struct{}
		if mayWait {
			// Taken before reading, so an append between the read and
			// the wait is not missed.
			for _, t := range targets {
				if t.l != nil {
					waits = append(waits, t.l.Wait())
				}
			}
		}
		f, failed := s.readFetch(r, req, targets)
		if !mayWait || failed || f.bytes >= int(req.MinBytes) || len(waits) == 0 {
			return response{fetch: f}, nil
		}
		f.release()
		if timer == nil {
			timer = time.NewTimer(wait)
		}
		if stop := s.waitAny(waits, timer.C); stop {
			wait = 0 // read once more and answer
		}
	}
}

// readFetch reads every requested partition into a new frame. failed
// reports whether a partition has an error (which answers at once).
func (s *Server) readFetch(r *request, req *kmsg.FetchRequest, targets []fetchTarget) (f *fetchFrame, failed bool) {
	f = newFetchFrame()
	f.begin(r.version, r.corr, 0, 0, len(req.Topics))
	budget := int(req.MaxBytes)
	if budget <= 0 {
		budget = math.MaxInt32
	}
	k := 0
	for _, rt := range req.Topics {
		f.topic(rt.Topic, len(rt.Partitions))
		for _, rp := range rt.Partitions {
			t := targets[k]
			k++
			p := fetchPart{partition: rp.Partition, highWatermark: -1, lastStable: -1, logStartOffset: -1}
			if t.code != nil {
				p.errorCode = t.code.Code
				f.partition(p, nil)
				failed = true
				continue
			}
			minOne := f.bytes == 0
			limit := min(int(rp.PartitionMaxBytes), budget)
			data, code := s.readPartition(f, t.l, rp.FetchOffset, limit, minOne)
			p.errorCode = code
			p.highWatermark = t.l.EndOffset()
			p.lastStable = p.highWatermark
			p.logStartOffset = t.l.StartOffset()
			failed = failed || code != 0
			budget -= len(data)
			f.partition(p, data)
		}
		f.endTopic()
	}
	f.end()
	return f, failed
}

// readPartition reads up to limit bytes of whole batches at offset (at
// least one batch if minOne), keeping the chunk in f until it is written.
// It returns the bytes and a Kafka error code.
func (s *Server) readPartition(f *fetchFrame, l *seglog.Log, offset int64, limit int, minOne bool) ([]byte, int16) {
	if limit <= 0 && !minOne {
		return nil, 0
	}
	offset = s.bugs.skipFetch(l, offset)
	c, err := l.Read(offset, max(limit, 1))
	if err != nil {
		code := readErrorCode(err)
		if code == kerr.KafkaStorageError.Code {
			s.log.Error("kafka: fetch read failed", "dir", l.Dir(), "offset", offset, "err", err)
		}
		return nil, code
	}
	if len(c.Data) > limit && !minOne {
		c.Release()
		return nil, 0
	}
	f.chunks = append(f.chunks, c)
	return c.Data, 0
}

// waitAny blocks until one of chs is closed (false), or timer fires or the
// server closes (true).
func (s *Server) waitAny(chs []<-chan struct{}, timer <-chan time.Time) (stop bool) {
	if len(chs) == 1 {
		select {
		case <-chs[0]:
			return false
		case <-timer:
			return true
		case <-s.done:
			return true
		}
	}
	cases := make([]reflect.SelectCase, 0, len(chs)+2)
	cases = append(cases,
		reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(timer)},
		reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(s.done)})
	for _, ch := range chs {
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ch)})
	}
	i, _, _ := reflect.Select(cases)
	return i < 2
}
