package record

import (
	"encoding/binary"
	"slices"
)

// Record is one record of a batch. A nil Key or Value is null on the wire,
// distinct from an empty one.
type Record struct {
	Key, Value     []byte
	TimestampDelta int64 // milliseconds after the batch's BaseTimestamp
	Headers        []RecordHeader
}

// RecordHeader is a record header: a non-null key and a nullable value.
type RecordHeader struct {
	Key   string
	Value []byte
}

// BatchOptions are the header fields of a batch AppendBatch builds. The zero
// value is NOT a plain producer's batch: it has ProducerID 0, ProducerEpoch 0
// and BaseSequence 0, i.e. an idempotent producer's first batch. For a
// batch without a producer (what a non-idempotent client sends), set
// ProducerID, ProducerEpoch and BaseSequence to -1.
type BatchOptions struct {
	BaseTimestamp int64 // milliseconds since the Unix epoch
	// MaxTimestamp is the batch's maxTimestamp. 0 means BaseTimestamp plus
	// the largest TimestampDelta of the records.
	MaxTimestamp         int64
	ProducerID           int64 // -1: no producer
	ProducerEpoch        int16 // -1 with no producer
	BaseSequence         int32 // -1 with no producer
	Attributes           int16 // codec bits (AttrCodecMask) must be 0
	PartitionLeaderEpoch int32 // -1 if unknown, as clients send
}

// AppendBatch appends to dst one valid, uncompressed batch holding recs and
// returns the extended slice. The batch has baseOffset 0 (the broker assigns
// offsets with SetBaseOffset), record i has offsetDelta i, and the CRC is
// computed. It allocates only if dst lacks capacity.
//
// AppendBatch panics if recs is empty, if o.Attributes selects a codec, or
// if the batch would exceed MaxBatchSize.
func AppendBatch(dst []byte, o BatchOptions, recs []Record) []byte {
	if len(recs) == 0 {
		panic("record: AppendBatch needs at least one record")
	}
	if o.Attributes&AttrCodecMask != 0 {
		panic("record: AppendBatch builds uncompressed batches only")
	}
	start := len(dst)
	dst = slices.Grow(dst, HeaderSize)[:start+HeaderSize]
	maxDelta := recs[0].TimestampDelta
	for i := range recs {
		maxDelta = max(maxDelta, recs[i].TimestampDelta)
		dst = appendRecord(dst, int32(i), &recs[i])
	}
	b := dst[start:]
	if len(b) > MaxBatchSize {
		panic("record: AppendBatch: batch exceeds MaxBatchSize")
	}
	h := Header{
		Length:               int32(len(b) - 12),
		PartitionLeaderEpoch: o.PartitionLeaderEpoch,
		Magic:                Magic,
		Attributes:           o.Attributes,
		LastOffsetDelta:      int32(len(recs) - 1),
		BaseTimestamp:        o.BaseTimestamp,
		MaxTimestamp:         o.MaxTimestamp,
		ProducerID:           o.ProducerID,
		ProducerEpoch:        o.ProducerEpoch,
		BaseSequence:         o.BaseSequence,
		NumRecords:           int32(len(recs)),
	}
	if h.MaxTimestamp == 0 {
		h.MaxTimestamp = o.BaseTimestamp + maxDelta
	}
	putHeader(b, &h)
	binary.BigEndian.PutUint32(b[offCRC:], Checksum(b))
	return dst
}

// appendRecord appends r, with its length prefix, as the record at
// offsetDelta.
func appendRecord(dst []byte, offsetDelta int32, r *Record) []byte {
	n := 1 + varintLen(r.TimestampDelta) + varintLen(int64(offsetDelta)) +
		bytesLen(r.Key) + bytesLen(r.Value) + varintLen(int64(len(r.Headers)))
	for _, h := range r.Headers {
		n += varintLen(int64(len(h.Key))) + len(h.Key) + bytesLen(h.Value)
	}
	dst = slices.Grow(dst, varintLen(int64(n))+n)
	dst = binary.AppendVarint(dst, int64(n))
	dst = append(dst, 0) // attributes: unused
	dst = binary.AppendVarint(dst, r.TimestampDelta)
	dst = binary.AppendVarint(dst, int64(offsetDelta))
	dst = appendBytes(dst, r.Key)
	dst = appendBytes(dst, r.Value)
	dst = binary.AppendVarint(dst, int64(len(r.Headers)))
	for _, h := range r.Headers {
		dst = binary.AppendVarint(dst, int64(len(h.Key)))
		dst = append(dst, h.Key...)
		dst = appendBytes(dst, h.Value)
	}
	return dst
}

// appendBytes appends b with its varint length; nil as length -1.
func appendBytes(dst, b []byte) []byte {
	if b == nil {
		return binary.AppendVarint(dst, -1)
	}
	dst = binary.AppendVarint(dst, int64(len(b)))
	return append(dst, b...)
}

// putHeader writes h into b[:HeaderSize], all but the CRC.
func putHeader(b []byte, h *Header) {
	be := binary.BigEndian
	b = b[:HeaderSize]
	be.PutUint64(b[0:], uint64(h.BaseOffset))
	be.PutUint32(b[offLength:], uint32(h.Length))
	be.PutUint32(b[offLeaderEpoch:], uint32(h.PartitionLeaderEpoch))
	b[offMagic] = byte(h.Magic)
	be.PutUint16(b[offAttributes:], uint16(h.Attributes))
	be.PutUint32(b[offLastOffsetDelta:], uint32(h.LastOffsetDelta))
	be.PutUint64(b[offBaseTimestamp:], uint64(h.BaseTimestamp))
	be.PutUint64(b[offMaxTimestamp:], uint64(h.MaxTimestamp))
	be.PutUint64(b[offProducerID:], uint64(h.ProducerID))
	be.PutUint16(b[offProducerEpoch:], uint16(h.ProducerEpoch))
	be.PutUint32(b[offBaseSequence:], uint32(h.BaseSequence))
	be.PutUint32(b[offNumRecords:], uint32(h.NumRecords))
}
