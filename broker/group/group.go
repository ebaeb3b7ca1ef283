package group

import (
	"bytes"
	"math"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// state is a classic group's state, named as Kafka names it.
type state int8

const (
	// stateEmpty: no members (there may be committed offsets and members
	// waiting for a member id).
	stateEmpty state = iota
	// statePreparingRebalance: waiting for the members to (re)join.
	statePreparingRebalance
	// stateCompletingRebalance: joins answered, waiting for the leader's
	// SyncGroup with the assignment.
	stateCompletingRebalance
	// stateStable: the leader has synced; members heartbeat.
	stateStable
	// stateDead: a group the coordinator does not know. Kafka's groups pass
	// through it on deletion; here it is only ever reported.
	stateDead
)

func (s state) String() string {
	switch s {
	case stateEmpty:
		return "Empty"
	case statePreparingRebalance:
		return "PreparingRebalance"
	case stateCompletingRebalance:
		return "CompletingRebalance"
	case stateStable:
		return "Stable"
	default:
		return "Dead"
	}
}

// group is one consumer group.
type group struct {
	name         string
	state        state
	generation   int32
	protocolType string // set by the first member of a member-less group
	protocol     string // chosen at each completed join; "" when Empty
	leader       string // member id; "" when there are no members

	members []*member          // in join order; the order is deterministic
	byID    map[string]*member // the same members by id
	pending []pendingMember    // given an id by MEMBER_ID_REQUIRED, not yet joined

	// PreparingRebalance: the join completes at joinDeadline, or earlier
	// once every member has joined (not during the initial delay).
	joinDeadline time.Duration
	initialDelay bool          // the join is in its initial delay
	memberAdded  bool          // a new member joined during this delay
	delayLeft    time.Duration // how much more the delay may be extended

	// CompletingRebalance and Stable: members that got their join response
	// but have not yet sent SyncGroup must do so by syncDeadline.
	pendingSync  map[string]bool
	syncDeadline time.Duration

	offsets map[string]map[int32]committed // topic -> partition
}

// member is one member of a group.
type member struct {
	id         string
	instanceID *string
	clientID   string
	clientHost string

	session      time.Duration
	rebalance    time.Duration
	protocolType string
	protocols    []kmsg.JoinGroupRequestProtocol // copied, in preference order

	lastHeard time.Duration // session expiry is lastHeard + session
	joining   *waiter       // a JoinGroup waiting for the rebalance to complete
	syncing   *waiter       // a SyncGroup waiting for the leader
	assigned  []byte        // this generation's assignment, once the leader synced
}

// waiter is a request whose reply is held back.
type waiter struct {
	tok     Token
	version int16
}

// pendingMember is a member id handed out with MEMBER_ID_REQUIRED.
type pendingMember struct {
	id      string
	expires time.Duration
}

func newGroup(name string) *group {
	return &group{name: name, byID: make(map[string]*member)}
}

// newMember builds a member from its JoinGroup.
func newMember(id string, r Request, req *kmsg.JoinGroupRequest) *member {
	m := &member{id: id, clientID: r.ClientID, clientHost: r.ClientHost}
	if req.InstanceID != nil {
		inst := *req.InstanceID
		m.instanceID = &inst
	}
	m.update(req)
	return m
}

// update takes the member's protocols and timeouts from a JoinGroup.
func (m *member) update(req *kmsg.JoinGroupRequest) {
	m.session = ms(req.SessionTimeoutMillis)
	m.rebalance = ms(req.RebalanceTimeoutMillis)
	if req.Version == 0 || m.rebalance <= 0 {
		m.rebalance = m.session // v0 has no rebalance timeout
	}
	m.protocolType = req.ProtocolType
	m.protocols = make([]kmsg.JoinGroupRequestProtocol, len(req.Protocols))
	for i, p := range req.Protocols {
		m.protocols[i] = kmsg.JoinGroupRequestProtocol{Name: p.Name, Metadata: bytes.Clone(p.Metadata)}
	}
}

// sameProtocols reports whether a JoinGroup repeats the member's protocols.
func (m *member) sameProtocols(ps []kmsg.JoinGroupRequestProtocol) bool {
	return slices.EqualFunc(m.protocols, ps, func(a, b kmsg.JoinGroupRequestProtocol) bool {
		return a.Name == b.Name && bytes.Equal(a.Metadata, b.Metadata)
	})
}

// supports reports whether m lists the protocol.
func (m *member) supports(name string) bool {
	return slices.ContainsFunc(m.protocols, func(p kmsg.JoinGroupRequestProtocol) bool { return p.Name == name })
}

// metadata returns m's metadata for the protocol.
func (m *member) metadata(name string) []byte {
	for _, p := range m.protocols {
		if p.Name == name {
			return p.Metadata
		}
	}
	return nil
}

// pendingIndex returns the index of a pending member id, or -1.
func (g *group) pendingIndex(id string) int {
	return slices.IndexFunc(g.pending, func(p pendingMember) bool { return p.id == id })
}

// instanceOwner returns the member id registered for a static instance id.
func (g *group) instanceOwner(inst string) (string, bool) {
	for _, m := range g.members {
		if m.instanceID != nil && *m.instanceID == inst {
			return m.id, true
		}
	}
	return "", false
}

// fenced checks a request's instance id against the member id it claims:
// UNKNOWN_MEMBER_ID if no member has the instance id, FENCED_INSTANCE_ID if
// another member id has it, 0 if it matches or is absent.
func (g *group) fenced(inst *string, memberID string) int16 {
	if inst == nil {
		return 0
	}
	owner, ok := g.instanceOwner(*inst)
	switch {
	case !ok:
		return kerr.UnknownMemberID.Code
	case owner != memberID:
		return kerr.FencedInstanceID.Code
	}
	return 0
}

// validMember checks a request that claims membership in the current
// generation: 0, or the error code to answer with.
func (g *group) validMember(memberID string, inst *string, generation int32) int16 {
	if g == nil || g.byID[memberID] == nil {
		if g != nil && inst != nil {
			if _, ok := g.instanceOwner(*inst); ok {
				return kerr.FencedInstanceID.Code
			}
		}
		return kerr.UnknownMemberID.Code
	}
	if code := g.fenced(inst, memberID); code != 0 {
		return code
	}
	if generation != g.generation {
		return kerr.IllegalGeneration.Code
	}
	return 0
}

// acceptsProtocols reports whether a member (new, or the existing memberID
// rejoining) may join with these protocols: the group's protocol type, and
// at least one protocol every other member supports. The first member of a
// member-less (or not yet existing, nil) group needs a protocol type and at
// least one protocol.
func (g *group) acceptsProtocols(memberID, protocolType string, ps []kmsg.JoinGroupRequestProtocol) bool {
	if protocolType == "" || len(ps) == 0 {
		return false
	}
	if g == nil {
		return true
	}
	others := 0
	for _, m := range g.members {
		if m.id != memberID {
			others++
		}
	}
	if others == 0 {
		return true
	}
	if protocolType != g.protocolType {
		return false
	}
	for _, p := range ps {
		if g.allSupport(p.Name, memberID) {
			return true
		}
	}
	return false
}

// allSupport reports whether every member other than except supports the
// protocol.
func (g *group) allSupport(name, except string) bool {
	for _, m := range g.members {
		if m.id != except && !m.supports(name) {
			return false
		}
	}
	return true
}

// selectProtocol picks the protocol for a generation, as Kafka does: every
// member votes for its most preferred protocol that all members support,
// and the most votes win; ties go to the leader's order.
func (g *group) selectProtocol() string {
	leader := g.byID[g.leader]
	var candidates []string
	for _, p := range leader.protocols {
		if g.allSupport(p.Name, "") && !slices.Contains(candidates, p.Name) {
			candidates = append(candidates, p.Name)
		}
	}
	if len(candidates) == 0 { // cannot happen: joins keep a common protocol
		return leader.protocols[0].Name
	}
	votes := make([]int, len(candidates))
	for _, m := range g.members {
		for _, p := range m.protocols {
			if i := slices.Index(candidates, p.Name); i >= 0 {
				votes[i]++
				break
			}
		}
	}
	best := 0
	for i, v := range votes {
		if v > votes[best] {
			best = i
		}
	}
	return candidates[best]
}

// maxRebalance is the longest rebalance timeout of the members.
func (g *group) maxRebalance() time.Duration {
	var d time.Duration
	for _, m := range g.members {
		d = max(d, m.rebalance)
	}
	return d
}

// allJoined reports whether every member is waiting in JoinGroup and no
// member id handed out is still unclaimed.
func (g *group) allJoined() bool {
	if len(g.pending) > 0 {
		return false
	}
	for _, m := range g.members {
		if m.joining == nil {
			return false
		}
	}
	return true
}

// addMember puts a new member into the group, waiting in JoinGroup, and
// starts or joins a rebalance.
func (c *Coordinator) addMember(g *group, m *member, w *waiter) {
	if len(g.members) == 0 {
		g.protocolType = m.protocolType
	}
	if g.leader == "" {
		g.leader = m.id
	}
	g.members = append(g.members, m)
	g.byID[m.id] = m
	m.joining = w
	m.lastHeard = c.now
	if g.state == statePreparingRebalance && g.initialDelay {
		g.memberAdded = true
	}
	c.rebalance(g)
}

// rejoin updates an existing member from its new JoinGroup, which now waits,
// and starts or joins a rebalance.
func (c *Coordinator) rejoin(g *group, m *member, req *kmsg.JoinGroupRequest, w *waiter) {
	if m.joining != nil { // superseded: the client has given up on it
		c.joinError(*m.joining, m.id, kerr.RebalanceInProgress.Code)
	}
	m.update(req)
	m.joining = w
	m.lastHeard = c.now
	c.rebalance(g)
}

// removeMember takes a member out of the group, answering its waiting
// requests with code. The caller then calls settle.
func (c *Coordinator) removeMember(g *group, m *member, code int16) {
	if m.joining != nil {
		c.joinError(*m.joining, m.id, code)
		m.joining = nil
	}
	if m.syncing != nil {
		c.syncError(*m.syncing, code)
		m.syncing = nil
	}
	g.members = slices.DeleteFunc(g.members, func(x *member) bool { return x == m })
	delete(g.byID, m.id)
	delete(g.pendingSync, m.id)
	if g.leader == m.id {
		g.leader = ""
		if len(g.members) > 0 {
			g.leader = g.members[0].id
		}
	}
}

// dropPending forgets the i-th pending member id. A rebalance waiting for
// it may now complete; a group left with nothing may be forgotten.
func (c *Coordinator) dropPending(g *group, i int) {
	g.pending = slices.Delete(g.pending, i, i+1)
	switch g.state {
	case statePreparingRebalance:
		c.maybeCompleteJoin(g)
	case stateEmpty:
		c.maybeForget(g)
	}
}

// settle moves a group on after members left: a settled group rebalances,
// a rebalancing one may now be complete, an empty one may be forgotten.
func (c *Coordinator) settle(g *group) {
	switch g.state {
	case stateStable, stateCompletingRebalance:
		c.rebalance(g)
	case statePreparingRebalance:
		c.maybeCompleteJoin(g)
	case stateEmpty:
		c.maybeForget(g)
	}
}

// rebalance moves the group to PreparingRebalance (if it is not there
// already) and completes the join if it can.
func (c *Coordinator) rebalance(g *group) {
	if g.state != statePreparingRebalance {
		c.prepareRebalance(g)
	}
	c.maybeCompleteJoin(g)
}

// prepareRebalance starts a rebalance: members waiting in SyncGroup are
// told REBALANCE_IN_PROGRESS and every member must rejoin by the deadline.
func (c *Coordinator) prepareRebalance(g *group) {
	if g.state == stateCompletingRebalance {
		for _, m := range g.members {
			if m.syncing != nil {
				c.syncError(*m.syncing, kerr.RebalanceInProgress.Code)
				m.syncing = nil
				m.lastHeard = c.now
			}
		}
	}
	for _, m := range g.members {
		m.assigned = nil
	}
	g.pendingSync = nil
	timeout := g.maxRebalance()
	g.initialDelay = g.state == stateEmpty && c.cfg.InitialRebalanceDelay > 0
	if g.initialDelay {
		delay := min(c.cfg.InitialRebalanceDelay, timeout)
		g.joinDeadline = c.now + delay
		g.delayLeft = timeout - delay
		g.memberAdded = false
	} else {
		g.joinDeadline = c.now + timeout
	}
	g.state = statePreparingRebalance
}

// maybeCompleteJoin completes a PreparingRebalance group's join when every
// member has joined or the deadline has passed; during the initial delay
// only the deadline counts, and it is extended while new members arrive.
// A group whose members have all left completes at once, becoming Empty.
func (c *Coordinator) maybeCompleteJoin(g *group) {
	if g.state != statePreparingRebalance {
		return
	}
	if len(g.members) == 0 { // everyone left: nothing to wait for
		c.completeJoin(g)
		return
	}
	due := c.now >= g.joinDeadline
	if g.initialDelay {
		if !due {
			return
		}
		if g.memberAdded && g.delayLeft > 0 {
			ext := min(c.cfg.InitialRebalanceDelay, g.delayLeft)
			g.joinDeadline = c.now + ext
			g.delayLeft -= ext
			g.memberAdded = false
			return
		}
	} else if !due && !g.allJoined() {
		return
	}
	c.completeJoin(g)
}

// completeJoin ends the join phase: members that did not rejoin are removed,
// the generation advances, and every waiting JoinGroup is answered (the
// leader's with the member list). The group moves to CompletingRebalance,
// or to Empty if no member is left.
func (c *Coordinator) completeJoin(g *group) {
	for _, m := range slices.Clone(g.members) {
		if m.joining == nil {
			c.removeMember(g, m, kerr.UnknownMemberID.Code)
		}
	}
	g.initialDelay = false
	if g.generation == math.MaxInt32 {
		g.generation = 0
	}
	g.generation++
	if len(g.members) == 0 {
		g.state = stateEmpty
		g.protocol = ""
		c.maybeForget(g)
		return
	}
	g.protocol = g.selectProtocol()
	g.state = stateCompletingRebalance
	g.pendingSync = make(map[string]bool, len(g.members))
	g.syncDeadline = c.now + g.maxRebalance()
	for _, m := range g.members {
		g.pendingSync[m.id] = true
		w := *m.joining
		m.joining = nil
		m.lastHeard = c.now
		c.reply(w.tok, g.joinResponse(w.version, m.id))
	}
}

// joinResponse is the successful JoinGroup answer for a member of the
// current generation; the leader's lists every member.
func (g *group) joinResponse(version int16, memberID string) *kmsg.JoinGroupResponse {
	resp := kmsg.NewPtrJoinGroupResponse()
	resp.Version = version
	resp.Generation = g.generation
	resp.ProtocolType = kmsg.StringPtr(g.protocolType)
	resp.Protocol = kmsg.StringPtr(g.protocol)
	resp.LeaderID = g.leader
	resp.MemberID = memberID
	if memberID == g.leader {
		resp.Members = make([]kmsg.JoinGroupResponseMember, 0, len(g.members))
		for _, m := range g.members {
			jm := kmsg.NewJoinGroupResponseMember()
			jm.MemberID = m.id
			jm.InstanceID = m.instanceID
			jm.ProtocolMetadata = m.metadata(g.protocol)
			resp.Members = append(resp.Members, jm)
		}
	}
	return resp
}

// joinError answers a waiting or new JoinGroup with an error.
func (c *Coordinator) joinError(w waiter, memberID string, code int16) {
	resp := kmsg.NewPtrJoinGroupResponse()
	resp.Version = w.version
	resp.ErrorCode = code
	resp.MemberID = memberID
	c.reply(w.tok, resp)
}

// syncError answers a waiting or new SyncGroup with an error.
func (c *Coordinator) syncError(w waiter, code int16) {
	resp := kmsg.NewPtrSyncGroupResponse()
	resp.Version = w.version
	resp.ErrorCode = code
	c.reply(w.tok, resp)
}
