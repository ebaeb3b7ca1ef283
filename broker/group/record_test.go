package group

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

var sampleRecords = []OffsetRecord{
	{},
	{Group: "g", Topic: "t", Partition: 0, Offset: 42, LeaderEpoch: 3, Metadata: "m"},
	{Group: "g", Topic: "t", Partition: 7, Offset: -1, LeaderEpoch: -1},
	{Group: strings.Repeat("G", 300), Topic: "topic.with-dots_", Partition: math.MaxInt32, Offset: math.MaxInt64, LeaderEpoch: math.MinInt32, Metadata: strings.Repeat("\x00\xff", 2048)},
}

func TestOffsetRecordRoundTrip(t *testing.T) {
	for _, rec := range sampleRecords {
		b := rec.AppendTo([]byte("prefix"))
		if !bytes.HasPrefix(b, []byte("prefix")) {
			t.Fatal("AppendTo did not append")
		}
		got, err := DecodeOffsetRecord(b[len("prefix"):])
		if err != nil || got != rec {
			t.Fatalf("round trip of %+v: %+v, %v", rec, got, err)
		}
	}
}

// The encoding is fixed: a change here breaks logs written by older brokers.
func TestOffsetRecordGolden(t *testing.T) {
	rec := OffsetRecord{Group: "g", Topic: "t", Partition: 1, Offset: 2, LeaderEpoch: -1, Metadata: "m"}
	want := []byte{1}                           // version
	want = append(want, 1, 'g')                 // group
	want = append(want, 1, 't')                 // topic
	want = append(want, 0, 0, 0, 1)             // partition
	want = append(want, 0, 0, 0, 0, 0, 0, 0, 2) // offset
	want = append(want, 0xff, 0xff, 0xff, 0xff) // leader epoch
	want = append(want, 1, 'm')                 // metadata
	if got := rec.AppendTo(nil); !bytes.Equal(got, want) {
		t.Fatalf("encoding %v, want %v", got, want)
	}
}

func TestDecodeOffsetRecordErrors(t *testing.T) {
	good := sampleRecords[1].AppendTo(nil)
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, ErrCorruptRecord},
		{"unknown version", append([]byte{2}, good[1:]...), ErrRecordVersion},
		{"truncated", good[:len(good)-1], ErrCorruptRecord},
		{"trailing byte", append(slices.Clone(good), 0), ErrCorruptRecord},
		{"length past end", []byte{1, 100, 'g'}, ErrCorruptRecord},
		{"overlong length", []byte{1, 0x80, 0x00}, ErrCorruptRecord},
		{"bad varint", []byte{1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, ErrCorruptRecord},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodeOffsetRecord(tt.b); !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
		})
	}
}

// Restoring the records a coordinator emitted, in order, rebuilds its
// committed offsets (last record wins, tombstones delete).
func TestRestoreRebuildsOffsets(t *testing.T) {
	h := newHarness(t, Config{})
	ids, gen := h.stableGroup("g", 2)
	h.commit("g", gen, ids[0], "t", 0, 1)
	h.commit("g", gen, ids[0], "t", 0, 2) // last wins
	h.commit("g", gen, ids[1], "t", 1, 5)
	h.commit("g", gen, ids[1], "u", 0, 9)
	h.commit("g", gen, ids[1], "u", 0, -1) // deleted
	h.commit("simple", -1, "", "t", 3, 33)
	h.commit("gone", -1, "", "t", 0, 1)
	h.commit("gone", -1, "", "t", 0, -1)

	restored := newHarness(t, Config{})
	for _, rec := range h.records {
		b := rec.AppendTo(nil)
		dec, err := DecodeOffsetRecord(b)
		if err != nil {
			t.Fatal(err)
		}
		restored.c.Restore(dec)
	}
	all := func(h *harness) string {
		r := kmsg.NewPtrOffsetFetchRequest()
		r.Version = 8
		for _, g := range []string{"g", "simple", "gone"} {
			r.Groups = append(r.Groups, kmsg.OffsetFetchRequestGroup{Group: g})
		}
		var b strings.Builder
		for _, g := range h.reply(h.do("c", r)).(*kmsg.OffsetFetchResponse).Groups {
			for _, t := range g.Topics {
				for _, p := range t.Partitions {
					fmt.Fprintf(&b, "%s/%s/%d=%d ", g.Group, t.Topic, p.Partition, p.Offset)
				}
			}
		}
		return b.String()
	}
	if got, want := all(restored), all(h); got != want || want != "g/t/0=2 g/t/1=5 simple/t/3=33 " {
		t.Fatalf("restored %q, original %q", got, want)
	}
	if restored.state("g") != "Empty" || restored.state("gone") != "Dead" {
		t.Fatalf("restored states g=%s gone=%s, want Empty and Dead", restored.state("g"), restored.state("gone"))
	}
	// The restored group takes members again, starting a new generation.
	m := restored.askID("c", "g")
	if resp := restored.joinResp(restored.join("g", m)); resp.ErrorCode != 0 || resp.Generation != 1 {
		t.Fatalf("join after restore: %+v", resp)
	}
}

// FuzzDecodeOffsetRecord: the decoder never panics, and whatever it accepts
// re-encodes to exactly the input (the encoding is canonical).
func FuzzDecodeOffsetRecord(f *testing.F) {
	for _, rec := range sampleRecords {
		b := rec.AppendTo(nil)
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte{1, 0x80, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		rec, err := DecodeOffsetRecord(b)
		if err != nil {
			if !errors.Is(err, ErrCorruptRecord) && !errors.Is(err, ErrRecordVersion) {
				t.Fatalf("unmarked error %v", err)
			}
			return
		}
		if got := rec.AppendTo(nil); !bytes.Equal(got, b) {
			t.Fatalf("decoded %+v re-encodes to %x, input %x", rec, got, b)
		}
	})
}
