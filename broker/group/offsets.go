package group

import (
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetCommit, versions 0-8, and OffsetFetch, versions 0-8.
//
// A commit that carries a generation (>= 0), a member id or an instance id
// must come from a member of the group's current generation:
// UNKNOWN_MEMBER_ID or ILLEGAL_GENERATION otherwise (FENCED_INSTANCE_ID for a
// stale static member), and REBALANCE_IN_PROGRESS while the group completes
// a rebalance (the member has its join response but not yet its
// assignment). A commit with generation -1 and no member id (every v0
// commit) is a simple commit from a client that does not use group
// management: allowed while the group is Empty (creating it if need be),
// UNKNOWN_MEMBER_ID otherwise. A commit to an unknown group with a
// generation gets ILLEGAL_GENERATION. Each partition may still fail alone
// with OFFSET_METADATA_TOO_LARGE. Every accepted partition is stored and
// emitted as an OffsetRecord; an offset of -1 deletes the committed offset.
// A member's commit counts as a heartbeat.
//
// OffsetFetch answers from memory: a partition without a committed offset
// (or an unknown group) gets offset -1, leader epoch -1 and empty metadata,
// without error. v2+ may ask for all of a group's offsets (null topics);
// v8 asks for several groups at once.

// committed is one partition's committed offset.
type committed struct {
	offset      int64
	leaderEpoch int32
	metadata    string
}

// offsetCommit handles an OffsetCommit.
func (c *Coordinator) offsetCommit(tok Token, req *kmsg.OffsetCommitRequest) {
	resp := req.ResponseKind().(*kmsg.OffsetCommitResponse)
	defer c.reply(tok, resp)
	g, code := c.commitGroup(req)
	for _, t := range req.Topics {
		rt := kmsg.NewOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetCommitResponseTopicPartition()
			rp.Partition = p.Partition
			rp.ErrorCode = code
			if code == 0 {
				rp.ErrorCode = c.commit(g, req.Version, t.Topic, p)
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	if g != nil {
		c.maybeForget(g)
	}
}

// commitGroup checks who commits: the group to commit to, and 0 or the
// error code for every partition.
func (c *Coordinator) commitGroup(req *kmsg.OffsetCommitRequest) (*group, int16) {
	gen, memberID, inst := req.Generation, req.MemberID, req.InstanceID
	if req.Version == 0 {
		gen, memberID, inst = -1, "", nil
	}
	g := c.group(req.Group)
	if g == nil {
		if gen >= 0 {
			return nil, kerr.IllegalGeneration.Code
		}
		g = c.getOrCreate(req.Group)
	}
	if gen >= 0 || memberID != "" || inst != nil {
		if code := g.validMember(memberID, inst, gen); code != 0 {
			return g, code
		}
		g.byID[memberID].lastHeard = c.now
	} else if g.state != stateEmpty {
		return g, kerr.UnknownMemberID.Code
	}
	if g.state == stateCompletingRebalance {
		return g, kerr.RebalanceInProgress.Code
	}
	return g, 0
}

// commit stores one partition's offset and emits its record.
func (c *Coordinator) commit(g *group, version int16, topic string, p kmsg.OffsetCommitRequestTopicPartition) int16 {
	rec := OffsetRecord{Group: g.name, Topic: topic, Partition: p.Partition, Offset: p.Offset, LeaderEpoch: -1}
	if version >= 6 {
		rec.LeaderEpoch = p.LeaderEpoch
	}
	if p.Metadata != nil {
		rec.Metadata = *p.Metadata
	}
	if len(rec.Metadata) > c.cfg.MaxMetadataBytes {
		return kerr.OffsetMetadataTooLarge.Code
	}
	g.apply(rec)
	c.record(rec)
	return 0
}

// apply stores a record's offset in the group, or deletes it (offset -1).
func (g *group) apply(rec OffsetRecord) {
	if rec.Offset == -1 {
		delete(g.offsets[rec.Topic], rec.Partition)
		if len(g.offsets[rec.Topic]) == 0 {
			delete(g.offsets, rec.Topic)
		}
		return
	}
	if g.offsets == nil {
		g.offsets = make(map[string]map[int32]committed)
	}
	ps := g.offsets[rec.Topic]
	if ps == nil {
		ps = make(map[int32]committed)
		g.offsets[rec.Topic] = ps
	}
	ps[rec.Partition] = committed{offset: rec.Offset, leaderEpoch: rec.LeaderEpoch, metadata: rec.Metadata}
}

// offsetFetch handles an OffsetFetch.
func (c *Coordinator) offsetFetch(tok Token, req *kmsg.OffsetFetchRequest) {
	resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	defer c.reply(tok, resp)
	if req.Version >= 8 {
		for _, rg := range req.Groups {
			sg := kmsg.NewOffsetFetchResponseGroup()
			sg.Group = rg.Group
			sg.Topics = c.fetch(rg.Group, rg.Topics)
			resp.Groups = append(resp.Groups, sg)
		}
		return
	}
	var topics []kmsg.OffsetFetchRequestGroupTopic // nil: all of them
	if req.Topics != nil || req.Version < 2 {
		topics = make([]kmsg.OffsetFetchRequestGroupTopic, 0, len(req.Topics))
	}
	for _, t := range req.Topics {
		topics = append(topics, kmsg.OffsetFetchRequestGroupTopic{Topic: t.Topic, Partitions: t.Partitions})
	}
	for _, t := range c.fetch(req.Group, topics) {
		rt := kmsg.NewOffsetFetchResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetFetchResponseTopicPartition()
			rp.Partition, rp.Offset, rp.LeaderEpoch, rp.Metadata = p.Partition, p.Offset, p.LeaderEpoch, p.Metadata
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
}

// fetch answers one group's offsets for the topics asked (nil: every
// committed offset, by topic and partition).
func (c *Coordinator) fetch(name string, topics []kmsg.OffsetFetchRequestGroupTopic) []kmsg.OffsetFetchResponseGroupTopic {
	var offsets map[string]map[int32]committed
	if g := c.group(name); g != nil {
		offsets = g.offsets
	}
	if topics == nil {
		for _, t := range slices.Sorted(maps.Keys(offsets)) {
			ps := slices.Sorted(maps.Keys(offsets[t]))
			topics = append(topics, kmsg.OffsetFetchRequestGroupTopic{Topic: t, Partitions: ps})
		}
	}
	out := make([]kmsg.OffsetFetchResponseGroupTopic, 0, len(topics))
	for _, t := range topics {
		rt := kmsg.NewOffsetFetchResponseGroupTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
			rp.Partition, rp.Offset, rp.Metadata = p, -1, kmsg.StringPtr("")
			if co, ok := offsets[t.Topic][p]; ok {
				rp.Offset, rp.LeaderEpoch, rp.Metadata = co.offset, co.leaderEpoch, kmsg.StringPtr(co.metadata)
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		out = append(out, rt)
	}
	return out
}
