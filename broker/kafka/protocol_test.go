package kafka

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"gale/broker/record"
)

// Tests that speak the protocol by hand: versions, errors and bad input.

// batch returns one valid uncompressed batch of n records, as a
// non-idempotent producer sends it.
func batch(n int, ts int64) []byte {
	recs := make([]record.Record, n)
	for i := range recs {
		recs[i] = record.Record{Value: value(i)}
	}
	return record.AppendBatch(nil, record.BatchOptions{
		BaseTimestamp: ts, ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, PartitionLeaderEpoch: -1,
	}, recs)
}

func produceRequest(version int16, acks int16, topic string, partition int32, records []byte) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.SetVersion(version)
	req.Acks, req.TimeoutMillis = acks, 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition, rp.Records = partition, records
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

func fetchRequest(version int16, topic string, partition int32, offset int64, maxWait time.Duration) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.SetVersion(version)
	req.ReplicaID, req.MaxWaitMillis, req.MinBytes, req.MaxBytes = -1, int32(maxWait/time.Millisecond), 1, 1<<20
	req.SessionEpoch = -1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition, rp.FetchOffset, rp.PartitionMaxBytes = partition, offset, 1<<20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

func TestAPIVersions(t *testing.T) {
	b := startBroker(t, "")
	c := b.dial(t)
	for v := int16(0); v <= apis[18].max; v++ {
		req := kmsg.NewPtrApiVersionsRequest()
		req.SetVersion(v)
		req.ClientSoftwareName, req.ClientSoftwareVersion = "test", "1"
		resp := c.roundTrip(req).(*kmsg.ApiVersionsResponse)
		if resp.ErrorCode != 0 || len(resp.ApiKeys) != len(apis) {
			t.Fatalf("v%d: error %d, %d keys", v, resp.ErrorCode, len(resp.ApiKeys))
		}
		for _, k := range resp.ApiKeys {
			if a := apis[k.ApiKey]; k.MinVersion != a.min || k.MaxVersion != a.max {
				t.Errorf("v%d: key %d advertised %d-%d, want %d-%d", v, k.ApiKey, k.MinVersion, k.MaxVersion, a.min, a.max)
			}
		}
	}
	// KIP-511: a version we lack is answered with v0, UNSUPPORTED_VERSION
	// and the ranges.
	req := kmsg.NewPtrApiVersionsRequest()
	req.SetVersion(apis[18].max + 1)
	corr := c.send(req)
	v0 := kmsg.NewPtrApiVersionsRequest()
	v0.SetVersion(0)
	resp := c.recv(v0, corr).(*kmsg.ApiVersionsResponse)
	if resp.ErrorCode != 35 || len(resp.ApiKeys) != len(apis) {
		t.Fatalf("downgrade: error %d, %d keys; want 35 and %d keys", resp.ErrorCode, len(resp.ApiKeys), len(apis))
	}
	// The connection is still usable.
	c.roundTrip(v0)
}

// TestVersionRangesForClients pins the ranges real clients depend on
// (FACTS.md): Produce from 0 with 3 and 7 inside, Fetch with 4 and 10.
func TestVersionRangesForClients(t *testing.T) {
	for _, tc := range []struct {
		key      int16
		versions []int16
	}{
		{0, []int16{0, 2, 3, 7}}, // Produce: librdkafka, kafka-go
		{1, []int16{4, 5, 10}},   // Fetch: v2 records, kafka-go, zstd
		{2, []int16{0, 1}},       // ListOffsets: kafka-go v1
		{3, []int16{0, 1, 6}},    // Metadata: kafka-go
		{18, []int16{0, 3}},      // ApiVersions
		{19, []int16{0, 4}},      // CreateTopics
		{20, []int16{0, 1}},      // DeleteTopics
	} {
		a := apis[tc.key]
		for _, v := range tc.versions {
			if v < a.min || v > a.max {
				t.Errorf("key %d: version %d outside advertised %d-%d", tc.key, v, a.min, a.max)
			}
		}
	}
}

