package scenarios

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"gale/broker/record"
	"gale/linearizability"
)

// history records operations with timestamps from one monotonic clock.
type history struct {
	start time.Time
	rec   *linearizability.Recorder
}

func (h *history) now() int64 { return int64(time.Since(h.start)) }

// client issues raw kmsg requests through a kgo client and records each
// as one history operation, with the offsets and statuses exactly as the
// broker answered: an error code that says the request was rejected is
// fail, a transport error or timeout is unknown. Its methods are
// sequential: one logical client of the history.
type client struct {
	id      int
	kc      *kgo.Client
	h       *history
	topic   string
	timeout time.Duration
}

func (c *client) do(req kmsg.Request) (kmsg.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	return c.kc.Request(ctx, req)
}

// rejected reports whether a produce error code says the batch was not
// written. Other codes (timeouts, storage errors, a server closing under
// an fsync) leave it unknown.
func rejected(code int16) bool {
	switch kerr.ErrorForCode(code) {
	case kerr.CorruptMessage, kerr.MessageTooLarge, kerr.InvalidRecord, kerr.UnknownTopicOrPartition,
		kerr.InvalidRequiredAcks, kerr.UnsupportedVersion, kerr.RecordListTooLarge, kerr.InvalidTopicException:
		return true
	}
	return false
}

// produce sends values as one batch (acks=all) to partition and records it.
func (c *client) produce(partition int32, values []string) linearizability.Op {
	recs := make([]record.Record, len(values))
	for i, v := range values {
		recs[i] = record.Record{Value: []byte(v)}
	}
	batch := record.AppendBatch(nil, record.BatchOptions{
		BaseTimestamp: time.Now().UnixMilli(),
		ProducerID:    -1, ProducerEpoch: -1, BaseSequence: -1, PartitionLeaderEpoch: -1,
	}, recs)
	req := kmsg.NewPtrProduceRequest()
	req.Acks, req.TimeoutMillis = -1, int32(c.timeout/time.Millisecond)
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = c.topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = partition, batch
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)

	op := linearizability.Op{Client: c.id, Kind: linearizability.Produce, Topic: c.topic, Partition: partition, Values: values, Status: linearizability.StatusUnknown}
	op.Call = c.h.now()
	resp, err := c.do(req)
	op.Return = c.h.now()
	if err == nil {
		if sp, ok := producePartition(resp.(*kmsg.ProduceResponse)); ok {
			switch {
			case sp.ErrorCode == 0:
				op.Status, op.Offset = linearizability.StatusOK, sp.BaseOffset
			case rejected(sp.ErrorCode):
				op.Status = linearizability.StatusFail
			}
		}
	}
	c.h.rec.Record(op)
	return op
}

func producePartition(resp *kmsg.ProduceResponse) (kmsg.ProduceResponseTopicPartition, bool) {
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return kmsg.ProduceResponseTopicPartition{}, false
	}
	return resp.Topics[0].Partitions[0], true
}

// fetchResult is what a fetch found besides the recorded operation.
type fetchResult struct {
	op   linearizability.Op
	next int64 // the position after the records read
	hw   int64 // the partition's high watermark, -1 if unknown
	code int16 // the partition's error code
}

// fetch reads partition from pos (at most maxBytes of it, waiting up to
// wait for data) and records it. The operation's offset is the offset of
// the first record returned (records before pos, in the batch holding it,
// are dropped, as Kafka clients drop them), or pos if none.
func (c *client) fetch(partition int32, pos int64, maxBytes int32, wait time.Duration) fetchResult {
	req := kmsg.NewPtrFetchRequest()
	req.ReplicaID, req.MaxWaitMillis, req.MinBytes, req.MaxBytes = -1, int32(wait/time.Millisecond), 1, maxBytes
	req.SessionEpoch = -1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = c.topic
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = partition, pos, maxBytes
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)

	r := fetchResult{next: pos, hw: -1}
	r.op = linearizability.Op{Client: c.id, Kind: linearizability.Fetch, Topic: c.topic, Partition: partition, Offset: pos, Status: linearizability.StatusUnknown}
	r.op.Call = c.h.now()
	resp, err := c.do(req)
	r.op.Return = c.h.now()
	if err == nil {
		c.readFetch(resp.(*kmsg.FetchResponse), &r)
	}
	c.h.rec.Record(r.op)
	return r
}

