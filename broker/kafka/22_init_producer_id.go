package kafka

// InitProducerId, versions 0-4.
//
// Without a transactional id (idempotent producers) every request gets a
// fresh producer id with epoch 0, as Kafka does: ProducerID and
// ProducerEpoch in v3+ requests (a client asking to bump its epoch after
// an error) are ignored, since a new id is as good as a bumped epoch for a
// producer without transactions. Ids are persisted a block at a time
// before they are handed out (idempotence.go), so none is reused across
// restarts.
//
// Transactions are not supported. A request with a transactional id gets
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED: a non-retriable code that clients
// report at once (franz-go fails the transactional client's records with
// it; librdkafka raises it as a fatal error), where a retriable one such
// as COORDINATOR_NOT_AVAILABLE would make them retry until their timeout. An empty transactional id gets INVALID_REQUEST, as
// in Kafka.
//
// v5 (KIP-890's transactions V2) is not advertised.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (s *Server) handleInitProducerID(r *request) (response, error) {
	req := r.kreq.(*kmsg.InitProducerIDRequest)
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	switch {
	case req.TransactionalID != nil && *req.TransactionalID == "":
		resp.ErrorCode = kerr.InvalidRequest.Code
		return reply(resp)
	case req.TransactionalID != nil:
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		return reply(resp)
	}
	id, epoch, err := s.nextProducerID()
	if err != nil {
		s.log.Error("kafka: cannot hand out a producer id", "err", err)
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return reply(resp)
	}
	resp.ProducerID, resp.ProducerEpoch = id, epoch
	return reply(resp)
}
