package group

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Heartbeat, versions 0-4.
//
// A heartbeat from a member of the current generation keeps its session
// alive. While the group prepares a rebalance the answer is
// REBALANCE_IN_PROGRESS, telling the member to rejoin; during
// CompletingRebalance (the member has its join response and is about to
// sync) and Stable it is NONE. An unknown member gets UNKNOWN_MEMBER_ID and
// a member of another generation ILLEGAL_GENERATION.

// heartbeat handles a Heartbeat.
func (c *Coordinator) heartbeat(tok Token, req *kmsg.HeartbeatRequest) {
	resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
	defer c.reply(tok, resp)
	if req.Group == "" {
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return
	}
	g := c.group(req.Group)
	if resp.ErrorCode = g.validMember(req.MemberID, req.InstanceID, req.Generation); resp.ErrorCode != 0 {
		return
	}
	g.byID[req.MemberID].lastHeard = c.now
	if g.state == statePreparingRebalance {
		resp.ErrorCode = kerr.RebalanceInProgress.Code
	}
}