func TestFetchEveryVersion(t *testing.T) {
	b := startBroker(t, "")
	b.createTopic(t, "f", 1)
	c := b.dial(t)
	var want []byte
	for i := range 3 {
		bt := batch(10, 1_700_000_000_000+int64(i))
		resp := c.roundTrip(produceRequest(7, -1, "f", 0, bt)).(*kmsg.ProduceResponse)
		if p := resp.Topics[0].Partitions[0]; p.ErrorCode != 0 || p.BaseOffset != int64(10*i) {
			t.Fatalf("produce %d: error %d base %d", i, p.ErrorCode, p.BaseOffset)
		}
		record.SetBaseOffset(bt, int64(10*i))
		want = append(want, bt...)
	}
	for v := apis[1].min; v <= apis[1].max; v++ {
		resp := c.roundTrip(fetchRequest(v, "f", 0, 0, 0)).(*kmsg.FetchResponse)
		p := resp.Topics[0].Partitions[0]
		if p.ErrorCode != 0 || p.HighWatermark != 30 || p.LastStableOffset != 30 || !bytes.Equal(p.RecordBatches, want) {
			t.Fatalf("v%d: error %d hwm %d lso %d, %d record bytes (want %d)", v, p.ErrorCode, p.HighWatermark, p.LastStableOffset, len(p.RecordBatches), len(want))
		}
		if v >= 5 && p.LogStartOffset != 0 {
			t.Fatalf("v%d: log start offset %d", v, p.LogStartOffset)
		}
		// From the middle of the second batch: that whole batch onward.
		resp = c.roundTrip(fetchRequest(v, "f", 0, 15, 0)).(*kmsg.FetchResponse)
		if got := resp.Topics[0].Partitions[0].RecordBatches; !bytes.Equal(got, want[len(want)/3:]) {
			t.Fatalf("v%d from 15: %d bytes, want %d", v, len(got), len(want)*2/3)
		}
		// Errors.
		for _, tc := range []struct {
			topic  string
			offset int64
			code   int16
		}{
			{"f", 31, 1}, // OFFSET_OUT_OF_RANGE
			{"f", -1, 1},
			{"nope", 0, 3}, // UNKNOWN_TOPIC_OR_PARTITION
		} {
			resp = c.roundTrip(fetchRequest(v, tc.topic, 0, tc.offset, time.Second)).(*kmsg.FetchResponse)
			if got := resp.Topics[0].Partitions[0].ErrorCode; got != tc.code {
				t.Fatalf("v%d %s@%d: error %d, want %d", v, tc.topic, tc.offset, got, tc.code)
			}
		}
		// At the end with no wait: empty, not an error.
		resp = c.roundTrip(fetchRequest(v, "f", 0, 30, 0)).(*kmsg.FetchResponse)
		if p := resp.Topics[0].Partitions[0]; p.ErrorCode != 0 || len(p.RecordBatches) != 0 {
			t.Fatalf("v%d at end: error %d, %d bytes", v, p.ErrorCode, len(p.RecordBatches))
		}
	}
}

func TestFetchLongPollTimesOut(t *testing.T) {
	b := startBroker(t, "")
	b.createTopic(t, "w", 1)
	c := b.dial(t)
	resp := c.roundTrip(fetchRequest(12, "w", 0, 0, 20*time.Millisecond)).(*kmsg.FetchResponse)
	if p := resp.Topics[0].Partitions[0]; p.ErrorCode != 0 || len(p.RecordBatches) != 0 {
		t.Fatalf("error %d, %d bytes", p.ErrorCode, len(p.RecordBatches))
	}
}

// TestFetchMaxBytes checks the response budget: the first partition with
// data returns at least one batch; a later one returns nothing when its
// next batch does not fit.
func TestFetchMaxBytes(t *testing.T) {
	b := startBroker(t, "")
	b.createTopic(t, "mb", 2)
	c := b.dial(t)
	bt := batch(20, 1)
	for p := range int32(2) {
		for range 3 {
			c.roundTrip(produceRequest(7, 1, "mb", p, slices.Clone(bt)))
		}
	}
	req := fetchRequest(11, "mb", 0, 0, 0)
	rp := req.Topics[0].Partitions[0]
	rp.Partition = 1
	req.Topics[0].Partitions = append(req.Topics[0].Partitions, rp)
	for _, tc := range []struct {
		maxBytes  int32
		partBytes int32
		p0, p1    int // batches returned
		comment   string
	}{
		{1 << 20, 1 << 20, 3, 3, "everything fits"},
		{1, 1 << 20, 1, 0, "one batch however small the budget"},
		{int32(len(bt))*2 + 10, 1 << 20, 2, 0, "budget for two batches"},
		{int32(len(bt))*4 + 10, 1 << 20, 3, 1, "budget left for one of partition 1"},
		{1 << 20, int32(len(bt)) + 1, 1, 1, "partition max of one batch"},
		{1 << 20, 1, 1, 0, "partition max below a batch"},
	} {
		req.MaxBytes = tc.maxBytes
		for i := range req.Topics[0].Partitions {
			req.Topics[0].Partitions[i].PartitionMaxBytes = tc.partBytes
		}
		resp := c.roundTrip(req).(*kmsg.FetchResponse)
		ps := resp.Topics[0].Partitions
		if len(ps[0].RecordBatches) != tc.p0*len(bt) || len(ps[1].RecordBatches) != tc.p1*len(bt) {
			t.Errorf("%s: got %d and %d bytes, want %d and %d batches of %d", tc.comment,
				len(ps[0].RecordBatches), len(ps[1].RecordBatches), tc.p0, tc.p1, len(bt))
		}
	}
}

