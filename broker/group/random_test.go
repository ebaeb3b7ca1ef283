package group

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var seedFlag = flag.Uint64("group.seed", 0, "seed for TestRandomized (0: from the clock)")

// TestRandomized throws random joins, syncs, heartbeats, leaves, commits
// and ticks from a handful of clients at the coordinator and checks, after
// every step and at the end:
//
//   - the coordinator's own state is consistent (checkInvariants);
//   - every successful JoinGroup of a generation names the same leader, who
//     is in the member list the leader got, as is every member that got a
//     successful JoinGroup in that generation;
//   - every member that got a successful SyncGroup in a generation is in
//     that generation's member list, and got what the leader assigned it;
//   - no token is answered twice or in the wrong version (the harness), and
//     once the clients stop and time runs on, every token is answered.
//
// Rerun a failure with -group.seed=N.
func TestRandomized(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed = %d", seed)
	runs, steps := 200, 500
	if testing.Short() {
		runs = 20
	}
	var joins, syncs, gens int
	defer func() { t.Logf("%d generations, %d successful joins, %d successful syncs", gens, joins, syncs) }()
	for run := range runs {
		rng := rand.New(rand.NewPCG(seed, uint64(run)))
		w := newWorld(t, rng)
		for step := range steps {
			w.step()
			if err := w.h.c.checkInvariants(); err != nil {
				t.Fatalf("seed %d run %d step %d: %v", seed, run, step, err)
			}
			for name, g := range w.h.c.groups {
				if g.generation < w.gens[name] {
					t.Fatalf("seed %d run %d step %d: group %s went back from generation %d to %d", seed, run, step, name, w.gens[name], g.generation)
				}
				w.gens[name] = g.generation
			}
		}
		for range 100 { // clients stop; every wait is bounded
			w.h.advance(time.Minute)
		}
		if n := w.h.unanswered(); n != 0 {
			t.Fatalf("seed %d run %d: %d tokens never answered", seed, run, n)
		}
		w.checkGenerations()
		joins, syncs, gens = joins+w.joins, syncs+w.syncs, gens+len(w.lists)
	}
}

// simClient is one simulated group client and what it has been told.
type simClient struct {
	name     string
	instance *string // static members only
	group    string
	memberID string
	gen      int32
	leader   bool
	members  []string // from the leader's JoinGroup response
	paused   time.Duration
}

// sent is what a token was for.
type sent struct {
	client  int
	version int16
	msg     kmsg.Request
}

// genKey names one generation of one group (groups here are never
// forgotten: each holds a committed offset from the start).
type genKey struct {
	group string
	gen   int32
}

type world struct {
	t       *testing.T
	rng     *rand.Rand
	h       *harness
	clients []*simClient
	sent    map[Token]sent

	leaders map[genKey]string          // LeaderID of successful joins
	lists   map[genKey][]string        // the leader's member list
	joined  map[genKey]map[string]bool // members with a successful join
	gens    map[string]int32           // each group's generation after the last step
	joins   int                        // successful JoinGroup replies
	syncs   int                        // successful SyncGroup replies
}

func newWorld(t *testing.T, rng *rand.Rand) *world {
	cfg := Config{MinSessionTimeout: 2 * time.Second, InitialRebalanceDelay: time.Duration(rng.IntN(2)) * 3 * time.Second}
	w := &world{
		t: t, rng: rng, h: newHarness(t, cfg), sent: map[Token]sent{},
		leaders: map[genKey]string{}, lists: map[genKey][]string{}, joined: map[genKey]map[string]bool{},
		gens: map[string]int32{},
	}
	w.h.onReply = w.observe
	for i := range 6 {
		c := &simClient{name: fmt.Sprintf("c%d", i), group: []string{"g0", "g1"}[i%2], gen: -1}
		if i%3 == 0 {
			c.instance = kmsg.StringPtr("static-" + c.name)
		}
		w.clients = append(w.clients, c)
	}
	w.h.commit("g0", -1, "", "t", 0, 0)
	w.h.commit("g1", -1, "", "t", 0, 0)
	return w
}

func (w *world) send(i int, req kmsg.Request) {
	tok := w.h.tok + 1
	w.sent[tok] = sent{client: i, version: req.GetVersion(), msg: req}
	w.h.do(w.clients[i].name, req)
}

