package main

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"gale/broker/kafka"
	"gale/broker/seglog"
)

func init() {
	register(command{"broker", "run the reference broker (Kafka protocol) over a data directory", runBroker})
}

func runBroker(args []string) int {
	fs := newFlags("broker", "--listen HOST:PORT --data DIR [flags]\n\n"+
		"Runs gale's reference broker: a single-node broker that speaks the Kafka protocol\n"+
		"(franz-go, librdkafka/kcat, sarama and kafka-go clients work against it) and keeps\n"+
		"each partition as a segmented, memory-mapped log in DIR/<topic>-<partition>.\n"+
		"Batches are stored and served exactly as producers compressed them.\n\n"+
		"One log line at start (on stderr) gives the address listened on (the port chosen\n"+
		"when --listen ends in :0), the data directory and the settings. SIGINT or SIGTERM\n"+
		"shuts down cleanly: every log is flushed and checkpointed, so the next start\n"+
		"verifies nothing; after a crash the next start verifies the tail past the last\n"+
		"checkpoint and cuts a torn batch. Exit 0 after a clean shutdown; 2 on a bad flag,\n"+
		"when the broker cannot start (data directory, address) or fails while serving.")
	listen := hostPortFlag{value: "127.0.0.1:9092", allowZeroPort: true}
	advertise := hostPortFlag{}
	flush := flushFlag(seglog.FlushNever)
	segmentBytes := intFlag{v: 1 << 30, min: 1024, max: seglog.MaxSegmentBytes}
	retentionMs := intFlag{v: 7 * 24 * 3600 * 1000, min: 1, max: math.MaxInt64 / int64(time.Millisecond), none: true}
	retentionBytes := intFlag{v: -1, min: 1, max: 1 << 62, none: true}
	defaultPartitions := intFlag{v: 1, min: 1, max: 10000}
	maxRequestBytes := intFlag{v: 100 << 20, min: 1024, max: 1<<31 - 1}
	fs.Var(&listen, "listen", "`HOST:PORT` to accept Kafka clients on; port 0 picks a free port (logged at start)")
	data := fs.String("data", "", "data `DIR`, created if missing (required)")
	fs.Var(&advertise, "advertise", "`HOST:PORT` given to clients in Metadata responses (default: the address each client dialed)")
	fs.Var(&flush, "flush", "durability `policy`: never (page cache; survives kill -9, not power loss), interval (fsync every second), always (fsync before each acknowledgement, shared by concurrent appends) (default never)")
	fs.Var(&segmentBytes, "segment-bytes", "segment file size in `bytes` (preallocated; a segment rolls when full)")
	fs.Var(&retentionMs, "retention-ms", "delete sealed segments whose newest record is older than this many `ms`; -1: no time limit")
	fs.Var(&retentionBytes, "retention-bytes", "delete the oldest sealed segments while a partition stays above this many `bytes` without them; -1: no size limit")
	fs.Var(&defaultPartitions, "default-partitions", "partition `count` of auto-created topics and of CreateTopics asking for the default")
	autoCreate := fs.Bool("auto-create-topics", true, "create a topic when a client's Metadata request names one that does not exist (as Kafka's auto.create.topics.enable)")
	fs.Var(&maxRequestBytes, "max-request-bytes", "largest request in `bytes` a client may send; a larger one closes its connection")
	var level slog.Level
	fs.TextVar(&level, "log-level", slog.LevelInfo, "`level` of the log on stderr: debug (also each partition's recovery report at start), info, warn, error")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "gale broker: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if *data == "" {
		fmt.Fprintln(os.Stderr, "gale broker: --data DIR is required")
		return exitUsage
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	srv, err := kafka.New(kafka.Config{
		Addr:      listen.value,
		Advertise: advertise.value,
		Dir:       *data,
		Log: seglog.Options{
			SegmentBytes:   segmentBytes.v,
			RetentionAge:   time.Duration(retentionMs.v) * time.Millisecond,
			RetentionBytes: retentionBytes.v,
			Flush:          seglog.FlushPolicy(flush),
		},
		DefaultPartitions:  int32(defaultPartitions.v),
		NoAutoCreateTopics: !*autoCreate,
		MaxRequestBytes:    int32(maxRequestBytes.v),
		Logger:             logger,
	})
	if err != nil {
		logger.Error("gale broker: cannot start", "err", err)
		return exitUsage
	}
	ln, err := net.Listen("tcp", listen.value)
	if err != nil {
		logger.Error("gale broker: cannot listen", "err", err)
		srv.Close()
		return exitUsage
	}
	return serveUntilSignal(srv, ln, logger)
}

// serveUntilSignal serves ln until SIGINT or SIGTERM, then closes srv
// (flush and checkpoint). A second signal during the shutdown kills the
// process the default way.
func serveUntilSignal(srv *kafka.Server, ln net.Listener, logger *slog.Logger) int {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case sig := <-sigs:
		signal.Stop(sigs)
		logger.Info("gale broker: shutting down", "signal", sig.String())
		err := srv.Close()
		<-served
		if err != nil {
			logger.Error("gale broker: shutdown incomplete", "err", err)
			return exitUsage
		}
		return exitOK
	case err := <-served:
		signal.Stop(sigs)
		logger.Error("gale broker: serving failed", "err", err)
		srv.Close()
		return exitUsage
	}
}

// intFlag is an integer flag that must lie in [min, max], or be -1 when
// none is set ("no limit").
type intFlag struct {
	v        int64
	min, max int64
	none     bool
}

func (f *intFlag) String() string { return strconv.FormatInt(f.v, 10) }

func (f *intFlag) Set(s string) error {
	v, err := strconv.ParseInt(s, 10, 64)
	switch {
	case err != nil:
		return errors.New("not an integer")
	case f.none && v == -1:
	case v < f.min || v > f.max:
		if f.none {
			return fmt.Errorf("want -1 or a value in [%d, %d]", f.min, f.max)
		}
		return fmt.Errorf("want a value in [%d, %d]", f.min, f.max)
	}
	f.v = v
	return nil
}

// hostPortFlag is a HOST:PORT flag.
type hostPortFlag struct {
	value         string
	allowZeroPort bool
}

func (f *hostPortFlag) String() string { return f.value }

func (f *hostPortFlag) Set(s string) error {
	_, ps, err := net.SplitHostPort(s)
	if err != nil {
		return errors.New("want HOST:PORT")
	}
	port, err := strconv.ParseUint(ps, 10, 16)
	if err != nil || port == 0 && !f.allowZeroPort {
		return fmt.Errorf("bad port %q", ps)
	}
	f.value = s
	return nil
}

// flushFlag is a seglog.FlushPolicy flag.
type flushFlag seglog.FlushPolicy

func (f *flushFlag) String() string { return seglog.FlushPolicy(*f).String() }

func (f *flushFlag) Set(s string) error {
	p, err := seglog.ParseFlushPolicy(s)
	if err != nil {
		return errors.New("want never, interval or always")
	}
	*f = flushFlag(p)
	return nil
}
