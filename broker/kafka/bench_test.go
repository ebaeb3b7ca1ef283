package kafka

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// BenchmarkEndToEnd runs one franz-go producer and one franz-go consumer
// against a broker in the same process (all three share the machine's
// cores): b.N records of 100 bytes, in batches of about 1000 records, from
// produce to consume. It reports msg/s (and MB/s of values).
func BenchmarkEndToEnd(b *testing.B) {
	for _, parts := range []int{1, 4} {
		b.Run(fmt.Sprintf("partitions=%d", parts), func(b *testing.B) {
			benchEndToEnd(b, parts)
		})
	}
}

func benchEndToEnd(b *testing.B, parts int) {
	br := startBroker(b, "", func(c *Config) { c.Log.SegmentBytes = 256 << 20 })
	br.createTopic(b, "bench", int32(parts))
	offsets := make(map[int32]kgo.Offset)
	for p := range parts {
		offsets[int32(p)] = kgo.NewOffset().AtStart()
	}
	consumer := br.client(b,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"bench": offsets}),
		kgo.FetchMaxWait(100*time.Millisecond))
	producer := br.client(b,
		kgo.DefaultProduceTopic("bench"),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.ProducerBatchMaxBytes(110_000), // about 1000 records of 100 bytes
		kgo.ProducerLinger(5*time.Millisecond),
		kgo.MaxBufferedRecords(1<<20),
		kgo.MaxProduceRequestsInflightPerBroker(5),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	val := bytes.Repeat([]byte("x"), 100)
	var failed atomic.Pointer[error]
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			failed.CompareAndSwap(nil, &err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	b.SetBytes(int64(len(val)))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	go func() {
		for range b.N {
			producer.Produce(ctx, &kgo.Record{Value: val}, promise)
		}
	}()
	for got := 0; got < b.N; {
		fs := consumer.PollFetches(ctx)
		if ctx.Err() != nil {
			b.Fatalf("after %d of %d records: %v", got, b.N, ctx.Err())
		}
		if err := fs.Err0(); err != nil {
			b.Fatal(err)
		}
		got += fs.NumRecords()
	}
	elapsed := time.Since(start)
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msg/s")
}

// TestFetchAllocsDoNotGrowWithSize is the zero-copy check: serving a Fetch
// (handler and vectored write) allocates the same whatever the number of
// record bytes it returns.
func TestFetchAllocsDoNotGrowWithSize(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	br := startBroker(t, "")
	br.createTopic(t, "za", 1)
	c := br.dial(t)
	bt := batch(1000, 1)
	for range 40 {
		c.roundTrip(produceRequest(7, 1, "za", 0, append([]byte(nil), bt...)))
	}
	sink := &countingConn{}
	bw := bufio.NewWriter(sink)
	allocs := func(maxBytes int32) (float64, int) {
		req := fetchRequest(12, "za", 0, 0, 0)
		req.MaxBytes, req.Topics[0].Partitions[0].PartitionMaxBytes = maxBytes, maxBytes
		r := &request{key: 1, version: 12, corr: 1, kreq: req}
		var n int
		a := testing.AllocsPerRun(50, func() {
			resp, err := br.handleFetch(r)
			if err != nil {
				t.Fatal(err)
			}
			n = resp.fetch.bytes
			if err := resp.fetch.writeTo(bw, sink); err != nil {
				t.Fatal(err)
			}
			resp.fetch.release()
		})
		return a, n
	}
	small, smallBytes := allocs(1)
	large, largeBytes := allocs(4 << 20)
	t.Logf("allocations per fetch: %.1f for %d record bytes, %.1f for %d", small, smallBytes, large, largeBytes)
	if largeBytes < 20*smallBytes {
		t.Fatalf("fetches too alike: %d and %d bytes", smallBytes, largeBytes)
	}
	if large > small {
		t.Fatalf("a fetch of %d bytes allocates %.1f times, one of %d bytes %.1f times", largeBytes, large, smallBytes, small)
	}
}

// countingConn is a net.Conn that drops what is written to it.
type countingConn struct {
	net.Conn
	n int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
