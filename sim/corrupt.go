package sim

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path"
	"strings"

	"gale/broker/vfs"
)

// Segment corruption for torn-tail and bitflip, through the file seam so it
// works on a data directory on disk (vfs.OS) and on vfs.Mem alike.

// batchHeader is the RecordBatch v2 prefix this file reads: baseOffset (8),
// batchLength (4), partitionLeaderEpoch (4), magic (1), crc (4).
const (
	batchLenOff  = 8
	batchMagic   = 16
	batchCRCFrom = 21 // the CRC covers bytes [21, end)
	batchMinSize = 61
)

// batchSpan is one batch inside a segment: [off, off+size).
type batchSpan struct{ off, size int64 }

// batches walks the valid-looking batches at the start of data (a segment's
// contents), stopping at the first zero or implausible header.
func batches(data []byte) []batchSpan {
	var out []batchSpan
	var off int64
	for off+batchMinSize <= int64(len(data)) {
		n := int64(int32(binary.BigEndian.Uint32(data[off+batchLenOff:])))
		size := n + 12
		if n <= 0 || size < batchMinSize || off+size > int64(len(data)) || data[off+batchMagic] != 2 {
			break
		}
		out = append(out, batchSpan{off, size})
		off += size
	}
	return out
}

// segmentsOf returns, per partition directory of dir (internal topics,
// named "__...", left out), its segment files sorted by base offset (the
// file names sort so), as paths.
func segmentsOf(fs vfs.FS, dir string) ([][]string, error) {
	parts, err := fs.ListDirs(dir)
	if err != nil {
		return nil, err
	}
	var out [][]string
	for _, p := range parts {
		if strings.HasPrefix(p, "__") {
			continue
		}
		names, err := fs.List(path.Join(dir, p))
		if err != nil {
			return nil, err
		}
		var segs []string
		for _, n := range names {
			if strings.HasSuffix(n, ".log") {
				segs = append(segs, path.Join(dir, p, n))
			}
		}
		if len(segs) > 0 {
			out = append(out, segs)
		}
	}
	return out, nil
}

// flipBit flips one seeded bit inside the CRC-covered part of one seeded
// batch of one sealed segment (any segment but the newest of its partition)
// under dir. It works on a live broker: the segment is opened a second time
// and written through the seam, which a MAP_SHARED mapping (and Mem) sees at
// once. It returns what it flipped.
func flipBit(fs vfs.FS, dir string, rng *rand.Rand) (string, error) {
	parts, err := segmentsOf(fs, dir)
	if err != nil {
		return "", err
	}
	var sealed []string
	for _, segs := range parts {
		sealed = append(sealed, segs[:len(segs)-1]...)
	}
	// Try segments in a seeded order until one holds a batch.
	rng.Shuffle(len(sealed), func(i, j int) { sealed[i], sealed[j] = sealed[j], sealed[i] })
	for _, name := range sealed {
		f, err := fs.Open(name, 0)
		if err != nil {
			return "", err
		}
		bs := batches(f.Data()[:f.Size()])
		if len(bs) == 0 {
			f.Close()
			continue
		}
		b := bs[rng.IntN(len(bs))]
		at := b.off + batchCRCFrom + rng.Int64N(b.size-batchCRCFrom)
		bit := rng.IntN(8)
		v := f.Data()[at] ^ (1 << bit)
		_, err = f.WriteAt([]byte{v}, at)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("flipped bit %d of byte %d of %s (batch at byte %d)", bit, at, name, b.off), nil
	}
	return "", fmt.Errorf("bitflip: no sealed segment with a batch under %s yet (a segment is sealed when it reaches segment_bytes)", dir)
}

// tearTail zeroes a seeded number of bytes (1 to all) at the end of the last
// batch of the newest segment of one seeded partition under dir, as a write
// torn by a crash leaves it. Call it while the broker is down.
func tearTail(fs vfs.FS, dir string, rng *rand.Rand) (string, error) {
	parts, err := segmentsOf(fs, dir)
	if err != nil {
		return "", err
	}
	rng.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
	for _, segs := range parts {
		name := segs[len(segs)-1]
		f, err := fs.Open(name, 0)
		if err != nil {
			return "", err
		}
		bs := batches(f.Data()[:f.Size()])
		if len(bs) == 0 {
			f.Close()
			continue
		}
		last := bs[len(bs)-1]
		k := 1 + rng.Int64N(last.size)
		end := last.off + last.size
		_, err = f.WriteAt(make([]byte, k), end-k)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("zeroed the last %d of %d bytes of the batch at byte %d of %s", k, last.size, last.off, name), nil
	}
	return "", fmt.Errorf("torn-tail: no partition with a batch under %s", dir)
}
