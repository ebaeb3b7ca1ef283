package group

import (
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Timeouts, fired by Tick, in this order for each group (groups in name
// order):
//
//  1. a member id handed out with MEMBER_ID_REQUIRED that is not claimed
//     within the session timeout is forgotten;
//  2. a member not heard from (JoinGroup, SyncGroup, Heartbeat,
//     OffsetCommit, or a reply sent to it) within its session timeout is
//     removed, unless it is waiting in JoinGroup or SyncGroup (those waits
//     have their own bounds), and the group rebalances;
//  3. a rebalance whose deadline (the longest rebalance timeout of the
//     members, or the initial delay) has passed completes with the members
//     that have rejoined;
//  4. members that got their join response but have not sent SyncGroup
//     within the rebalance timeout are removed, and the group rebalances.

// expire fires the group's due timeouts.
func (c *Coordinator) expire(g *group) {
	for i := 0; i < len(g.pending); {
		if c.now >= g.pending[i].expires {
			c.dropPending(g, i)
			continue
		}
		i++
	}
	for _, m := range slices.Clone(g.members) {
		if g.byID[m.id] == m && m.joining == nil && m.syncing == nil && c.now >= m.lastHeard+m.session {
			c.removeMember(g, m, kerr.UnknownMemberID.Code)
			c.settle(g)
		}
	}
	c.maybeCompleteJoin(g)
	if (g.state == stateCompletingRebalance || g.state == stateStable) &&
		len(g.pendingSync) > 0 && c.now >= g.syncDeadline {
		for _, m := range slices.Clone(g.members) {
			if g.pendingSync[m.id] {
				c.removeMember(g, m, kerr.UnknownMemberID.Code)
			}
		}
		c.rebalance(g)
	}
}