// step performs one random action.
func (w *world) step() {
	r := w.rng.IntN(100)
	if r < 15 {
		w.h.advance(time.Duration(w.rng.IntN(6000)) * time.Millisecond)
		return
	}
	i := w.rng.IntN(len(w.clients))
	c := w.clients[i]
	if c.paused > w.h.now {
		return
	}
	switch {
	case r < 17:
		c.paused = w.h.now + time.Duration(w.rng.IntN(60))*time.Second
	case r < 40:
		w.send(i, w.joinReq(c))
	case r < 55:
		w.send(i, w.syncReq(c))
	case r < 75:
		hb := kmsg.NewPtrHeartbeatRequest()
		hb.Version, hb.Group, hb.Generation, hb.MemberID = int16(w.rng.IntN(5)), c.group, c.gen, c.memberID
		if hb.Version >= 3 {
			hb.InstanceID = c.instance
		}
		w.send(i, hb)
	case r < 80:
		lv := kmsg.NewPtrLeaveGroupRequest()
		lv.Version, lv.Group, lv.MemberID = int16(w.rng.IntN(6)), c.group, c.memberID
		if lv.Version >= 3 {
			lv.Members = []kmsg.LeaveGroupRequestMember{{MemberID: c.memberID, InstanceID: c.instance}}
		}
		w.send(i, lv)
	case r < 92:
		oc := kmsg.NewPtrOffsetCommitRequest()
		oc.Version, oc.Group, oc.Generation, oc.MemberID = int16(w.rng.IntN(9)), c.group, c.gen, c.memberID
		if oc.Version >= 7 {
			oc.InstanceID = c.instance
		}
		if w.rng.IntN(4) == 0 {
			oc.Generation, oc.MemberID, oc.InstanceID = -1, "", nil
		}
		oc.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: "t", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: int32(i), Offset: int64(w.rng.IntN(1000))}}}}
		w.send(i, oc)
	case r < 96:
		of := kmsg.NewPtrOffsetFetchRequest()
		of.Version, of.Group = int16(w.rng.IntN(8)), c.group
		w.send(i, of)
	default:
		dg := kmsg.NewPtrDescribeGroupsRequest()
		dg.Version, dg.Groups = int16(w.rng.IntN(6)), []string{c.group}
		w.send(i, dg)
	}
}

var protocolChoices = [][]string{{"range"}, {"range", "roundrobin"}, {"roundrobin", "range"}, {"sticky", "range"}, {"sticky"}}

func (w *world) joinReq(c *simClient) *kmsg.JoinGroupRequest {
	r := kmsg.NewPtrJoinGroupRequest()
	r.Version = []int16{0, 1, 3, 4, 5, 7, 9}[w.rng.IntN(7)]
	r.Group, r.MemberID = c.group, c.memberID
	if r.Version >= 5 {
		r.InstanceID = c.instance
	}
	r.SessionTimeoutMillis = int32(2000 + w.rng.IntN(13000))
	r.RebalanceTimeoutMillis = int32(2000 + w.rng.IntN(38000))
	r.ProtocolType = "consumer"
	if w.rng.IntN(30) == 0 {
		r.ProtocolType = "connect"
	}
	for _, p := range protocolChoices[w.rng.IntN(len(protocolChoices))] {
		r.Protocols = append(r.Protocols, kmsg.JoinGroupRequestProtocol{Name: p, Metadata: []byte(c.name)})
	}
	return r
}

func (w *world) syncReq(c *simClient) *kmsg.SyncGroupRequest {
	r := kmsg.NewPtrSyncGroupRequest()
	r.Version, r.Group, r.Generation, r.MemberID = int16(w.rng.IntN(6)), c.group, c.gen, c.memberID
	if r.Version >= 3 {
		r.InstanceID = c.instance
	}
	if c.leader {
		for _, id := range c.members {
			r.GroupAssignment = append(r.GroupAssignment, kmsg.SyncGroupRequestGroupAssignment{MemberID: id, MemberAssignment: assignment(c.gen, id)})
		}
	}
	return r
}

func assignment(gen int32, id string) []byte { return fmt.Appendf(nil, "%d/%s", gen, id) }

// observe checks one reply against what was seen before and updates the
// client that sent it.
func (w *world) observe(tok Token, resp kmsg.Response) {
	s, ok := w.sent[tok]
	if !ok {
		return // the harness's own requests
	}
	c := w.clients[s.client]
	switch resp := resp.(type) {
	case *kmsg.JoinGroupResponse:
		w.observeJoin(c, resp)
	case *kmsg.SyncGroupResponse:
		req := s.msg.(*kmsg.SyncGroupRequest)
		if resp.ErrorCode == 0 {
			k := genKey{req.Group, req.Generation}
			list, ok := w.lists[k]
			if !ok || !slices.Contains(list, req.MemberID) {
				w.t.Fatalf("%s got a SyncGroup answer in generation %v without being in its member list %v", req.MemberID, k, list)
			}
			if want := assignment(req.Generation, req.MemberID); string(resp.MemberAssignment) != string(want) {
				w.t.Fatalf("%s in %v: assignment %q, want %q", req.MemberID, k, resp.MemberAssignment, want)
			}
			w.syncs++
		}
		w.onError(c, resp.ErrorCode)
	case *kmsg.HeartbeatResponse:
		w.onError(c, resp.ErrorCode)
	case *kmsg.LeaveGroupResponse:
		c.memberID, c.gen = "", -1
	case *kmsg.OffsetCommitResponse:
		w.onError(c, resp.Topics[0].Partitions[0].ErrorCode)
	}
}

