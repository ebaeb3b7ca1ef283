package kafka

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"gale/broker/group"
	"gale/broker/seglog"
)

// Group APIs spoken by hand: every version, errors, waits and shutdown.

// groupBroker starts a broker whose coordinator accepts short sessions, so
// tests with real clients rebalance quickly.
func groupBroker(t testing.TB, dir string, opts ...brokerOpt) *testBroker {
	t.Helper()
	short := func(c *Config) { c.Group.MinSessionTimeout = time.Second }
	return startBroker(t, dir, append([]brokerOpt{short}, opts...)...)
}

// TestGroupVersionRanges pins the ranges real clients depend on (FACTS.md):
// kafka-go's pinned versions, librdkafka's minimums, and everything the
// state machine serves.
func TestGroupVersionRanges(t *testing.T) {
	for _, tc := range []struct {
		key      int16
		versions []int16
	}{
		{8, []int16{0, 1, 2}},  // OffsetCommit: kafka-go v2, librdkafka >= 1
		{9, []int16{0, 1}},     // OffsetFetch: kafka-go v1, librdkafka >= 1
		{10, []int16{0, 4}},    // FindCoordinator: kafka-go v0, batched v4
		{11, []int16{0, 1, 2}}, // JoinGroup: kafka-go {1, 2}
		{12, []int16{0}},       // Heartbeat: kafka-go v0
		{13, []int16{0}},       // LeaveGroup: kafka-go v0
		{14, []int16{0}},       // SyncGroup: kafka-go v0
		{15, []int16{0}},       // DescribeGroups
		{16, []int16{0}},       // ListGroups
	} {
		a, ok := apis[tc.key]
		if !ok {
			t.Errorf("key %d not served", tc.key)
			continue
		}
		for _, v := range tc.versions {
			if v < a.min || v > a.max {
				t.Errorf("key %d: version %d outside advertised %d-%d", tc.key, v, a.min, a.max)
			}
		}
		if max, ok := group.MaxVersion(tc.key); ok && a.max != max {
			t.Errorf("key %d: advertised up to %d, the coordinator serves %d", tc.key, a.max, max)
		}
	}
}

func TestFindCoordinator(t *testing.T) {
	b := startBroker(t, "")
	c := b.dial(t)
	host, port, _ := splitHostPort(b.addr)
	for v := int16(0); v <= apis[10].max; v++ {
		for _, tc := range []struct {
			keyType int8
			code    int16
		}{
			{0, 0},
			{1, kerr.TransactionalIDAuthorizationFailed.Code},
			{2, kerr.InvalidRequest.Code},
		} {
			if v == 0 && tc.keyType != 0 {
				continue // v0 has no key type
			}
			req := kmsg.NewPtrFindCoordinatorRequest()
			req.SetVersion(v)
			req.CoordinatorType = tc.keyType
			req.CoordinatorKey = "g"
			req.CoordinatorKeys = []string{"g1", "g2"}
			resp := c.roundTrip(req).(*kmsg.FindCoordinatorResponse)
			type answer struct {
				node       int32
				host       string
				port, code int32
			}
			var got []answer
			if v >= 4 {
				for i, co := range resp.Coordinators {
					if co.Key != req.CoordinatorKeys[i] {
						t.Errorf("v%d: coordinator %d for key %q, want %q", v, i, co.Key, req.CoordinatorKeys[i])
					}
					got = append(got, answer{co.NodeID, co.Host, co.Port, int32(co.ErrorCode)})
				}
				if len(got) != 2 {
					t.Fatalf("v%d: %d coordinators for 2 keys", v, len(got))
				}
			} else {
				got = append(got, answer{resp.NodeID, resp.Host, resp.Port, int32(resp.ErrorCode)})
			}
			want := answer{0, host, port, 0}
			if tc.code != 0 {
				want = answer{-1, "", -1, int32(tc.code)}
			}
			for _, a := range got {
				if a != want {
					t.Errorf("v%d key type %d: got %+v, want %+v", v, tc.keyType, a, want)
				}
			}
		}
	}
}

