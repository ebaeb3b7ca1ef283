package record_test

import (
	"errors"
	"reflect"
	"testing"

	"gale/broker/record"
)

// readAll collects a batch's records, copying what Records lends.
func readAll(t *testing.T, b []byte) (deltas []int32, recs []record.Record) {
	t.Helper()
	err := record.Records(b, func(offsetDelta int32, r record.Record) bool {
		deltas = append(deltas, offsetDelta)
		r.Headers = append([]record.RecordHeader(nil), r.Headers...)
		recs = append(recs, r)
		return true
	})
	if err != nil {
		t.Fatalf("Records: %v", err)
	}
	return deltas, recs
}

func TestAppendBatchRoundTrip(t *testing.T) {
	want := sampleRecords()
	prefix := []byte("prefix")
	b := record.AppendBatch(append([]byte(nil), prefix...), noProducer, want)
	if string(b[:len(prefix)]) != "prefix" {
		t.Fatalf("AppendBatch changed dst's bytes: %q", b[:len(prefix)])
	}
	b = b[len(prefix):]
	h, err := record.Validate(b)
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if h.Size() != len(b) || h.NumRecords != 4 || h.BaseOffset != 0 || h.Codec() != record.None {
		t.Errorf("header %+v: want Size %d, 4 records, base offset 0, no codec", h, len(b))
	}
	deltas, got := readAll(t, b)
	if !reflect.DeepEqual(deltas, []int32{0, 1, 2, 3}) {
		t.Errorf("offset deltas = %v, want 0 1 2 3", deltas)
	}
	// DeepEqual tells nil from empty slices: a null key is not an empty key.
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Records gave\n%+v\nwant\n%+v", got, want)
	}
}

func TestAppendBatchMaxTimestamp(t *testing.T) {
	tests := []struct {
		name   string
		max    int64 // BatchOptions.MaxTimestamp
		deltas []int64
		want   int64
	}{
		{"default: base plus largest delta", 0, []int64{0, 7, 3}, 1007},
		{"default with negative deltas", 0, []int64{-5, -2}, 998},
		{"explicit", 5000, []int64{0, 7}, 5000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var recs []record.Record
			for _, d := range tt.deltas {
				recs = append(recs, record.Record{Value: []byte("v"), TimestampDelta: d})
			}
			o := noProducer
			o.BaseTimestamp, o.MaxTimestamp = 1000, tt.max
			h, err := record.Validate(record.AppendBatch(nil, o, recs))
			if err != nil || h.MaxTimestamp != tt.want || h.BaseTimestamp != 1000 {
				t.Errorf("Validate = %+v, %v; want MaxTimestamp %d", h, err, tt.want)
			}
		})
	}
}

func TestAppendBatchZeroOptions(t *testing.T) {
	// Documented: the zero BatchOptions is an idempotent producer 0, not "no producer".
	h, err := record.Validate(record.AppendBatch(nil, record.BatchOptions{}, sampleRecords()[:1]))
	if err != nil || h.ProducerID != 0 || h.ProducerEpoch != 0 || h.BaseSequence != 0 {
		t.Errorf("Validate = %+v, %v; want producer 0, epoch 0, sequence 0", h, err)
	}
}

func TestAppendBatchPanics(t *testing.T) {
	tests := []struct {
		name string
		o    record.BatchOptions
		recs []record.Record
	}{
		{"no records", noProducer, nil},
		{"codec set", record.BatchOptions{Attributes: int16(record.Gzip)}, sampleRecords()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("AppendBatch did not panic")
				}
			}()
			record.AppendBatch(nil, tt.o, tt.recs)
		})
	}
}

func TestRecordsStopsEarly(t *testing.T) {
	b := record.AppendBatch(nil, noProducer, sampleRecords())
	calls := 0
	err := record.Records(b, func(int32, record.Record) bool { calls++; return calls < 2 })
	if err != nil || calls != 2 {
		t.Errorf("Records: %d calls, %v; want 2 calls, nil", calls, err)
	}
}

