package group

import (
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Three members that all have their ids before joining form one
// generation; the leader (first to join) gets the member list in join
// order, followers get none, and everyone gets its assignment once the
// leader syncs.
func TestThreeMembersOneGeneration(t *testing.T) {
	h := newHarness(t, Config{})
	ids := []string{h.askID("c1", "g"), h.askID("c2", "g"), h.askID("c3", "g")}
	if h.state("g") != "Empty" {
		t.Fatalf("after MEMBER_ID_REQUIRED: state %s, want Empty", h.state("g"))
	}
	var joins []Token
	for i, id := range ids {
		joins = append(joins, h.join("g", id))
		if i < 2 && h.answered(joins[i]) {
			t.Fatalf("join %d answered before every member joined", i)
		}
	}
	for i, tok := range joins {
		resp := h.joinResp(tok)
		if resp.ErrorCode != 0 || resp.Generation != 1 || resp.LeaderID != ids[0] || resp.MemberID != ids[i] ||
			*resp.Protocol != "range" || *resp.ProtocolType != "consumer" {
			t.Fatalf("join %d: %+v", i, resp)
		}
		var got []string
		for _, m := range resp.Members {
			got = append(got, m.MemberID+"="+string(m.ProtocolMetadata))
		}
		var want []string
		if i == 0 {
			want = []string{ids[0] + "=meta-" + ids[0], ids[1] + "=meta-" + ids[1], ids[2] + "=meta-" + ids[2]}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("join %d members %v, want %v", i, got, want)
		}
	}
	if h.state("g") != "CompletingRebalance" {
		t.Fatalf("state %s, want CompletingRebalance", h.state("g"))
	}

	s2 := h.sync("g", 1, ids[1], nil)
	s3 := h.sync("g", 1, ids[2], nil)
	if h.answered(s2) || h.answered(s3) {
		t.Fatal("followers answered before the leader synced")
	}
	s1 := h.sync("g", 1, ids[0], map[string]string{ids[0]: "p0", ids[1]: "p1", ids[2]: "p2"})
	for i, tok := range []Token{s1, s2, s3} {
		resp := h.syncResp(tok)
		if want := []byte{'p', byte('0' + i)}; resp.ErrorCode != 0 || string(resp.MemberAssignment) != string(want) {
			t.Fatalf("sync %d: error %s assignment %q, want %q", i, errName(resp.ErrorCode), resp.MemberAssignment, want)
		}
	}
	if h.state("g") != "Stable" {
		t.Fatalf("state %s, want Stable", h.state("g"))
	}
}

// With an initial rebalance delay, members that join one after another
// still form one generation: the delay is extended while members keep
// arriving.
func TestInitialDelayGathersMembers(t *testing.T) {
	h := newHarness(t, Config{InitialRebalanceDelay: 3 * time.Second})
	var joins []Token
	for range 3 {
		joins = append(joins, h.join("g", h.askID("c", "g")))
	}
	h.advance(3 * time.Second) // members arrived during the delay: extend
	for _, tok := range joins {
		if h.answered(tok) {
			t.Fatal("answered during the initial delay")
		}
	}
	h.advance(3 * time.Second)
	for i, tok := range joins {
		if resp := h.joinResp(tok); resp.ErrorCode != 0 || resp.Generation != 1 {
			t.Fatalf("join %d: error %s generation %d", i, errName(resp.ErrorCode), resp.Generation)
		}
	}
}

// Without an initial delay, a member that joins alone gets its own
// generation at once; the next member's join starts another rebalance.
func TestNoDelaySoloJoin(t *testing.T) {
	h := newHarness(t, Config{})
	m1 := h.askID("c1", "g")
	j1 := h.join("g", m1)
	if resp := h.joinResp(j1); resp.Generation != 1 || resp.LeaderID != m1 {
		t.Fatalf("solo join: %+v", resp)
	}
	m2 := h.askID("c2", "g")
	j2 := h.join("g", m2)
	if h.answered(j2) || h.state("g") != "PreparingRebalance" {
		t.Fatalf("second member: answered %v, state %s; want waiting in PreparingRebalance", h.answered(j2), h.state("g"))
	}
	if e := h.heartbeat("g", 1, m1); e != kerr.RebalanceInProgress.Code {
		t.Fatalf("leader heartbeat: %s, want REBALANCE_IN_PROGRESS", errName(e))
	}
	j1 = h.join("g", m1)
	for _, tok := range []Token{j1, j2} {
		if resp := h.joinResp(tok); resp.Generation != 2 || resp.LeaderID != m1 {
			t.Fatalf("rejoin: %+v", resp)
		}
	}
}

// JoinGroup v0-v3 have no MEMBER_ID_REQUIRED round trip: the first join
// waits for the rebalance and carries the new member id.
func TestJoinOldVersionsAssignIDAtOnce(t *testing.T) {
	for _, v := range []int16{0, 1, 2, 3} {
		h := newHarness(t, Config{})
		resp := h.joinResp(h.do("kafka-go", joinReq(v, "g", "")))
		if resp.ErrorCode != 0 || resp.MemberID == "" || resp.LeaderID != resp.MemberID || resp.Version != v {
			t.Fatalf("v%d: %+v", v, resp)
		}
	}
}

// A follower rejoining a Stable group with unchanged metadata is answered
// at once with the current generation; the leader rejoining, or any member
// with new metadata, starts a rebalance.
func TestRejoinStable(t *testing.T) {
	h := newHarness(t, Config{})
	ids, gen := h.stableGroup("g", 2)
	if resp := h.joinResp(h.join("g", ids[1])); resp.Generation != gen || len(resp.Members) != 0 {
		t.Fatalf("follower rejoin: %+v", resp)
	}
	if h.state("g") != "Stable" {
		t.Fatalf("state %s after follower rejoin, want Stable", h.state("g"))
	}
	changed := joinReq(5, "g", ids[1])
	changed.Protocols[0].Metadata = []byte("new")
	if h.answered(h.do("client", changed)) || h.state("g") != "PreparingRebalance" {
		t.Fatal("rejoin with new metadata did not start a rebalance")
	}
}

func TestJoinErrors(t *testing.T) {
	base := func() *kmsg.JoinGroupRequest { return joinReq(5, "g", "") }
	tests := []struct {
		name   string
		mutate func(*kmsg.JoinGroupRequest)
		want   int16
	}{
		{"empty group id", func(r *kmsg.JoinGroupRequest) { r.Group = "" }, kerr.InvalidGroupID.Code},
		{"session too short", func(r *kmsg.JoinGroupRequest) { r.SessionTimeoutMillis = 5999 }, kerr.InvalidSessionTimeout.Code},
		{"session too long", func(r *kmsg.JoinGroupRequest) { r.SessionTimeoutMillis = 1800001 }, kerr.InvalidSessionTimeout.Code},
		{"unknown member of unknown group", func(r *kmsg.JoinGroupRequest) { r.MemberID = "nobody" }, kerr.UnknownMemberID.Code},
		{"no protocol type", func(r *kmsg.JoinGroupRequest) { r.ProtocolType = "" }, kerr.InconsistentGroupProtocol.Code},
		{"no protocols", func(r *kmsg.JoinGroupRequest) { r.Protocols = nil }, kerr.InconsistentGroupProtocol.Code},
		{"first join v5", func(*kmsg.JoinGroupRequest) {}, kerr.MemberIDRequired.Code},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			r := base()
			tt.mutate(r)
			if got := h.joinResp(h.do("c", r)).ErrorCode; got != tt.want {
				t.Fatalf("got %s, want %s", errName(got), errName(tt.want))
			}
			if tt.want != kerr.MemberIDRequired.Code && h.state("g") != "Dead" {
				t.Fatalf("a failed join left group state %s", h.state("g"))
			}
		})
	}
}

