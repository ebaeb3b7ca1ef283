package kafka

// Metadata, versions 0-12.
//
// One broker (Config.NodeID) at the advertised address leads every
// partition, with itself as the only replica and ISR, leader epoch 0.
// Topics requested by name that do not exist are created with
// Config.DefaultPartitions when auto-creation is on and the request allows
// it (always below v4), and returned at once (Kafka answers
// LEADER_NOT_AVAILABLE first while it creates them). v10+ topic ids come
// from meta.json; v12 requests by topic id are served. Authorized
// operations are not computed: they are returned as "not requested".

import (
	"net"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (s *Server) handleMetadata(r *request) (response, error) {
	req := r.kreq.(*kmsg.MetadataRequest)
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	host, port := s.advertised(r.c)
	b := kmsg.NewMetadataResponseBroker()
	b.NodeID, b.Host, b.Port = s.cfg.NodeID, host, port
	resp.Brokers = append(resp.Brokers, b)
	resp.ClusterID = &s.clusterID
	resp.ControllerID = s.cfg.NodeID

	if req.Topics == nil || r.version == 0 && len(req.Topics) == 0 {
		for _, t := range s.sortedTopics() {
			resp.Topics = append(resp.Topics, s.topicMetadata(t))
		}
		return reply(resp)
	}
	autoCreate := !s.cfg.NoAutoCreateTopics && (r.version < 4 || req.AllowAutoTopicCreation)
	for _, rt := range req.Topics {
		resp.Topics = append(resp.Topics, s.requestedTopic(rt, autoCreate))
	}
	return reply(resp)
}

// requestedTopic answers for one topic of a Metadata request.
func (s *Server) requestedTopic(rt kmsg.MetadataRequestTopic, autoCreate bool) kmsg.MetadataResponseTopic {
	if rt.Topic == nil {
		if t := s.lookupID(rt.TopicID); t != nil {
			return s.topicMetadata(t)
		}
		mt := kmsg.NewMetadataResponseTopic()
		mt.TopicID = rt.TopicID
		mt.ErrorCode = kerr.UnknownTopicID.Code
		return mt
	}
	name := *rt.Topic
	t := s.lookup(name)
	if t == nil && autoCreate {
		var kerrCode *kerr.Error
		t, kerrCode, _ = s.createTopic(name, s.cfg.DefaultPartitions, false)
		if kerrCode == kerr.TopicAlreadyExists {
			t = s.lookup(name)
		}
	}
	if t != nil {
		return s.topicMetadata(t)
	}
	mt := kmsg.NewMetadataResponseTopic()
	mt.Topic = &name
	mt.ErrorCode = kerr.UnknownTopicOrPartition.Code
	if validTopicName(name) != nil {
		mt.ErrorCode = kerr.InvalidTopicException.Code
	}
	return mt
}

func (s *Server) topicMetadata(t *topic) kmsg.MetadataResponseTopic {
	mt := kmsg.NewMetadataResponseTopic()
	name := t.name
	mt.Topic = &name
	mt.TopicID = t.id
	replicas := []int32{s.cfg.NodeID}
	for p := range t.parts {
		mp := kmsg.NewMetadataResponseTopicPartition()
		mp.Partition = int32(p)
		mp.Leader = s.cfg.NodeID
		mp.LeaderEpoch = 0
		mp.Replicas = replicas
		mp.ISR = replicas
		mp.OfflineReplicas = []int32{}
		mt.Partitions = append(mt.Partitions, mp)
	}
	return mt
}

// advertised returns the host and port Metadata gives as this broker's:
// Config.Advertise, or else the local address of c (the one the client
// dialed).
func (s *Server) advertised(c *conn) (string, int32) {
	if s.cfg.Advertise != "" {
		host, port, _ := splitHostPort(s.cfg.Advertise)
		return host, port
	}
	if c != nil {
		if a, ok := c.nc.LocalAddr().(*net.TCPAddr); ok {
			return a.IP.String(), int32(a.Port)
		}
		if host, port, err := splitHostPort(c.nc.LocalAddr().String()); err == nil {
			return host, port
		}
	}
	host, port, _ := splitHostPort(s.cfg.Addr)
	return host, port
}