// commitRequest is a simple commit (no group membership) of offsets
// 10*(p+1) to partitions 0-2 of topic "t".
func commitRequest(v int16, grp string) *kmsg.OffsetCommitRequest {
	req := kmsg.NewPtrOffsetCommitRequest()
	req.SetVersion(v)
	req.Group, req.Generation = grp, -1
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = "t"
	for p := range int32(3) {
		rp := kmsg.NewOffsetCommitRequestTopicPartition()
		rp.Partition, rp.Offset, rp.LeaderEpoch = p, 10*int64(p+1), 7
		rp.Metadata = kmsg.StringPtr("m")
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	return req
}

// fetchOffsets asks for partitions 0-3 of topic "t" of grp and returns the
// offsets by partition, with leader epochs and metadata.
func fetchOffsets(t testing.TB, c *rawConn, v int16, grp string) map[int32]kmsg.OffsetFetchResponseTopicPartition {
	t.Helper()
	req := kmsg.NewPtrOffsetFetchRequest()
	req.SetVersion(v)
	parts := []int32{0, 1, 2, 3}
	if v >= 8 {
		rg := kmsg.NewOffsetFetchRequestGroup()
		rg.Group = grp
		rg.Topics = []kmsg.OffsetFetchRequestGroupTopic{{Topic: "t", Partitions: parts}}
		req.Groups = append(req.Groups, rg)
	} else {
		req.Group = grp
		req.Topics = []kmsg.OffsetFetchRequestTopic{{Topic: "t", Partitions: parts}}
	}
	resp := c.roundTrip(req).(*kmsg.OffsetFetchResponse)
	out := make(map[int32]kmsg.OffsetFetchResponseTopicPartition)
	if v >= 8 {
		if len(resp.Groups) != 1 || resp.Groups[0].ErrorCode != 0 {
			t.Fatalf("v%d: groups %+v", v, resp.Groups)
		}
		for _, rt := range resp.Groups[0].Topics {
			for _, p := range rt.Partitions {
				out[p.Partition] = kmsg.OffsetFetchResponseTopicPartition{Partition: p.Partition, Offset: p.Offset, LeaderEpoch: p.LeaderEpoch, Metadata: p.Metadata, ErrorCode: p.ErrorCode}
			}
		}
		return out
	}
	if resp.ErrorCode != 0 {
		t.Fatalf("v%d: error %d", v, resp.ErrorCode)
	}
	for _, rt := range resp.Topics {
		for _, p := range rt.Partitions {
			out[p.Partition] = p
		}
	}
	return out
}

// TestOffsetCommitFetchEveryVersion commits with each OffsetCommit version
// and reads back with each OffsetFetch version, over the wire.
func TestOffsetCommitFetchEveryVersion(t *testing.T) {
	b := startBroker(t, "")
	c := b.dial(t)
	for cv := int16(0); cv <= apis[8].max; cv++ {
		grp := fmt.Sprint("commit-v", cv)
		resp := c.roundTrip(commitRequest(cv, grp)).(*kmsg.OffsetCommitResponse)
		if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 3 {
			t.Fatalf("commit v%d: %+v", cv, resp)
		}
		for _, p := range resp.Topics[0].Partitions {
			if p.ErrorCode != 0 {
				t.Fatalf("commit v%d partition %d: error %d", cv, p.Partition, p.ErrorCode)
			}
		}
		for fv := int16(0); fv <= apis[9].max; fv++ {
			got := fetchOffsets(t, c, fv, grp)
			for p := range int32(4) {
				want := 10 * int64(p+1)
				if p == 3 {
					want = -1 // never committed
				}
				g := got[p]
				if g.Offset != want || g.ErrorCode != 0 {
					t.Errorf("commit v%d, fetch v%d, partition %d: offset %d error %d, want %d", cv, fv, p, g.Offset, g.ErrorCode, want)
				}
				if p < 3 && fv >= 5 && cv >= 6 && g.LeaderEpoch != 7 {
					t.Errorf("commit v%d, fetch v%d: leader epoch %d, want 7", cv, fv, g.LeaderEpoch)
				}
				if p < 3 && (g.Metadata == nil || *g.Metadata != "m") {
					t.Errorf("commit v%d, fetch v%d: metadata %v, want m", cv, fv, g.Metadata)
				}
			}
		}
	}
}

// joinAndSync makes a one-member group grp through the wire (JoinGroup v5
// twice for the member id, then SyncGroup) and returns the member id.
func joinAndSync(t testing.TB, c *rawConn, grp string) string {
	t.Helper()
	join := kmsg.NewPtrJoinGroupRequest()
	join.SetVersion(5)
	join.Group, join.SessionTimeoutMillis, join.RebalanceTimeoutMillis = grp, 10000, 10000
	join.ProtocolType = "consumer"
	join.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: []byte{0, 1}}}
	jr := c.roundTrip(join).(*kmsg.JoinGroupResponse)
	if jr.ErrorCode != kerr.MemberIDRequired.Code {
		t.Fatalf("first join: error %d, want MEMBER_ID_REQUIRED", jr.ErrorCode)
	}
	join.MemberID = jr.MemberID
	jr = c.roundTrip(join).(*kmsg.JoinGroupResponse)
	if jr.ErrorCode != 0 || jr.LeaderID != jr.MemberID || jr.Generation != 1 {
		t.Fatalf("second join: %+v", jr)
	}
	sync := kmsg.NewPtrSyncGroupRequest()
	sync.SetVersion(5)
	sync.Group, sync.Generation, sync.MemberID = grp, jr.Generation, jr.MemberID
	sync.ProtocolType, sync.Protocol = kmsg.StringPtr("consumer"), kmsg.StringPtr("range")
	sync.GroupAssignment = []kmsg.SyncGroupRequestGroupAssignment{{MemberID: jr.MemberID, MemberAssignment: []byte("a")}}
	sr := c.roundTrip(sync).(*kmsg.SyncGroupResponse)
	if sr.ErrorCode != 0 || string(sr.MemberAssignment) != "a" {
		t.Fatalf("sync: %+v", sr)
	}
	return jr.MemberID
}

