// Package record is the codec for Kafka record batches (RecordBatch v2, magic
// 2): the unit a producer sends, the partition log stores and a consumer
// fetches.
//
// Validate checks one batch the way a broker must before appending it or
// while scanning a log during recovery:
//
//   - the input holds at least the 61-byte header;
//   - batchLength is at least 49 (an empty records area), at most
//     MaxBatchSize-12, and the input holds all batchLength+12 bytes;
//   - magic is 2;
//   - recordCount is at least 1 and lastOffsetDelta is recordCount-1;
//   - the CRC-32C (Castagnoli) of bytes 21 to the end of the batch matches the
//     crc field.
//
// Checks run in that order and the first failure is reported as an *Error
// whose Kind (ErrTruncated, ErrLength, ErrMagic, ErrRecordCount, ErrCRC) can
// be tested with errors.Is; every kind also matches ErrCorrupt. Validate does
// not look inside the records area: it neither decompresses nor decodes
// records. baseOffset and partitionLeaderEpoch lie outside the CRC, so
// SetBaseOffset and SetPartitionLeaderEpoch patch a batch in place and it
// stays valid.
//
// AppendBatch builds uncompressed batches (for tests and the load generator)
// and Records decodes the records of an uncompressed batch.
//
// All functions are pure: they keep no state, read only their arguments and
// write only the bytes they are documented to write, so they are safe for
// concurrent use on distinct or read-only inputs. ParseHeader, Validate,
// ValidateAll, Checksum, SetBaseOffset and SetPartitionLeaderEpoch make no
// allocations when they succeed, nor do AppendBatch (given a dst with enough
// capacity) and Records (for records without headers); only errors allocate.
package record
