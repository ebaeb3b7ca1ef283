package kafka

// Heartbeat, versions 0 to group.MaxVersion (4).
//
// Served by the group coordinator (package group): it keeps the member's
// session alive and answers REBALANCE_IN_PROGRESS while the group
// rebalances, so the member rejoins.

func (s *Server) handleHeartbeat(r *request) (response, error) { return s.handleGroup(r) }
