package loadgen

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"time"
)

// payloads hands out message values and keys for one producer. Values
// are shared and never written after newPayloads: drivers must not modify
// them.
type payloads struct {
	values [][]byte
	keys   [][]byte // KEY_ROUND_ROBIN's key set
	dist   string
}

// maxPoolBytes caps the memory of a randomized payload pool; the pool is
// shrunk to fit.
const maxPoolBytes = 256 << 20

// newPayloads builds the payloads of workload w: the payload file's bytes,
// a pool of partly random payloads, or one zero-filled payload.
func newPayloads(w Workload, rng *rand.Rand) (*payloads, error) {
	p := &payloads{dist: w.KeyDistributor}
	switch {
	case w.PayloadFile != "":
		b, err := os.ReadFile(w.PayloadFile)
		if err != nil {
			return nil, fmt.Errorf("loadgen: payload file: %w", err)
		}
		p.values = [][]byte{b}
	case w.UseRandomizedPayloads:
		n := w.RandomizedPayloadPoolSize
		if w.MessageSize > 0 {
			n = max(1, min(n, maxPoolBytes/w.MessageSize))
		}
		random := int(float64(w.MessageSize) * w.RandomBytesRatio)
		for range n {
			v := make([]byte, w.MessageSize)
			for i := range random {
				v[i] = byte(rng.Uint32())
			}
			p.values = append(p.values, v)
		}
	default:
		p.values = [][]byte{make([]byte, w.MessageSize)}
	}
	if p.dist == KeyRoundRobin {
		for i := range 10000 {
			p.keys = append(p.keys, []byte("key-"+strconv.Itoa(i)))
		}
	}
	return p, nil
}

// size is the payload size (the payload file's, or messageSize).
func (p *payloads) size() int { return len(p.values[0]) }

// value returns message i's payload.
func (p *payloads) value(i int64) []byte { return p.values[i%int64(len(p.values))] }

// key returns message i's key, nil for NO_KEY.
func (p *payloads) key(i int64) []byte {
	switch p.dist {
	case KeyRoundRobin:
		return p.keys[i%int64(len(p.keys))]
	case RandomNano:
		return strconv.AppendInt(nil, time.Now().UnixNano(), 10)
	}
	return nil
}
