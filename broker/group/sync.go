package group

import (
	"bytes"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// SyncGroup, versions 0-5.
//
// After the join, every member sends SyncGroup; the leader's carries the
// assignment. Followers that sync first wait; when the leader syncs the
// group becomes Stable and every waiting member gets its assignment (a
// member the leader left out gets an empty one). A member that syncs later
// in the same generation is answered at once. Members that have not synced
// within the rebalance timeout after the join are removed and the group
// rebalances. Assignments are opaque bytes, passed through unchanged.

// syncGroup handles a SyncGroup.
func (c *Coordinator) syncGroup(tok Token, req *kmsg.SyncGroupRequest) {
	w := waiter{tok: tok, version: req.Version}
	if req.Group == "" {
		c.syncError(w, kerr.InvalidGroupID.Code)
		return
	}
	g := c.group(req.Group)
	if code := g.validMember(req.MemberID, req.InstanceID, req.Generation); code != 0 {
		c.syncError(w, code)
		return
	}
	if (req.ProtocolType != nil && *req.ProtocolType != g.protocolType) ||
		(req.Protocol != nil && *req.Protocol != g.protocol) {
		c.syncError(w, kerr.InconsistentGroupProtocol.Code)
		return
	}
	m := g.byID[req.MemberID]
	switch g.state {
	case statePreparingRebalance:
		c.syncError(w, kerr.RebalanceInProgress.Code)
	case stateCompletingRebalance:
		if m.syncing != nil { // superseded: the client has given up on it
			c.syncError(*m.syncing, kerr.RebalanceInProgress.Code)
		}
		m.syncing = &w
		delete(g.pendingSync, m.id)
		if m.id == g.leader {
			c.completeSync(g, req.GroupAssignment)
		}
	case stateStable:
		delete(g.pendingSync, m.id)
		m.lastHeard = c.now
		c.reply(tok, g.syncResponse(w.version, m))
	default:
		c.syncError(w, kerr.UnknownMemberID.Code)
	}
}

// completeSync stores the leader's assignment, makes the group Stable and
// answers every member waiting in SyncGroup.
func (c *Coordinator) completeSync(g *group, assignments []kmsg.SyncGroupRequestGroupAssignment) {
	for _, m := range g.members {
		m.assigned = []byte{}
	}
	for _, a := range assignments {
		if m := g.byID[a.MemberID]; m != nil {
			m.assigned = bytes.Clone(a.MemberAssignment)
		}
	}
	g.state = stateStable
	for _, m := range g.members {
		if m.syncing != nil {
			w := *m.syncing
			m.syncing = nil
			m.lastHeard = c.now
			c.reply(w.tok, g.syncResponse(w.version, m))
		}
	}
}

// syncResponse is a successful SyncGroup answer.
func (g *group) syncResponse(version int16, m *member) *kmsg.SyncGroupResponse {
	resp := kmsg.NewPtrSyncGroupResponse()
	resp.Version = version
	resp.ProtocolType = kmsg.StringPtr(g.protocolType)
	resp.Protocol = kmsg.StringPtr(g.protocol)
	resp.MemberAssignment = bytes.Clone(m.assigned)
	return resp
}
