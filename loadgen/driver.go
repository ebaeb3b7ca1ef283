package loadgen

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"gale/broker/kafka"
)

// Driver connects the load loops to one kind of broker. Each driver lives
// in its own file (driver_*.go). A Driver's methods may be called from
// several goroutines; each Producer and Consumer is used by one goroutine,
// except that Send's done callbacks may run on the driver's goroutines.
type Driver interface {
	// CreateTopic makes a topic (queue, stream) with the given partitions,
	// empty and ready for the run.
	CreateTopic(ctx context.Context, topic string, partitions int) error
	// NewProducer returns a producer publishing to topic.
	NewProducer(ctx context.Context, topic string) (Producer, error)
	// NewConsumer returns one member of subscription sub on topic, reading
	// from the start of the topic.
	NewConsumer(ctx context.Context, topic, sub string) (Consumer, error)
	// Close releases what the driver holds (an embedded broker, connections).
	Close() error
}

// Producer publishes messages asynchronously.
type Producer interface {
	// Send publishes m and returns at once, or blocks while the driver's
	// own buffers are full. done is called exactly once, with nil when the
	// broker acknowledged m (per Workload.Acks), possibly on another
	// goroutine. Send must not keep m.Value after done.
	Send(ctx context.Context, m Message, done func(error))
	// Close waits (up to ctx) for outstanding sends, then closes.
	Close(ctx context.Context) error
}

// ErrDataLoss marks a consumer error saying records the consumer had not
// read are gone: the broker answered that the offset after the last one it
// read was out of range (on Kafka targets, franz-go's ErrDataLoss). Runs
// count these in Summary.DataLoss.
var ErrDataLoss = errors.New("loadgen: records lost before they were read")

// Consumer receives messages.
type Consumer interface {
	// Receive calls fn for each message received, on the calling
	// goroutine, until ctx ends or the consumer fails; it returns nil when
	// ctx ended. Errors the consumer survives (a failed fetch it retries)
	// go to failed, also on the calling goroutine, and are counted.
	//
	// fn returns how the message ended (Outcome), and the driver acts on
	// it per the workload's consumer model (Workload.Consumer): it commits
	// or acks before calling fn (commit "before") or after (commit
	// "after"), sends a DeadLetter outcome to the dead-letter destination,
	// and, on Abandon, returns without committing or acking the message
	// or the rest of its poll. Without a consumer model fn always returns
	// Processed and the driver commits or acks as it likes.
	Receive(ctx context.Context, fn func(Delivery) Outcome, failed func(error)) error
	Close() error
}

// Message is one message to publish.
type Message struct {
	Key   []byte
	Value []byte
	// SentAt is the send timestamp carried to the consumer, Unix
	// nanoseconds on the harness's clock (nowNs): the intended send time
	// in open-loop runs, the actual one in closed-loop runs. Drivers carry
	// it in a header.
	SentAt int64
	// Tagged is set when the workload has a consumer model: drivers then
	// carry Producer and Seq (gale-msg) and Poison (gale-poison) in headers.
	Tagged   bool
	Poison   bool
	Producer uint32 // the producer's index in the run
	Seq      uint64 // the message's sequence number in its producer
}

// Delivery is one received message, as the measurement needs it.
type Delivery struct {
	SentAt int64 // Message.SentAt; 0 when the message carried none
	Bytes  int   // payload size
	// ReceivedAt is when the message was received, on the harness's
	// clock (nowNs), for drivers that receive messages in batches (a
	// Kafka poll) and read the clock once per batch; 0: Receive's caller
	// reads the clock.
	ReceivedAt int64
	// Tagged, Poison, Producer and Seq are Message's, read back from the
	// headers; Tagged is false when the message carried no gale-msg.
	Tagged   bool
	Poison   bool
	Producer uint32
	Seq      uint64
}

// appendMsgID appends the gale-msg header's value for producer prod's
// message seq.
func appendMsgID(dst []byte, prod uint32, seq uint64) []byte {
	dst = binary.BigEndian.AppendUint32(dst, prod)
	return binary.BigEndian.AppendUint64(dst, seq)
}