func TestProduceErrors(t *testing.T) {
	b := startBroker(t, "")
	b.createTopic(t, "p", 1)
	c := b.dial(t)
	bad := batch(5, 1)
	bad[len(bad)-1] ^= 0xff // breaks the CRC
	for _, tc := range []struct {
		name    string
		req     *kmsg.ProduceRequest
		code    int16
		logLine string
	}{
		{"v2 is advertised but not served", produceRequest(2, 1, "p", 0, batch(1, 1)), 35, ""},
		{"bad crc", produceRequest(7, 1, "p", 0, bad), 2, "produce rejected"},
		{"good then bad batch", produceRequest(9, -1, "p", 0, append(batch(2, 1), bad...)), 2, "produce rejected"},
		{"truncated batch", produceRequest(11, 1, "p", 0, batch(3, 1)[:70]), 2, "produce rejected"},
		{"null records", produceRequest(3, 1, "p", 0, nil), 2, "produce rejected"},
		{"acks=2", produceRequest(7, 2, "p", 0, batch(1, 1)), 21, ""},
		{"unknown topic", produceRequest(7, 1, "nope", 0, batch(1, 1)), 3, ""},
		{"unknown partition", produceRequest(7, 1, "p", 1, batch(1, 1)), 3, ""},
	} {
		before := len(b.logs.lines(tc.logLine))
		resp := c.roundTrip(tc.req).(*kmsg.ProduceResponse)
		if got := resp.Topics[0].Partitions[0].ErrorCode; got != tc.code {
			t.Errorf("%s: error %d, want %d", tc.name, got, tc.code)
		}
		if tc.logLine != "" {
			if n := len(b.logs.lines(tc.logLine)) - before; n != 1 {
				t.Errorf("%s: %d log lines, want 1", tc.name, n)
			}
		}
	}
	if end := b.lookup("p").parts[0].EndOffset(); end != 0 {
		t.Fatalf("rejected produces stored records: end offset %d", end)
	}
}

// TestProduceAcksZero checks acks=0 gets no response (the next response
// on the connection answers the next request) and the records are stored.
func TestProduceAcksZero(t *testing.T) {
	b := startBroker(t, "")
	b.createTopic(t, "a0", 1)
	c := b.dial(t)
	c.send(produceRequest(7, 0, "a0", 0, batch(4, 1)))
	c.roundTrip(kmsg.NewPtrMetadataRequest()) // checks the correlation id
	if end := b.lookup("a0").parts[0].EndOffset(); end != 4 {
		t.Fatalf("end offset %d, want 4", end)
	}
	// A failing acks=0 produce closes the connection so the client notices.
	c.send(produceRequest(7, 0, "a0", 0, batch(4, 1)[:30]))
	if !c.closed() {
		t.Fatal("connection still open after a failed acks=0 produce")
	}
}