func TestDescribeAndListGroups(t *testing.T) {
	b := startBroker(t, "")
	c := b.dial(t)
	member := joinAndSync(t, c, "live")
	if r := c.roundTrip(commitRequest(2, "simple")).(*kmsg.OffsetCommitResponse); r.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("commit: %+v", r)
	}
	for v := int16(0); v <= apis[16].max; v++ {
		req := kmsg.NewPtrListGroupsRequest()
		req.SetVersion(v)
		resp := c.roundTrip(req).(*kmsg.ListGroupsResponse)
		got := make(map[string]string)
		for _, g := range resp.Groups {
			got[g.Group] = g.ProtocolType + "/" + g.GroupState
		}
		want := map[string]string{"live": "consumer/", "simple": "/"}
		if v >= 4 {
			want = map[string]string{"live": "consumer/Stable", "simple": "/Empty"}
		}
		if resp.ErrorCode != 0 || len(got) != 2 || got["live"] != want["live"] || got["simple"] != want["simple"] {
			t.Errorf("ListGroups v%d: error %d, groups %v, want %v", v, resp.ErrorCode, got, want)
		}
	}
	for v := int16(0); v <= apis[15].max; v++ {
		req := kmsg.NewPtrDescribeGroupsRequest()
		req.SetVersion(v)
		req.Groups = []string{"live", "simple", "unknown"}
		resp := c.roundTrip(req).(*kmsg.DescribeGroupsResponse)
		if len(resp.Groups) != 3 {
			t.Fatalf("DescribeGroups v%d: %d groups", v, len(resp.Groups))
		}
		live, simple, unknown := resp.Groups[0], resp.Groups[1], resp.Groups[2]
		if live.ErrorCode != 0 || live.State != "Stable" || live.Protocol != "range" || len(live.Members) != 1 {
			t.Fatalf("DescribeGroups v%d live: %+v", v, live)
		}
		m := live.Members[0]
		if m.MemberID != member || m.ClientID != "test" || m.ClientHost != "/127.0.0.1" || string(m.MemberAssignment) != "a" {
			t.Errorf("DescribeGroups v%d member: %+v", v, m)
		}
		if simple.State != "Empty" || len(simple.Members) != 0 {
			t.Errorf("DescribeGroups v%d simple: %+v", v, simple)
		}
		if unknown.ErrorCode != 0 || unknown.State != "Dead" {
			t.Errorf("DescribeGroups v%d unknown: %+v", v, unknown)
		}
	}
}

