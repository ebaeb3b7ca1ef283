package record_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"

	"gale/broker/record"
)

// noProducer is what a plain, non-idempotent producer sends.
var noProducer = record.BatchOptions{
	BaseTimestamp:        1_700_000_000_000,
	ProducerID:           -1,
	ProducerEpoch:        -1,
	BaseSequence:         -1,
	PartitionLeaderEpoch: -1,
}

// sampleRecords covers null and empty keys, values and header values,
// negative and large timestamp deltas, and multi-byte varint lengths.
func sampleRecords() []record.Record {
	return []record.Record{
		{Key: nil, Value: []byte("v0")},
		{Key: []byte{}, Value: []byte{}, TimestampDelta: 5},
		{Key: []byte("k2"), Value: nil, TimestampDelta: -3, Headers: []record.RecordHeader{
			{Key: "h", Value: []byte("x")},
			{Key: "", Value: nil},
			{Key: "empty", Value: []byte{}},
		}},
		{Key: bytes.Repeat([]byte("K"), 200), Value: bytes.Repeat([]byte("V"), 70_000), TimestampDelta: 1 << 40},
	}
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// fixCRC recomputes the crc field of the whole batch b by hand.
func fixCRC(b []byte) {
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], castagnoli))
}

// rawBatch builds a batch around the records area by hand, independently of
// the package, with a correct CRC.
func rawBatch(numRecords int32, attributes int16, area []byte) []byte {
	be := binary.BigEndian
	b := make([]byte, 61, 61+len(area))
	be.PutUint32(b[8:], uint32(49+len(area)))
	b[16] = 2
	be.PutUint16(b[21:], uint16(attributes))
	be.PutUint32(b[23:], uint32(numRecords-1))
	be.PutUint64(b[27:], 1000)
	be.PutUint64(b[35:], 1000)
	be.PutUint64(b[43:], ^uint64(0)) // producerId -1
	be.PutUint16(b[51:], ^uint16(0)) // producerEpoch -1
	be.PutUint32(b[53:], ^uint32(0)) // baseSequence -1
	be.PutUint32(b[57:], uint32(numRecords))
	b = append(b, area...)
	fixCRC(b)
	return b
}

// vi encodes a zigzag varint.
func vi(v int64) []byte { return binary.AppendVarint(nil, v) }

// cat concatenates byte strings.
func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// recordBody is a well-formed record without its length prefix: null key,
// value "x", no headers.
var recordBody = cat([]byte{0}, vi(0), vi(0), vi(-1), vi(1), []byte("x"), vi(0))

// goodRecord is recordBody with its length prefix.
var goodRecord = cat(vi(int64(len(recordBody))), recordBody)
