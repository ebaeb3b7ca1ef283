package seglog

import (
	"errors"
	"fmt"
	"hash/crc32"
	"path/filepath"

	"gale/broker/vfs"
)

// checkpointName is the recovery checkpoint file in a log's directory. It is
// one line of text:
//
//	gale-checkpoint v1 next=<offset> segment=<base> position=<bytes> crc=<hex>
//
// meaning: every batch below offset next is durable and valid; they end at
// byte position of segment base. crc is CRC-32C of the text before " crc=".
// Recovery trusts what the checkpoint covers and verifies the rest.
const checkpointName = "recovery-point"

type checkpoint struct {
	next, segment, position int64
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func (c checkpoint) marshal() []byte {
	body := fmt.Sprintf("gale-checkpoint v1 next=%d segment=%d position=%d", c.next, c.segment, c.position)
	return fmt.Appendf(nil, "%s crc=%08x\n", body, crc32.Checksum([]byte(body), castagnoli))
}

var errBadCheckpoint = errors.New("seglog: checkpoint file is corrupt")

func parseCheckpoint(b []byte) (checkpoint, error) {
	var c checkpoint
	var crc uint32
	_, err := fmt.Sscanf(string(b), "gale-checkpoint v1 next=%d segment=%d position=%d crc=%x\n", &c.next, &c.segment, &c.position, &crc)
	if err != nil {
		return c, fmt.Errorf("%w: %v", errBadCheckpoint, err)
	}
	body := fmt.Sprintf("gale-checkpoint v1 next=%d segment=%d position=%d", c.next, c.segment, c.position)
	if crc32.Checksum([]byte(body), castagnoli) != crc || c.next < 0 || c.segment < 0 || c.position < 0 || c.segment > c.next {
		return c, errBadCheckpoint
	}
	return c, nil
}

func writeCheckpoint(fs vfs.FS, dir string, c checkpoint) error {
	if err := fs.WriteFileAtomic(filepath.Join(dir, checkpointName), c.marshal()); err != nil {
		return fmt.Errorf("seglog: write checkpoint: %w", err)
	}
	return nil
}

func writeIndexFiles(fs vfs.FS, s *segment) error {
	offsets, times := s.idx.marshal()
	if err := fs.WriteFileAtomic(s.indexPath(), offsets); err != nil {
		return fmt.Errorf("seglog: write index: %w", err)
	}
	if err := fs.WriteFileAtomic(s.timeIndexPath(), times); err != nil {
		return fmt.Errorf("seglog: write time index: %w", err)
	}
	return nil
}
