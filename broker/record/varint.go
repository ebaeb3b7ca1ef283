package record

import "math/bits"

// Records use zigzag varints, as protobuf does: encoding/binary's
// AppendVarint and Varint.

// varintLen is the encoded size of v as a zigzag varint.
func varintLen(v int64) int {
	u := uint64(v<<1) ^ uint64(v>>63)
	return (bits.Len64(u|1) + 6) / 7
}

// bytesLen is the encoded size of a varint-length-prefixed byte string;
// nil encodes as length -1.
func bytesLen(b []byte) int {
	if b == nil {
		return varintLen(-1)
	}
	return varintLen(int64(len(b))) + len(b)
}
