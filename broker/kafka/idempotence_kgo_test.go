package kafka

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"gale/broker/record"
)

// Idempotent produce with the real franz-go client, whose producer is
// idempotent by default.

// idempotentClient is a franz-go client with idempotent writes on (the
// default), closed at the end of the test.
func idempotentClient(t testing.TB, seed string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(seed)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// produceAll sends records [0, n) through cl, record seq to partition
// seq%parts, and returns each record's acknowledged offset (or the first
// error).
func produceAll(t testing.TB, cl *kgo.Client, topic string, parts, n int) ([]int64, error) {
	t.Helper()
	offsets := make([]int64, n)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	c := ctx(t)
	for seq := range n {
		wg.Add(1)
		r := &kgo.Record{Topic: topic, Partition: int32(seq % parts), Value: value(seq)}
		cl.Produce(c, r, func(r *kgo.Record, err error) {
			defer wg.Done()
			if err != nil {
				mu.Lock()
				firstErr = cmpErr(firstErr, fmt.Errorf("record %d: %w", seq, err))
				mu.Unlock()
				return
			}
			offsets[seq] = r.Offset
		})
	}
	wg.Wait()
	return offsets, firstErr
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

func TestIdempotentFranzProduceConsume(t *testing.T) {
	b := startBroker(t, "")
	b.createTopic(t, "idem-kgo", 4)
	n := records()
	cl := idempotentClient(t, b.addr, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(time.Millisecond))
	offsets, err := produceAll(t, cl, "idem-kgo", 4, n)
	if err != nil {
		t.Fatal(err)
	}
	for seq, off := range offsets {
		if off != int64(seq/4) {
			t.Fatalf("record %d acked at offset %d, want %d", seq, off, seq/4)
		}
	}
	cl.Close()
	consume(t, b, "idem-kgo", 4, n)
	// The client did get a producer id: its batches carry it.
	c, err := b.lookup("idem-kgo").parts[0].Read(0, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	if h := mustHeader(t, c.Data); h.ProducerID < 0 || h.BaseSequence != 0 {
		t.Fatalf("first batch: producer id %d sequence %d, want an idempotent producer's first batch", h.ProducerID, h.BaseSequence)
	}
}

// TestIdempotentRetryNoDuplicates injects a real retry: a proxy forwards
// the client's third Produce request to the broker, which appends it, but
// drops the response and closes the client's connection. franz-go then
// sends the same batches again on a new connection. With idempotence every
// record is stored exactly once, in order, at the offset acknowledged; the
// negative control (idempotence off) shows the same fault duplicates
// records.
func TestIdempotentRetryNoDuplicates(t *testing.T) {
	n := 5000
	if testing.Short() || raceEnabled {
		n = 2000
	}
	for _, idempotent := range []bool{true, false} {
		t.Run(fmt.Sprintf("idempotent=%v", idempotent), func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			b := startBroker(t, "", func(c *Config) { c.Advertise = ln.Addr().String() })
			p := startDropProxy(t, ln, b.addr)
			b.createTopic(t, "retry", 1)
			opts := []kgo.Opt{
				kgo.DefaultProduceTopic("retry"),
				kgo.ProducerLinger(time.Millisecond),
				kgo.ProducerBatchMaxBytes(4 << 10),        // many batches, several requests in flight
				kgo.MetadataMinAge(50 * time.Millisecond), // the client refreshes metadata after the error
			}
			if !idempotent {
				// In flight as the idempotent producer's default: 5.
				opts = append(opts, kgo.DisableIdempotentWrite(), kgo.MaxProduceRequestsInflightPerBroker(5))
			}
			cl := idempotentClient(t, p.addr(), opts...)
			offsets, err := produceAll(t, cl, "retry", 1, n)
			if err != nil {
				t.Fatal(err)
			}
			cl.Close()
			if !p.dropped.Load() || p.producesAfterDrop.Load() == 0 {
				t.Fatalf("fault not injected: dropped %v, produce requests after the drop %d", p.dropped.Load(), p.producesAfterDrop.Load())
			}
			got := readAll(t, b, "retry")
			t.Logf("%d records acked, %d stored; %d produce requests after the dropped response", n, len(got), p.producesAfterDrop.Load())
			if !idempotent {
				if len(got) <= n {
					t.Fatalf("negative control: %d records stored for %d produced; the injected retry should have duplicated some", len(got), n)
				}
				return
			}
			if len(got) != n {
				t.Fatalf("%d records stored, want %d", len(got), n)
			}
			for off, v := range got {
				if seq := seqOf(t, v); seq != off || offsets[seq] != int64(off) {
					t.Fatalf("offset %d holds record %d (acked at %d), want record %d", off, seq, offsets[seq], off)
				}
			}
		})
	}
}

// readAll returns the values of partition 0 of topic, in offset order, read
// with a franz-go consumer up to the log's end offset.
func readAll(t testing.TB, b *testBroker, topic string) [][]byte {
	t.Helper()
	end := b.lookup(topic).parts[0].EndOffset()
	cl := b.client(t,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}),
		kgo.FetchMaxWait(100*time.Millisecond))
	defer cl.Close()
	var out [][]byte
	c := ctx(t)
	for int64(len(out)) < end {
		fs := cl.PollFetches(c)
		if err := c.Err(); err != nil {
			t.Fatalf("after %d of %d records: %v", len(out), end, err)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Fatal(err) })
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset != int64(len(out)) {
				t.Fatalf("record at offset %d, want %d", r.Offset, len(out))
			}
			out = append(out, r.Value)
		})
	}
	return out
}

