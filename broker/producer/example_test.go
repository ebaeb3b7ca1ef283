package producer_test

import (
	"fmt"

	"gale/broker/producer"
	"gale/broker/record"
)

// A partition's writer on the produce path, and the same partition after a
// restart. The log here is a slice of headers; the server appends the batch
// itself and passes the header with the assigned base offset.
func Example() {
	// InitProducerId: persist the bound IDs asks for, then hand out an id.
	ids := producer.NewIDs(0) // 0: nothing persisted yet
	if upTo, ok := ids.NeedsReserve(); ok {
		// write upTo to disk and fsync before going on
		ids.Reserved(upTo)
	}
	id, epoch := ids.Next()

	st := producer.NewState(producer.Options{})
	var log []record.Header
	produce := func(seq int32) {
		h := header(id, epoch, seq, 2)
		d, err := st.Check(h)
		switch {
		case err != nil:
			fmt.Printf("seq %d: error code %d: %v\n", seq, err.(*producer.Error).Kerr.Code, err)
		case d.Duplicate:
			fmt.Printf("seq %d: duplicate, answer base offset %d\n", seq, d.BaseOffset)
		default:
			h.BaseOffset = int64(2 * len(log)) // the log assigns the offset
			log = append(log, h)
			st.Appended(h)
			fmt.Printf("seq %d: appended at %d\n", seq, h.BaseOffset)
		}
	}
	produce(0)
	produce(2)
	produce(0) // a retry
	produce(6) // a gap

	// Restart: replay the retained log, then expire idle producers.
	st = producer.NewState(producer.Options{})
	for _, h := range log {
		st.Replay(h)
	}
	st.Expire(0)
	produce(2) // still known as a duplicate
	produce(4)
	// Output:
	// seq 0: appended at 0
	// seq 2: appended at 2
	// seq 0: duplicate, answer base offset 0
	// seq 6: error code 45: producer: OUT_OF_ORDER_SEQUENCE_NUMBER: producer id 0 epoch 0 sequence 6: sequence does not follow the producer's last sequence (producer's epoch 0, last sequence 3)
	// seq 2: duplicate, answer base offset 2
	// seq 4: appended at 4
}

func header(id int64, epoch int16, seq int32, n int) record.Header {
	recs := make([]record.Record, n)
	b := record.AppendBatch(nil, record.BatchOptions{ProducerID: id, ProducerEpoch: epoch, BaseSequence: seq}, recs)
	h, err := record.ParseHeader(b)
	if err != nil {
		panic(err)
	}
	return h
}
