package group

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Default timeouts of the members in these tests.
const (
	session   = 10 * time.Second
	rebalance = 30 * time.Second
)

// harness drives a Coordinator with a fake clock, collects every reply by
// token and checks that no token is answered twice or in the wrong version.
type harness struct {
	t        testing.TB
	c        *Coordinator
	now      time.Duration
	tok      Token
	versions map[Token]int16
	replies  map[Token]kmsg.Response
	records  []OffsetRecord
	onReply  func(Token, kmsg.Response) // if set, sees every reply
}

func newHarness(t testing.TB, cfg Config) *harness {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, c: c, versions: map[Token]int16{}, replies: map[Token]kmsg.Response{}}
}

// do hands one request to the coordinator and returns its token.
func (h *harness) do(client string, req kmsg.Request) Token {
	h.t.Helper()
	h.tok++
	h.versions[h.tok] = req.GetVersion()
	rd, err := h.c.Handle(Request{Token: h.tok, ClientID: client, ClientHost: "/192.0.2.1", Msg: req})
	if err != nil {
		h.t.Fatalf("Handle(%T): %v", req, err)
	}
	h.collect(rd)
	return h.tok
}

// advance moves the fake clock and ticks.
func (h *harness) advance(d time.Duration) {
	h.t.Helper()
	h.now += d
	h.collect(h.c.Tick(h.now))
}

func (h *harness) collect(rd Ready) {
	h.t.Helper()
	for _, r := range rd.Replies {
		if _, dup := h.replies[r.Token]; dup {
			h.t.Fatalf("token %d answered twice", r.Token)
		}
		if v, ok := h.versions[r.Token]; !ok || v != r.Response.GetVersion() {
			h.t.Fatalf("token %d: reply version %d, request version %d (known %v)", r.Token, r.Response.GetVersion(), v, ok)
		}
		h.replies[r.Token] = r.Response
		if h.onReply != nil {
			h.onReply(r.Token, r.Response)
		}
	}
	h.records = append(h.records, rd.Records...)
}

func (h *harness) answered(tok Token) bool {
	_, ok := h.replies[tok]
	return ok
}

// unanswered counts tokens still waiting for their reply.
func (h *harness) unanswered() int { return len(h.versions) - len(h.replies) }

func (h *harness) reply(tok Token) kmsg.Response {
	h.t.Helper()
	r, ok := h.replies[tok]
	if !ok {
		h.t.Fatalf("token %d not answered", tok)
	}
	return r
}

func (h *harness) joinResp(tok Token) *kmsg.JoinGroupResponse {
	h.t.Helper()
	return h.reply(tok).(*kmsg.JoinGroupResponse)
}

func (h *harness) syncResp(tok Token) *kmsg.SyncGroupResponse {
	h.t.Helper()
	return h.reply(tok).(*kmsg.SyncGroupResponse)
}

// joinReq is a JoinGroup with the default timeouts and one "range" protocol.
func joinReq(v int16, group, memberID string) *kmsg.JoinGroupRequest {
	r := kmsg.NewPtrJoinGroupRequest()
	r.Version, r.Group, r.MemberID = v, group, memberID
	r.SessionTimeoutMillis = int32(session / time.Millisecond)
	r.RebalanceTimeoutMillis = int32(rebalance / time.Millisecond)
	r.ProtocolType = "consumer"
	r.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: []byte("meta-" + memberID)}}
	return r
}

// askID does the first JoinGroup (v5) round trip and returns the member id.
func (h *harness) askID(client, group string) string {
	h.t.Helper()
	resp := h.joinResp(h.do(client, joinReq(5, group, "")))
	if resp.ErrorCode != kerr.MemberIDRequired.Code || resp.MemberID == "" {
		h.t.Fatalf("first join: error %d member %q, want MEMBER_ID_REQUIRED with an id", resp.ErrorCode, resp.MemberID)
	}
	return resp.MemberID
}

// join sends a v5 JoinGroup for a known member id.
func (h *harness) join(group, memberID string) Token {
	h.t.Helper()
	return h.do("client", joinReq(5, group, memberID))
}

