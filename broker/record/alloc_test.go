package record_test

import (
	"testing"

	"gale/broker/record"
)

// TestZeroAllocs pins the package's promise: the success paths allocate
// nothing.
func TestZeroAllocs(t *testing.T) {
	plain := []record.Record{{Key: []byte("k"), Value: make([]byte, 100)}, {Value: make([]byte, 100)}}
	one := record.AppendBatch(nil, noProducer, sampleRecords())
	three := cat(one, one, one)
	dst := make([]byte, 0, 4096)
	tests := []struct {
		name string
		fn   func()
	}{
		{"ParseHeader", func() { _, _ = record.ParseHeader(one) }},
		{"Validate", func() { _, _ = record.Validate(one) }},
		{"ValidateAll", func() { _, _, _ = record.ValidateAll(three) }},
		{"Checksum", func() { record.Checksum(one) }},
		{"SetBaseOffset", func() { record.SetBaseOffset(one, 99) }},
		{"SetPartitionLeaderEpoch", func() { record.SetPartitionLeaderEpoch(one, 3) }},
		{"AppendBatch with capacity", func() { dst = record.AppendBatch(dst[:0], noProducer, plain) }},
		{"Records without headers", func() {
			_ = record.Records(dst, func(int32, record.Record) bool { return true })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if allocs := testing.AllocsPerRun(100, tt.fn); allocs != 0 {
				t.Errorf("%v allocations per run, want 0", allocs)
			}
		})
	}
}
