package kafka

// OffsetCommit, versions 0 to group.MaxVersion (8).
//
// Served by the group coordinator (package group): a member of the
// current generation, or a simple client of an Empty group (generation -1,
// no member id), commits. Each accepted offset is appended to the offsets
// log and synced as Config.Log.Flush says before the response goes out; if
// the append fails, the commit is undone and answered NOT_COORDINATOR.
// Simplified: topics and partitions are not checked for existence,
// retention times are ignored (offsets never expire), v9+ (KIP-848 member
// epochs) is not served.

func (s *Server) handleOffsetCommit(r *request) (response, error) { return s.handleGroup(r) }