// TestBadInput sends what no correct client sends. Each case must close
// the connection with exactly one log line, and leave the broker serving
// other clients with their data intact.
func TestBadInput(t *testing.T) {
	b := startBroker(t, "", func(c *Config) { c.MaxRequestBytes = 1 << 20 })
	b.createTopic(t, "keep", 1)
	good := b.dial(t)
	good.roundTrip(produceRequest(7, -1, "keep", 0, batch(10, 1)))

	header := func(key, version int16) []byte {
		h := binary.BigEndian.AppendUint16(nil, uint16(key))
		h = binary.BigEndian.AppendUint16(h, uint16(version))
		h = binary.BigEndian.AppendUint32(h, 1)
		return binary.BigEndian.AppendUint16(h, 0xffff) // null client id
	}
	sized := func(b []byte) []byte { return append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...) }
	describeConfigs := kmsg.NewPtrDescribeConfigsRequest()
	fetch3 := fetchRequest(12, "keep", 0, 0, 0)
	fetch3.SetVersion(3)
	for _, tc := range []struct {
		name string
		in   []byte
		// closeWrite half-closes after writing: the request is cut short.
		closeWrite bool
	}{
		{"oversize request", binary.BigEndian.AppendUint32(nil, 1<<20+1), false},
		{"negative size", binary.BigEndian.AppendUint32(nil, 0xffffffff), false},
		{"truncated header", sized([]byte{0, 3, 0}), false},
		{"truncated frame", append(binary.BigEndian.AppendUint32(nil, 100), header(3, 1)...), true},
		{"unknown api key", sized(header(999, 0)), false},
		{"api key not served", frame(describeConfigs, 1), false},
		{"fetch v3 (before v2 records)", frame(fetch3, 1), false},
		{"fetch v13 (topic ids)", sized(header(1, 13)), false},
		{"produce v12 not advertised", sized(header(0, 12)), false},
		{"metadata with a huge array", sized(append(header(3, 1), 0x7f, 0xff, 0xff, 0xff)), false},
		{"flexible header with truncated tags", sized(append(header(3, 9), 0x05)), false},
		{"produce body cut short", sized(frame(produceRequest(7, 1, "keep", 0, batch(3, 1)), 1)[4:60]), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(b.logs.lines("closing connection"))
			c := b.dial(t)
			if _, err := c.nc.Write(tc.in); err != nil {
				t.Fatal(err)
			}
			if tc.closeWrite {
				c.nc.(interface{ CloseWrite() error }).CloseWrite()
			}
			if !c.closed() {
				t.Fatal("connection not closed")
			}
			lines := b.logs.lines("closing connection")[before:]
			if len(lines) != 1 {
				t.Fatalf("%d log lines, want 1: %q", len(lines), lines)
			}
			t.Log(lines[0])
			// Another client is unaffected.
			resp := good.roundTrip(fetchRequest(12, "keep", 0, 0, 0)).(*kmsg.FetchResponse)
			if p := resp.Topics[0].Partitions[0]; p.ErrorCode != 0 || p.HighWatermark != 10 {
				t.Fatalf("good client: error %d hwm %d", p.ErrorCode, p.HighWatermark)
			}
		})
	}
}

func TestMetadataVersions(t *testing.T) {
	b := startBroker(t, "")
	b.createTopic(t, "m1", 2)
	b.createTopic(t, "m2", 1)
	c := b.dial(t)
	for v := apis[3].min; v <= apis[3].max; v++ {
		req := kmsg.NewPtrMetadataRequest()
		req.SetVersion(v)
		if v == 0 {
			req.Topics = []kmsg.MetadataRequestTopic{} // v0: empty means all
		}
		resp := c.roundTrip(req).(*kmsg.MetadataResponse)
		if len(resp.Brokers) != 1 || fmt.Sprintf("%s:%d", resp.Brokers[0].Host, resp.Brokers[0].Port) != b.addr {
			t.Fatalf("v%d: brokers %+v, want one at %s", v, resp.Brokers, b.addr)
		}
		if len(resp.Topics) != 2 || *resp.Topics[0].Topic != "m1" || len(resp.Topics[0].Partitions) != 2 {
			t.Fatalf("v%d: topics %+v", v, resp.Topics)
		}
		p := resp.Topics[0].Partitions[1]
		if p.Leader != 0 || !slices.Equal(p.Replicas, []int32{0}) || !slices.Equal(p.ISR, []int32{0}) {
			t.Fatalf("v%d: partition %+v", v, p)
		}
		if v >= 10 && resp.Topics[0].TopicID != b.lookup("m1").id {
			t.Fatalf("v%d: topic id %x", v, resp.Topics[0].TopicID)
		}
		if v >= 1 {
			req.Topics = []kmsg.MetadataRequestTopic{} // v1+: empty means none
			if resp := c.roundTrip(req).(*kmsg.MetadataResponse); len(resp.Topics) != 0 {
				t.Fatalf("v%d: %d topics for an empty list", v, len(resp.Topics))
			}
		}
	}
	// v12 by topic id.
	req := kmsg.NewPtrMetadataRequest()
	req.SetVersion(12)
	req.Topics = []kmsg.MetadataRequestTopic{{TopicID: b.lookup("m2").id}, {TopicID: [16]byte{1}}}
	resp := c.roundTrip(req).(*kmsg.MetadataResponse)
	if *resp.Topics[0].Topic != "m2" || resp.Topics[1].ErrorCode != 100 {
		t.Fatalf("by id: %+v", resp.Topics)
	}
	// Auto-creation only when the request allows it (v4+).
	req = kmsg.NewPtrMetadataRequest()
	req.SetVersion(4)
	req.Topics = []kmsg.MetadataRequestTopic{{Topic: kmsg.StringPtr("m3")}, {Topic: kmsg.StringPtr("bad/name")}}
	resp = c.roundTrip(req).(*kmsg.MetadataResponse)
	if resp.Topics[0].ErrorCode != 3 || resp.Topics[1].ErrorCode != 17 {
		t.Fatalf("no auto-create: %+v", resp.Topics)
	}
	req.AllowAutoTopicCreation = true
	resp = c.roundTrip(req).(*kmsg.MetadataResponse)
	if resp.Topics[0].ErrorCode != 0 || len(resp.Topics[0].Partitions) != 1 || resp.Topics[1].ErrorCode != 17 {
		t.Fatalf("auto-create: %+v", resp.Topics)
	}
}

