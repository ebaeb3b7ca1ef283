package kafka

// ListOffsets, versions 0-6.
//
// Timestamp -2 is the log start offset, -1 the log end offset (high
// watermark and, with no transactions, last stable offset), and a
// timestamp t >= 0 the first offset of the first batch whose max
// timestamp is at least t, with that batch's max timestamp, or offset and
// timestamp -1 if there is none. Other negative timestamps (-3, max
// timestamp, comes with v7) get INVALID_REQUEST.
//
// v0 answers in its old form, a list of offsets: MaxNumOffsets is honoured
// only as "at most one" (Kafka listed segment base offsets too). Leader
// epochs are not checked; the leader epoch answered is 0.

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"gale/broker/record"
	"gale/broker/seglog"
)

func (s *Server) handleListOffsets(r *request) (response, error) {
	req := r.kreq.(*kmsg.ListOffsetsRequest)
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewListOffsetsResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewListOffsetsResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.Timestamp, sp.Offset = -1, -1
			l, code := s.partition(rt.Topic, rp.Partition)
			if code != nil {
				sp.ErrorCode = code.Code
			} else {
				sp.Timestamp, sp.Offset, sp.ErrorCode = s.listOffset(l, rp.Timestamp)
			}
			if r.version == 0 {
				sp.OldStyleOffsets = []int64{}
				if sp.ErrorCode == 0 && sp.Offset >= 0 && rp.MaxNumOffsets > 0 {
					sp.OldStyleOffsets = append(sp.OldStyleOffsets, sp.Offset)
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return reply(resp)
}

// listOffset resolves one timestamp query to (timestamp, offset, error
// code).
func (s *Server) listOffset(l *seglog.Log, ts int64) (int64, int64, int16) {
	switch {
	case ts == -2:
		return -1, l.StartOffset(), 0
	case ts == -1:
		return -1, l.EndOffset(), 0
	case ts < 0:
		return -1, -1, kerr.InvalidRequest.Code
	}
	off, err := l.OffsetForTime(ts)
	if err != nil {
		return -1, -1, readErrorCode(err)
	}
	if off >= l.EndOffset() {
		return -1, -1, 0
	}
	c, err := l.Read(off, 1)
	if err != nil {
		return -1, -1, readErrorCode(err)
	}
	defer c.Release()
	h, err := record.ParseHeader(c.Data)
	if err != nil {
		return -1, off, 0
	}
	return h.MaxTimestamp, off, 0
}

// readErrorCode maps an error reading a log to a Kafka error code.
func readErrorCode(err error) int16 {
	switch {
	case errors.Is(err, seglog.ErrOffsetOutOfRange):
		return kerr.OffsetOutOfRange.Code
	case errors.Is(err, seglog.ErrClosed):
		return kerr.NotLeaderForPartition.Code
	}
	return kerr.KafkaStorageError.Code
}
