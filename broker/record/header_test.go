package record_test

import (
	"errors"
	"testing"

	"gale/broker/record"
)

func TestParseHeader(t *testing.T) {
	o := record.BatchOptions{
		BaseTimestamp:        1_700_000_000_123,
		MaxTimestamp:         1_700_000_009_999,
		ProducerID:           77,
		ProducerEpoch:        3,
		BaseSequence:         1000,
		Attributes:           record.AttrTransactional,
		PartitionLeaderEpoch: 9,
	}
	b := record.AppendBatch(nil, o, sampleRecords())
	record.SetBaseOffset(b, 500)
	h, err := record.ParseHeader(b)
	if err != nil {
		t.Fatal(err)
	}
	want := record.Header{
		BaseOffset:           500,
		Length:               int32(len(b) - 12),
		PartitionLeaderEpoch: 9,
		Magic:                2,
		CRC:                  record.Checksum(b),
		Attributes:           record.AttrTransactional,
		LastOffsetDelta:      3,
		BaseTimestamp:        1_700_000_000_123,
		MaxTimestamp:         1_700_000_009_999,
		ProducerID:           77,
		ProducerEpoch:        3,
		BaseSequence:         1000,
		NumRecords:           4,
	}
	if h != want {
		t.Fatalf("ParseHeader = %+v\nwant %+v", h, want)
	}
	if h.Size() != len(b) || h.LastOffset() != 503 || h.NextOffset() != 504 {
		t.Errorf("Size, LastOffset, NextOffset = %d, %d, %d; want %d, 503, 504", h.Size(), h.LastOffset(), h.NextOffset(), len(b))
	}
	if _, err := record.ParseHeader(b[:60]); !errors.Is(err, record.ErrTruncated) {
		t.Errorf("ParseHeader(60 bytes): %v, want ErrTruncated", err)
	}
	if _, err := record.ParseHeader(b[:61]); err != nil {
		t.Errorf("ParseHeader(61 bytes): %v, want no error: it checks nothing", err)
	}
}

func TestHeaderAttributes(t *testing.T) {
	tests := []struct {
		attributes                            int16
		codec                                 record.Codec
		logAppendTime, transactional, control bool
	}{
		{0, record.None, false, false, false},
		{1, record.Gzip, false, false, false},
		{2, record.Snappy, false, false, false},
		{3, record.LZ4, false, false, false},
		{4, record.Zstd, false, false, false},
		{record.AttrLogAppendTime | 4, record.Zstd, true, false, false},
		{record.AttrTransactional, record.None, false, true, false},
		{record.AttrTransactional | record.AttrControl, record.None, false, true, true},
		{-1, record.Codec(7), true, true, true},
	}
	for _, tt := range tests {
		h := record.Header{Attributes: tt.attributes}
		if h.Codec() != tt.codec || h.LogAppendTime() != tt.logAppendTime ||
			h.Transactional() != tt.transactional || h.Control() != tt.control {
			t.Errorf("attributes %#x: codec %v, logAppendTime %v, transactional %v, control %v; want %v, %v, %v, %v",
				tt.attributes, h.Codec(), h.LogAppendTime(), h.Transactional(), h.Control(),
				tt.codec, tt.logAppendTime, tt.transactional, tt.control)
		}
	}
}

func TestCodecString(t *testing.T) {
	for c, want := range map[record.Codec]string{
		record.None: "none", record.Gzip: "gzip", record.Snappy: "snappy", record.LZ4: "lz4",
		record.Zstd: "zstd", 5: "codec(5)", -1: "codec(-1)",
	} {
		if got := c.String(); got != want {
			t.Errorf("Codec(%d).String() = %q, want %q", int8(c), got, want)
		}
	}
}