// readFetch fills r from a Fetch response of one partition.
func (c *client) readFetch(resp *kmsg.FetchResponse, r *fetchResult) {
	if resp.ErrorCode != 0 || len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return
	}
	p := resp.Topics[0].Partitions[0]
	r.hw, r.code = p.HighWatermark, p.ErrorCode
	if p.ErrorCode != 0 {
		r.op.Status = linearizability.StatusFail // nothing was read
		return
	}
	values := []string{}
	first := int64(-1)
	for data := p.RecordBatches; len(data) > 0; {
		h, err := record.ParseHeader(data)
		if err != nil || h.Size() > len(data) {
			break // a partial batch at the end: not read
		}
		err = record.Records(data[:h.Size()], func(delta int32, rec record.Record) bool {
			if off := h.BaseOffset + int64(delta); off >= r.op.Offset {
				if first < 0 {
					first = off
				}
				values = append(values, string(rec.Value))
				r.next = off + 1
			}
			return true
		})
		if err != nil {
			return // undecodable: leave the fetch unknown
		}
		data = data[h.Size():]
	}
	if first >= 0 {
		r.op.Offset = first
	}
	r.op.Values, r.op.Status = values, linearizability.StatusOK
}

// commit stores offset as group's committed offset for partition (a
// simple client: no member id, generation -1) and records it.
func (c *client) commit(group string, partition int32, offset int64) linearizability.Op {
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Group, req.Generation = group, -1
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = c.topic
	rp := kmsg.NewOffsetCommitRequestTopicPartition()
	rp.Partition, rp.Offset, rp.LeaderEpoch = partition, offset, -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)

	op := linearizability.Op{Client: c.id, Kind: linearizability.Commit, Group: group, Topic: c.topic, Partition: partition, Offset: offset, Status: linearizability.StatusUnknown}
	op.Call = c.h.now()
	resp, err := c.do(req)
	op.Return = c.h.now()
	if err == nil {
		r := resp.(*kmsg.OffsetCommitResponse)
		if len(r.Topics) == 1 && len(r.Topics[0].Partitions) == 1 {
			op.Status = linearizability.StatusFail
			if r.Topics[0].Partitions[0].ErrorCode == 0 {
				op.Status = linearizability.StatusOK
			}
		}
	}
	c.h.rec.Record(op)
	return op
}

// fetchCommitted reads group's committed offset for partition and records
// it; the returned offset is -1 when none is committed or the read failed.
func (c *client) fetchCommitted(group string, partition int32) linearizability.Op {
	req := kmsg.NewPtrOffsetFetchRequest()
	req.Group = group
	rt := kmsg.NewOffsetFetchRequestTopic()
	rt.Topic, rt.Partitions = c.topic, []int32{partition}
	req.Topics = append(req.Topics, rt)

	op := linearizability.Op{Client: c.id, Kind: linearizability.FetchCommitted, Group: group, Topic: c.topic, Partition: partition, Offset: -1, Status: linearizability.StatusUnknown}
	op.Call = c.h.now()
	resp, err := c.do(req)
	op.Return = c.h.now()
	if err == nil {
		if off, err := committedOffset(resp.(*kmsg.OffsetFetchResponse)); err == nil {
			op.Status, op.Offset = linearizability.StatusOK, off
		} else {
			op.Status = linearizability.StatusFail
		}
	}
	c.h.rec.Record(op)
	if op.Status != linearizability.StatusOK {
		op.Offset = -1
	}
	return op
}

// committedOffset finds the one partition's offset in an OffsetFetch
// response, whichever version (v8+ answers per group).
func committedOffset(resp *kmsg.OffsetFetchResponse) (int64, error) {
	if resp.ErrorCode != 0 {
		return 0, kerr.ErrorForCode(resp.ErrorCode)
	}
	topics := resp.Topics
	if len(resp.Groups) == 1 {
		g := resp.Groups[0]
		if g.ErrorCode != 0 {
			return 0, kerr.ErrorForCode(g.ErrorCode)
		}
		for _, t := range g.Topics {
			for _, p := range t.Partitions {
				if p.ErrorCode != 0 {
					return 0, kerr.ErrorForCode(p.ErrorCode)
				}
				return p.Offset, nil
			}
		}
	}
	for _, t := range topics {
		for _, p := range t.Partitions {
			if p.ErrorCode != 0 {
				return 0, kerr.ErrorForCode(p.ErrorCode)
			}
			return p.Offset, nil
		}
	}
	return 0, errors.New("no partition in the OffsetFetch response")
}

// createTopic creates topic with n partitions.
func createTopic(kc *kgo.Client, topic string, n int32) error {
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, n, 1
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 5000
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, kc)
	if err != nil {
		return err
	}
	if len(resp.Topics) != 1 {
		return fmt.Errorf("CreateTopics: %d topics in the response", len(resp.Topics))
	}
	return kerr.ErrorForCode(resp.Topics[0].ErrorCode)
}
