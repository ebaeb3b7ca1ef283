package record_test

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"testing"

	"gale/broker/record"
)

func TestValidate(t *testing.T) {
	valid := record.AppendBatch(nil, noProducer, sampleRecords())
	size := len(valid)
	be := binary.BigEndian
	cut := func(n int) func([]byte) []byte { return func(b []byte) []byte { return b[:n] } }
	put32 := func(at int, v int32) func([]byte) []byte {
		return func(b []byte) []byte { be.PutUint32(b[at:], uint32(v)); return b }
	}
	flip := func(at int) func([]byte) []byte {
		return func(b []byte) []byte { b[at] ^= 0x10; return b }
	}
	setMagic := func(m byte) func([]byte) []byte {
		return func(b []byte) []byte { b[16] = m; return b }
	}
	tests := []struct {
		name   string
		edit   func(b []byte) []byte // edits a copy of valid
		fixCRC bool                  // recompute the CRC after edit, so only the edited field is wrong
		kind   error                 // nil: valid
	}{
		{name: "valid"},
		{name: "valid with bytes after it", edit: func(b []byte) []byte { return append(b, 0, 0, 0) }},
		{name: "baseOffset patched", edit: func(b []byte) []byte { record.SetBaseOffset(b, 1<<40+7); return b }},
		{name: "partitionLeaderEpoch patched", edit: func(b []byte) []byte { record.SetPartitionLeaderEpoch(b, 42); return b }},

		{name: "empty", edit: cut(0), kind: record.ErrTruncated},
		{name: "1 byte", edit: cut(1), kind: record.ErrTruncated},
		{name: "21 bytes", edit: cut(21), kind: record.ErrTruncated},
		{name: "60 bytes", edit: cut(60), kind: record.ErrTruncated},
		{name: "header only", edit: cut(61), kind: record.ErrTruncated},
		{name: "last byte missing", edit: cut(size - 1), kind: record.ErrTruncated},
		{name: "batchLength one past input", edit: put32(8, int32(size-12+1)), kind: record.ErrTruncated},

		{name: "batchLength 0", edit: put32(8, 0), kind: record.ErrLength},
		{name: "batchLength 48", edit: put32(8, 48), kind: record.ErrLength},
		{name: "batchLength -1", edit: put32(8, -1), kind: record.ErrLength},
		{name: "batchLength min int32", edit: put32(8, math.MinInt32), kind: record.ErrLength},
		{name: "batchLength over MaxBatchSize", edit: put32(8, record.MaxBatchSize-11), kind: record.ErrLength},
		{name: "batchLength max int32", edit: put32(8, math.MaxInt32), kind: record.ErrLength},

		{name: "magic 0", edit: setMagic(0), kind: record.ErrMagic},
		{name: "magic 1", edit: setMagic(1), kind: record.ErrMagic},
		{name: "magic 3", edit: setMagic(3), kind: record.ErrMagic},
		{name: "magic -1", edit: setMagic(0xff), kind: record.ErrMagic},

		{name: "recordCount 0", edit: put32(57, 0), fixCRC: true, kind: record.ErrRecordCount},
		{name: "recordCount -1", edit: put32(57, -1), fixCRC: true, kind: record.ErrRecordCount},
		{name: "recordCount min int32", edit: put32(57, math.MinInt32), fixCRC: true, kind: record.ErrRecordCount},
		{name: "recordCount one more", edit: put32(57, 5), fixCRC: true, kind: record.ErrRecordCount},
		{name: "lastOffsetDelta equals recordCount", edit: put32(23, 4), fixCRC: true, kind: record.ErrRecordCount},
		{name: "lastOffsetDelta two short", edit: put32(23, 2), fixCRC: true, kind: record.ErrRecordCount},
		{name: "lastOffsetDelta negative", edit: put32(23, -1), fixCRC: true, kind: record.ErrRecordCount},

		{name: "crc: attributes flipped", edit: flip(21), kind: record.ErrCRC},
		{name: "crc: baseTimestamp flipped", edit: flip(30), kind: record.ErrCRC},
		{name: "crc: maxTimestamp flipped", edit: flip(42), kind: record.ErrCRC},
		{name: "crc: producerId flipped", edit: flip(50), kind: record.ErrCRC},
		{name: "crc: producerEpoch flipped", edit: flip(52), kind: record.ErrCRC},
		{name: "crc: baseSequence flipped", edit: flip(56), kind: record.ErrCRC},
		{name: "crc: first record byte flipped", edit: flip(61), kind: record.ErrCRC},
		{name: "crc: middle record byte flipped", edit: flip(size / 2), kind: record.ErrCRC},
		{name: "crc: last byte flipped", edit: flip(size - 1), kind: record.ErrCRC},
		{name: "crc: crc field high byte flipped", edit: flip(17), kind: record.ErrCRC},
		{name: "crc: crc field low byte flipped", edit: flip(20), kind: record.ErrCRC},
		{name: "crc: batchLength one short", edit: put32(8, int32(size-12-1)), kind: record.ErrCRC},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := slices.Clone(valid)
			if tt.edit != nil {
				b = tt.edit(b)
			}
			if tt.fixCRC {
				fixCRC(b)
			}
			h, err := record.Validate(b)
			if tt.kind == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if h.Size() != size {
					t.Errorf("Size() = %d, want %d", h.Size(), size)
				}
				return
			}
			if !errors.Is(err, tt.kind) || !errors.Is(err, record.ErrCorrupt) {
				t.Fatalf("Validate: %v; want kind %v and ErrCorrupt", err, tt.kind)
			}
			var e *record.Error
			if !errors.As(err, &e) || e.Offset != 0 || e.Field == "" {
				t.Fatalf("Validate: %#v, want an *Error with a Field at Offset 0", err)
			}
		})
	}
}

