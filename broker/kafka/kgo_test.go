package kafka

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"gale/broker/record"
)

// Tests with the real franz-go client on loopback.

// records is how many records the round-trip tests send per topic.
func records() int {
	if testing.Short() || raceEnabled {
		return 10_000
	}
	return 100_000
}

// value is record seq's value: 100 bytes, the sequence number first.
func value(seq int) []byte {
	v := fmt.Appendf(nil, "%09d|", seq)
	return append(v, bytes.Repeat([]byte("gale-broker "), 8)[:100-len(v)]...)
}

// seqOf parses a value's sequence number.
func seqOf(t testing.TB, v []byte) int {
	seq, err := strconv.Atoi(string(v[:9]))
	if err != nil {
		t.Fatalf("bad value %q", v)
	}
	return seq
}

// produce sends records [from, to) to topic: record seq goes to partition
// seq%parts, so it must land at offset seq/parts. It checks every offset
// the broker assigned.
func produce(t testing.TB, b *testBroker, topic string, parts, from, to int, opts ...kgo.Opt) {
	t.Helper()
	opts = append([]kgo.Opt{kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(time.Millisecond)}, opts...)
	cl := b.client(t, opts...)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = err
		}
	}
	c := ctx(t)
	for seq := from; seq < to; seq++ {
		wg.Add(1)
		r := &kgo.Record{Topic: topic, Partition: int32(seq % parts), Value: value(seq)}
		cl.Produce(c, r, func(r *kgo.Record, err error) {
			defer wg.Done()
			switch {
			case err != nil:
				fail(fmt.Errorf("record %d: %w", seq, err))
			case r.Offset != int64(seq/parts):
				fail(fmt.Errorf("record %d: offset %d, want %d", seq, r.Offset, seq/parts))
			}
		})
	}
	wg.Wait()
	cl.Close()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
}

// consume reads partitions [0, parts) of topic from the start until n
// records came, checking each is at the offset and partition its sequence
// number says, in order.
func consume(t testing.TB, b *testBroker, topic string, parts, n int, opts ...kgo.Opt) {
	t.Helper()
	offsets := make(map[int32]kgo.Offset)
	for p := range parts {
		offsets[int32(p)] = kgo.NewOffset().AtStart()
	}
	opts = append([]kgo.Opt{
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}),
		kgo.FetchMaxWait(500 * time.Millisecond),
	}, opts...)
	cl := b.client(t, opts...)
	next := make([]int64, parts)
	c := ctx(t)
	for got := 0; got < n; {
		fs := cl.PollFetches(c)
		if err := c.Err(); err != nil {
			t.Fatalf("after %d of %d records: %v", got, n, err)
		}
		fs.EachError(func(topic string, p int32, err error) {
			t.Fatalf("fetch %s[%d]: %v", topic, p, err)
		})
		fs.EachRecord(func(r *kgo.Record) {
			seq := seqOf(t, r.Value)
			if int(r.Partition) != seq%parts || r.Offset != int64(seq/parts) {
				t.Fatalf("record %d at %d/%d, want %d/%d", seq, r.Partition, r.Offset, seq%parts, seq/parts)
			}
			if r.Offset != next[r.Partition] {
				t.Fatalf("partition %d: offset %d, want %d", r.Partition, r.Offset, next[r.Partition])
			}
			if !bytes.Equal(r.Value, value(seq)) {
				t.Fatalf("record %d: value %q", seq, r.Value)
			}
			next[r.Partition]++
			got++
		})
	}
	cl.Close()
}

func TestProduceConsumeEachCodec(t *testing.T) {
	b := startBroker(t, "")
	n := records()
	for _, tc := range []struct {
		name  string
		codec kgo.CompressionCodec
		want  record.Codec
	}{
		{"none", kgo.NoCompression(), record.None},
		{"gzip", kgo.GzipCompression(), record.Gzip},
		{"snappy", kgo.SnappyCompression(), record.Snappy},
		{"lz4", kgo.Lz4Compression(), record.LZ4},
		{"zstd", kgo.ZstdCompression(), record.Zstd},
	} {
		t.Run(tc.name, func(t *testing.T) {
			topic := "codec-" + tc.name
			b.createTopic(t, topic, 4)
			produce(t, b, topic, 4, 0, n, kgo.ProducerBatchCompression(tc.codec))
			// The batch is stored as the producer compressed it.
			c, err := b.lookup(topic).parts[0].Read(0, 1)
			if err != nil {
				t.Fatal(err)
			}
			h, err := record.ParseHeader(c.Data)
			c.Release()
			if err != nil || h.Codec() != tc.want {
				t.Fatalf("first stored batch: codec %v (err %v), want %v", h.Codec(), err, tc.want)
			}
			consume(t, b, topic, 4, n)
		})
	}
}