func TestAdvertise(t *testing.T) {
	b := startBroker(t, "", func(c *Config) { c.Advertise = "proxy.example:19092"; c.NodeID = 1 })
	req := kmsg.NewPtrMetadataRequest()
	req.SetVersion(1)
	resp := b.dial(t).roundTrip(req).(*kmsg.MetadataResponse)
	if br := resp.Brokers[0]; br.Host != "proxy.example" || br.Port != 19092 || br.NodeID != 1 || resp.ControllerID != 1 {
		t.Fatalf("brokers %+v controller %d", resp.Brokers, resp.ControllerID)
	}
}

func TestCreateDeleteTopics(t *testing.T) {
	dir := t.TempDir()
	b := startBroker(t, dir, func(c *Config) { c.DefaultPartitions = 2; c.MaxPartitions = 100 })
	c := b.dial(t)
	create := func(v int16, validateOnly bool, topics ...kmsg.CreateTopicsRequestTopic) []kmsg.CreateTopicsResponseTopic {
		req := kmsg.NewPtrCreateTopicsRequest()
		req.SetVersion(v)
		req.ValidateOnly = validateOnly
		req.Topics = topics
		return c.roundTrip(req).(*kmsg.CreateTopicsResponse).Topics
	}
	topic := func(name string, n int32, rf int16) kmsg.CreateTopicsRequestTopic {
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = name, n, rf
		return rt
	}
	got := create(7, false,
		topic("c1", 3, 1),
		topic("c2", -1, -1),
		topic("c3", 0, 1),
		topic("c4", 1, 3),
		topic("bad name", 1, 1),
		topic("dup", 1, 1), topic("dup", 1, 1),
		topic("big", 101, 1),
	)
	want := []int16{0, 0, 37, 38, 17, 42, 42, 37}
	for i, st := range got {
		if st.ErrorCode != want[i] {
			t.Errorf("topic %d (%s): error %d, want %d", i, st.Topic, st.ErrorCode, want[i])
		}
	}
	if got[0].NumPartitions != 3 || got[1].NumPartitions != 2 || got[0].TopicID != b.lookup("c1").id {
		t.Errorf("created: %+v", got[:2])
	}
	if st := create(0, false, topic("c1", 1, 1))[0]; st.ErrorCode != 36 {
		t.Errorf("re-create: error %d, want 36", st.ErrorCode)
	}
	if st := create(1, true, topic("vo", 1, 1))[0]; st.ErrorCode != 0 || b.lookup("vo") != nil {
		t.Errorf("validate only: error %d, created %v", st.ErrorCode, b.lookup("vo") != nil)
	}
	c.roundTrip(produceRequest(7, 1, "c1", 2, batch(3, 1)))

	// Delete c1 by name (v1) and c2 by id (v6).
	del := kmsg.NewPtrDeleteTopicsRequest()
	del.SetVersion(1)
	del.TopicNames = []string{"c1", "nope"}
	if ts := c.roundTrip(del).(*kmsg.DeleteTopicsResponse).Topics; ts[0].ErrorCode != 0 || ts[1].ErrorCode != 3 {
		t.Fatalf("delete v1: %+v", ts)
	}
	del = kmsg.NewPtrDeleteTopicsRequest()
	del.SetVersion(6)
	del.Topics = []kmsg.DeleteTopicsRequestTopic{{TopicID: b.lookup("c2").id}, {TopicID: [16]byte{9}}}
	if ts := c.roundTrip(del).(*kmsg.DeleteTopicsResponse).Topics; ts[0].ErrorCode != 0 || *ts[0].Topic != "c2" || ts[1].ErrorCode != 100 {
		t.Fatalf("delete v6: %+v", ts)
	}
	for _, d := range []string{"c1-0", "c1-2", "c2-1"} {
		if _, err := os.Stat(filepath.Join(dir, d)); !os.IsNotExist(err) {
			t.Errorf("%s still there: %v", d, err)
		}
	}
	// A producer still holding the deleted topic's name learns it is gone.
	resp := c.roundTrip(produceRequest(7, 1, "c1", 0, batch(1, 1))).(*kmsg.ProduceResponse)
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != 3 {
		t.Errorf("produce to deleted topic: error %d", code)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	// A restart does not bring deleted topics back; a new c1 is empty.
	b = startBroker(t, dir)
	if ts := b.sortedTopics(); len(ts) != 0 {
		t.Fatalf("after restart: %d topics, want 0", len(ts))
	}
	b.createTopic(t, "c1", 3)
	if end := b.lookup("c1").parts[2].EndOffset(); end != 0 {
		t.Fatalf("re-created topic has end offset %d", end)
	}
}

// TestCloseEndsLongPolls checks Close does not wait for a long poll's
// MaxWait.
func TestCloseEndsLongPolls(t *testing.T) {
	b := startBroker(t, "", func(c *Config) { c.MaxFetchWait = time.Hour })
	b.createTopic(t, "cl", 1)
	c := b.dial(t)
	c.send(fetchRequest(12, "cl", 0, 0, time.Hour))
	// Wait until the fetch is parked: a second connection's request is
	// served meanwhile.
	b.dial(t).roundTrip(kmsg.NewPtrMetadataRequest())
	closed := make(chan error, 1)
	go func() { closed <- b.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Close is stuck behind a long poll")
	}
}

// TestRetentionRuns checks the periodic retention check deletes old
// segments, and that clients then see the new log start offset.
func TestRetentionRuns(t *testing.T) {
	b := startBroker(t, "", func(c *Config) {
		c.Log.SegmentBytes = 8 << 10
		c.Log.RetentionBytes = 16 << 10
		c.RetentionCheckInterval = 5 * time.Millisecond
	})
	b.createTopic(t, "ret", 1)
	c := b.dial(t)
	for range 40 {
		c.roundTrip(produceRequest(7, 1, "ret", 0, batch(10, 1))) // about 1.2 KiB
	}
	l := b.lookup("ret").parts[0]
	deadline := time.Now().Add(20 * time.Second)
	for l.StartOffset() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("retention did not delete a segment")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if len(b.logs.lines("retention deleted segments")) == 0 {
		t.Error("no log line for the deletion")
	}
	start := l.StartOffset()
	resp := c.roundTrip(fetchRequest(12, "ret", 0, 0, 0)).(*kmsg.FetchResponse)
	if p := resp.Topics[0].Partitions[0]; p.ErrorCode != 1 || p.LogStartOffset < start {
		t.Fatalf("fetch at 0: error %d, log start %d (want 1 and >= %d)", p.ErrorCode, p.LogStartOffset, start)
	}
	lo := kmsg.NewPtrListOffsetsRequest()
	lo.SetVersion(1)
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = "ret"
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Timestamp = -2
	rt.Partitions = append(rt.Partitions, rp)
	lo.Topics = append(lo.Topics, rt)
	if got := c.roundTrip(lo).(*kmsg.ListOffsetsResponse).Topics[0].Partitions[0].Offset; got < start {
		t.Fatalf("earliest offset %d, want >= %d", got, start)
	}
}
