package producer

import (
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Error is why Check rejected a batch. Put Kerr.Code (and, from Produce v8
// on, Error() as the error message) in the partition's produce response.
// Unwrap returns Kerr, so errors.Is(err, kerr.OutOfOrderSequenceNumber)
// works.
type Error struct {
	// Kerr is one of kerr.OutOfOrderSequenceNumber,
	// kerr.InvalidProducerEpoch, kerr.InvalidTxnState or kerr.InvalidRecord.
	Kerr *kerr.Error

	// The rejected batch's producer id, epoch and base sequence.
	ProducerID int64
	Epoch      int16
	Sequence   int32

	// Known reports whether the State knew the producer; if so,
	// CurrentEpoch is its epoch and LastSequence the last sequence of its
	// latest batch.
	Known        bool
	CurrentEpoch int16
	LastSequence int32

	// Reason says in words what is wrong.
	Reason string
}

// Reasons, in Error.Reason.
const (
	reasonControl       = "clients may not write control batches"
	reasonTransactional = "transactions are not supported by this broker"
	reasonNegativeSeq   = "a producer's batch needs a base sequence >= 0"
	reasonNegativeEpoch = "a producer's batch needs an epoch >= 0"
	reasonStaleEpoch    = "epoch is older than the producer's"
	reasonNewEpochSeq   = "a new epoch must start at sequence 0"
	reasonGap           = "sequence does not follow the producer's last sequence"
)

func (e *Error) Error() string {
	b := []byte("producer: ")
	b = append(b, e.Kerr.Message...)
	b = append(b, ": producer id "...)
	b = strconv.AppendInt(b, e.ProducerID, 10)
	b = append(b, " epoch "...)
	b = strconv.AppendInt(b, int64(e.Epoch), 10)
	b = append(b, " sequence "...)
	b = strconv.AppendInt(b, int64(e.Sequence), 10)
	b = append(b, ": "...)
	b = append(b, e.Reason...)
	if e.Known {
		b = append(b, " (producer's epoch "...)
		b = strconv.AppendInt(b, int64(e.CurrentEpoch), 10)
		b = append(b, ", last sequence "...)
		b = strconv.AppendInt(b, int64(e.LastSequence), 10)
		b = append(b, ')')
	}
	return string(b)
}

// Unwrap returns Kerr.
func (e *Error) Unwrap() error { return e.Kerr }
