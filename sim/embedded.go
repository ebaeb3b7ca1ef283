package sim

import (
	"fmt"
	"io"
	"log/slog"
	"net"

	"gale/broker/kafka"
)

// embedded is one in-process kafka.Server serving a loopback listener, on
// a FaultFS. Restarting makes a new embedded on the same (or a crashed
// clone of the) filesystem.
type embedded struct {
	srv    *kafka.Server
	addr   string
	served chan error // Serve's result, once it returned
}

// startEmbedded opens a server with cfg on fs and serves 127.0.0.1:0.
func startEmbedded(cfg kafka.Config, fs *FaultFS) (*embedded, error) {
	cfg.Log.FS = fs
	srv, err := kafka.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("sim: embedded broker: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Abandon()
		return nil, fmt.Errorf("sim: embedded broker: %w", err)
	}
	e := &embedded{srv: srv, addr: ln.Addr().String(), served: make(chan error, 1)}
	go func() { e.served <- srv.Serve(ln) }()
	return e, nil
}

// abandon stops the server as kill -9 would; when it returns, nothing of
// the server touches its filesystem.
func (e *embedded) abandon() {
	e.srv.Abandon()
	<-e.served
}

// close shuts the server down cleanly (flush and checkpoint).
func (e *embedded) close() error {
	err := e.srv.Close()
	<-e.served
	return err
}

// memDir is the data directory of an embedded broker on vfs.Mem.
const memDir = "/gale"

// slogTo returns a logger writing to logf, or discarding when logf is nil.
func slogTo(logf func(string, ...any)) *slog.Logger {
	if logf == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(logWriter(logf), &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// logWriter adapts logf to an io.Writer taking one line per Write (as
// slog's handlers write).
type logWriter func(string, ...any)

func (w logWriter) Write(p []byte) (int, error) {
	s := string(p)
	if len(s) > 0 && s[len(s)-1] == '\n' {
		s = s[:len(s)-1]
	}
	w("broker: %s", s)
	return len(p), nil
}
