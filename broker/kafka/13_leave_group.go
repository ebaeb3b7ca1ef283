package kafka

// LeaveGroup, versions 0 to group.MaxVersion (5).
//
// Served by the group coordinator (package group): the member (v3+: each
// member of the batch, by member id or instance id) leaves and the group
// rebalances.

func (s *Server) handleLeaveGroup(r *request) (response, error) { return s.handleGroup(r) }