// TestUnknownGroup checks requests naming a group the broker does not know
// get answers, not a closed connection.
func TestUnknownGroup(t *testing.T) {
	b := startBroker(t, "")
	c := b.dial(t)
	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Group, hb.Generation, hb.MemberID = "nope", 1, "m"
	if code := c.roundTrip(hb).(*kmsg.HeartbeatResponse).ErrorCode; code == 0 {
		t.Error("heartbeat to an unknown group succeeded")
	}
	sync := kmsg.NewPtrSyncGroupRequest()
	sync.Group, sync.Generation, sync.MemberID = "nope", 1, "m"
	if code := c.roundTrip(sync).(*kmsg.SyncGroupResponse).ErrorCode; code == 0 {
		t.Error("sync to an unknown group succeeded")
	}
	leave := kmsg.NewPtrLeaveGroupRequest()
	leave.Group, leave.MemberID = "nope", "m"
	if code := c.roundTrip(leave).(*kmsg.LeaveGroupResponse).ErrorCode; code == 0 {
		t.Error("leave of an unknown group succeeded")
	}
	commit := commitRequest(8, "nope")
	commit.Generation, commit.MemberID = 3, "m"
	if code := c.roundTrip(commit).(*kmsg.OffsetCommitResponse).Topics[0].Partitions[0].ErrorCode; code != kerr.IllegalGeneration.Code {
		t.Errorf("member commit to an unknown group: error %d, want ILLEGAL_GENERATION", code)
	}
	for p, o := range fetchOffsets(t, c, 8, "nope") {
		if o.Offset != -1 || o.ErrorCode != 0 {
			t.Errorf("partition %d of an unknown group: offset %d error %d", p, o.Offset, o.ErrorCode)
		}
	}
}

