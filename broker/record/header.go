package record

import (
	"encoding/binary"
	"strconv"
)

const (
	// HeaderSize is the size of the v2 batch header; records follow it.
	HeaderSize = 61
	// Magic is the format version of a v2 batch.
	Magic = 2
	// MaxBatchSize bounds the total size (batchLength+12) of a batch that
	// Validate accepts. It is a sanity bound against corrupt lengths, far
	// above any broker's message.max.bytes; the broker enforces its own,
	// smaller limit.
	MaxBatchSize = 1 << 30
)

// Bits of the attributes field.
const (
	AttrCodecMask     = 0x07 // compression codec, a Codec
	AttrLogAppendTime = 0x08 // timestamps are the broker's append time
	AttrTransactional = 0x10 // the batch belongs to a transaction
	AttrControl       = 0x20 // the batch holds a control record (commit/abort marker)
)

// Byte offsets of the header fields.
const (
	offLength          = 8
	offLeaderEpoch     = 12
	offMagic           = 16
	offCRC             = 17
	offAttributes      = 21 // the CRC covers bytes from here to the end
	offLastOffsetDelta = 23
	offBaseTimestamp   = 27
	offMaxTimestamp    = 35
	offProducerID      = 43
	offProducerEpoch   = 51
	offBaseSequence    = 53
	offNumRecords      = 57
)

// Codec is the compression codec of a batch's records.
type Codec int8

// Codecs, as numbered in the attributes field.
const (
	None Codec = iota
	Gzip
	Snappy
	LZ4
	Zstd
)

var codecNames = [...]string{"none", "gzip", "snappy", "lz4", "zstd"}

func (c Codec) String() string {
	if c >= 0 && int(c) < len(codecNames) {
		return codecNames[c]
	}
	return "codec(" + strconv.Itoa(int(c)) + ")"
}

// Header is the decoded 61-byte header of a v2 batch.
type Header struct {
	BaseOffset           int64
	Length               int32 // batchLength: bytes after this field (offset 12 on)
	PartitionLeaderEpoch int32
	Magic                int8
	CRC                  uint32
	Attributes           int16
	LastOffsetDelta      int32
	BaseTimestamp        int64
	MaxTimestamp         int64
	ProducerID           int64
	ProducerEpoch        int16
	BaseSequence         int32
	NumRecords           int32
}

// Size is the total size of the batch in bytes: Length + 12.
func (h Header) Size() int { return int(h.Length) + 12 }

// LastOffset is the offset of the batch's last record.
func (h Header) LastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// NextOffset is the offset that follows the batch.
func (h Header) NextOffset() int64 { return h.LastOffset() + 1 }

// Codec is the compression codec of the records (attributes bits 0-2).
func (h Header) Codec() Codec { return Codec(h.Attributes & AttrCodecMask) }

// Transactional reports whether the batch belongs to a transaction.
func (h Header) Transactional() bool { return h.Attributes&AttrTransactional != 0 }

// Control reports whether the batch holds a control record.
func (h Header) Control() bool { return h.Attributes&AttrControl != 0 }

// LogAppendTime reports whether the timestamps are the broker's append time
// rather than the producer's create time.
func (h Header) LogAppendTime() bool { return h.Attributes&AttrLogAppendTime != 0 }

// ParseHeader decodes the header at the start of b without checking the CRC
// or anything else. It fails (with ErrTruncated) only if len(b) < HeaderSize.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, truncated("header", len(b), HeaderSize)
	}
	return parse(b), nil
}

// parse decodes the header; len(b) >= HeaderSize.
func parse(b []byte) Header {
	be := binary.BigEndian
	b = b[:HeaderSize]
	return Header{
		BaseOffset:           int64(be.Uint64(b[0:])),
		Length:               int32(be.Uint32(b[offLength:])),
		PartitionLeaderEpoch: int32(be.Uint32(b[offLeaderEpoch:])),
		Magic:                int8(b[offMagic]),
		CRC:                  be.Uint32(b[offCRC:]),
		Attributes:           int16(be.Uint16(b[offAttributes:])),
		LastOffsetDelta:      int32(be.Uint32(b[offLastOffsetDelta:])),
		BaseTimestamp:        int64(be.Uint64(b[offBaseTimestamp:])),
		MaxTimestamp:         int64(be.Uint64(b[offMaxTimestamp:])),
		ProducerID:           int64(be.Uint64(b[offProducerID:])),
		ProducerEpoch:        int16(be.Uint16(b[offProducerEpoch:])),
		BaseSequence:         int32(be.Uint32(b[offBaseSequence:])),
		NumRecords:           int32(be.Uint32(b[offNumRecords:])),
	}
}

// SetBaseOffset writes off into the baseOffset field (bytes 0-7) of the
// batch at the start of b. The field is outside the CRC, so a valid batch
// stays valid. It panics if len(b) < 8.
func SetBaseOffset(b []byte, off int64) {
	binary.BigEndian.PutUint64(b[:8], uint64(off))
}

// SetPartitionLeaderEpoch writes e into the partitionLeaderEpoch field
// (bytes 12-15) of the batch at the start of b. The field is outside the
// CRC. It panics if len(b) < 16.
func SetPartitionLeaderEpoch(b []byte, e int32) {
	binary.BigEndian.PutUint32(b[offLeaderEpoch:offLeaderEpoch+4], uint32(e))
}

func truncated(field string, have, need int) error {
	return &Error{Field: field, Got: int64(have), Want: int64(need), Kind: ErrTruncated}
}