// sync sends a SyncGroup; assign maps member ids to assignments (leader only).
func (h *harness) sync(group string, gen int32, memberID string, assign map[string]string) Token {
	h.t.Helper()
	r := kmsg.NewPtrSyncGroupRequest()
	r.Version, r.Group, r.Generation, r.MemberID = 5, group, gen, memberID
	for id, a := range assign {
		r.GroupAssignment = append(r.GroupAssignment, kmsg.SyncGroupRequestGroupAssignment{MemberID: id, MemberAssignment: []byte(a)})
	}
	return h.do("client", r)
}

// heartbeat sends a Heartbeat and returns its error code.
func (h *harness) heartbeat(group string, gen int32, memberID string) int16 {
	h.t.Helper()
	r := kmsg.NewPtrHeartbeatRequest()
	r.Version, r.Group, r.Generation, r.MemberID = 4, group, gen, memberID
	return h.reply(h.do("client", r)).(*kmsg.HeartbeatResponse).ErrorCode
}

// leave sends a v5 LeaveGroup for the members.
func (h *harness) leave(group string, memberIDs ...string) *kmsg.LeaveGroupResponse {
	h.t.Helper()
	r := kmsg.NewPtrLeaveGroupRequest()
	r.Version, r.Group = 5, group
	for _, id := range memberIDs {
		r.Members = append(r.Members, kmsg.LeaveGroupRequestMember{MemberID: id})
	}
	return h.reply(h.do("client", r)).(*kmsg.LeaveGroupResponse)
}

// commit commits one offset (v8) and returns the partition's error code.
func (h *harness) commit(group string, gen int32, memberID, topic string, partition int32, offset int64) int16 {
	h.t.Helper()
	r := kmsg.NewPtrOffsetCommitRequest()
	r.Version, r.Group, r.Generation, r.MemberID = 8, group, gen, memberID
	r.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: topic, Partitions: []kmsg.OffsetCommitRequestTopicPartition{
		{Partition: partition, Offset: offset, LeaderEpoch: 3, Metadata: kmsg.StringPtr("m")},
	}}}
	return h.reply(h.do("client", r)).(*kmsg.OffsetCommitResponse).Topics[0].Partitions[0].ErrorCode
}

// fetch returns one committed offset (v8), -1 if none.
func (h *harness) fetch(group, topic string, partition int32) int64 {
	h.t.Helper()
	r := kmsg.NewPtrOffsetFetchRequest()
	r.Version = 8
	r.Groups = []kmsg.OffsetFetchRequestGroup{{Group: group, Topics: []kmsg.OffsetFetchRequestGroupTopic{{Topic: topic, Partitions: []int32{partition}}}}}
	g := h.reply(h.do("client", r)).(*kmsg.OffsetFetchResponse).Groups[0]
	if g.ErrorCode != 0 {
		h.t.Fatalf("fetch %s: error %d", group, g.ErrorCode)
	}
	return g.Topics[0].Partitions[0].Offset
}

// state is the group's state name ("Dead" if unknown).
func (h *harness) state(group string) string {
	if g := h.c.group(group); g != nil {
		return g.state.String()
	}
	return stateDead.String()
}

// stableGroup brings n members into a Stable group: ids first, then joins,
// then syncs with assignment "a-<id>". It returns the member ids (the first
// is the leader) and the generation.
func (h *harness) stableGroup(group string, n int) ([]string, int32) {
	h.t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = h.askID("client", group)
	}
	joins := make([]Token, n)
	for i, id := range ids {
		joins[i] = h.join(group, id)
	}
	gen := h.joinResp(joins[0]).Generation
	assign := map[string]string{}
	for _, id := range ids {
		assign[id] = "a-" + id
	}
	var syncs []Token
	for i := n - 1; i >= 0; i-- { // followers first, leader last
		a := map[string]string(nil)
		if i == 0 {
			a = assign
		}
		syncs = append(syncs, h.sync(group, gen, ids[i], a))
	}
	for _, s := range syncs {
		if e := h.syncResp(s).ErrorCode; e != 0 {
			h.t.Fatalf("sync: error %d", e)
		}
	}
	if got := h.state(group); got != "Stable" {
		h.t.Fatalf("state %s, want Stable", got)
	}
	return ids, gen
}

// errName names an error code for messages.
func errName(code int16) string {
	if code == 0 {
		return "NONE"
	}
	return kerr.ErrorForCode(code).Error()
}
