package kafka

// DeleteTopics, versions 0-6.
//
// Removes each topic from meta.json, closes its logs and removes its
// partition directories before answering. v6 topics may be named by id.
// The timeout is ignored: deletion is synchronous.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (s *Server) handleDeleteTopics(r *request) (response, error) {
	req := r.kreq.(*kmsg.DeleteTopicsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)
	if r.version < 6 {
		for _, name := range req.TopicNames {
			n := name
			req.Topics = append(req.Topics, kmsg.DeleteTopicsRequestTopic{Topic: &n})
		}
	}
	for _, rt := range req.Topics {
		st := kmsg.NewDeleteTopicsResponseTopic()
		st.Topic, st.TopicID = rt.Topic, rt.TopicID
		var t *topic
		if rt.Topic != nil {
			t = s.lookup(*rt.Topic)
			if t == nil {
				st.ErrorCode = kerr.UnknownTopicOrPartition.Code
			}
		} else {
			t = s.lookupID(rt.TopicID)
			if t == nil {
				st.ErrorCode = kerr.UnknownTopicID.Code
			}
		}
		if t != nil {
			name := t.name
			st.Topic, st.TopicID = &name, t.id
			if err := s.deleteTopic(t); err != nil {
				s.log.Error("kafka: delete topic", "topic", t.name, "err", err)
				st.ErrorCode = kerr.KafkaStorageError.Code
				msg := err.Error()
				st.ErrorMessage = &msg
			}
		}
		resp.Topics = append(resp.Topics, st)
	}
	return reply(resp)
}
