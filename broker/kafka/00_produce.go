package kafka

// Produce, versions 0-11 advertised, 3-11 served.
//
// v0-v2 carry message sets v0/v1, which this broker does not store: they are
// advertised only because older librdkafka stops compressing when Produce's
// minimum version is above 0 (librdkafka #4956), and answered with
// UNSUPPORTED_VERSION per partition. Each partition's bytes go to
// seglog.Log.Append as they are (one or more RecordBatch v2, validated
// there; compressed batches stay compressed).
//
// acks=0 gets no response; if a partition fails, the connection is closed
// instead (as Kafka does) so the client notices. acks=1 and acks=-1 are the
// same on a single replica: the response is sent once Append returns, which
// under seglog.FlushAlways is after an fsync covering the batch. Under
// FlushAlways the partitions of one request are appended concurrently so
// their fsyncs overlap.
//
// Idempotence (idempotence.go): each batch of a partition's records goes
// through the partition's producer.State on its own: Check, then either
// the rejection's error code (OUT_OF_ORDER_SEQUENCE_NUMBER,
// INVALID_PRODUCER_EPOCH, INVALID_RECORD for control batches,
// INVALID_TXN_STATE for transactional ones; its text in ErrorMessage from
// v8), or a duplicate's original base offset with no error (after an fsync
// under FlushAlways, if the original is not yet durable), or Append then
// Appended. Batches without a producer id skip the state. When a
// partition's records hold several batches, all are validated first (so
// one bad batch rejects them all with nothing written, and its CRC is
// computed twice); a producer rejection of a later batch leaves the
// earlier ones appended, and the response carries the rejection. The
// response's base offset is the first batch's.
//
// Simplified: no transactions (TransactionalID is ignored and
// transactional batches are rejected), the timeout is ignored, log append
// time is always -1 (create time), and no per-record errors are reported.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"gale/broker/producer"
	"gale/broker/record"
	"gale/broker/seglog"
)

func (s *Server) handleProduce(r *request) (response, error) {
	req := r.kreq.(*kmsg.ProduceRequest)
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	var jobs []appendJob
	for i := range req.Topics {
		rt := &req.Topics[i]
		st := kmsg.NewProduceResponseTopic()
		st.Topic = rt.Topic
		st.Partitions = make([]kmsg.ProduceResponseTopicPartition, len(rt.Partitions))
		resp.Topics = append(resp.Topics, st)
		for j := range rt.Partitions {
			sp := &resp.Topics[i].Partitions[j]
			*sp = kmsg.NewProduceResponseTopicPartition()
			sp.Partition = rt.Partitions[j].Partition
			sp.BaseOffset, sp.LogAppendTime, sp.LogStartOffset = -1, -1, -1
			if r.version < 3 {
				sp.ErrorCode = kerr.UnsupportedVersion.Code
				continue
			}
			if req.Acks < -1 || req.Acks > 1 {
				sp.ErrorCode = kerr.InvalidRequiredAcks.Code
				continue
			}
			l, kerrCode := s.partition(rt.Topic, sp.Partition)
			if kerrCode != nil {
				sp.ErrorCode = kerrCode.Code
				continue
			}
			jobs = append(jobs, appendJob{l: l, records: rt.Partitions[j].Records, out: sp, topic: rt.Topic})
		}
	}
	s.runAppends(jobs)
	if req.Acks != 0 {
		return reply(resp)
	}
	for _, st := range resp.Topics {
		for _, sp := range st.Partitions {
			if sp.ErrorCode != 0 {
				return response{}, fmt.Errorf("acks=0 produce to %s[%d] failed: %v", st.Topic, sp.Partition, kerr.ErrorForCode(sp.ErrorCode))
			}
		}
	}
	return response{}, nil
}

// appendJob is one partition's share of a Produce request.
type appendJob struct {
	l       *seglog.Log
	records []byte
	out     *kmsg.ProduceResponseTopicPartition
	topic   string
}

// runAppends appends every job's records and fills in its response. Under
// FlushAlways, jobs run concurrently so each waits on its own log's fsync
// at the same time as the others.
func (s *Server) runAppends(jobs []appendJob) {
	if len(jobs) < 2 || s.cfg.Log.Flush != seglog.FlushAlways {
		for i := range jobs {
			s.append(&jobs[i])
		}
		return
	}
	var wg sync.WaitGroup
	for i := range jobs {
		wg.Go(func() { s.append(&jobs[i]) })
	}
	wg.Wait()
}

