package kafka

// Abandon stops the server the way kill -9 stops a process, for crash tests
// and the simulator. It closes every listener and client connection at
// once, abandons every partition log and the offsets log (seglog.Abandon:
// no sync, no checkpoint, no index files; appends and commits waiting for
// an fsync fail, and their clients, whose connections are gone, get no
// answer), and waits until every goroutine the server started has ended.
//
// When Abandon returns, no goroutine of the server touches Config.Log.FS
// any more, so the filesystem holds exactly what a killed process would
// leave: on vfs.Mem, every byte written so far in its page cache, and in
// a CrashClone what a power loss would keep. A request that was being
// handled when Abandon began may still finish writing (as if the process
// had been killed a moment later); none can have been acknowledged after
// its connection closed. Reopening the data directory with New recovers
// it as after a crash.
//
// Abandon may be called instead of Close, or after it. A second Abandon, a
// Close after Abandon, or an Abandon after Close wait until the first call
// has finished and do nothing more; in particular Close after Abandon
// neither flushes nor checkpoints.
func (s *Server) Abandon() {
	if !s.stop() {
		<-s.stopped
		return
	}
	defer close(s.stopped)
	s.abandonLogs()
	s.wg.Wait()
	// A topic created while the connections were ending has logs the
	// first pass did not see; nothing can create one now.
	s.abandonLogs()
	s.log.Info("kafka: abandoned, as if killed", "dir", s.cfg.Dir)
}

// abandonLogs abandons every topic's logs and the offsets log. Logs
// already closed or abandoned are left as they are.
func (s *Server) abandonLogs() {
	for _, t := range s.sortedTopics() {
		for _, l := range t.parts {
			l.Abandon()
		}
	}
	s.groups.log.Abandon()
}