func TestRecordsCompressed(t *testing.T) {
	b := rawBatch(1, int16(record.Zstd), goodRecord)
	if _, err := record.Validate(b); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	err := record.Records(b, func(int32, record.Record) bool { return true })
	if !errors.Is(err, record.ErrCompressed) || errors.Is(err, record.ErrCorrupt) {
		t.Errorf("Records: %v, want ErrCompressed, not ErrCorrupt", err)
	}
}

// TestRecordsMalformed feeds Records batches whose header and CRC are valid
// but whose records area is not: Validate passes, Records must not.
func TestRecordsMalformed(t *testing.T) {
	body := recordBody
	n := int64(len(body))
	overflow := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}
	withHeaders := func(h ...[]byte) []byte {
		b := cat([]byte{0}, vi(0), vi(0), vi(-1), vi(-1), cat(h...))
		return cat(vi(int64(len(b))), b)
	}
	tests := []struct {
		name  string
		count int32
		area  []byte
		kind  error
	}{
		{"records area empty", 1, nil, record.ErrRecord},
		{"length varint cut", 1, []byte{0x80}, record.ErrRecord},
		{"length varint overflows", 1, overflow, record.ErrRecord},
		{"length beyond int32", 1, cat(vi(1<<33), body), record.ErrRecord},
		{"length negative", 1, cat(vi(-1), body), record.ErrRecord},
		{"length beyond batch", 1, cat(vi(n+1), body), record.ErrRecord},
		{"length longer than fields", 1, cat(vi(n+1), body, []byte{0}), record.ErrRecord},
		{"length shorter than fields", 1, cat(vi(n-1), body), record.ErrRecord},
		{"length zero", 1, cat(vi(0)), record.ErrRecord},
		{"offsetDelta beyond int32", 1, withLen(cat([]byte{0}, vi(0), vi(1<<40), vi(-1), vi(-1), vi(0))), record.ErrRecord},
		{"key length -2", 1, withLen(cat([]byte{0}, vi(0), vi(0), vi(-2), vi(-1), vi(0))), record.ErrRecord},
		{"key longer than record", 1, withLen(cat([]byte{0}, vi(0), vi(0), vi(50), vi(-1), vi(0))), record.ErrRecord},
		{"value longer than record", 1, withLen(cat([]byte{0}, vi(0), vi(0), vi(-1), vi(3), []byte("ab"))), record.ErrRecord},
		{"header count negative", 1, withHeaders(vi(-1)), record.ErrRecord},
		{"header count too large", 1, withHeaders(vi(5), vi(0), vi(0)), record.ErrRecord},
		{"header key null", 1, withHeaders(vi(1), vi(-1), vi(-1)), record.ErrRecord},
		{"header value cut", 1, withHeaders(vi(1), vi(1), []byte("k"), vi(4), []byte("v")), record.ErrRecord},
		{"fewer records than recordCount", 2, goodRecord, record.ErrRecord},
		{"bytes after the last record", 1, cat(goodRecord, []byte{0}), record.ErrRecord},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := rawBatch(tt.count, 0, tt.area)
			if _, err := record.Validate(b); err != nil {
				t.Fatalf("Validate: %v (the test batch must be valid)", err)
			}
			err := record.Records(b, func(int32, record.Record) bool { return true })
			var e *record.Error
			if !errors.Is(err, tt.kind) || !errors.Is(err, record.ErrCorrupt) || !errors.As(err, &e) {
				t.Fatalf("Records: %v, want kind %v", err, tt.kind)
			}
			if e.Got < 61 || e.Got > int64(len(b)) {
				t.Errorf("error at byte %d, outside the records area [61, %d]: %v", e.Got, len(b), err)
			}
		})
	}
	t.Run("well-formed control", func(t *testing.T) {
		if err := record.Records(rawBatch(1, 0, goodRecord), func(int32, record.Record) bool { return true }); err != nil {
			t.Errorf("Records: %v", err)
		}
	})
}

// withLen prefixes a record body with its length.
func withLen(body []byte) []byte { return cat(vi(int64(len(body))), body) }
