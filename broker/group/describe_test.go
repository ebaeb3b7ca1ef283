package group

import (
	"errors"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestDescribeGroups(t *testing.T) {
	h := newHarness(t, Config{})
	ids, _ := h.stableGroup("g", 2)
	h.join("rebalancing", h.askID("c", "rebalancing"))
	h.join("rebalancing", h.askID("c", "rebalancing"))
	h.join("rebalancing", h.askID("c", "rebalancing")) // a third member: rebalance
	h.commit("offsets-only", -1, "", "t", 0, 1)

	r := kmsg.NewPtrDescribeGroupsRequest()
	r.Version, r.Groups, r.IncludeAuthorizedOperations = 5, []string{"g", "offsets-only", "nogroup"}, true
	resp := h.reply(h.do("c", r)).(*kmsg.DescribeGroupsResponse)
	g := resp.Groups[0]
	if g.State != "Stable" || g.ProtocolType != "consumer" || g.Protocol != "range" || len(g.Members) != 2 || g.AuthorizedOperations != groupOps {
		t.Fatalf("stable group: %+v", g)
	}
	if m := g.Members[1]; m.MemberID != ids[1] || string(m.MemberAssignment) != "a-"+ids[1] ||
		string(m.ProtocolMetadata) != "meta-"+ids[1] || m.ClientHost != "/192.0.2.1" {
		t.Fatalf("stable member: %+v", m)
	}
	if o := resp.Groups[1]; o.State != "Empty" || len(o.Members) != 0 || o.ErrorCode != 0 {
		t.Fatalf("offsets-only group: %+v", o)
	}
	if d := resp.Groups[2]; d.State != "Dead" || d.ErrorCode != 0 {
		t.Fatalf("unknown group: %+v", d)
	}

	r.Groups = []string{"rebalancing"}
	if g := h.reply(h.do("c", r)).(*kmsg.DescribeGroupsResponse).Groups[0]; g.State == "Stable" || g.Protocol != "" || g.Members[0].MemberAssignment != nil {
		t.Fatalf("rebalancing group shows protocol or assignments: %+v", g)
	}
}

func TestListGroups(t *testing.T) {
	h := newHarness(t, Config{})
	h.stableGroup("b", 1)
	h.commit("a", -1, "", "t", 0, 1)
	list := func(states ...string) []string {
		r := kmsg.NewPtrListGroupsRequest()
		r.Version, r.StatesFilter = 5, states
		var got []string
		for _, g := range h.reply(h.do("c", r)).(*kmsg.ListGroupsResponse).Groups {
			got = append(got, g.Group+":"+g.GroupState+":"+g.ProtocolType+":"+g.GroupType)
		}
		return got
	}
	if got, want := list(), []string{"a:Empty::classic", "b:Stable:consumer:classic"}; !slices.Equal(got, want) {
		t.Fatalf("all: %v, want %v", got, want)
	}
	if got, want := list("stable"), []string{"b:Stable:consumer:classic"}; !slices.Equal(got, want) {
		t.Fatalf("stable: %v, want %v", got, want)
	}
}

// Requests the coordinator does not serve, and versions beyond MaxVersion,
// are left to the server.
func TestHandleUnsupported(t *testing.T) {
	c, _ := New(Config{})
	for _, req := range []kmsg.Request{
		kmsg.NewPtrProduceRequest(),
		&kmsg.OffsetCommitRequest{Version: 9},
		&kmsg.JoinGroupRequest{Version: 10},
		&kmsg.OffsetFetchRequest{Version: -1},
	} {
		if _, err := c.Handle(Request{Token: 1, Msg: req}); !errors.Is(err, ErrUnsupported) {
			t.Fatalf("%T v%d: %v, want ErrUnsupported", req, req.GetVersion(), err)
		}
	}
	if max, ok := MaxVersion(kmsg.JoinGroup.Int16()); !ok || max != 9 {
		t.Fatalf("MaxVersion(JoinGroup) = %d, %v", max, ok)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, cfg := range []Config{
		{MinSessionTimeout: 10, MaxSessionTimeout: 5},
		{InitialRebalanceDelay: -1},
		{MaxGroupSize: -1},
	} {
		if _, err := New(cfg); err == nil {
			t.Fatalf("New(%+v) accepted", cfg)
		}
	}
}
