package record_test

import (
	"errors"
	"fmt"

	"gale/broker/record"
)

func ExampleAppendBatch() {
	o := record.BatchOptions{
		BaseTimestamp: 1_700_000_000_000,
		ProducerID:    -1, // no producer: not idempotent
		ProducerEpoch: -1,
		BaseSequence:  -1,
	}
	b := record.AppendBatch(nil, o, []record.Record{
		{Key: []byte("k"), Value: []byte("hello")},
		{Value: []byte("world"), TimestampDelta: 3},
	})
	record.SetBaseOffset(b, 100) // as the log does on append; the CRC still holds
	h, err := record.Validate(b)
	fmt.Println(h.BaseOffset, h.LastOffset(), h.Size(), err)
	_ = record.Records(b, func(offsetDelta int32, r record.Record) bool {
		fmt.Printf("%d %q %s +%dms\n", h.BaseOffset+int64(offsetDelta), r.Key, r.Value, r.TimestampDelta)
		return true
	})
	// Output:
	// 100 101 86 <nil>
	// 100 "k" hello +0ms
	// 101 "" world +3ms
}

func ExampleValidateAll() {
	batch := record.AppendBatch(nil, record.BatchOptions{ProducerID: -1}, []record.Record{{Value: []byte("v")}})
	torn := append(append([]byte(nil), batch...), batch[:30]...)
	batches, records, err := record.ValidateAll(torn)
	fmt.Println(batches, records, errors.Is(err, record.ErrTruncated))
	fmt.Println(err)
	// Output:
	// 1 1 true
	// record: batch at byte 69: truncated: header needs 61 bytes, have 30
}