func TestValidateErrorFields(t *testing.T) {
	valid := record.AppendBatch(nil, noProducer, sampleRecords())
	size := len(valid)
	crc := binary.BigEndian.Uint32(valid[17:])
	tests := []struct {
		name string
		edit func(b []byte) []byte
		want record.Error
		msg  string
	}{
		{
			name: "short header",
			edit: func(b []byte) []byte { return b[:30] },
			want: record.Error{Field: "header", Got: 30, Want: 61, Kind: record.ErrTruncated},
			msg:  "record: batch at byte 0: truncated: header needs 61 bytes, have 30",
		},
		{
			name: "torn tail",
			edit: func(b []byte) []byte { return b[:100] },
			want: record.Error{Field: "batchLength", Got: 100, Want: int64(size), Kind: record.ErrTruncated},
		},
		{
			name: "batchLength too small",
			edit: func(b []byte) []byte { binary.BigEndian.PutUint32(b[8:], 10); return b },
			want: record.Error{Field: "batchLength", Got: 10, Want: 49, Kind: record.ErrLength},
			msg:  "record: batch at byte 0: batchLength: got 10, want >= 49",
		},
		{
			name: "magic",
			edit: func(b []byte) []byte { b[16] = 1; return b },
			want: record.Error{Field: "magic", Got: 1, Want: 2, Kind: record.ErrMagic},
			msg:  "record: batch at byte 0: magic: got 1, want 2",
		},
		{
			name: "crc field",
			edit: func(b []byte) []byte { binary.BigEndian.PutUint32(b[17:], 0x1234abcd); return b },
			want: record.Error{Field: "crc", Got: int64(crc), Want: 0x1234abcd, Kind: record.ErrCRC},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := record.Validate(tt.edit(slices.Clone(valid)))
			var e *record.Error
			if !errors.As(err, &e) || *e != tt.want {
				t.Fatalf("Validate: %#v, want %#v", err, tt.want)
			}
			if tt.msg != "" && err.Error() != tt.msg {
				t.Errorf("Error() = %q, want %q", err, tt.msg)
			}
		})
	}
}