// A member must speak the group's protocol type and share a protocol with
// every current member.
func TestJoinInconsistentProtocol(t *testing.T) {
	h := newHarness(t, Config{})
	h.stableGroup("g", 1)
	otherType := joinReq(3, "g", "")
	otherType.ProtocolType = "connect"
	otherProto := joinReq(3, "g", "")
	otherProto.Protocols[0].Name = "sticky"
	for _, r := range []*kmsg.JoinGroupRequest{otherType, otherProto} {
		if got := h.joinResp(h.do("c", r)).ErrorCode; got != kerr.InconsistentGroupProtocol.Code {
			t.Fatalf("got %s, want INCONSISTENT_GROUP_PROTOCOL", errName(got))
		}
	}
}

// The protocol is the one with most first-choice votes among those every
// member supports; ties go to the leader's order.
func TestProtocolSelection(t *testing.T) {
	tests := []struct {
		name    string
		members [][]string // protocols by preference, the first member leads
		want    string
	}{
		{"same lists", [][]string{{"a", "b"}, {"a", "b"}}, "a"},
		{"majority wins", [][]string{{"a", "b"}, {"b", "a"}, {"b", "a"}}, "b"},
		{"tie goes to the leader", [][]string{{"b", "a"}, {"a", "b"}}, "b"},
		{"only common protocol", [][]string{{"a", "c"}, {"b", "c"}}, "c"},
		{"vote for first common", [][]string{{"x", "a", "b"}, {"b", "a"}}, "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			var ids []string
			for range tt.members {
				ids = append(ids, h.askID("c", "g"))
			}
			var toks []Token
			for i, ps := range tt.members {
				r := joinReq(5, "g", ids[i])
				r.Protocols = nil
				for _, p := range ps {
					r.Protocols = append(r.Protocols, kmsg.JoinGroupRequestProtocol{Name: p, Metadata: []byte(p)})
				}
				toks = append(toks, h.do("c", r))
			}
			resp := h.joinResp(toks[0])
			if *resp.Protocol != tt.want {
				t.Fatalf("protocol %q, want %q", *resp.Protocol, tt.want)
			}
			for _, m := range resp.Members {
				if string(m.ProtocolMetadata) != tt.want {
					t.Fatalf("member %s metadata %q, want the %q protocol's", m.MemberID, m.ProtocolMetadata, tt.want)
				}
			}
		})
	}
}

