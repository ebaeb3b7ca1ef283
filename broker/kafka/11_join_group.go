package kafka

// JoinGroup, versions 0 to group.MaxVersion (9).
//
// Served by the group coordinator (package group). The reply waits until
// the rebalance completes (every member rejoined, or the rebalance timeout
// passed); meanwhile the connection's later requests wait behind it, as in
// Kafka, and the connection is watched so that a client hanging up frees
// its goroutine. v4+ first answers MEMBER_ID_REQUIRED. Simplified: static
// members always trigger a full rebalance; no KIP-394 new-member timeout.

func (s *Server) handleJoinGroup(r *request) (response, error) { return s.handleGroup(r) }
