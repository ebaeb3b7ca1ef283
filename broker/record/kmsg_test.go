package record_test

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"gale/broker/record"
)

// Cross-checks against franz-go's kmsg, an independent implementation of the
// same wire format.

var kmsgOptions = record.BatchOptions{
	BaseTimestamp:        1_700_000_000_000,
	ProducerID:           12345,
	ProducerEpoch:        2,
	BaseSequence:         40,
	Attributes:           record.AttrLogAppendTime,
	PartitionLeaderEpoch: 7,
}

func TestKmsgDecodesAppendBatch(t *testing.T) {
	recs := sampleRecords()
	b := record.AppendBatch(nil, kmsgOptions, recs)
	var rb kmsg.RecordBatch
	if err := rb.ReadFrom(b); err != nil {
		t.Fatalf("kmsg ReadFrom: %v", err)
	}
	h, _ := record.ParseHeader(b)
	got := record.Header{
		BaseOffset: rb.FirstOffset, Length: rb.Length, PartitionLeaderEpoch: rb.PartitionLeaderEpoch,
		Magic: rb.Magic, CRC: uint32(rb.CRC), Attributes: rb.Attributes, LastOffsetDelta: rb.LastOffsetDelta,
		BaseTimestamp: rb.FirstTimestamp, MaxTimestamp: rb.MaxTimestamp, ProducerID: rb.ProducerID,
		ProducerEpoch: rb.ProducerEpoch, BaseSequence: rb.FirstSequence, NumRecords: rb.NumRecords,
	}
	if got != h {
		t.Errorf("kmsg header %+v\nwant %+v", got, h)
	}
	area := rb.Records
	for i, want := range recs {
		var kr kmsg.Record
		if err := kr.ReadFrom(area); err != nil {
			t.Fatalf("record %d: kmsg ReadFrom: %v", i, err)
		}
		area = area[len(binary.AppendVarint(nil, int64(kr.Length)))+int(kr.Length):]
		if kr.OffsetDelta != int32(i) || kr.TimestampDelta64 != want.TimestampDelta ||
			!sameBytes(kr.Key, want.Key) || !sameBytes(kr.Value, want.Value) || len(kr.Headers) != len(want.Headers) {
			t.Errorf("record %d: kmsg decoded %+v, want %+v", i, kr, want)
			continue
		}
		for j, wh := range want.Headers {
			if kh := kr.Headers[j]; kh.Key != wh.Key || !sameBytes(kh.Value, wh.Value) {
				t.Errorf("record %d header %d: kmsg decoded %+v, want %+v", i, j, kh, wh)
			}
		}
	}
	if len(area) != 0 {
		t.Errorf("%d bytes left after the records", len(area))
	}
}

// sameBytes is bytes.Equal that also tells nil from empty.
func sameBytes(a, b []byte) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }

// kmsgBatch encodes recs with kmsg, computing lengths and the CRC itself.
func kmsgBatch(o record.BatchOptions, recs []record.Record) []byte {
	var area []byte
	maxDelta := recs[0].TimestampDelta
	for i, r := range recs {
		maxDelta = max(maxDelta, r.TimestampDelta)
		kr := kmsg.Record{TimestampDelta64: r.TimestampDelta, OffsetDelta: int32(i), Key: r.Key, Value: r.Value}
		for _, h := range r.Headers {
			kr.Headers = append(kr.Headers, kmsg.Header{Key: h.Key, Value: h.Value})
		}
		kr.Length = int32(len(kr.AppendTo(nil)) - 1) // Length 0 encodes in 1 byte
		area = kr.AppendTo(area)
	}
	rb := kmsg.RecordBatch{
		Length: int32(49 + len(area)), PartitionLeaderEpoch: o.PartitionLeaderEpoch, Magic: 2,
		Attributes: o.Attributes, LastOffsetDelta: int32(len(recs) - 1), FirstTimestamp: o.BaseTimestamp,
		MaxTimestamp: o.BaseTimestamp + maxDelta, ProducerID: o.ProducerID, ProducerEpoch: o.ProducerEpoch,
		FirstSequence: o.BaseSequence, NumRecords: int32(len(recs)), Records: area,
	}
	b := rb.AppendTo(nil)
	binary.BigEndian.PutUint32(b[17:], record.Checksum(b))
	return b
}

func TestValidateAcceptsKmsgBatch(t *testing.T) {
	recs := sampleRecords()
	b := kmsgBatch(kmsgOptions, recs)
	if _, err := record.Validate(b); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if _, got := readAll(t, b); !reflect.DeepEqual(got, recs) {
		t.Errorf("Records gave\n%+v\nwant\n%+v", got, recs)
	}
	if want := record.AppendBatch(nil, kmsgOptions, recs); !bytes.Equal(b, want) {
		t.Errorf("kmsg and AppendBatch encode the same batch differently:\n%x\n%x", b, want)
	}
}