// A group keeps at most MaxGroupSize members (counting ids handed out).
func TestMaxGroupSize(t *testing.T) {
	h := newHarness(t, Config{MaxGroupSize: 2})
	h.askID("c", "g")
	h.askID("c", "g")
	if got := h.joinResp(h.do("c", joinReq(5, "g", ""))).ErrorCode; got != kerr.GroupMaxSizeReached.Code {
		t.Fatalf("third member: %s, want GROUP_MAX_SIZE_REACHED", errName(got))
	}
}

// A member id handed out with MEMBER_ID_REQUIRED and never used is forgotten
// after the session timeout, and stops holding up the rebalance.
func TestPendingMemberExpires(t *testing.T) {
	h := newHarness(t, Config{})
	m1 := h.askID("c", "g")
	ghost := h.askID("c", "g")
	j1 := h.join("g", m1)
	if h.answered(j1) {
		t.Fatal("join completed while a member id was unclaimed")
	}
	h.advance(session)
	if resp := h.joinResp(j1); resp.ErrorCode != 0 || len(resp.Members) != 1 {
		t.Fatalf("join after the pending member expired: %+v", resp)
	}
	if got := h.joinResp(h.join("g", ghost)).ErrorCode; got != kerr.UnknownMemberID.Code {
		t.Fatalf("expired id rejoins: %s, want UNKNOWN_MEMBER_ID", errName(got))
	}
}

// Static membership: a JoinGroup with a known instance id and no member id
// replaces the old member, which is fenced from then on.
func TestStaticMemberReplaced(t *testing.T) {
	h := newHarness(t, Config{})
	inst := kmsg.StringPtr("i1")
	r := joinReq(5, "g", "")
	r.InstanceID = inst
	old := h.joinResp(h.do("c", r)) // static members skip MEMBER_ID_REQUIRED
	if old.ErrorCode != 0 || old.MemberID == "" {
		t.Fatalf("static join: %+v", old)
	}
	r = joinReq(5, "g", "")
	r.InstanceID = inst
	replacement := h.joinResp(h.do("c", r))
	if replacement.ErrorCode != 0 || replacement.MemberID == old.MemberID || replacement.Generation != old.Generation+1 {
		t.Fatalf("replacement join: %+v", replacement)
	}
	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Version, hb.Group, hb.Generation, hb.MemberID, hb.InstanceID = 4, "g", replacement.Generation, old.MemberID, inst
	if got := h.reply(h.do("c", hb)).(*kmsg.HeartbeatResponse).ErrorCode; got != kerr.FencedInstanceID.Code {
		t.Fatalf("old member heartbeat: %s, want FENCED_INSTANCE_ID", errName(got))
	}
	lv := kmsg.NewPtrLeaveGroupRequest()
	lv.Version, lv.Group = 5, "g"
	lv.Members = []kmsg.LeaveGroupRequestMember{{InstanceID: inst}}
	if resp := h.reply(h.do("c", lv)).(*kmsg.LeaveGroupResponse); resp.Members[0].ErrorCode != 0 {
		t.Fatalf("leave by instance id: %s", errName(resp.Members[0].ErrorCode))
	}
	if h.state("g") != "Dead" {
		t.Fatalf("state %s after the only member left, want Dead (forgotten)", h.state("g"))
	}
}

// A second JoinGroup from a member already waiting supersedes the first,
// which is answered at once so that no token is left hanging.
func TestJoinSuperseded(t *testing.T) {
	h := newHarness(t, Config{})
	m1, m2 := h.askID("c", "g"), h.askID("c", "g")
	first := h.join("g", m1)
	second := h.join("g", m1)
	if got := h.joinResp(first).ErrorCode; got != kerr.RebalanceInProgress.Code {
		t.Fatalf("superseded join: %s", errName(got))
	}
	h.join("g", m2)
	if resp := h.joinResp(second); resp.ErrorCode != 0 || resp.Generation != 1 {
		t.Fatalf("second join: %+v", resp)
	}
}
