package kafka

import (
	"bufio"
	"encoding/binary"
	"net"
	"sync"

	"github.com/twmb/franz-go/pkg/kbin"

	"gale/broker/seglog"
)

// fetchFrame is a whole Fetch response, size prefix included, ready to
// write without copying record bytes: hdr holds every byte of framing,
// hand-encoded, and each element of data (a slice of a mapped segment) goes
// into the stream just before hdr[cuts[i]]. writeTo sends it with one
// vectored write alternating header pieces and data.
//
// Encode by calling begin, then for each topic topic and its partitions
// partition, then end. Versions 4-12 are encoded (flexible from 12).
type fetchFrame struct {
	version  int16
	flexible bool
	hdr      []byte
	cuts     []int
	data     [][]byte
	bytes    int            // total record bytes in data
	chunks   []seglog.Chunk // to release once written
	bufs     net.Buffers
}

var fetchFrames = sync.Pool{New: func() any { return new(fetchFrame) }}

func newFetchFrame() *fetchFrame { return fetchFrames.Get().(*fetchFrame) }

// release releases the frame's chunks and returns it to the pool. The
// frame must not be used after.
func (f *fetchFrame) release() {
	for _, c := range f.chunks {
		c.Release()
	}
	clear(f.chunks)
	clear(f.data)
	clear(f.bufs)
	f.hdr, f.cuts, f.data, f.chunks, f.bufs = f.hdr[:0], f.cuts[:0], f.data[:0], f.chunks[:0], f.bufs[:0]
	f.bytes = 0
	fetchFrames.Put(f)
}

// fetchPart is one partition's fields in a Fetch response.
type fetchPart struct {
	partition      int32
	errorCode      int16
	highWatermark  int64
	lastStable     int64
	logStartOffset int64
}

// begin starts a response: size (filled by end), correlation id, response
// header tags if flexible, throttle, error code and session id (v7+), and
// the topic count.
func (f *fetchFrame) begin(version int16, corr int32, errorCode int16, sessionID int32, topics int) {
	f.version, f.flexible = version, version >= 12
	f.hdr = append(f.hdr[:0], 0, 0, 0, 0)
	f.hdr = binary.BigEndian.AppendUint32(f.hdr, uint32(corr))
	if f.flexible {
		f.hdr = append(f.hdr, 0) // response header v1: no tags
	}
	f.hdr = binary.BigEndian.AppendUint32(f.hdr, 0) // throttle millis (v1+)
	if version >= 7 {
		f.hdr = binary.BigEndian.AppendUint16(f.hdr, uint16(errorCode))
		f.hdr = binary.BigEndian.AppendUint32(f.hdr, uint32(sessionID))
	}
	f.arrayLen(topics)
}

// topic starts a topic of n partitions.
func (f *fetchFrame) topic(name string, n int) {
	if f.flexible {
		f.hdr = kbin.AppendUvarint(f.hdr, uint32(len(name))+1)
	} else {
		f.hdr = binary.BigEndian.AppendUint16(f.hdr, uint16(len(name)))
	}
	f.hdr = append(f.hdr, name...)
	f.arrayLen(n)
}

// partition appends one partition; records (possibly empty, never null on
// the wire) is written in place, not copied.
func (f *fetchFrame) partition(p fetchPart, records []byte) {
	f.hdr = binary.BigEndian.AppendUint32(f.hdr, uint32(p.partition))
	f.hdr = binary.BigEndian.AppendUint16(f.hdr, uint16(p.errorCode))
	f.hdr = binary.BigEndian.AppendUint64(f.hdr, uint64(p.highWatermark))
	f.hdr = binary.BigEndian.AppendUint64(f.hdr, uint64(p.lastStable)) // v4+
	if f.version >= 5 {
		f.hdr = binary.BigEndian.AppendUint64(f.hdr, uint64(p.logStartOffset))
	}
	// Aborted transactions (v4+): null.
	if f.flexible {
		f.hdr = append(f.hdr, 0)
	} else {
		f.hdr = binary.BigEndian.AppendUint32(f.hdr, 0xffffffff)
	}
	if f.version >= 11 {
		f.hdr = binary.BigEndian.AppendUint32(f.hdr, 0xffffffff) // preferred read replica: none
	}
	if f.flexible {
		f.hdr = kbin.AppendUvarint(f.hdr, uint32(len(records))+1)
	} else {
		f.hdr = binary.BigEndian.AppendUint32(f.hdr, uint32(len(records)))
	}
	if len(records) > 0 {
		f.cuts = append(f.cuts, len(f.hdr))
		f.data = append(f.data, records)
		f.bytes += len(records)
	}
	if f.flexible {
		f.hdr = append(f.hdr, 0) // partition tags
	}
}

// endTopic ends a topic.
func (f *fetchFrame) endTopic() {
	if f.flexible {
		f.hdr = append(f.hdr, 0) // topic tags
	}
}

// end ends the response and fills in its size.
func (f *fetchFrame) end() {
	if f.flexible {
		f.hdr = append(f.hdr, 0) // response tags
	}
	binary.BigEndian.PutUint32(f.hdr, uint32(len(f.hdr)-4+f.bytes))
}

func (f *fetchFrame) arrayLen(n int) {
	if f.flexible {
		f.hdr = kbin.AppendUvarint(f.hdr, uint32(n)+1)
	} else {
		f.hdr = binary.BigEndian.AppendUint32(f.hdr, uint32(n))
	}
}

// size is the frame's length on the wire.
func (f *fetchFrame) size() int { return len(f.hdr) + f.bytes }

// writeTo writes the frame. Without record bytes it goes through bw like
// any response; otherwise bw is flushed and the frame is written to nc with
// one vectored write (writev on a TCP connection) of header pieces and
// record slices, so record bytes are not copied.
func (f *fetchFrame) writeTo(bw *bufio.Writer, nc net.Conn) error {
	if len(f.data) == 0 {
		_, err := bw.Write(f.hdr)
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	bufs := f.buffers()
	_, err := bufs.WriteTo(nc)
	return err
}

// buffers returns the frame as header pieces and record slices, in order.
func (f *fetchFrame) buffers() net.Buffers {
	f.bufs = f.bufs[:0]
	prev := 0
	for i, d := range f.data {
		f.bufs = append(f.bufs, f.hdr[prev:f.cuts[i]], d)
		prev = f.cuts[i]
	}
	f.bufs = append(f.bufs, f.hdr[prev:])
	return f.bufs
}
