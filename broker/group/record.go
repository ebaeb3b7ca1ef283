package group

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// OffsetRecord is one committed offset as the offsets log keeps it: the
// durable form of an accepted commit. An Offset of -1 is a tombstone: the
// committed offset is deleted.
type OffsetRecord struct {
	Group       string
	Topic       string
	Partition   int32
	Offset      int64
	LeaderEpoch int32 // -1 if unknown
	Metadata    string
}

// recordVersion is the encoding AppendTo writes.
const recordVersion = 1

var (
	// ErrCorruptRecord is returned (wrapped) by DecodeOffsetRecord for
	// bytes that are not a well-formed record.
	ErrCorruptRecord = errors.New("group: corrupt offset record")
	// ErrRecordVersion is returned (wrapped) by DecodeOffsetRecord for a
	// record version this build does not know, such as one written by a
	// newer broker.
	ErrRecordVersion = errors.New("group: unknown offset record version")
)

// AppendTo appends the record's encoding to dst and returns the result.
//
// Version 1, all integers big-endian, lengths as unsigned varints (the
// shortest form), strings as raw bytes:
//
//	version     uint8 = 1
//	group       uvarint length, bytes
//	topic       uvarint length, bytes
//	partition   int32
//	offset      int64 (-1: tombstone)
//	leaderEpoch int32
//	metadata    uvarint length, bytes
//
// The encoding is canonical: each record has exactly one. Framing and
// checksums are the log's job.
func (r OffsetRecord) AppendTo(dst []byte) []byte {
	dst = append(dst, recordVersion)
	dst = appendString(dst, r.Group)
	dst = appendString(dst, r.Topic)
	dst = binary.BigEndian.AppendUint32(dst, uint32(r.Partition))
	dst = binary.BigEndian.AppendUint64(dst, uint64(r.Offset))
	dst = binary.BigEndian.AppendUint32(dst, uint32(r.LeaderEpoch))
	return appendString(dst, r.Metadata)
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// DecodeOffsetRecord decodes one record written by AppendTo; b must hold
// exactly that record. The result does not alias b.
func DecodeOffsetRecord(b []byte) (OffsetRecord, error) {
	if len(b) == 0 {
		return OffsetRecord{}, fmt.Errorf("%w: empty", ErrCorruptRecord)
	}
	if b[0] != recordVersion {
		return OffsetRecord{}, fmt.Errorf("%w: %d", ErrRecordVersion, b[0])
	}
	d := decoder{b: b[1:]}
	var r OffsetRecord
	r.Group = d.string()
	r.Topic = d.string()
	r.Partition = int32(d.uint32())
	r.Offset = int64(d.uint64())
	r.LeaderEpoch = int32(d.uint32())
	r.Metadata = d.string()
	if d.err == nil && len(d.b) > 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	if d.err != nil {
		return OffsetRecord{}, d.err
	}
	return r, nil
}

// decoder reads big-endian fields; its first error sticks and later reads
// return zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: "+format, append([]any{ErrCorruptRecord}, args...)...)
	}
	d.b = nil
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.b) {
		d.fail("need %d bytes, have %d", n, len(d.b))
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) uint32() uint32 {
	if p := d.take(4); p != nil {
		return binary.BigEndian.Uint32(p)
	}
	return 0
}

func (d *decoder) uint64() uint64 {
	if p := d.take(8); p != nil {
		return binary.BigEndian.Uint64(p)
	}
	return 0
}

func (d *decoder) string() string {
	if d.err != nil {
		return ""
	}
	n, k := binary.Uvarint(d.b)
	switch {
	case k <= 0:
		d.fail("bad length")
		return ""
	case k != len(binary.AppendUvarint(nil, n)):
		d.fail("length not in shortest form")
		return ""
	case n > uint64(len(d.b)-k):
		d.fail("length %d, have %d bytes", n, len(d.b)-k)
		return ""
	}
	d.b = d.b[k:]
	return string(d.take(int(n)))
}

// Restore applies a record from the offsets log, as on broker restart:
// feed every record in log order (the last one for a partition wins, and
// a tombstone deletes) before handling requests. A group that has offsets
// is restored Empty, with no members.
func (c *Coordinator) Restore(rec OffsetRecord) {
	g := c.group(rec.Group)
	if g == nil {
		if rec.Offset == -1 {
			return
		}
		g = c.getOrCreate(rec.Group)
	}
	g.apply(rec)
	c.maybeForget(g)
}
