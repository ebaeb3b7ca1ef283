package kafka

// ListGroups, versions 0 to group.MaxVersion (5).
//
// Served by the group coordinator (package group): every group it knows
// (with members or committed offsets), with protocol type, state (v4+,
// filterable) and type "classic" (v5+, filterable).

func (s *Server) handleListGroups(r *request) (response, error) { return s.handleGroup(r) }
