package loadgen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"

	"gale/broker/kafka"
	"gale/broker/seglog"
)

// openEmbedded starts gale's reference broker in this process, on a fresh
// temporary directory and a loopback port, and drives it as a Kafka
// target. Close stops the broker and removes the directory.
func openEmbedded(ctx context.Context, w Workload, bugs kafka.Bugs) (*kafkaDriver, error) {
	dir, err := os.MkdirTemp("", "gale-embedded-")
	if err != nil {
		return nil, fmt.Errorf("loadgen: embedded: %w", err)
	}
	srv, err := kafka.New(kafka.Config{
		Dir:                    dir,
		Log:                    seglog.Options{SegmentBytes: 64 << 20},
		RetentionCheckInterval: -1,
		Logger:                 slog.New(slog.NewTextHandler(io.Discard, nil)),
		Bugs:                   bugs, // tests only (Config.bugs)
	})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("loadgen: embedded: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		srv.Close()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("loadgen: embedded: %w", err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	stop := func() error {
		err := srv.Close()
		if serr := <-served; !errors.Is(serr, kafka.ErrServerClosed) && err == nil {
			err = serr
		}
		if rerr := os.RemoveAll(dir); err == nil {
			err = rerr
		}
		return err
	}
	d, err := openKafka(ctx, []string{ln.Addr().String()}, w, Security{})
	if err != nil {
		stop()
		return nil, err
	}
	d.after = stop
	return d, nil
}
