package kafka

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestFetchFrameMatchesKmsg checks the hand-encoded Fetch response, for
// every served version, byte for byte against kmsg's encoding of the same
// response, and decodes it back with kmsg.
func TestFetchFrameMatchesKmsg(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed = %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	a := apis[1]
	for v := a.min; v <= a.max; v++ {
		for iter := range 20 {
			t.Run(fmt.Sprintf("v%d/%d", v, iter), func(t *testing.T) {
				want := randomFetchResponse(rng, v)
				corr := rng.Int32()

				f := newFetchFrame()
				defer f.release()
				encodeKmsgFetch(f, corr, want)
				var got bytes.Buffer
				bufs := f.buffers()
				if _, err := bufs.WriteTo(&got); err != nil {
					t.Fatal(err)
				}
				if got.Len() != f.size() {
					t.Fatalf("wrote %d bytes, size() says %d", got.Len(), f.size())
				}
				exp := appendResponse(nil, corr, want)
				if !bytes.Equal(got.Bytes(), exp) {
					t.Fatalf("hand-encoded frame differs from kmsg's:\n got %x\nwant %x", got.Bytes(), exp)
				}

				dec := kmsg.NewPtrFetchResponse()
				dec.SetVersion(v)
				body := got.Bytes()[8:]
				if v >= 12 {
					body = body[1:]
				}
				if err := dec.ReadFrom(body); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(dec, want) {
					t.Fatalf("decoded %+v\nwant %+v", dec, want)
				}
			})
		}
	}
}

// TestFetchFrameWriteTo checks the vectored write path over a real
// connection, and that an empty frame goes through the buffered writer.
func TestFetchFrameWriteTo(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, v := range []int16{4, 12} {
		want := randomFetchResponse(rng, v)
		f := newFetchFrame()
		encodeKmsgFetch(f, 7, want)
		exp := appendResponse(nil, 7, want)

		a, b := net.Pipe()
		got := make(chan []byte)
		go func() {
			buf := make([]byte, len(exp))
			_, err := io.ReadFull(b, buf)
			if err != nil {
				t.Error(err)
			}
			got <- buf
		}()
		bw := bufio.NewWriter(a)
		if err := f.writeTo(bw, a); err != nil {
			t.Fatal(err)
		}
		if err := bw.Flush(); err != nil {
			t.Fatal(err)
		}
		if g := <-got; !bytes.Equal(g, exp) {
			t.Fatalf("v%d: wrote %x\nwant %x", v, g, exp)
		}
		f.release()
		a.Close()
		b.Close()
	}
}

// encodeKmsgFetch drives the frame encoder from a kmsg response.
func encodeKmsgFetch(f *fetchFrame, corr int32, r *kmsg.FetchResponse) {
	f.begin(r.Version, corr, r.ErrorCode, r.SessionID, len(r.Topics))
	for _, rt := range r.Topics {
		f.topic(rt.Topic, len(rt.Partitions))
		for _, rp := range rt.Partitions {
			f.partition(fetchPart{
				partition:      rp.Partition,
				errorCode:      rp.ErrorCode,
				highWatermark:  rp.HighWatermark,
				lastStable:     rp.LastStableOffset,
				logStartOffset: rp.LogStartOffset,
			}, rp.RecordBatches)
		}
		f.endTopic()
	}
	f.end()
}

// randomFetchResponse returns a response of the shape the broker sends:
// null aborted transactions, no preferred replica, no tagged fields,
// records never null.
func randomFetchResponse(rng *rand.Rand, v int16) *kmsg.FetchResponse {
	r := kmsg.NewPtrFetchResponse()
	r.SetVersion(v)
	if v >= 7 {
		r.ErrorCode = int16(rng.IntN(3))
		r.SessionID = 0
	}
	for range rng.IntN(4) {
		rt := kmsg.NewFetchResponseTopic()
		rt.Topic = randomName(rng)
		for range rng.IntN(5) {
			rp := kmsg.NewFetchResponseTopicPartition()
			rp.Partition = rng.Int32N(1000)
			rp.ErrorCode = int16(rng.IntN(2))
			rp.HighWatermark = rng.Int64()
			rp.LastStableOffset = rp.HighWatermark
			if v >= 5 {
				rp.LogStartOffset = rng.Int64N(1 << 40)
			}
			rp.RecordBatches = make([]byte, rng.IntN(3)*rng.IntN(300))
			for i := range rp.RecordBatches {
				rp.RecordBatches[i] = byte(rng.Uint32())
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		r.Topics = append(r.Topics, rt)
	}
	return r
}

func randomName(rng *rand.Rand) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz-._0123456789"
	b := make([]byte, 1+rng.IntN(200))
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}
