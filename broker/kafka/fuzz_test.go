package kafka

import (
	"encoding/binary"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"gale/broker/seglog"
)

// FuzzConn feeds arbitrary bytes, split into chunks at arbitrary points,
// through a connection of a real Server (real logs in a temporary
// directory): size prefix, header parsing, kmsg decoding, the handlers.
// Nothing may panic (the server recovers panics and logs them: the fuzz
// target fails on such a line), hang, or damage the seed topic's log.
func FuzzConn(f *testing.F) {
	for _, seed := range fuzzSeeds() {
		f.Add(seed, uint64(0))
		f.Add(seed, uint64(len(seed)))
	}
	logs := new(logBuffer)
	s, err := New(Config{
		Dir:                    f.TempDir(),
		Log:                    seglog.Options{SegmentBytes: 64 << 10},
		MaxPartitions:          4,
		MaxRequestBytes:        1 << 20,
		MaxFetchWait:           time.Millisecond,
		RetentionCheckInterval: -1,
		Logger:                 slog.New(slog.NewTextHandler(logs, nil)),
	})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	if _, code, msg := s.createTopic("fz", 2, false); code != nil {
		f.Fatal(msg)
	}

	f.Fuzz(func(t *testing.T, in []byte, split uint64) {
		runFuzzConn(t, s, in, split)
		if lines := logs.lines("panic"); len(lines) > 0 {
			t.Fatalf("server panicked:\n%s", strings.Join(lines, "\n"))
		}
		// Topics the input created go, so inputs do not pile up.
		for _, tp := range s.sortedTopics() {
			if tp.name != "fz" {
				if err := s.deleteTopic(tp); err != nil {
					t.Fatal(err)
				}
			}
		}
		tp := s.lookup("fz")
		if tp == nil { // the input deleted it
			var msg string
			if tp, _, msg = s.createTopic("fz", 2, false); tp == nil {
				t.Fatal(msg)
			}
		}
		l := tp.parts[0]
		c, err := l.Read(l.StartOffset(), 1<<20)
		if err != nil {
			t.Fatalf("seed topic unreadable: %v", err)
		}
		c.Release()
	})
}

// runFuzzConn serves one connection that receives in, cut into chunks
// whose sizes come from split, and whose responses are read and dropped.
func runFuzzConn(t *testing.T, s *Server, in []byte, split uint64) {
	server, client := net.Pipe()
	c := newConn(s, server)
	if !s.trackConn(c) {
		t.Fatal("server closed")
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		c.serve()
	}()
	go io.Copy(io.Discard, client)

	rng := rand.New(rand.NewPCG(split, 0))
	for len(in) > 0 {
		n := min(len(in), 1+rng.IntN(64))
		if split == 0 {
			n = len(in)
		}
		if _, err := client.Write(in[:n]); err != nil {
			break // the server closed the connection
		}
		in = in[n:]
	}
	client.Close()
	select {
	case <-served:
	case <-time.After(30 * time.Second):
		t.Fatal("connection still served 30 s after the client left")
	}
}

// fuzzSeeds returns well-formed requests of every served key and version
// (several per input, as clients pipeline them) and a few malformed ones.
func fuzzSeeds() [][]byte {
	bt := batch(3, 1_700_000_000_000)
	var seeds [][]byte
	for key, a := range apis {
		for v := a.min; v <= a.max; v++ {
			req := seedRequest(key, bt)
			req.SetVersion(v)
			in := frame(req, 1)
			in = append(in, frame(req, 2)...)
			seeds = append(seeds, in)
		}
	}
	seeds = append(seeds,
		binary.BigEndian.AppendUint32(nil, 1<<20+1),
		[]byte{0, 0, 0, 3, 0, 3, 0},
		[]byte{0, 0, 0, 10, 0, 18, 0, 99, 0, 0, 0, 1, 0xff, 0xff},
	)
	return seeds
}

// seedRequest is a plausible request of an API key, for topic "fz".
func seedRequest(key int16, records []byte) kmsg.Request {
	switch key {
	case 0:
		return produceRequest(7, 1, "fz", 0, records)
	case 1:
		return fetchRequest(12, "fz", 1, 0, time.Millisecond)
	case 2:
		req := kmsg.NewPtrListOffsetsRequest()
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = "fz"
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Timestamp = -2
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		return req
	case 3:
		req := kmsg.NewPtrMetadataRequest()
		req.Topics = []kmsg.MetadataRequestTopic{{Topic: kmsg.StringPtr("fz")}, {Topic: kmsg.StringPtr("new")}}
		req.AllowAutoTopicCreation = true
		return req
	case 19:
		req := kmsg.NewPtrCreateTopicsRequest()
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "made", 2, 1
		req.Topics = append(req.Topics, rt)
		return req
	case 20:
		req := kmsg.NewPtrDeleteTopicsRequest()
		req.TopicNames = []string{"made"}
		req.Topics = []kmsg.DeleteTopicsRequestTopic{{Topic: kmsg.StringPtr("made")}}
		return req
	}
	return kmsg.RequestForKey(key)
}