// setMsgID sets d's identity from a gale-msg header's value; a value of
// the wrong length leaves d untagged.
func (d *Delivery) setMsgID(v []byte) {
	if len(v) == 12 {
		d.Tagged, d.Producer, d.Seq = true, binary.BigEndian.Uint32(v), binary.BigEndian.Uint64(v[4:])
	}
}

// timestampHeader names the header carrying Message.SentAt.
const timestampHeader = "gale-sent-ns"

// Security holds TLS and SASL settings for Kafka targets. Credentials are
// never printed or written to results: String and GoString redact them,
// and no result holds a Security.
type Security struct {
	TLS           bool   // use TLS (implied by CAFile or CertFile)
	CAFile        string // PEM CA bundle; default the system roots
	CertFile      string // PEM client certificate, with KeyFile
	KeyFile       string
	SASLMechanism string // "", "PLAIN", "SCRAM-SHA-256" or "SCRAM-SHA-512"
	SASLUser      string
	SASLPassword  string
	tlsConfig     *tls.Config // for tests
}

// String describes s without its credentials.
func (s Security) String() string {
	tls := s.TLS || s.CAFile != "" || s.CertFile != ""
	return fmt.Sprintf("tls=%v sasl=%q user set=%v password set=%v", tls, s.SASLMechanism, s.SASLUser != "", s.SASLPassword != "")
}

// GoString is String, so %#v redacts too.
func (s Security) GoString() string { return s.String() }

// Target is a parsed --target.
type Target struct {
	Kind string // "embedded", "kafka", "amqp", "nats" or "null"
	// Hosts are host:port seeds (kafka), or the URL's host (amqp, nats).
	Hosts []string
	url   string // as given, credentials included; never printed
}

// ParseTarget parses embedded, null, kafka://host:port[,host:port],
// amqp://user:pass@host:port/ or nats://host:port.
func ParseTarget(s string) (Target, error) {
	switch s {
	case "embedded", "null":
		return Target{Kind: s, url: s}, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return Target{}, errors.New("loadgen: target is not a URL (want embedded, kafka://host:port, amqp://user:pass@host:port/ or nats://host:port)")
	}
	t := Target{Kind: u.Scheme, url: s}
	switch u.Scheme {
	case "kafka":
		for h := range strings.SplitSeq(u.Host, ",") {
			if h == "" {
				continue
			}
			if !strings.Contains(h, ":") {
				h += ":9092"
			}
			t.Hosts = append(t.Hosts, h)
		}
	case "amqp", "amqps", "nats":
		t.Hosts = []string{u.Host}
	default:
		return Target{}, fmt.Errorf("loadgen: target %q: want embedded, kafka://, amqp:// or nats://", t.String())
	}
	if len(t.Hosts) == 0 || t.Hosts[0] == "" {
		return Target{}, fmt.Errorf("loadgen: target %q names no host", t.String())
	}
	return t, nil
}

// GoString is String, so %#v never shows the URL's credentials.
func (t Target) GoString() string { return t.String() }

// String is the target without credentials, safe to print and record.
func (t Target) String() string {
	switch t.Kind {
	case "embedded", "null", "":
		return t.Kind
	}
	return t.Kind + "://" + strings.Join(t.Hosts, ",")
}

// dialTimeout bounds connecting to a target: an unreachable target is an
// error within it.
const dialTimeout = 5 * time.Second

// Open connects to the target and returns its driver. w is the validated
// workload (batching, compression, acks).
func Open(ctx context.Context, t Target, w Workload, sec Security) (Driver, error) {
	switch t.Kind {
	case "embedded":
		return openEmbedded(ctx, w, kafka.Bugs{})
	case "null":
		return openNull(w), nil
	case "kafka":
		return openKafka(ctx, t.Hosts, w, sec)
	case "amqp", "amqps":
		return openAMQP(ctx, t.url, w)
	case "nats":
		return openNATS(ctx, t.url, w)
	}
	return nil, fmt.Errorf("loadgen: unknown target kind %q", t.Kind)
}
