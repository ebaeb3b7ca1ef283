package group

import (
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestOffsetCommitFetch(t *testing.T) {
	h := newHarness(t, Config{})
	ids, gen := h.stableGroup("g", 2)

	if got := h.commit("g", gen, ids[1], "t", 0, 42); got != 0 {
		t.Fatalf("member commit: %s", errName(got))
	}
	if got := h.fetch("g", "t", 0); got != 42 {
		t.Fatalf("fetch: %d, want 42", got)
	}
	if got := h.fetch("g", "t", 1); got != -1 {
		t.Fatalf("uncommitted partition: %d, want -1", got)
	}
	if got := h.fetch("nogroup", "t", 0); got != -1 {
		t.Fatalf("unknown group: %d, want -1", got)
	}
	want := OffsetRecord{Group: "g", Topic: "t", Partition: 0, Offset: 42, LeaderEpoch: 3, Metadata: "m"}
	if len(h.records) != 1 || h.records[0] != want {
		t.Fatalf("records %+v, want [%+v]", h.records, want)
	}

	tests := []struct {
		name   string
		group  string
		gen    int32
		member string
		want   int16
	}{
		{"stale generation", "g", gen - 1, ids[0], kerr.IllegalGeneration.Code},
		{"future generation", "g", gen + 1, ids[0], kerr.IllegalGeneration.Code},
		{"unknown member", "g", gen, "nobody", kerr.UnknownMemberID.Code},
		{"simple commit to a non-empty group", "g", -1, "", kerr.UnknownMemberID.Code},
		{"generation for an unknown group", "other", 3, "x", kerr.IllegalGeneration.Code},
		{"simple commit to an unknown group", "simple", -1, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(h.records)
			got := h.commit(tt.group, tt.gen, tt.member, "t", 0, 7)
			if got != tt.want {
				t.Fatalf("got %s, want %s", errName(got), errName(tt.want))
			}
			if accepted := len(h.records) > n; accepted != (got == 0) {
				t.Fatalf("error %s but record emitted: %v", errName(got), accepted)
			}
		})
	}
	if got := h.fetch("g", "t", 0); got != 42 {
		t.Fatalf("rejected commits changed the offset: %d", got)
	}
	if h.state("simple") != "Empty" || h.state("other") != "Dead" {
		t.Fatalf("states simple=%s other=%s, want Empty and Dead", h.state("simple"), h.state("other"))
	}
}

// Commits during a rebalance: allowed while preparing (the member still
// holds its generation), REBALANCE_IN_PROGRESS while completing.
func TestOffsetCommitDuringRebalance(t *testing.T) {
	h := newHarness(t, Config{})
	ids, gen := h.stableGroup("g", 2)
	h.join("g", ids[0])
	if got := h.commit("g", gen, ids[1], "t", 0, 1); got != 0 {
		t.Fatalf("preparing: %s, want NONE", errName(got))
	}
	gen = h.joinResp(h.join("g", ids[1])).Generation
	if got := h.commit("g", gen, ids[1], "t", 0, 2); got != kerr.RebalanceInProgress.Code {
		t.Fatalf("completing: %s, want REBALANCE_IN_PROGRESS", errName(got))
	}
}

// OffsetCommit v0 carries no generation: it is a simple commit.
func TestOffsetCommitV0AndMetadataLimit(t *testing.T) {
	h := newHarness(t, Config{MaxMetadataBytes: 4})
	r := kmsg.NewPtrOffsetCommitRequest()
	r.Version, r.Group, r.Generation, r.MemberID = 0, "g", 5, "ignored-in-v0"
	r.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: "t", Partitions: []kmsg.OffsetCommitRequestTopicPartition{
		{Partition: 0, Offset: 10, LeaderEpoch: 9, Metadata: kmsg.StringPtr("ok")},
		{Partition: 1, Offset: 11, Metadata: kmsg.StringPtr("too long")},
	}}}
	ps := h.reply(h.do("c", r)).(*kmsg.OffsetCommitResponse).Topics[0].Partitions
	if ps[0].ErrorCode != 0 || ps[1].ErrorCode != kerr.OffsetMetadataTooLarge.Code {
		t.Fatalf("errors %s, %s", errName(ps[0].ErrorCode), errName(ps[1].ErrorCode))
	}
	if want := (OffsetRecord{Group: "g", Topic: "t", Offset: 10, LeaderEpoch: -1, Metadata: "ok"}); len(h.records) != 1 || h.records[0] != want {
		t.Fatalf("records %+v, want [%+v] (v0 has no leader epoch)", h.records, want)
	}
}

// Committing -1 deletes the offset; a group left with nothing is forgotten.
func TestOffsetDeleteByMinusOne(t *testing.T) {
	h := newHarness(t, Config{})
	h.commit("g", -1, "", "t", 0, 5)
	h.commit("g", -1, "", "t", 0, -1)
	if got := h.fetch("g", "t", 0); got != -1 {
		t.Fatalf("after tombstone: %d", got)
	}
	if h.state("g") != "Dead" {
		t.Fatalf("state %s, want Dead (forgotten)", h.state("g"))
	}
	if last := h.records[len(h.records)-1]; last.Offset != -1 {
		t.Fatalf("tombstone not emitted: %+v", last)
	}
}

// OffsetFetch in its old single-group form, including "all topics" (v2+),
// and the v8 multi-group form.
func TestOffsetFetchVersions(t *testing.T) {
	h := newHarness(t, Config{})
	h.commit("a", -1, "", "t2", 1, 21)
	h.commit("a", -1, "", "t1", 0, 10)
	h.commit("a", -1, "", "t2", 0, 20)
	h.commit("b", -1, "", "t1", 0, 99)

	flat := func(resp *kmsg.OffsetFetchResponse) string {
		var b strings.Builder
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				fmt.Fprintf(&b, "%s/%d=%d ", t.Topic, p.Partition, p.Offset)
			}
		}
		return b.String()
	}
	all := kmsg.NewPtrOffsetFetchRequest()
	all.Version, all.Group = 5, "a"
	if got, want := flat(h.reply(h.do("c", all)).(*kmsg.OffsetFetchResponse)), "t1/0=10 t2/0=20 t2/1=21 "; got != want {
		t.Fatalf("all topics v5: %q, want %q", got, want)
	}
	some := kmsg.NewPtrOffsetFetchRequest()
	some.Version, some.Group = 1, "a"
	some.Topics = []kmsg.OffsetFetchRequestTopic{{Topic: "t2", Partitions: []int32{1, 7}}}
	if got, want := flat(h.reply(h.do("c", some)).(*kmsg.OffsetFetchResponse)), "t2/1=21 t2/7=-1 "; got != want {
		t.Fatalf("v1: %q, want %q", got, want)
	}

	multi := kmsg.NewPtrOffsetFetchRequest()
	multi.Version = 8
	multi.Groups = []kmsg.OffsetFetchRequestGroup{
		{Group: "b"},
		{Group: "a", Topics: []kmsg.OffsetFetchRequestGroupTopic{{Topic: "t1", Partitions: []int32{0}}}},
	}
	resp := h.reply(h.do("c", multi)).(*kmsg.OffsetFetchResponse)
	if len(resp.Groups) != 2 || resp.Groups[0].Topics[0].Partitions[0].Offset != 99 || resp.Groups[1].Topics[0].Partitions[0].Offset != 10 {
		t.Fatalf("v8: %+v", resp.Groups)
	}
}
