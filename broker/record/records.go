package record

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Records calls fn for each record of the uncompressed batch at the start
// of batch, in order, until fn returns false. The batch should have passed
// Validate; Records checks its framing again but not its CRC.
//
// Key, Value and header values alias batch, and r.Headers is reused from one
// record to the next: copy what must outlive the call to fn. Header keys
// are copied into new strings, the only allocations on success.
//
// Records returns an *Error: of kind ErrCompressed for a compressed batch,
// of a Validate kind for a bad header, and of kind ErrRecord for malformed
// record bytes (a bad varint or length, a record longer or shorter than its
// length prefix, bytes left after the last record). fn may already have
// seen the records before a malformed one.
func Records(batch []byte, fn func(offsetDelta int32, r Record) bool) error {
	h, err := ParseHeader(batch)
	if err != nil {
		return err
	}
	if err := checkHeader(h, len(batch)); err != nil {
		return err
	}
	if c := h.Codec(); c != None {
		return &Error{Field: "attributes", Got: int64(c), Want: int64(None), Kind: ErrCompressed}
	}
	d := decoder{b: batch[:h.Size()], off: HeaderSize}
	for i := range int(h.NumRecords) {
		d.record = i
		offsetDelta, r := d.next()
		if d.err != nil {
			return d.err
		}
		if !fn(offsetDelta, r) {
			return nil
		}
	}
	if d.off != len(d.b) {
		return &Error{Field: "records: trailing bytes", Got: int64(d.off), Kind: ErrRecord}
	}
	return nil
}

// decoder reads records from b with a sticky error.
type decoder struct {
	b       []byte // the batch
	off     int    // next byte to read
	end     int    // end of the current record
	record  int    // index of the current record
	headers []RecordHeader
	err     error
}

// next decodes one record. Its Headers reuse d.headers.
func (d *decoder) next() (int32, Record) {
	start := d.off
	d.end = len(d.b)
	n := d.varint("length")
	if d.err == nil && (n < 0 || int(n) > d.end-d.off) {
		d.fail("length", start)
	}
	if d.err != nil {
		return 0, Record{}
	}
	d.end = d.off + int(n)
	var r Record
	d.skipByte("attributes")
	r.TimestampDelta = d.varlong("timestampDelta")
	offsetDelta := d.varint("offsetDelta")
	r.Key = d.bytes("key")
	r.Value = d.bytes("value")
	countAt := d.off
	count := d.varint("headers")
	if count < 0 || int(count) > (d.end-d.off)/2 { // a header takes 2 bytes or more
		d.fail("headers", countAt)
	}
	d.headers = d.headers[:0]
	for i := 0; i < int(count) && d.err == nil; i++ {
		keyAt := d.off
		key := d.bytes("header key")
		if key == nil {
			d.fail("header key", keyAt) // keys are not nullable
		}
		d.headers = append(d.headers, RecordHeader{Key: string(key), Value: d.bytes("header value")})
	}
	if d.off != d.end {
		d.fail("length", start)
	}
	if len(d.headers) > 0 {
		r.Headers = d.headers
	}
	return offsetDelta, r
}

// fail records that field, starting at byte at, is malformed, unless an
// error is already set.
func (d *decoder) fail(field string, at int) {
	if d.err == nil {
		d.err = &Error{Field: fmt.Sprintf("record %d: %s", d.record, field), Got: int64(at), Kind: ErrRecord}
	}
}

func (d *decoder) skipByte(field string) {
	if d.err != nil || d.off >= d.end {
		d.fail(field, d.off)
		return
	}
	d.off++
}

func (d *decoder) varlong(field string) int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.off:d.end])
	if n <= 0 {
		d.fail(field, d.off)
		return 0
	}
	d.off += n
	return v
}

func (d *decoder) varint(field string) int32 {
	at := d.off
	v := d.varlong(field)
	if v < math.MinInt32 || v > math.MaxInt32 {
		d.fail(field, at)
		return 0
	}
	return int32(v)
}

// bytes reads a varint-length-prefixed byte string; length -1 is nil.
func (d *decoder) bytes(field string) []byte {
	at := d.off
	n := d.varint(field)
	if d.err != nil || n == -1 {
		return nil
	}
	if n < -1 || int(n) > d.end-d.off {
		d.fail(field, at)
		return nil
	}
	d.off += int(n)
	return d.b[d.off-int(n) : d.off : d.off]
}