func TestRestartReadsEverythingBack(t *testing.T) {
	dir := t.TempDir()
	n := records()
	b := startBroker(t, dir)
	b.createTopic(t, "restart", 4)
	produce(t, b, "restart", 4, 0, n, kgo.ProducerBatchCompression(kgo.ZstdCompression()))
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	b = startBroker(t, dir)
	consume(t, b, "restart", 4, n)
	// Offsets continue where they were.
	produce(t, b, "restart", 4, n, n+1000)
	consume(t, b, "restart", 4, n+1000)
	if lines := b.logs.lines("partition opened"); len(lines) != 4 {
		t.Errorf("%d partitions reopened, want 4:\n%s", len(lines), lines)
	}
}

func TestAutoCreateTopicOnMetadata(t *testing.T) {
	b := startBroker(t, "", func(c *Config) { c.DefaultPartitions = 3 })
	produce(t, b, "auto", 1, 0, 10, kgo.AllowAutoTopicCreation())
	if tp := b.lookup("auto"); tp == nil || len(tp.parts) != 3 {
		t.Fatalf("auto-created topic: %+v, want 3 partitions", tp)
	}
}

func TestNoAutoCreate(t *testing.T) {
	b := startBroker(t, "", func(c *Config) { c.NoAutoCreateTopics = true })
	cl := b.client(t)
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr("nope")
	req.Topics = append(req.Topics, rt)
	req.AllowAutoTopicCreation = true
	resp, err := req.RequestWith(ctx(t), cl)
	if err != nil {
		t.Fatal(err)
	}
	if code := resp.Topics[0].ErrorCode; code != 3 {
		t.Fatalf("error code %d, want 3 (UNKNOWN_TOPIC_OR_PARTITION)", code)
	}
}

func TestListOffsets(t *testing.T) {
	b := startBroker(t, "")
	b.createTopic(t, "lo", 1)
	base := time.UnixMilli(1_700_000_000_000)
	cl := b.client(t, kgo.ProducerLinger(0))
	for i := range 100 {
		// One record per request: one batch per record, so time lookups
		// are exact.
		r := &kgo.Record{Topic: "lo", Value: value(i), Timestamp: base.Add(time.Duration(i) * time.Second)}
		if err := cl.ProduceSync(ctx(t), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		ts         int64
		offset, at int64
	}{
		{-2, 0, -1},
		{-1, 100, -1},
		{base.UnixMilli(), 0, base.UnixMilli()},
		{base.Add(41500 * time.Millisecond).UnixMilli(), 42, base.Add(42 * time.Second).UnixMilli()},
		{base.Add(99 * time.Second).UnixMilli(), 99, base.Add(99 * time.Second).UnixMilli()},
		{base.Add(100 * time.Second).UnixMilli(), -1, -1},
	} {
		for _, v := range []int16{0, 1, 6} {
			req := kmsg.NewPtrListOffsetsRequest()
			req.SetVersion(v)
			req.ReplicaID = -1
			rt := kmsg.NewListOffsetsRequestTopic()
			rt.Topic = "lo"
			rp := kmsg.NewListOffsetsRequestTopicPartition()
			rp.Timestamp, rp.MaxNumOffsets = tc.ts, 1
			rt.Partitions = append(rt.Partitions, rp)
			req.Topics = append(req.Topics, rt)
			resp := b.dial(t).roundTrip(req).(*kmsg.ListOffsetsResponse)
			got := resp.Topics[0].Partitions[0]
			if got.ErrorCode != 0 {
				t.Fatalf("v%d ts %d: error %d", v, tc.ts, got.ErrorCode)
			}
			if v == 0 {
				want := []int64{}
				if tc.offset >= 0 {
					want = []int64{tc.offset}
				}
				if fmt.Sprint(got.OldStyleOffsets) != fmt.Sprint(want) {
					t.Errorf("v0 ts %d: offsets %v, want %v", tc.ts, got.OldStyleOffsets, want)
				}
				continue
			}
			if got.Offset != tc.offset || got.Timestamp != tc.at {
				t.Errorf("v%d ts %d: offset %d at %d, want %d at %d", v, tc.ts, got.Offset, got.Timestamp, tc.offset, tc.at)
			}
		}
	}
}

// TestLongPollWakesOnProduce checks a long-polling consumer wakes when data
// arrives on another connection (not at its 10 s MaxWait), and does not
// hold the producer up.
func TestLongPollWakesOnProduce(t *testing.T) {
	b := startBroker(t, "")
	b.createTopic(t, "lp", 2)
	pcl := b.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(0))
	errc := make(chan error, 1)
	go func() {
		for seq := range 200 {
			r := &kgo.Record{Topic: "lp", Partition: int32(seq % 2), Value: value(seq)}
			if err := pcl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	consume(t, b, "lp", 2, 200, kgo.FetchMaxWait(10*time.Second))
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// TestMillionRecords sends 1 M records across 8 partitions with franz-go and
// reads every one back in order at its offset. Too slow under the race
// detector; `make test` runs it once without.
func TestMillionRecords(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("1 M records: run without -race and -short (make test does)")
	}
	b := startBroker(t, "")
	b.createTopic(t, "million", 8)
	produce(t, b, "million", 8, 0, 1_000_000)
	consume(t, b, "million", 8, 1_000_000)
}
