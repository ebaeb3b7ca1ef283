package record_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"reflect"
	"testing"

	"gale/broker/record"
)

// seedBatches are valid batches and mutations of them.
func seedBatches() [][]byte {
	valid := record.AppendBatch(nil, noProducer, sampleRecords()[:3])
	small := rawBatch(1, 0, goodRecord)
	seeds := [][]byte{valid, small, cat(small, small), nil, make([]byte, 61)}
	for _, at := range []int{8, 16, 17, 23, 57, 61, len(small) - 1} {
		b := bytes.Clone(small)
		b[at] ^= 0x41
		seeds = append(seeds, b, small[:at])
	}
	return seeds
}

// FuzzValidate: Validate never panics, accepts only batches whose CRC really
// matches and that fit in the input, and reports only the documented kinds.
func FuzzValidate(f *testing.F) {
	for _, s := range seedBatches() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := record.Validate(b)
		if err != nil {
			var e *record.Error
			if !errors.As(err, &e) || !errors.Is(err, record.ErrCorrupt) {
				t.Fatalf("Validate: %v is not an *Error matching ErrCorrupt", err)
			}
			return
		}
		if h.Size() < record.HeaderSize || h.Size() > len(b) {
			t.Fatalf("accepted Size %d for %d bytes", h.Size(), len(b))
		}
		if crc32.Checksum(b[21:h.Size()], castagnoli) != binary.BigEndian.Uint32(b[17:]) {
			t.Fatalf("accepted a batch whose CRC does not match")
		}
		if h.Magic != 2 || h.NumRecords < 1 || h.LastOffsetDelta != h.NumRecords-1 {
			t.Fatalf("accepted header %+v", h)
		}
		n, _, err := record.ValidateAll(b)
		if whole := h.Size() == len(b); whole && (n != 1 || err != nil) || !whole && err == nil && n < 2 {
			t.Fatalf("ValidateAll disagrees with Validate: %d batches, %v (Size %d of %d)", n, err, h.Size(), len(b))
		}
	})
}

// FuzzRecords wraps arbitrary bytes as the records area of a batch with a
// valid header and CRC, so every input passes Validate and reaches the record
// decoder. Records never panics, and what it decodes re-encodes to records
// it decodes the same way.
func FuzzRecords(f *testing.F) {
	f.Add(uint8(0), goodRecord)
	f.Add(uint8(1), cat(goodRecord, goodRecord))
	area := record.AppendBatch(nil, noProducer, sampleRecords()[:3])[61:]
	f.Add(uint8(2), area)
	f.Add(uint8(2), area[:len(area)-1])
	f.Add(uint8(0), []byte{0x80})
	f.Fuzz(func(t *testing.T, count uint8, area []byte) {
		b := rawBatch(int32(count)+1, 0, area)
		if _, err := record.Validate(b); err != nil {
			t.Fatalf("Validate: %v", err)
		}
		var got []record.Record
		err := record.Records(b, func(_ int32, r record.Record) bool {
			r.Headers = append([]record.RecordHeader(nil), r.Headers...)
			got = append(got, r)
			return true
		})
		if err != nil {
			if !errors.Is(err, record.ErrRecord) {
				t.Fatalf("Records: %v, want ErrRecord", err)
			}
			return
		}
		if len(got) != int(count)+1 {
			t.Fatalf("Records: %d records, recordCount %d", len(got), int(count)+1)
		}
		again := record.AppendBatch(nil, noProducer, got)
		if _, err := record.Validate(again); err != nil {
			t.Fatalf("re-encoded batch: %v", err)
		}
		var round []record.Record
		if err := record.Records(again, func(_ int32, r record.Record) bool {
			r.Headers = append([]record.RecordHeader(nil), r.Headers...)
			round = append(round, r)
			return true
		}); err != nil || !reflect.DeepEqual(round, got) {
			t.Fatalf("round trip: %v\n%+v\nwant\n%+v", err, round, got)
		}
	})
}