func (s *Server) append(j *appendJob) {
	base, err := s.bugs.appendRecords(s, j.l, j.records)
	if err != nil {
		var perr *producer.Error
		if errors.As(err, &perr) {
			j.out.ErrorCode = perr.Kerr.Code
			msg := perr.Error()
			j.out.ErrorMessage = &msg
			level := slog.LevelDebug
			if perr.Kerr == kerr.InvalidRecord {
				level = slog.LevelWarn
			}
			s.log.Log(context.Background(), level, "kafka: produce rejected", "topic", j.topic, "partition", j.out.Partition, "err", err)
			return
		}
		j.out.ErrorCode = produceErrorCode(err)
		switch j.out.ErrorCode {
		case kerr.KafkaStorageError.Code:
			s.log.Error("kafka: append failed", "topic", j.topic, "partition", j.out.Partition, "err", err)
		case kerr.CorruptMessage.Code, kerr.MessageTooLarge.Code:
			s.log.Warn("kafka: produce rejected", "topic", j.topic, "partition", j.out.Partition, "err", err)
		}
		return
	}
	j.out.BaseOffset = base
	j.out.LogStartOffset = j.l.StartOffset()
}

// appendRecords appends one partition's records (one or more batches) a
// batch at a time and returns the first batch's base offset: where it was
// appended, or where it already was if it is a producer's retry.
func (s *Server) appendRecords(l *seglog.Log, records []byte) (int64, error) {
	if h, err := record.ParseHeader(records); err == nil && h.Size() == len(records) {
		return s.appendBatch(l, records, h) // one batch: Append validates it
	}
	if _, _, err := record.ValidateAll(records); err != nil {
		return 0, err
	}
	first := int64(-1)
	for p := 0; p < len(records); {
		h, _ := record.ParseHeader(records[p:])
		base, err := s.appendBatch(l, records[p:p+h.Size()], h)
		if err != nil {
			return 0, err
		}
		if p == 0 {
			first = base
		}
		p += h.Size()
	}
	return first, nil
}

// appendBatch checks one batch b, whose header is h, against the
// partition's producer state, and appends it unless it is rejected or a
// duplicate. It returns the batch's base offset.
func (s *Server) appendBatch(l *seglog.Log, b []byte, h record.Header) (int64, error) {
	if stateless(h) {
		return l.Append(b)
	}
	ps := s.partState(l)
	ps.mu.Lock()
	st, err := s.stateLocked(ps, l)
	if err != nil {
		ps.mu.Unlock()
		return 0, err
	}
	d, err := st.Check(h)
	if err != nil || d.Duplicate {
		ps.mu.Unlock()
		// Check ran on a header Append has not validated yet: a batch
		// that is not appended is validated here, so a corrupt one is
		// answered as corrupt whatever its header says.
		if _, verr := record.Validate(b); verr != nil {
			return 0, verr
		}
		if err != nil {
			return 0, err
		}
		return d.BaseOffset, s.durable(l, d.LastOffset)
	}
	defer ps.mu.Unlock()
	base, err := l.Append(b)
	if err != nil {
		return 0, err
	}
	h.BaseOffset = base
	st.Appended(h)
	return base, nil
}

// durable returns once offset is durable as the flush policy promises for
// an acknowledged append: at once, unless the policy is FlushAlways and the
// log has not synced past offset yet (a retry that arrived while its
// original waited for its fsync).
func (s *Server) durable(l *seglog.Log, offset int64) error {
	if s.cfg.Log.Flush != seglog.FlushAlways || l.FlushedOffset() > offset {
		return nil
	}
	return l.Sync()
}

// produceErrorCode maps an Append error to the Kafka error code to answer.
func produceErrorCode(err error) int16 {
	switch {
	case errors.Is(err, record.ErrCorrupt):
		return kerr.CorruptMessage.Code
	case errors.Is(err, seglog.ErrTooLarge):
		return kerr.MessageTooLarge.Code
	case errors.Is(err, seglog.ErrClosed):
		// The topic was deleted (or the server is closing) under us: the
		// client refreshes its metadata and finds out which.
		return kerr.NotLeaderForPartition.Code
	}
	return kerr.KafkaStorageError.Code
}
