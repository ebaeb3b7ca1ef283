package record

import "hash/crc32"

// castagnoli selects the hardware CRC-32C path where the CPU has one.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Checksum returns the CRC-32C (Castagnoli) of b[21:], the bytes the crc
// field of a batch covers; b must be exactly one whole batch. It panics if
// len(b) < 21.
func Checksum(b []byte) uint32 {
	return crc32.Checksum(b[offAttributes:], castagnoli)
}

// Validate checks the batch at the start of b (see the package comment for
// the checks, made in order) and returns its header. b may extend past the
// batch: b[h.Size():] is the rest. On error the Header holds what was
// parsed, or is zero if b is shorter than a header; the error is an *Error.
func Validate(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, truncated("header", len(b), HeaderSize)
	}
	h := parse(b)
	if err := checkHeader(h, len(b)); err != nil {
		return h, err
	}
	if sum := crc32.Checksum(b[offAttributes:h.Size()], castagnoli); sum != h.CRC {
		return h, &Error{Field: "crc", Got: int64(sum), Want: int64(h.CRC), Kind: ErrCRC}
	}
	return h, nil
}

// checkHeader runs every check but the CRC on h, the header of a batch at
// the start of n bytes.
func checkHeader(h Header, n int) error {
	const minLength = HeaderSize - 12
	switch {
	case h.Length < minLength:
		return &Error{Field: "batchLength", Got: int64(h.Length), Want: minLength, Kind: ErrLength}
	case int64(h.Length) > MaxBatchSize-12:
		return &Error{Field: "batchLength", Got: int64(h.Length), Want: MaxBatchSize - 12, Kind: ErrLength}
	case h.Size() > n:
		return truncated("batchLength", n, h.Size())
	case h.Magic != Magic:
		return &Error{Field: "magic", Got: int64(h.Magic), Want: Magic, Kind: ErrMagic}
	case h.NumRecords < 1:
		return &Error{Field: "recordCount", Got: int64(h.NumRecords), Want: 1, Kind: ErrRecordCount}
	case h.LastOffsetDelta != h.NumRecords-1:
		return &Error{Field: "lastOffsetDelta", Got: int64(h.LastOffsetDelta), Want: int64(h.NumRecords) - 1, Kind: ErrRecordCount}
	}
	return nil
}

// ValidateAll validates b as one or more whole batches laid end to end (a
// produce request's records for one partition), with no bytes left over.
// It returns the number of batches and of records (the sum of
// lastOffsetDelta+1) that passed. On error, the *Error's Offset is the byte
// offset in b of the batch at fault; batches and records count the valid
// batches before it. Empty input is ErrTruncated, and so are trailing bytes
// too short to be a batch.
func ValidateAll(b []byte) (batches int, records int64, err error) {
	off := 0
	for {
		h, err := Validate(b[off:])
		if err != nil {
			err.(*Error).Offset = off
			return batches, records, err
		}
		batches++
		records += int64(h.LastOffsetDelta) + 1
		off += h.Size()
		if off == len(b) {
			return batches, records, nil
		}
	}
}