// waitingJoin sends a JoinGroup v3 that waits: the broker holds a new
// group's first rebalance open for a minute.
func waitingJoin(t testing.TB, b *testBroker, c *rawConn, grp string) {
	t.Helper()
	join := kmsg.NewPtrJoinGroupRequest()
	join.SetVersion(3)
	join.Group, join.SessionTimeoutMillis, join.RebalanceTimeoutMillis = grp, 60000, 60000
	join.ProtocolType = "consumer"
	join.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range"}}
	c.send(join)
	// Parked once a second connection sees the group rebalancing.
	other := b.dial(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		req := kmsg.NewPtrDescribeGroupsRequest()
		req.Groups = []string{grp}
		if other.roundTrip(req).(*kmsg.DescribeGroupsResponse).Groups[0].State == "PreparingRebalance" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the join never parked")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func delayedRebalance(c *Config) { c.Group.InitialRebalanceDelay = time.Minute }

func TestCloseWhileJoinWaits(t *testing.T) {
	b := startBroker(t, "", delayedRebalance)
	c := b.dial(t)
	waitingJoin(t, b, c, "slow")
	closed := make(chan error, 1)
	go func() { closed <- b.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Close is stuck behind a waiting JoinGroup")
	}
	if !c.closed() {
		t.Fatal("the waiting join's connection is still open")
	}
}

// TestClientLeavesWhileJoinWaits checks a client that hangs up during a
// waiting JoinGroup frees its connection at once, not when the rebalance
// completes, whether or not it pipelined another request behind the join.
func TestClientLeavesWhileJoinWaits(t *testing.T) {
	for _, pipelined := range []bool{false, true} {
		t.Run(fmt.Sprint("pipelined=", pipelined), func(t *testing.T) {
			b := startBroker(t, "", delayedRebalance)
			c := b.dial(t)
			waitingJoin(t, b, c, "gone")
			if pipelined {
				c.send(kmsg.NewPtrListGroupsRequest())
			}
			conns := func() int {
				b.mu.Lock()
				defer b.mu.Unlock()
				return len(b.conns)
			}
			before := conns()
			c.nc.Close()
			deadline := time.Now().Add(10 * time.Second)
			for conns() >= before {
				if time.Now().After(deadline) {
					t.Fatalf("%d connections still served, want fewer than %d", conns(), before)
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}

// TestPipelinedAfterJoin checks a request sent behind a waiting JoinGroup
// on the same connection is answered after it, in order.
func TestPipelinedAfterJoin(t *testing.T) {
	b := startBroker(t, "", func(c *Config) { c.Group.InitialRebalanceDelay = 300 * time.Millisecond })
	c := b.dial(t)
	join := kmsg.NewPtrJoinGroupRequest()
	join.SetVersion(3)
	join.Group, join.SessionTimeoutMillis, join.RebalanceTimeoutMillis = "pipe", 10000, 10000
	join.ProtocolType = "consumer"
	join.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range"}}
	jc := c.send(join)
	list := kmsg.NewPtrListGroupsRequest()
	list.SetVersion(4)
	lc := c.send(list)
	jr := c.recv(join, jc).(*kmsg.JoinGroupResponse)
	if jr.ErrorCode != 0 || jr.Generation != 1 {
		t.Fatalf("join: %+v", jr)
	}
	lr := c.recv(list, lc).(*kmsg.ListGroupsResponse)
	if len(lr.Groups) != 1 || lr.Groups[0].GroupState != "CompletingRebalance" {
		t.Fatalf("list after join: %+v", lr.Groups)
	}
}

// TestOffsetsLogHidden checks the offsets log is a directory of the data
// directory but no topic.
func TestOffsetsLogHidden(t *testing.T) {
	b := startBroker(t, "")
	b.createTopic(t, "visible", 1)
	c := b.dial(t)
	c.roundTrip(commitRequest(8, "g"))
	if fi, err := os.Stat(filepath.Join(b.dir, offsetsDirName)); err != nil || !fi.IsDir() {
		t.Fatalf("offsets log directory: %v", err)
	}
	for _, v := range []int16{0, 1, 12} {
		req := kmsg.NewPtrMetadataRequest()
		req.SetVersion(v)
		if v > 0 {
			req.Topics = nil // all topics
		}
		resp := c.roundTrip(req).(*kmsg.MetadataResponse)
		if len(resp.Topics) != 1 || *resp.Topics[0].Topic != "visible" {
			t.Errorf("Metadata v%d lists %d topics, want only \"visible\"", v, len(resp.Topics))
		}
	}
	if b.lookup(offsetsDirName) != nil {
		t.Error("the offsets log is registered as a topic")
	}
}

// TestOffsetCommitNotPersisted checks a commit the offsets log cannot take
// is refused and undone: the client is told, and OffsetFetch still gives
// the offsets from before.
func TestOffsetCommitNotPersisted(t *testing.T) {
	b := startBroker(t, "")
	c := b.dial(t)
	c.roundTrip(commitRequest(8, "g"))
	co := b.groups
	opts := seglog.Options{SegmentBytes: offsetsSegmentBytes, RetentionAge: -1}
	reopen := func() {
		l, _, err := seglog.Open(filepath.Join(b.dir, offsetsDirName), opts)
		if err != nil {
			t.Error(err)
			return
		}
		co.log = l
	}
	co.do(func() { co.log.Close() }) // appends now fail
	defer co.do(reopen)

	again := commitRequest(8, "g")
	again.Topics[0].Partitions[0].Offset = 999
	again.Topics[0].Partitions = append(again.Topics[0].Partitions, kmsg.OffsetCommitRequestTopicPartition{Partition: 3, Offset: 5})
	resp := c.roundTrip(again).(*kmsg.OffsetCommitResponse)
	for _, p := range resp.Topics[0].Partitions {
		if p.ErrorCode != kerr.NotCoordinator.Code {
			t.Errorf("partition %d: error %d, want NOT_COORDINATOR", p.Partition, p.ErrorCode)
		}
	}
	got := fetchOffsets(t, c, 8, "g")
	for p, want := range []int64{10, 20, 30, -1} {
		if o := got[int32(p)].Offset; o != want {
			t.Errorf("partition %d: offset %d after a failed commit, want %d", p, o, want)
		}
	}
	if len(b.logs.lines("offsets log append failed")) != 1 {
		t.Error("no log line for the failed append")
	}
}
