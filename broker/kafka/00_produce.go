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
// Simplified: no transactions or idempotence yet (TransactionalID and
// producer ids are ignored; InitProducerId is not served), the timeout is
// ignored, log append time is always -1 (create time), and no per-record
// errors are reported.

import (
	"errors"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

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
	base, err := j.l.Append(j.records)
	if err != nil {
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
