package scenarios

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"gale/loadgen"
	"gale/sim"
)

// Target is where a scenario runs: gale's reference broker under the
// simulator (Broker set), or an external broker (URL set), never both.
type Target struct {
	// Broker is "embedded" (in-process) or "subprocess" (a gale broker
	// process the simulator can kill and pause). Default "embedded".
	Broker string
	// Flush is the broker's flush policy: never (page cache), interval or
	// always (fsync before each ack). Default never.
	Flush string
	// Memory keeps the embedded broker's log in memory, behind the file
	// seam that can "lose power" (drop unsynced writes, tear the tail).
	// Default false: mmap'd files in a temporary directory.
	Memory bool
	// SegmentBytes is the log's segment size. Default: the broker's.
	SegmentBytes int64
	// Partitions is the broker's default partition count for topics it
	// creates on its own. Default: the broker's.
	Partitions int
	// URL is an external broker: kafka://host:port, amqp://..., nats://...
	// Faults are an error against it, and checks need a kafka:// URL.
	URL string
}

var targetFields = []string{"broker", "flush", "memory", "segment_bytes", "partitions", "url"}

func (d *decoder) target(n *yaml.Node) (Target, error) {
	t := Target{}
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" { // target: embedded | kafka://...
		if n.Value == "embedded" || n.Value == "subprocess" {
			t.Broker = n.Value
		} else {
			t.URL = n.Value
		}
		return t.withDefaults(), d.checkURL(n, t)
	}
	ps, err := d.pairs(n, "target", targetFields)
	if err != nil {
		return t, err
	}
	var urlNode *yaml.Node
	for _, p := range ps {
		k, v := p[0], p[1]
		f := "target." + k.Value
		switch k.Value {
		case "broker":
			if t.Broker, err = d.str(v, f); err == nil && t.Broker != "embedded" && t.Broker != "subprocess" {
				err = d.errorf(v, f, "want embedded or subprocess, found %q", t.Broker)
			}
		case "flush":
			if t.Flush, err = d.str(v, f); err == nil && !contains([]string{"never", "interval", "always"}, t.Flush) {
				err = d.errorf(v, f, "want never, interval or always, found %q", t.Flush)
			}
		case "memory":
			t.Memory, err = d.boolean(v, f)
		case "segment_bytes":
			var b int64
			if b, err = d.integer(v, f); err == nil && b <= 0 {
				err = d.errorf(v, f, "must be positive")
			}
			t.SegmentBytes = b
		case "partitions":
			var p int64
			if p, err = d.integer(v, f); err == nil && (p <= 0 || p > 1<<16) {
				err = d.errorf(v, f, "must be between 1 and 65536")
			}
			t.Partitions = int(p)
		case "url":
			t.URL, err = d.str(v, f)
			urlNode = v
		}
		if err != nil {
			return t, err
		}
	}
	if t.URL != "" && (t.Broker != "" || t.Flush != "" || t.Memory || t.SegmentBytes != 0 || t.Partitions != 0) {
		return t, d.errorf(n, "target", "url names an external broker; broker, flush, memory, segment_bytes and partitions apply only to gale's own")
	}
	if t.Memory && t.Broker == "subprocess" {
		return t, d.errorf(n, "target.memory", "an in-memory log needs the embedded broker (the subprocess broker writes files)")
	}
	if urlNode != nil {
		if err := d.checkURL(urlNode, t); err != nil {
			return t, err
		}
	}
	return t.withDefaults(), nil
}

func (d *decoder) checkURL(n *yaml.Node, t Target) error {
	if t.URL == "" {
		return nil
	}
	lt, err := loadgen.ParseTarget(t.URL)
	if err != nil {
		return d.errorf(n, "target.url", "%v", err)
	}
	if lt.Kind == "embedded" || lt.Kind == "null" {
		return d.errorf(n, "target.url", "want kafka://, amqp:// or nats:// (for gale's own broker write broker: embedded)")
	}
	return nil
}

// envConfig is the sim.EnvConfig of gale's own broker as t describes it:
// what Run starts, and what sim.Supports judges faults against before.
func (t Target) envConfig() sim.EnvConfig {
	return sim.EnvConfig{Broker: t.Broker, Flush: t.Flush, Memory: t.Memory, SegmentBytes: t.SegmentBytes, Partitions: t.Partitions}
}

func (t Target) withDefaults() Target {
	if t.URL == "" {
		if t.Broker == "" {
			t.Broker = "embedded"
		}
		if t.Flush == "" {
			t.Flush = "never"
		}
	}
	return t
}

// External reports whether t is a broker gale does not run.
func (t Target) External() bool { return t.URL != "" }

// Kafka reports whether t speaks the Kafka protocol (gale's broker or a
// kafka:// URL), which recording a history needs.
func (t Target) Kafka() bool { return !t.External() || strings.HasPrefix(t.URL, "kafka://") }

// String describes t without credentials: "embedded broker (flush=never,
// memory)" or the URL as loadgen prints it.
func (t Target) String() string {
	if t.External() {
		if lt, err := loadgen.ParseTarget(t.URL); err == nil {
			return lt.String()
		}
		return "external broker"
	}
	opts := []string{"flush=" + t.Flush}
	if t.Memory {
		opts = append(opts, "memory")
	}
	if t.SegmentBytes > 0 {
		opts = append(opts, fmt.Sprintf("segment_bytes=%d", t.SegmentBytes))
	}
	if t.Partitions > 0 {
		opts = append(opts, fmt.Sprintf("partitions=%d", t.Partitions))
	}
	return fmt.Sprintf("%s broker (%s)", t.Broker, strings.Join(opts, ", "))
}
