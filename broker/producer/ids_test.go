package producer

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestIDsHandOutABlockPerReservation(t *testing.T) {
	ids := NewIDs(0)
	upTo, ok := ids.NeedsReserve()
	if !ok || upTo != ReserveBlock {
		t.Fatalf("fresh IDs: NeedsReserve = %d, %v; want %d, true", upTo, ok, ReserveBlock)
	}
	ids.Reserved(upTo)
	for want := int64(0); want < ReserveBlock; want++ {
		if _, ok := ids.NeedsReserve(); ok {
			t.Fatalf("NeedsReserve before id %d of a reserved block", want)
		}
		if id, epoch := ids.Next(); id != want || epoch != 0 {
			t.Fatalf("Next = %d, %d; want %d, 0", id, epoch, want)
		}
	}
	if upTo, ok := ids.NeedsReserve(); !ok || upTo != 2*ReserveBlock {
		t.Fatalf("block used up: NeedsReserve = %d, %v; want %d, true", upTo, ok, 2*ReserveBlock)
	}
	if ids.Peek() != ReserveBlock {
		t.Fatalf("Peek = %d, want %d", ids.Peek(), ReserveBlock)
	}
}

func TestIDsStartAtThePersistedBound(t *testing.T) {
	for _, tc := range []struct{ persisted, want int64 }{{0, 0}, {-5, 0}, {4000, 4000}} {
		ids := NewIDs(tc.persisted)
		if ids.Peek() != tc.want {
			t.Errorf("NewIDs(%d).Peek() = %d, want %d", tc.persisted, ids.Peek(), tc.want)
		}
	}
}

func TestIDsNextWithoutReservationPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("Next without a reservation did not panic")
		}
	}()
	NewIDs(10).Next()
}

// TestIDsNeverRepeatAcrossRestarts hands out ids the way the server does
// (persist the bound NeedsReserve asks for, then Reserved, then Next) and
// crashes at random points: before the bound is written, after it is
// written but before Reserved, and between ids. Every restart resumes from
// the persisted bound. No id may be handed out twice.
func TestIDsNeverRepeatAcrossRestarts(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed = %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	var disk int64 // the persisted bound; 0: never written
	ids := NewIDs(disk)
	seen := make(map[int64]bool)
	restarts := 0
	for range 20000 {
		if rng.IntN(500) == 0 {
			ids, restarts = NewIDs(disk), restarts+1
			continue
		}
		if upTo, ok := ids.NeedsReserve(); ok {
			switch rng.IntN(10) {
			case 0: // crash before the write
				ids, restarts = NewIDs(disk), restarts+1
				continue
			case 1: // crash after the write, before Reserved
				disk = upTo
				ids, restarts = NewIDs(disk), restarts+1
				continue
			}
			disk = upTo
			ids.Reserved(upTo)
		}
		id, _ := ids.Next()
		if seen[id] {
			t.Fatalf("id %d handed out twice (after %d restarts)", id, restarts)
		}
		if id >= disk {
			t.Fatalf("id %d handed out at or above the persisted bound %d", id, disk)
		}
		seen[id] = true
	}
	t.Logf("%d ids over %d restarts, persisted bound %d", len(seen), restarts, disk)
}