func TestErrorMessage(t *testing.T) {
	tests := []struct {
		err  record.Error
		want string
	}{
		{record.Error{Field: "crc", Offset: 0, Got: 0x1234abcd, Want: 0xab, Kind: record.ErrCRC},
			"record: batch at byte 0: crc: got 0x1234abcd, want 0x000000ab"},
		{record.Error{Field: "batchLength", Offset: 122, Got: 100, Want: 300, Kind: record.ErrTruncated},
			"record: batch at byte 122: truncated: batchLength needs 300 bytes, have 100"},
		{record.Error{Field: "batchLength", Got: math.MaxInt32, Want: record.MaxBatchSize - 12, Kind: record.ErrLength},
			"record: batch at byte 0: batchLength: got 2147483647, want <= 1073741812"},
		{record.Error{Field: "recordCount", Got: 0, Want: 1, Kind: record.ErrRecordCount},
			"record: batch at byte 0: recordCount: got 0, want >= 1"},
		{record.Error{Field: "lastOffsetDelta", Got: 4, Want: 3, Kind: record.ErrRecordCount},
			"record: batch at byte 0: lastOffsetDelta: got 4, want 3"},
		{record.Error{Field: "record 2: key", Got: 90, Kind: record.ErrRecord},
			"record: batch at byte 0: record 2: key: malformed at byte 90"},
		{record.Error{Field: "attributes", Got: 4, Kind: record.ErrCompressed},
			"record: batch at byte 0: compressed (zstd): only uncompressed records can be decoded"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestValidateAll(t *testing.T) {
	one := record.AppendBatch(nil, noProducer, sampleRecords()[:1])
	four := record.AppendBatch(nil, noProducer, sampleRecords())
	badCRC := slices.Clone(four)
	badCRC[len(badCRC)-1] ^= 1
	tests := []struct {
		name    string
		in      []byte
		batches int
		records int64
		kind    error // nil: valid
		offset  int   // byte offset of the bad batch
	}{
		{name: "one batch", in: one, batches: 1, records: 1},
		{name: "three batches", in: cat(one, four, one), batches: 3, records: 6},
		{name: "empty", in: nil, kind: record.ErrTruncated},
		{name: "trailing garbage", in: cat(one, four, []byte{1, 2, 3}), batches: 2, records: 5,
			kind: record.ErrTruncated, offset: len(one) + len(four)},
		{name: "trailing zeros", in: cat(one, make([]byte, 100)), batches: 1, records: 1,
			kind: record.ErrLength, offset: len(one)},
		{name: "torn last batch", in: cat(one, four[:len(four)-1]), batches: 1, records: 1,
			kind: record.ErrTruncated, offset: len(one)},
		{name: "bad second batch", in: cat(one, badCRC, one), batches: 1, records: 1,
			kind: record.ErrCRC, offset: len(one)},
		{name: "bad first batch", in: cat(badCRC, one), kind: record.ErrCRC},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			batches, records, err := record.ValidateAll(tt.in)
			if batches != tt.batches || records != tt.records {
				t.Errorf("ValidateAll = %d batches, %d records; want %d, %d", batches, records, tt.batches, tt.records)
			}
			if tt.kind == nil {
				if err != nil {
					t.Fatalf("ValidateAll: %v", err)
				}
				return
			}
			var e *record.Error
			if !errors.Is(err, tt.kind) || !errors.Is(err, record.ErrCorrupt) || !errors.As(err, &e) {
				t.Fatalf("ValidateAll: %v; want kind %v", err, tt.kind)
			}
			if e.Offset != tt.offset {
				t.Errorf("Offset = %d, want %d (%v)", e.Offset, tt.offset, err)
			}
		})
	}
}
