package group

import (
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// memberIDs lists the members in a leader's join response.
func memberIDs(resp *kmsg.JoinGroupResponse) []string {
	var ids []string
	for _, m := range resp.Members {
		ids = append(ids, m.MemberID)
	}
	return ids
}

// One member leaves: the group rebalances, the other two are told so by
// their heartbeats, rejoin, and form the next generation.
func TestLeaveRebalances(t *testing.T) {
	h := newHarness(t, Config{})
	ids, gen := h.stableGroup("g", 3)
	if resp := h.leave("g", ids[2]); resp.ErrorCode != 0 || resp.Members[0].ErrorCode != 0 {
		t.Fatalf("leave: %+v", resp)
	}
	if h.state("g") != "PreparingRebalance" {
		t.Fatalf("state %s, want PreparingRebalance", h.state("g"))
	}
	for _, id := range ids[:2] {
		if e := h.heartbeat("g", gen, id); e != kerr.RebalanceInProgress.Code {
			t.Fatalf("heartbeat: %s, want REBALANCE_IN_PROGRESS", errName(e))
		}
	}
	j0, j1 := h.join("g", ids[0]), h.join("g", ids[1])
	leader := h.joinResp(j0)
	if leader.Generation != gen+1 || !slices.Equal(memberIDs(leader), ids[:2]) {
		t.Fatalf("leader join: generation %d members %v", leader.Generation, memberIDs(leader))
	}
	if f := h.joinResp(j1); f.Generation != gen+1 || f.LeaderID != ids[0] {
		t.Fatalf("follower join: %+v", f)
	}
	if e := h.heartbeat("g", gen+1, ids[2]); e != kerr.UnknownMemberID.Code {
		t.Fatalf("departed member heartbeat: %s, want UNKNOWN_MEMBER_ID", errName(e))
	}
}

// The leader leaving hands leadership to the next member.
func TestLeaderLeaves(t *testing.T) {
	h := newHarness(t, Config{})
	ids, _ := h.stableGroup("g", 3)
	h.leave("g", ids[0])
	j1, j2 := h.join("g", ids[1]), h.join("g", ids[2])
	if resp := h.joinResp(j2); resp.LeaderID != ids[1] {
		t.Fatalf("leader %s, want %s", resp.LeaderID, ids[1])
	}
	if got := memberIDs(h.joinResp(j1)); !slices.Equal(got, ids[1:]) {
		t.Fatalf("members %v, want %v", got, ids[1:])
	}
}

// LeaveGroup v0-v2 name one member and answer at the top level; v3+ answer
// per member of a batch.
func TestLeaveVersions(t *testing.T) {
	h := newHarness(t, Config{})
	ids, _ := h.stableGroup("g", 3)

	v0 := kmsg.NewPtrLeaveGroupRequest()
	v0.Group, v0.MemberID = "g", "nobody"
	if resp := h.reply(h.do("c", v0)).(*kmsg.LeaveGroupResponse); resp.ErrorCode != kerr.UnknownMemberID.Code || resp.Members != nil {
		t.Fatalf("v0 unknown member: %+v", resp)
	}
	v0.MemberID = ids[2]
	if resp := h.reply(h.do("c", v0)).(*kmsg.LeaveGroupResponse); resp.ErrorCode != 0 {
		t.Fatalf("v0 leave: %s", errName(resp.ErrorCode))
	}

	resp := h.leave("g", ids[0], "nobody", ids[1])
	var got []int16
	for _, m := range resp.Members {
		got = append(got, m.ErrorCode)
	}
	if want := []int16{0, kerr.UnknownMemberID.Code, 0}; resp.ErrorCode != 0 || !slices.Equal(got, want) {
		t.Fatalf("batch leave: top %s, members %v, want %v", errName(resp.ErrorCode), got, want)
	}
	if h.state("g") != "Dead" {
		t.Fatalf("state %s after everyone left, want Dead (forgotten)", h.state("g"))
	}
	if resp := h.leave("nogroup", "x"); resp.ErrorCode != 0 || resp.Members[0].ErrorCode != kerr.UnknownMemberID.Code {
		t.Fatalf("unknown group: %+v", resp)
	}
}

// A member that leaves while waiting in JoinGroup gets UNKNOWN_MEMBER_ID
// there; the others complete without it.
func TestLeaveWhileJoining(t *testing.T) {
	h := newHarness(t, Config{})
	m1, m2, m3 := h.askID("c", "g"), h.askID("c", "g"), h.askID("c", "g")
	j1, j2 := h.join("g", m1), h.join("g", m2)
	h.leave("g", m2)
	if got := h.joinResp(j2).ErrorCode; got != kerr.UnknownMemberID.Code {
		t.Fatalf("left member's join: %s", errName(got))
	}
	h.leave("g", m3) // still pending: leaving releases the rebalance
	if resp := h.joinResp(j1); resp.ErrorCode != 0 || !slices.Equal(memberIDs(resp), []string{m1}) {
		t.Fatalf("remaining join: %+v", resp)
	}
}

// A member that stops heartbeating is removed after its session timeout and
// the group rebalances without it.
func TestSessionExpiry(t *testing.T) {
	h := newHarness(t, Config{})
	ids, gen := h.stableGroup("g", 3)
	for range 3 { // 9 s: everyone alive, ids[2] silent
		h.advance(3 * time.Second)
		for _, id := range ids[:2] {
			if e := h.heartbeat("g", gen, id); e != 0 {
				t.Fatalf("heartbeat at %v: %s", h.now, errName(e))
			}
		}
	}
	if h.state("g") != "Stable" {
		t.Fatalf("state %s before the session timeout, want Stable", h.state("g"))
	}
	h.advance(time.Second) // 10 s since ids[2] was last heard
	if h.state("g") != "PreparingRebalance" {
		t.Fatalf("state %s after the session timeout, want PreparingRebalance", h.state("g"))
	}
	if e := h.heartbeat("g", gen, ids[2]); e != kerr.UnknownMemberID.Code {
		t.Fatalf("expired member: %s, want UNKNOWN_MEMBER_ID", errName(e))
	}
	if e := h.heartbeat("g", gen, ids[0]); e != kerr.RebalanceInProgress.Code {
		t.Fatalf("live member: %s, want REBALANCE_IN_PROGRESS", errName(e))
	}
	j0, _ := h.join("g", ids[0]), h.join("g", ids[1])
	if resp := h.joinResp(j0); resp.Generation != gen+1 || !slices.Equal(memberIDs(resp), ids[:2]) {
		t.Fatalf("rejoin: generation %d members %v", resp.Generation, memberIDs(resp))
	}
}

// A member that keeps heartbeating but does not rejoin within the rebalance
// timeout is removed; the others complete the rebalance.
func TestRebalanceTimeoutRemovesLaggard(t *testing.T) {
	h := newHarness(t, Config{})
	ids, gen := h.stableGroup("g", 3)
	j0 := h.join("g", ids[0]) // the leader rejoins: rebalance
	j1 := h.join("g", ids[1])
	for range 5 { // 25 s: ids[2] heartbeats (and ignores REBALANCE_IN_PROGRESS)
		h.advance(5 * time.Second)
		if e := h.heartbeat("g", gen, ids[2]); e != kerr.RebalanceInProgress.Code {
			t.Fatalf("laggard heartbeat: %s", errName(e))
		}
	}
	if h.answered(j0) {
		t.Fatal("rebalance completed before its timeout")
	}
	h.advance(5 * time.Second) // 30 s: the rebalance timeout
	if resp := h.joinResp(j0); resp.Generation != gen+1 || !slices.Equal(memberIDs(resp), ids[:2]) {
		t.Fatalf("leader: generation %d members %v", resp.Generation, memberIDs(resp))
	}
	if h.joinResp(j1).ErrorCode != 0 {
		t.Fatal("follower join failed")
	}
	if e := h.heartbeat("g", gen, ids[2]); e != kerr.UnknownMemberID.Code {
		t.Fatalf("removed laggard: %s, want UNKNOWN_MEMBER_ID", errName(e))
	}
}

// A leader that heartbeats but never syncs is removed after the rebalance
// timeout; the followers waiting in SyncGroup are told to rejoin.
func TestLeaderNeverSyncs(t *testing.T) {
	h := newHarness(t, Config{})
	m1, m2 := h.askID("c", "g"), h.askID("c", "g")
	h.join("g", m1)
	gen := h.joinResp(h.join("g", m2)).Generation
	s2 := h.sync("g", gen, m2, nil)
	for range 5 { // 25 s: the leader heartbeats but never syncs
		h.advance(5 * time.Second)
		h.heartbeat("g", gen, m1)
	}
	h.advance(4 * time.Second)
	if h.answered(s2) {
		t.Fatal("follower sync answered without the leader")
	}
	h.advance(time.Second)
	if got := h.syncResp(s2).ErrorCode; got != kerr.RebalanceInProgress.Code {
		t.Fatalf("follower sync: %s, want REBALANCE_IN_PROGRESS", errName(got))
	}
	if e := h.heartbeat("g", gen, m1); e != kerr.UnknownMemberID.Code {
		t.Fatalf("leader: %s, want UNKNOWN_MEMBER_ID", errName(e))
	}
}

// A follower that never syncs in a Stable group is removed after the
// rebalance timeout, and the group rebalances.
func TestFollowerNeverSyncs(t *testing.T) {
	h := newHarness(t, Config{})
	m1, m2 := h.askID("c", "g"), h.askID("c", "g")
	h.join("g", m1)
	gen := h.joinResp(h.join("g", m2)).Generation
	h.sync("g", gen, m1, map[string]string{m1: "a", m2: "b"})
	for range 6 { // heartbeats keep both sessions alive; m2 never syncs
		h.advance(5 * time.Second)
		h.heartbeat("g", gen, m1)
		h.heartbeat("g", gen, m2)
	}
	if h.state("g") != "PreparingRebalance" {
		t.Fatalf("state %s, want PreparingRebalance", h.state("g"))
	}
	if e := h.heartbeat("g", gen, m2); e != kerr.UnknownMemberID.Code {
		t.Fatalf("unsynced follower: %s, want UNKNOWN_MEMBER_ID", errName(e))
	}
}

// A new member joining while the group completes a rebalance restarts it:
// members waiting in SyncGroup are told REBALANCE_IN_PROGRESS.
func TestJoinDuringCompletingRebalance(t *testing.T) {
	h := newHarness(t, Config{})
	m1, m2 := h.askID("c", "g"), h.askID("c", "g")
	h.join("g", m1)
	gen := h.joinResp(h.join("g", m2)).Generation
	s2 := h.sync("g", gen, m2, nil)
	h.join("g", h.askID("c", "g"))
	if got := h.syncResp(s2).ErrorCode; got != kerr.RebalanceInProgress.Code {
		t.Fatalf("waiting sync: %s, want REBALANCE_IN_PROGRESS", errName(got))
	}
}

func TestHeartbeat(t *testing.T) {
	h := newHarness(t, Config{})
	ids, gen := h.stableGroup("g", 2)
	m3 := h.askID("c", "completing")
	cgen := h.joinResp(h.join("completing", m3)).Generation

	tests := []struct {
		name   string
		group  string
		gen    int32
		member string
		setup  func()
		want   int16
	}{
		{"stable", "g", gen, ids[1], nil, 0},
		{"completing rebalance", "completing", cgen, m3, nil, 0},
		{"wrong generation", "g", gen + 1, ids[1], nil, kerr.IllegalGeneration.Code},
		{"older generation", "g", gen - 1, ids[1], nil, kerr.IllegalGeneration.Code},
		{"unknown member", "g", gen, "nobody", nil, kerr.UnknownMemberID.Code},
		{"unknown group", "nogroup", 1, ids[0], nil, kerr.UnknownMemberID.Code},
		{"empty group id", "", gen, ids[0], nil, kerr.InvalidGroupID.Code},
		{"during rebalance", "g", gen, ids[1], func() { h.join("g", ids[0]) }, kerr.RebalanceInProgress.Code},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup()
			}
			if got := h.heartbeat(tt.group, tt.gen, tt.member); got != tt.want {
				t.Fatalf("got %s, want %s", errName(got), errName(tt.want))
			}
		})
	}
}

