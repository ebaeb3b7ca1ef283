package kafka

// OffsetFetch, versions 0 to group.MaxVersion (8).
//
// Served by the group coordinator from memory (package group): a partition
// without a committed offset, or an unknown group, gets offset -1 without
// error; v2+ may ask for every committed offset of a group (null topics);
// v8 asks for several groups at once. Simplified: RequireStable is ignored
// (no transactions); v9+ (KIP-848 member epochs) is not served.

func (s *Server) handleOffsetFetch(r *request) (response, error) { return s.handleGroup(r) }
