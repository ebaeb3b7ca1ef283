package kafka

// CreateTopics, versions 0-7.
//
// Creates each topic with one replica on this broker. NumPartitions -1 (v4+)
// means Config.DefaultPartitions; ReplicationFactor must be -1 or 1.
// Explicit replica assignments are refused (INVALID_REPLICA_ASSIGNMENT) and
// topic configs are ignored: every log uses Config.Log. ValidateOnly checks
// without creating. A name given twice in one request fails both times with
// INVALID_REQUEST, as in Kafka. The timeout is ignored: creation is
// synchronous.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (s *Server) handleCreateTopics(r *request) (response, error) {
	req := r.kreq.(*kmsg.CreateTopicsRequest)
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	seen := make(map[string]int, len(req.Topics))
	for _, rt := range req.Topics {
		seen[rt.Topic]++
	}
	for _, rt := range req.Topics {
		st := kmsg.NewCreateTopicsResponseTopic()
		st.Topic = rt.Topic
		n := rt.NumPartitions
		if n == -1 {
			n = s.cfg.DefaultPartitions
		}
		var (
			code *kerr.Error
			msg  string
		)
		switch {
		case seen[rt.Topic] > 1:
			code, msg = kerr.InvalidRequest, "topic named more than once in the request"
		case rt.ReplicationFactor != -1 && rt.ReplicationFactor != 1:
			code, msg = kerr.InvalidReplicationFactor, "this broker is a single node: replication factor must be 1"
		case len(rt.ReplicaAssignment) > 0:
			code, msg = kerr.InvalidReplicaAssignment, "replica assignments are not supported"
		default:
			var t *topic
			t, code, msg = s.createTopic(rt.Topic, n, req.ValidateOnly)
			if t != nil {
				st.TopicID = t.id
			}
		}
		if code != nil {
			st.ErrorCode = code.Code
			st.ErrorMessage = &msg
		} else {
			st.NumPartitions = n
			st.ReplicationFactor = 1
			st.Configs = []kmsg.CreateTopicsResponseTopicConfig{}
		}
		resp.Topics = append(resp.Topics, st)
	}
	return reply(resp)
}