func TestSyncErrors(t *testing.T) {
	h := newHarness(t, Config{})
	ids, gen := h.stableGroup("g", 2)
	code := func(tok Token) int16 { return h.syncResp(tok).ErrorCode }
	if got := code(h.sync("g", gen, "nobody", nil)); got != kerr.UnknownMemberID.Code {
		t.Fatalf("unknown member: %s", errName(got))
	}
	if got := code(h.sync("g", gen+1, ids[1], nil)); got != kerr.IllegalGeneration.Code {
		t.Fatalf("wrong generation: %s", errName(got))
	}
	r := kmsg.NewPtrSyncGroupRequest()
	r.Version, r.Group, r.Generation, r.MemberID, r.Protocol = 5, "g", gen, ids[1], kmsg.StringPtr("roundrobin")
	if got := code(h.do("c", r)); got != kerr.InconsistentGroupProtocol.Code {
		t.Fatalf("wrong protocol: %s", errName(got))
	}
	// A late sync in a Stable group gets the assignment at once.
	if resp := h.syncResp(h.sync("g", gen, ids[1], nil)); resp.ErrorCode != 0 || string(resp.MemberAssignment) != "a-"+ids[1] {
		t.Fatalf("late sync: %+v", resp)
	}
	h.join("g", ids[0])
	if got := code(h.sync("g", gen, ids[1], nil)); got != kerr.RebalanceInProgress.Code {
		t.Fatalf("sync during rebalance: %s", errName(got))
	}
}
