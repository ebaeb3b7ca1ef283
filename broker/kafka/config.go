package kafka

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"gale/broker/group"
	"gale/broker/seglog"
	"gale/broker/vfs"
)

// Config configures a Server. Only Dir is required; every other field's zero
// value selects the default documented on it (Kafka's, where Kafka has one).
// New works on a copy: the caller's Config is never modified.
type Config struct {
	// Addr is the address ListenAndServe listens on. Default
	// "127.0.0.1:9092". Serve ignores it.
	Addr string

	// Advertise is the host:port Metadata gives clients as this broker's
	// address. Default: the local address of the connection the Metadata
	// request arrived on, i.e. the address the client dialed. Set it when
	// clients reach the broker through a proxy (a fault-injecting one, say)
	// or NAT, or the clients will bypass the proxy after their first
	// Metadata request.
	Advertise string

	// Dir is the data directory. It holds one directory per partition,
	// <topic>-<partition>, and meta.json (cluster id and topics). It is
	// created if missing. Required.
	Dir string

	// Log configures every partition's log: segment size, retention, flush
	// policy. See seglog.Options for its defaults (1 GiB segments,
	// preallocated; 7 days retention; flush never).
	//
	// Log.FS is the file seam of the whole server, not only of the
	// partition logs: meta.json, the producer-id file, the offsets log,
	// listing partition directories at start and removing them on topic
	// deletion all go through it. Default vfs.DefaultOS. With a vfs.Mem
	// (to crash the broker in memory, see Server.Abandon), every segment
	// file is a Go byte slice of Log.SegmentBytes allocated when the
	// segment is created, so use small segments: 16 MiB, say, costs
	// 16 MiB per partition, plus 16 MiB for the offsets log, and one more
	// segment each time a partition rolls.
	Log seglog.Options

	// Group configures the consumer-group coordinator: session timeout
	// bounds (default 6 s to 30 min), initial rebalance delay (default 0;
	// Kafka's is 3 s), group size and offset metadata caps. See
	// group.Config. MemberIDSalt 0 is replaced by the time New is called,
	// so member ids of different runs never collide.
	Group group.Config

	// NodeID is this broker's id in Metadata responses. Default 0.
	NodeID int32

	// DefaultPartitions is the partition count of auto-created topics and
	// of CreateTopics requests asking for the default (-1). Default 1.
	DefaultPartitions int32

	// MaxPartitions bounds one topic's partition count; a CreateTopics
	// asking for more gets INVALID_PARTITIONS. Default 10000.
	MaxPartitions int32

	// NoAutoCreateTopics turns off creating a topic when a Metadata request
	// names one that does not exist. Default false: topics are
	// auto-created, as Kafka's auto.create.topics.enable defaults to.
	NoAutoCreateTopics bool

	// MaxRequestBytes bounds one request's size (Kafka's
	// socket.request.max.bytes); a client announcing a larger request is
	// logged and disconnected. Default 100 MiB.
	MaxRequestBytes int32

	// MaxFetchWait caps the MaxWait of a Fetch request, which bounds how
	// long a long poll from a vanished client holds its goroutine.
	// Default 30 s.
	MaxFetchWait time.Duration

	// RetentionCheckInterval is how often every log's retention is
	// enforced. Default 5 minutes (Kafka's
	// log.retention.check.interval.ms); negative disables the check.
	RetentionCheckInterval time.Duration

	// Bugs switches on deliberately broken behaviour, for negative controls
	// only: tests showing that the history checks catch a broken broker.
	// Default: none (a correct broker). See Bugs.
	Bugs Bugs

	// Logger receives one line per notable event: topics opened and
	// recovered, retention deletions, bad input, shutdown. Default
	// slog.Default().
	Logger *slog.Logger
}

// withDefaults returns a copy of c with defaults filled in, or an error if a
// field is out of range.
func (c Config) withDefaults() (Config, error) {
	if c.Dir == "" {
		return c, errors.New("kafka: Config.Dir is required")
	}
	if c.Addr == "" {
		c.Addr = "127.0.0.1:9092"
	}
	if c.Advertise != "" {
		if _, _, err := splitHostPort(c.Advertise); err != nil {
			return c, fmt.Errorf("kafka: Config.Advertise: %w", err)
		}
	}
	if c.DefaultPartitions == 0 {
		c.DefaultPartitions = 1
	}
	if c.MaxPartitions == 0 {
		c.MaxPartitions = 10000
	}
	if c.DefaultPartitions < 1 || c.DefaultPartitions > c.MaxPartitions {
		return c, fmt.Errorf("kafka: Config.DefaultPartitions %d out of range [1, %d]", c.DefaultPartitions, c.MaxPartitions)
	}
	if c.MaxRequestBytes == 0 {
		c.MaxRequestBytes = 100 << 20
	}
	if c.MaxRequestBytes < 64 {
		return c, fmt.Errorf("kafka: Config.MaxRequestBytes %d too small", c.MaxRequestBytes)
	}
	if c.MaxFetchWait <= 0 {
		c.MaxFetchWait = 30 * time.Second
	}
	if c.RetentionCheckInterval == 0 {
		c.RetentionCheckInterval = 5 * time.Minute
	}
	if c.Group.MemberIDSalt == 0 {
		c.Group.MemberIDSalt = uint64(time.Now().UnixNano())
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Log.FS == nil {
		c.Log.FS = vfs.DefaultOS
	}
	if err := c.Bugs.validate(); err != nil {
		return c, err
	}
	return c, nil
}

// splitHostPort splits "host:port" and checks the port is a TCP port.
func splitHostPort(hp string) (string, int32, error) {
	host, ps, err := net.SplitHostPort(hp)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.ParseUint(ps, 10, 16)
	if err != nil {
		return "", 0, fmt.Errorf("bad port in %q", hp)
	}
	return host, int32(port), nil
}
