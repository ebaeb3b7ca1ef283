package kafka

// DescribeGroups, versions 0 to group.MaxVersion (5).
//
// Served by the group coordinator (package group): state, protocol type
// and members; a Stable group also gives its protocol and each member's
// metadata and assignment. An unknown group is reported Dead, without
// error. Simplified: no ACLs, so authorized operations, when asked, are
// READ, DELETE and DESCRIBE.

func (s *Server) handleDescribeGroups(r *request) (response, error) { return s.handleGroup(r) }
