package kafka

import (
	"errors"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"

	"gale/broker/seglog"
	"gale/broker/vfs"
)

// ErrServerClosed is returned by Serve and ListenAndServe after Close.
var ErrServerClosed = errors.New("kafka: server closed")

// Server is a single-node Kafka-protocol broker over a data directory.
type Server struct {
	cfg     Config
	fsys    vfs.FS // cfg.Log.FS: every file operation goes through it
	log     *slog.Logger
	done    chan struct{} // closed when Close or Abandon begins
	stopped chan struct{} // closed when Close or Abandon has finished

	// adminMu serializes topic creation and deletion, and so the writes of
	// meta.json.
	adminMu   sync.Mutex
	clusterID string // set by New, then read-only

	tmu    sync.RWMutex // guards topics and byID
	topics map[string]*topic
	byID   map[[16]byte]*topic

	idem idempotence // producer ids and per-partition producer state

	mu        sync.Mutex // guards closed, listeners and conns
	closed    bool       // Close or Abandon has begun
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}

	groups *coordinator // the consumer-group coordinator and offsets log
	bugs   *bugs        // Config.Bugs; nil for a correct broker

	wg sync.WaitGroup // connection goroutines, the retention loop, the coordinator
}

// New opens the data directory, reopening (and recovering) every topic
// found there, and returns a Server ready to Serve. The caller must Close it.
func New(cfg Config) (*Server, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       cfg,
		fsys:      cfg.Log.FS,
		log:       cfg.Logger,
		done:      make(chan struct{}),
		stopped:   make(chan struct{}),
		topics:    make(map[string]*topic),
		byID:      make(map[[16]byte]*topic),
		listeners: make(map[net.Listener]struct{}),
		conns:     make(map[*conn]struct{}),
		bugs:      newBugs(cfg.Bugs, cfg.Logger),
	}
	if err := s.bugs.opening(cfg); err != nil {
		return nil, err
	}
	if err := s.loadTopics(); err != nil {
		s.closeAllLogs()
		return nil, err
	}
	if s.groups, err = s.openCoordinator(); err != nil {
		s.closeAllLogs()
		return nil, err
	}
	s.wg.Add(1)
	go s.groups.run()
	if cfg.RetentionCheckInterval > 0 {
		s.wg.Add(1)
		go s.retentionLoop()
	}
	return s, nil
}

// ListenAndServe listens on Config.Addr (TCP) and serves it until Close.
func (s *Server) ListenAndServe() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// Serve accepts connections on ln and serves each in its own goroutines
// until Close, which also closes ln. It always returns a non-nil error:
// ErrServerClosed after Close.
func (s *Server) Serve(ln net.Listener) error {
	if !s.track(ln) {
		ln.Close()
		return ErrServerClosed
	}
	s.log.Info("kafka: serving", "addr", ln.Addr().String(), "dir", s.cfg.Dir,
		"advertise", s.cfg.Advertise, "flush", s.cfg.Log.Flush.String(),
		"segment_bytes", s.cfg.Log.SegmentBytes, "retention_ms", s.cfg.Log.RetentionAge.Milliseconds(),
		"retention_bytes", s.cfg.Log.RetentionBytes, "auto_create_topics", !s.cfg.NoAutoCreateTopics, "default_partitions", s.cfg.DefaultPartitions,
		"max_request_bytes", s.cfg.MaxRequestBytes, "topics", len(s.sortedTopics()))
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("kafka: accept", "err", err, "retry_in", backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		c := newConn(s, nc)
		if !s.trackConn(c) {
			nc.Close()
			return ErrServerClosed
		}
		go c.serve()
	}
}

// Close stops every listener, closes every connection (requests waiting
// for the group coordinator end with it), waits for their goroutines and
// the coordinator's, then closes every log and the offsets log (flush and
// checkpoint). It returns the errors met closing logs. A later Close, or a
// Close after Abandon, waits until the first has finished, does nothing
// more (no flush, no checkpoint) and returns nil.
func (s *Server) Close() error {
	if !s.stop() {
		<-s.stopped
		return nil
	}
	defer close(s.stopped)
	s.wg.Wait()
	err := errors.Join(s.closeAllLogs(), s.groups.log.Close())
	s.log.Info("kafka: closed", "dir", s.cfg.Dir)
	return err
}

// stop begins a Close or Abandon: it marks the server closed, closes done
// and every listener and connection. False if one had begun already.
func (s *Server) stop() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.closed = true
	close(s.done)
	for ln := range s.listeners {
		ln.Close()
	}
	for c := range s.conns {
		c.nc.Close()
	}
	return true
}

func (s *Server) closeAllLogs() error {
	var errs []error
	for _, t := range s.sortedTopics() {
		errs = append(errs, s.closeLogs(t.parts))
	}
	return errors.Join(errs...)
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// track registers a listener; false if the server is closed.
func (s *Server) track(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.listeners[ln] = struct{}{}
	return true
}

// trackConn registers a connection and counts its goroutine; false if the
// server is closed.
func (s *Server) trackConn(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) untrackConn(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

// retentionLoop enforces every log's retention every
// Config.RetentionCheckInterval until Close.
func (s *Server) retentionLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.RetentionCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			s.enforceRetention()
		}
	}
}

func (s *Server) enforceRetention() {
	for _, t := range s.sortedTopics() {
		for p, l := range t.parts {
			n, err := l.EnforceRetention()
			if n > 0 {
				s.log.Info("kafka: retention deleted segments", "topic", t.name, "partition", p, "segments", n, "log_start_offset", l.StartOffset())
			}
			if err != nil && !errors.Is(err, seglog.ErrClosed) {
				s.log.Warn("kafka: retention", "topic", t.name, "partition", p, "err", err)
			}
		}
	}
}
