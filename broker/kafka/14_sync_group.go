package kafka

// SyncGroup, versions 0 to group.MaxVersion (5).
//
// Served by the group coordinator (package group). A follower's reply
// waits for the leader's assignment (bounded by the rebalance timeout);
// meanwhile the connection's later requests wait behind it and the
// connection is watched for a client hanging up, as for JoinGroup.

func (s *Server) handleSyncGroup(r *request) (response, error) { return s.handleGroup(r) }