func (w *world) observeJoin(c *simClient, resp *kmsg.JoinGroupResponse) {
	switch resp.ErrorCode {
	case 0:
	case kerr.MemberIDRequired.Code:
		c.memberID = resp.MemberID
		return
	default:
		w.onError(c, resp.ErrorCode)
		return
	}
	w.joins++
	k := genKey{c.group, resp.Generation}
	if l, ok := w.leaders[k]; ok && l != resp.LeaderID {
		w.t.Fatalf("generation %v has two leaders: %s and %s", k, l, resp.LeaderID)
	}
	w.leaders[k] = resp.LeaderID
	if w.joined[k] == nil {
		w.joined[k] = map[string]bool{}
	}
	w.joined[k][resp.MemberID] = true
	if resp.MemberID == resp.LeaderID {
		var list []string
		for _, m := range resp.Members {
			list = append(list, m.MemberID)
		}
		if old, ok := w.lists[k]; ok && !slices.Equal(old, list) {
			w.t.Fatalf("generation %v: member list %v, earlier %v", k, list, old)
		}
		w.lists[k] = list
	}
	c.memberID, c.gen, c.leader = resp.MemberID, resp.Generation, resp.MemberID == resp.LeaderID
	c.members = nil
	for _, m := range resp.Members {
		c.members = append(c.members, m.MemberID)
	}
}

// onError moves a client on after an error, as a real client would.
func (w *world) onError(c *simClient, code int16) {
	switch code {
	case kerr.UnknownMemberID.Code, kerr.FencedInstanceID.Code:
		c.memberID, c.gen = "", -1
	case kerr.IllegalGeneration.Code, kerr.RebalanceInProgress.Code:
		c.gen = -1
	}
}

// checkGenerations checks the member lists against the joins seen.
func (w *world) checkGenerations() {
	for k, joined := range w.joined {
		list, ok := w.lists[k]
		if !ok {
			w.t.Fatalf("generation %v: no leader response seen", k)
		}
		if !slices.Contains(list, w.leaders[k]) {
			w.t.Fatalf("generation %v: leader %s not in the member list %v", k, w.leaders[k], list)
		}
		for id := range joined {
			if !slices.Contains(list, id) {
				w.t.Fatalf("generation %v: %s joined but is not in the member list %v", k, id, list)
			}
		}
	}
}

// checkInvariants checks the coordinator's internal consistency.
func (c *Coordinator) checkInvariants() error {
	if !slices.IsSorted(c.names) || len(c.names) != len(c.groups) {
		return fmt.Errorf("names %v out of step with %d groups", c.names, len(c.groups))
	}
	for _, name := range c.names {
		g := c.groups[name]
		if g == nil || g.name != name {
			return fmt.Errorf("group %q missing or misnamed", name)
		}
		if err := g.checkInvariants(); err != nil {
			return fmt.Errorf("group %q (%s, generation %d): %w", name, g.state, g.generation, err)
		}
	}
	return nil
}

func (g *group) checkInvariants() error {
	if len(g.members) != len(g.byID) {
		return fmt.Errorf("%d members, %d by id", len(g.members), len(g.byID))
	}
	for _, m := range g.members {
		if g.byID[m.id] != m {
			return fmt.Errorf("member %s not indexed", m.id)
		}
		if m.joining != nil && g.state != statePreparingRebalance {
			return fmt.Errorf("member %s waits in JoinGroup", m.id)
		}
		if m.syncing != nil && g.state != stateCompletingRebalance {
			return fmt.Errorf("member %s waits in SyncGroup", m.id)
		}
	}
	for _, p := range g.pending {
		if g.byID[p.id] != nil {
			return fmt.Errorf("%s both pending and a member", p.id)
		}
	}
	switch g.state {
	case stateEmpty:
		if len(g.members) != 0 || g.leader != "" {
			return fmt.Errorf("Empty with %d members, leader %q", len(g.members), g.leader)
		}
	case statePreparingRebalance, stateCompletingRebalance, stateStable:
		if len(g.members) == 0 {
			return fmt.Errorf("no members")
		}
		if g.byID[g.leader] == nil {
			return fmt.Errorf("leader %q is not a member", g.leader)
		}
	default:
		return fmt.Errorf("state %s held", g.state)
	}
	if g.state == stateCompletingRebalance || g.state == stateStable {
		for _, m := range g.members {
			if !m.supports(g.protocol) {
				return fmt.Errorf("member %s does not support protocol %q", m.id, g.protocol)
			}
		}
	}
	for id := range g.pendingSync {
		if g.byID[id] == nil {
			return fmt.Errorf("pending sync for non-member %s", id)
		}
	}
	return nil
}
