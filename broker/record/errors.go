package record

import (
	"errors"
	"fmt"
)

// ErrCorrupt matches (with errors.Is) every error that says a batch's bytes
// are not a valid batch: ErrTruncated, ErrLength, ErrMagic, ErrRecordCount,
// ErrCRC and ErrRecord.
var ErrCorrupt = errors.New("record: corrupt batch")

// Kinds of *Error. Each wraps ErrCorrupt, except ErrCompressed.
var (
	// ErrTruncated: the input ends before the header or before the
	// batchLength+12 bytes the header announces (a torn tail in recovery).
	ErrTruncated error = corruption("record: truncated batch")
	// ErrLength: batchLength is below 49 or above MaxBatchSize-12.
	ErrLength error = corruption("record: bad batch length")
	// ErrMagic: magic is not 2.
	ErrMagic error = corruption("record: unsupported magic")
	// ErrRecordCount: recordCount is below 1 or lastOffsetDelta is not
	// recordCount-1.
	ErrRecordCount error = corruption("record: bad record count")
	// ErrCRC: the CRC-32C of the batch does not match its crc field.
	ErrCRC error = corruption("record: crc mismatch")
	// ErrRecord: Records found malformed record bytes (which the CRC
	// cannot rule out: a producer may have encoded them badly).
	ErrRecord error = corruption("record: malformed record")
	// ErrCompressed: Records was given a compressed batch. The batch may
	// well be valid, so this kind does not match ErrCorrupt.
	ErrCompressed = errors.New("record: compressed batch")
)

type corruption string

func (c corruption) Error() string { return string(c) }
func (c corruption) Unwrap() error { return ErrCorrupt }

// Error describes why a batch was rejected.
//
// Field names the field at fault, spelled as in the Kafka protocol
// ("header", "batchLength", "magic", "recordCount", "lastOffsetDelta",
// "crc", "attributes"; for Records, "record 3: key", "records: trailing
// bytes" and the like).
// Got and Want depend on Kind:
//
//   - ErrTruncated: Got is the number of bytes available, Want the number
//     needed.
//   - ErrLength: Got is batchLength, Want the bound it broke (49 or
//     MaxBatchSize-12).
//   - ErrMagic, ErrRecordCount: Got is the value found, Want the value
//     expected (for recordCount below 1, Want is 1, the minimum).
//   - ErrCRC: Got is the CRC-32C computed over the bytes, Want the crc field.
//   - ErrRecord: Got is the byte offset, within the batch, of the bad field.
//   - ErrCompressed: Got is the Codec, Want is None.
type Error struct {
	Field string
	// Offset is the byte offset of the batch within the input to
	// ValidateAll; 0 for the other functions.
	Offset int
	Got    int64
	Want   int64
	Kind   error
}

func (e *Error) Error() string {
	prefix := fmt.Sprintf("record: batch at byte %d: ", e.Offset)
	switch e.Kind {
	case ErrTruncated:
		return prefix + fmt.Sprintf("truncated: %s needs %d bytes, have %d", e.Field, e.Want, e.Got)
	case ErrCRC:
		return prefix + fmt.Sprintf("crc: got 0x%08x, want 0x%08x", e.Got, e.Want)
	case ErrRecord:
		return prefix + fmt.Sprintf("%s: malformed at byte %d", e.Field, e.Got)
	case ErrCompressed:
		return prefix + fmt.Sprintf("compressed (%v): only uncompressed records can be decoded", Codec(e.Got))
	}
	rel := ""
	switch {
	case e.Kind == ErrLength && e.Got < e.Want, e.Field == "recordCount" && e.Kind == ErrRecordCount && e.Got < e.Want:
		rel = ">= "
	case e.Kind == ErrLength:
		rel = "<= "
	}
	return prefix + fmt.Sprintf("%s: got %d, want %s%d", e.Field, e.Got, rel, e.Want)
}

// Unwrap returns e.Kind, so errors.Is(err, ErrCRC) and errors.Is(err,
// ErrCorrupt) work.
func (e *Error) Unwrap() error { return e.Kind }
