package group

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// LeaveGroup, versions 0-5.
//
// v0-v2 name one member (MemberID) and answer with a top-level error; v3+
// name a batch of members, each by member id or by instance id, and answer
// per member (the top-level error is then NONE unless the group id itself is
// invalid). A member that leaves is removed at once, its waiting JoinGroup or
// SyncGroup answered UNKNOWN_MEMBER_ID, and the group rebalances. A member
// id still waiting for its second JoinGroup (after MEMBER_ID_REQUIRED) may
// leave too.

// leaveGroup handles a LeaveGroup.
func (c *Coordinator) leaveGroup(tok Token, req *kmsg.LeaveGroupRequest) {
	resp := req.ResponseKind().(*kmsg.LeaveGroupResponse)
	defer c.reply(tok, resp)
	if req.Group == "" {
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return
	}
	leaving := req.Members
	if req.Version < 3 {
		leaving = []kmsg.LeaveGroupRequestMember{{MemberID: req.MemberID}}
	}
	g := c.group(req.Group)
	for _, lm := range leaving {
		rm := kmsg.NewLeaveGroupResponseMember()
		rm.MemberID, rm.InstanceID = lm.MemberID, lm.InstanceID
		rm.ErrorCode = c.leave(g, lm)
		resp.Members = append(resp.Members, rm)
	}
	if req.Version < 3 {
		resp.ErrorCode = resp.Members[0].ErrorCode
		resp.Members = nil
	}
}

// leave removes one member and answers with its error code.
func (c *Coordinator) leave(g *group, lm kmsg.LeaveGroupRequestMember) int16 {
	if g == nil {
		return kerr.UnknownMemberID.Code
	}
	id := lm.MemberID
	if lm.InstanceID != nil {
		owner, ok := g.instanceOwner(*lm.InstanceID)
		switch {
		case !ok:
			return kerr.UnknownMemberID.Code
		case id != "" && id != owner:
			return kerr.FencedInstanceID.Code
		}
		id = owner
	}
	if i := g.pendingIndex(id); i >= 0 {
		c.dropPending(g, i)
		return 0
	}
	m := g.byID[id]
	if m == nil {
		return kerr.UnknownMemberID.Code
	}
	c.removeMember(g, m, kerr.UnknownMemberID.Code)
	c.settle(g)
	return 0
}
