package kafka

// FindCoordinator, versions 0-4.
//
// This broker coordinates every group: a group key (type 0) is answered
// with Config.NodeID at the advertised address. There are no transactions,
// so a transaction key (type 1) gets TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
// not retriable, so a transactional client fails at once with a clear error
// instead of retrying until it times out (as it would on
// COORDINATOR_NOT_AVAILABLE); InitProducerId answers a transactional id the
// same way. Any other key type gets INVALID_REQUEST. v4 batches keys (CoordinatorKeys) and
// answers each in Coordinators. v5 and v6 (TRANSACTION_ABORTABLE, share
// groups) are not served.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (s *Server) handleFindCoordinator(r *request) (response, error) {
	req := r.kreq.(*kmsg.FindCoordinatorRequest)
	resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)
	if r.version >= 4 {
		for _, key := range req.CoordinatorKeys {
			c := kmsg.NewFindCoordinatorResponseCoordinator()
			c.Key = key
			c.NodeID, c.Host, c.Port, c.ErrorCode, c.ErrorMessage = s.coordinatorFor(r, req.CoordinatorType)
			resp.Coordinators = append(resp.Coordinators, c)
		}
		return reply(resp)
	}
	resp.NodeID, resp.Host, resp.Port, resp.ErrorCode, resp.ErrorMessage = s.coordinatorFor(r, req.CoordinatorType)
	return reply(resp)
}

// coordinatorFor answers for one key of the given type: this broker for a
// group, or an error (node -1, no address) for any other type.
func (s *Server) coordinatorFor(r *request, keyType int8) (node int32, host string, port int32, code int16, msg *string) {
	var e *kerr.Error
	switch keyType {
	case 0:
		host, port = s.advertised(r.c)
		return s.cfg.NodeID, host, port, 0, nil
	case 1:
		e = kerr.TransactionalIDAuthorizationFailed
	default:
		e = kerr.InvalidRequest
	}
	if r.version == 0 {
		return -1, "", -1, e.Code, nil
	}
	return -1, "", -1, e.Code, kmsg.StringPtr(e.Message + ": gale serves consumer groups only (no transactions)")
}
