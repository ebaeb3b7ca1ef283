package producer

import "math"

// lastSequence is the sequence of the last record of a batch starting at
// base with lastOffsetDelta+1 records: sequences run 0..math.MaxInt32 and
// wrap to 0 (Kafka's DefaultRecordBatch.incrementSequence).
func lastSequence(base, lastOffsetDelta int32) int32 {
	if base > math.MaxInt32-lastOffsetDelta {
		return lastOffsetDelta - (math.MaxInt32 - base) - 1
	}
	return base + lastOffsetDelta
}

// inSequence reports whether next directly follows last.
func inSequence(last, next int32) bool {
	return int64(next) == int64(last)+1 || (next == 0 && last == math.MaxInt32)
}