// dropProxy forwards Kafka connections to a broker. The response to the
// third Produce request it forwards is dropped (the first two are answered,
// so the client knows the connection works): the proxy closes that
// client connection (and its broker connection) instead of delivering it,
// so the client does not know whether the request was applied and retries
// it on a new connection.
type dropProxy struct {
	ln     net.Listener
	target string

	produces          atomic.Int64 // Produce requests seen
	dropped           atomic.Bool  // the victim's response was dropped
	producesAfterDrop atomic.Int64 // Produce requests forwarded after the drop

	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

func startDropProxy(t testing.TB, ln net.Listener, target string) *dropProxy {
	p := &dropProxy{ln: ln, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			c.Close()
		}
		p.mu.Unlock()
		p.wg.Wait()
	})
	return p
}

func (p *dropProxy) addr() string { return p.ln.Addr().String() }

func (p *dropProxy) track(c net.Conn) {
	p.mu.Lock()
	p.conns = append(p.conns, c)
	p.mu.Unlock()
}

func (p *dropProxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			client.Close()
			continue
		}
		p.track(client)
		p.track(server)
		victim := new(atomic.Int64)
		victim.Store(-1)
		p.wg.Add(2)
		go p.requests(client, server, victim)
		go p.responses(server, client, victim)
	}
}

// requests forwards request frames from client to server, picking the
// third Produce request (key 0) of all connections as the victim.
func (p *dropProxy) requests(client, server net.Conn, victim *atomic.Int64) {
	defer p.wg.Done()
	defer server.Close()
	br := bufio.NewReader(client)
	for {
		f, err := readFrame(br)
		if err != nil {
			return
		}
		if len(f) >= 12 && binary.BigEndian.Uint16(f[4:]) == 0 {
			if p.produces.Add(1) == 3 {
				victim.Store(int64(binary.BigEndian.Uint32(f[8:])))
			} else if p.dropped.Load() {
				p.producesAfterDrop.Add(1)
			}
		}
		if _, err := server.Write(f); err != nil {
			return
		}
	}
}

// responses forwards response frames from server to client until the
// victim's response, which it drops, closing both connections.
func (p *dropProxy) responses(server, client net.Conn, victim *atomic.Int64) {
	defer p.wg.Done()
	defer client.Close()
	br := bufio.NewReader(server)
	for {
		f, err := readFrame(br)
		if err != nil {
			return
		}
		if len(f) >= 8 && int64(binary.BigEndian.Uint32(f[4:])) == victim.Load() {
			p.dropped.Store(true)
			server.Close()
			return
		}
		if _, err := client.Write(f); err != nil {
			return
		}
	}
}

// readFrame reads one size-prefixed frame, prefix included.
func readFrame(br *bufio.Reader) ([]byte, error) {
	var size [4]byte
	if _, err := io.ReadFull(br, size[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(size[:])
	if n > 256<<20 {
		return nil, errors.New("frame too large")
	}
	f := make([]byte, 4+n)
	copy(f, size[:])
	_, err := io.ReadFull(br, f[4:])
	return f, err
}

func mustHeader(t testing.TB, b []byte) record.Header {
	t.Helper()
	h, err := record.ParseHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
