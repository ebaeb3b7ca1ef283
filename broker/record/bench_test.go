package record_test

import (
	"fmt"
	"testing"

	"gale/broker/record"
)

// benchBatch builds a batch of 100-byte records about size bytes long.
func benchBatch(size int) (batch []byte, recs []record.Record) {
	const perRecord = 100 + 8 // value plus record overhead
	n := max(1, (size-record.HeaderSize)/perRecord)
	recs = make([]record.Record, n)
	for i := range recs {
		recs[i] = record.Record{Value: make([]byte, 100), TimestampDelta: int64(i)}
	}
	return record.AppendBatch(nil, noProducer, recs), recs
}

var benchSizes = []struct {
	name string
	size int
}{{"1KiB", 1 << 10}, {"64KiB", 64 << 10}, {"1MiB", 1 << 20}}

func BenchmarkValidate(b *testing.B) {
	for _, s := range benchSizes {
		batch, _ := benchBatch(s.size)
		b.Run("batch="+s.name, func(b *testing.B) {
			b.SetBytes(int64(len(batch)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := record.Validate(batch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkValidateAll(b *testing.B) {
	one, _ := benchBatch(16 << 10)
	var batches []byte
	for range 64 {
		batches = append(batches, one...)
	}
	b.Run(fmt.Sprintf("batches=64x%dB", len(one)), func(b *testing.B) {
		b.SetBytes(int64(len(batches)))
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := record.ValidateAll(batches); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkAppendBatch(b *testing.B) {
	for _, s := range benchSizes {
		batch, recs := benchBatch(s.size)
		dst := make([]byte, 0, len(batch))
		b.Run("batch="+s.name, func(b *testing.B) {
			b.SetBytes(int64(len(batch)))
			b.ReportAllocs()
			for b.Loop() {
				dst = record.AppendBatch(dst[:0], noProducer, recs)
			}
		})
	}
}

func BenchmarkRecords(b *testing.B) {
	batch, recs := benchBatch(64 << 10)
	b.Run(fmt.Sprintf("records=%d", len(recs)), func(b *testing.B) {
		b.SetBytes(int64(len(batch)))
		b.ReportAllocs()
		for b.Loop() {
			n := 0
			if err := record.Records(batch, func(int32, record.Record) bool { n++; return true }); err != nil || n != len(recs) {
				b.Fatal(n, err)
			}
		}
	})
}
