package group_test

import (
	"fmt"
	"time"

	"gale/broker/group"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// A server's loop, reduced to printing: hand each request to the
// coordinator, persist the records, send the replies; tick the clock.
func Example() {
	c, _ := group.New(group.Config{})
	var tok group.Token
	send := func(req kmsg.Request) {
		tok++
		rd, err := c.Handle(group.Request{Token: tok, ClientID: "consumer", Msg: req})
		if err != nil {
			panic(err)
		}
		show(rd)
	}

	join := func(memberID string) *kmsg.JoinGroupRequest {
		r := kmsg.NewPtrJoinGroupRequest()
		r.Version, r.Group, r.MemberID = 5, "g", memberID
		r.SessionTimeoutMillis, r.RebalanceTimeoutMillis = 10000, 30000
		r.ProtocolType = "consumer"
		r.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range"}}
		return r
	}
	send(join(""))             // 1: MEMBER_ID_REQUIRED
	send(join("consumer-0-1")) // 2: the only member: generation 1 at once
	sync := kmsg.NewPtrSyncGroupRequest()
	sync.Version, sync.Group, sync.Generation, sync.MemberID = 5, "g", 1, "consumer-0-1"
	sync.GroupAssignment = []kmsg.SyncGroupRequestGroupAssignment{{MemberID: "consumer-0-1", MemberAssignment: []byte("t:0")}}
	send(sync) // 3: Stable

	commit := kmsg.NewPtrOffsetCommitRequest()
	commit.Version, commit.Group, commit.Generation, commit.MemberID = 8, "g", 1, "consumer-0-1"
	commit.Topics = []kmsg.OffsetCommitRequestTopic{{Topic: "t", Partitions: []kmsg.OffsetCommitRequestTopicPartition{{Partition: 0, Offset: 42}}}}
	send(commit) // 4: a record to persist, then the reply

	show(c.Tick(10 * time.Second)) // silent for a session timeout: expired, the group is empty
	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Version, hb.Group, hb.Generation, hb.MemberID = 4, "g", 1, "consumer-0-1"
	send(hb) // 5

	// Output:
	// reply 1: JoinGroupResponse MEMBER_ID_REQUIRED member consumer-0-1
	// reply 2: JoinGroupResponse generation 1 leader consumer-0-1 members 1
	// reply 3: SyncGroupResponse assignment "t:0"
	// persist g/t/0 = 42 (22 bytes)
	// reply 4: OffsetCommitResponse t/0 NONE
	// reply 5: HeartbeatResponse UNKNOWN_MEMBER_ID
}

func show(rd group.Ready) {
	for _, rec := range rd.Records {
		fmt.Printf("persist %s/%s/%d = %d (%d bytes)\n", rec.Group, rec.Topic, rec.Partition, rec.Offset, len(rec.AppendTo(nil)))
	}
	for _, r := range rd.Replies {
		fmt.Printf("reply %d: ", r.Token)
		switch resp := r.Response.(type) {
		case *kmsg.JoinGroupResponse:
			if resp.ErrorCode != 0 {
				fmt.Printf("JoinGroupResponse %s member %s\n", errName(resp.ErrorCode), resp.MemberID)
				continue
			}
			fmt.Printf("JoinGroupResponse generation %d leader %s members %d\n", resp.Generation, resp.LeaderID, len(resp.Members))
		case *kmsg.SyncGroupResponse:
			fmt.Printf("SyncGroupResponse assignment %q\n", resp.MemberAssignment)
		case *kmsg.OffsetCommitResponse:
			p := resp.Topics[0].Partitions[0]
			fmt.Printf("OffsetCommitResponse %s/%d %s\n", resp.Topics[0].Topic, p.Partition, errName(p.ErrorCode))
		case *kmsg.HeartbeatResponse:
			fmt.Printf("HeartbeatResponse %s\n", errName(resp.ErrorCode))
		default:
			fmt.Printf("%T\n", resp)
		}
	}
}

func errName(code int16) string {
	if code == 0 {
		return "NONE"
	}
	return kerr.ErrorForCode(code).(*kerr.Error).Message
}
