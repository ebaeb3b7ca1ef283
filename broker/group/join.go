package group

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// JoinGroup, versions 0-9.
//
// A member without a member id gets one. From v4 on it first gets
// MEMBER_ID_REQUIRED with that id, and must join again with it (a static
// member, with an instance id, skips that round trip). A joining member
// waits: its reply comes when the rebalance completes, which is when every
// member has joined or the longest rebalance timeout of the members has
// passed. Members that have not rejoined by then are removed. v0 has no
// rebalance timeout; the session timeout stands in.
//
// A known member rejoining a group that is not rebalancing starts a
// rebalance if it is the leader or its protocols changed; otherwise it is
// answered at once with the current generation.

// joinGroup handles a JoinGroup.
func (c *Coordinator) joinGroup(r Request, req *kmsg.JoinGroupRequest) {
	w := waiter{tok: r.Token, version: req.Version}
	session := ms(req.SessionTimeoutMillis)
	g := c.group(req.Group)
	switch {
	case req.Group == "":
		c.joinError(w, req.MemberID, kerr.InvalidGroupID.Code)
		return
	case session < c.cfg.MinSessionTimeout || session > c.cfg.MaxSessionTimeout:
		c.joinError(w, req.MemberID, kerr.InvalidSessionTimeout.Code)
		return
	case g == nil && req.MemberID != "":
		c.joinError(w, req.MemberID, kerr.UnknownMemberID.Code)
		return
	case !g.acceptsProtocols(req.MemberID, req.ProtocolType, req.Protocols):
		c.joinError(w, req.MemberID, kerr.InconsistentGroupProtocol.Code)
		return
	}
	g = c.getOrCreate(req.Group)
	if req.MemberID == "" {
		c.joinNew(g, r, req, w)
	} else {
		c.joinKnown(g, r, req, w)
	}
}

// joinNew handles a JoinGroup without a member id.
func (c *Coordinator) joinNew(g *group, r Request, req *kmsg.JoinGroupRequest, w waiter) {
	if c.cfg.MaxGroupSize > 0 && len(g.members)+len(g.pending) >= c.cfg.MaxGroupSize {
		c.joinError(w, "", kerr.GroupMaxSizeReached.Code)
		c.maybeForget(g)
		return
	}
	id := c.newMemberID(r.ClientID)
	if req.InstanceID != nil {
		if old, ok := g.instanceOwner(*req.InstanceID); ok {
			c.removeMember(g, g.byID[old], kerr.FencedInstanceID.Code)
		}
	} else if req.Version >= 4 {
		g.pending = append(g.pending, pendingMember{id: id, expires: c.now + ms(req.SessionTimeoutMillis)})
		c.joinError(w, id, kerr.MemberIDRequired.Code)
		return
	}
	c.addMember(g, newMember(id, r, req), &w)
}

// joinKnown handles a JoinGroup from a member id the coordinator handed out.
func (c *Coordinator) joinKnown(g *group, r Request, req *kmsg.JoinGroupRequest, w waiter) {
	if i := g.pendingIndex(req.MemberID); i >= 0 {
		g.pending = slices.Delete(g.pending, i, i+1)
		c.addMember(g, newMember(req.MemberID, r, req), &w)
		return
	}
	m := g.byID[req.MemberID]
	if m == nil {
		c.joinError(w, req.MemberID, kerr.UnknownMemberID.Code)
		return
	}
	if code := g.fenced(req.InstanceID, m.id); code != 0 {
		c.joinError(w, m.id, code)
		return
	}
	switch g.state {
	case stateCompletingRebalance:
		if m.sameProtocols(req.Protocols) {
			m.lastHeard = c.now
			c.reply(w.tok, g.joinResponse(w.version, m.id))
			return
		}
	case stateStable:
		if m.id != g.leader && m.sameProtocols(req.Protocols) {
			m.lastHeard = c.now
			c.reply(w.tok, g.joinResponse(w.version, m.id))
			return
		}
	}
	c.rejoin(g, m, req, &w)
}
