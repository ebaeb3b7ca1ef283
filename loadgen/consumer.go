package loadgen

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"gopkg.in/yaml.v3"
)

// ConsumerModel is the workload's consumer section: what a consumer does
// with each message it receives. Without it (nil) consumers only count
// what they receive, and Kafka consumers commit as franz-go's autocommit
// does. With it, every message ends processed or dead-lettered (or
// discarded, with deadLetter off), and results count each (Summary.Consumer).
type ConsumerModel struct {
	// Processing is each processing attempt's simulated duration, spent
	// on the consumer's goroutine. Default 0: none.
	Processing Processing `yaml:"processing" json:"processing"`
	// PoisonRate is the fraction of messages, in [0, 1], whose processing
	// always fails. The producer chooses them at send, from the run's seed,
	// the producer and the message's sequence number, and marks them in a
	// header (gale-poison), so the consumer knows without shared state.
	// Default 0.
	PoisonRate float64 `yaml:"poisonRate" json:"poisonRate"`
	// Retries is how many attempts follow a failed first one, at once and
	// on the same goroutine, before the message is dead-lettered.
	// Default 0.
	Retries int `yaml:"retries" json:"retries"`
	// DeadLetter sends what exhausts its retries to the dead-letter
	// destination: the topic <topic>-dlq on Kafka targets (produced to by
	// the consumer before it commits), RabbitMQ's dead-letter exchange
	// <topic>-dlx (x-dead-letter-exchange on the queue, bound to the queue
	// <topic>-dlq; the message is nacked without requeue), or NATS
	// JetStream's stream <topic>-dlq (published to, then the message is
	// terminated). Default false: such messages are discarded (acked).
	DeadLetter bool `yaml:"deadLetter" json:"deadLetter"`
	// Commit is when the consumer commits (Kafka offsets) or acks
	// (RabbitMQ, NATS): "before" processing (at-most-once: a crash loses
	// what was in hand) or "after" (at-least-once: a crash redelivers it).
	// Default "after".
	Commit string `yaml:"commit" json:"commit"`
}

// Commit modes (ConsumerModel.Commit).
const (
	CommitBefore = "before"
	CommitAfter  = "after"
)

// Processing is a processing time: fixed ("2ms" in YAML), or drawn per
// attempt from a distribution ({distribution: exponential, mean: 2ms,
// max: 20ms}).
type Processing struct {
	// Distribution is fixed (default), exponential, uniform (on
	// [0, 2 x Mean]) or normal (standard deviation StdDev).
	Distribution string `yaml:"distribution" json:"distribution,omitempty"`
	// Mean is the fixed time, or the distribution's mean.
	Mean time.Duration `yaml:"mean" json:"mean_ns"`
	// Max caps every draw. Default 10 x Mean for a distribution.
	Max time.Duration `yaml:"max" json:"max_ns,omitempty"`
	// StdDev is the normal distribution's. Default Mean / 4.
	StdDev time.Duration `yaml:"stddev" json:"stddev_ns,omitempty"`
}

// Processing distributions.
const (
	Fixed       = "fixed"
	Exponential = "exponential"
	Uniform     = "uniform"
	Normal      = "normal"
)

// UnmarshalYAML reads a duration ("2ms", fixed) or a mapping.
func (p *Processing) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		var d time.Duration
		if err := n.Decode(&d); err != nil {
			return fmt.Errorf("line %d: processing: want a duration or {distribution, mean, max}: %v", n.Line, err)
		}
		*p = Processing{Distribution: Fixed, Mean: d}
		return nil
	}
	type plain Processing // no UnmarshalYAML: no recursion
	return n.Decode((*plain)(p))
}

// validate returns a copy of m with defaults, or an error naming the field.
func (m ConsumerModel) validate() (ConsumerModel, error) {
	if m.Commit == "" {
		m.Commit = CommitAfter
	}
	p := &m.Processing
	if p.Distribution == "" {
		p.Distribution = Fixed
	}
	if p.Distribution != Fixed {
		if p.Max == 0 {
			p.Max = 10 * p.Mean
		}
		if p.Distribution == Normal && p.StdDev == 0 {
			p.StdDev = p.Mean / 4
		}
	}
	switch {
	case m.Commit != CommitBefore && m.Commit != CommitAfter:
		return m, werr("consumer.commit %q, want before or after", m.Commit)
	case m.PoisonRate < 0 || m.PoisonRate > 1 || math.IsNaN(m.PoisonRate):
		return m, werr("consumer.poisonRate = %v, want within [0, 1]", m.PoisonRate)
	case m.Retries < 0 || m.Retries > 1000:
		return m, werr("consumer.retries = %d, want within [0, 1000]", m.Retries)
	case p.Mean < 0 || p.Max < 0 || p.StdDev < 0:
		return m, werr("consumer.processing: mean, max and stddev must not be negative")
	case p.Mean > time.Minute:
		return m, werr("consumer.processing.mean = %v, want <= 1m", p.Mean)
	}
	switch p.Distribution {
	case Fixed, Exponential, Uniform, Normal:
	default:
		return m, werr("consumer.processing.distribution %q, want fixed, exponential, uniform or normal", p.Distribution)
	}
	if p.Distribution != Fixed && p.Max < p.Mean {
		return m, werr("consumer.processing.max = %v is below its mean %v", p.Max, p.Mean)
	}
	return m, nil
}

// draw is one attempt's processing time. rng is the consumer's own.
func (p Processing) draw(rng *rand.Rand) time.Duration {
	var d float64
	mean := float64(p.Mean)
	switch p.Distribution {
	case Exponential:
		d = rng.ExpFloat64() * mean
	case Uniform:
		d = rng.Float64() * 2 * mean
	case Normal:
		d = mean + rng.NormFloat64()*float64(p.StdDev)
	default:
		return p.Mean
	}
	return time.Duration(min(max(d, 0), float64(p.Max)))
}

// isPoison reports whether message seq of producer prod is poison, for a
// run seeded with seed: a pure function of the three, so tests and the
// consumer side can recompute it.
func isPoison(seed uint64, prod int, seq int64, rate float64) bool {
	if rate <= 0 {
		return false
	}
	h := splitmix(seed ^ splitmix(uint64(prod)<<40^uint64(seq)))
	return float64(h>>11)/(1<<53) < rate
}

// splitmix is SplitMix64's finaliser: a good 64-bit mix.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	return x ^ x>>31
}

// Outcome is how a consumer ended one delivery; the driver acts on it.
type Outcome int

const (
	// Processed: commit or ack it (after processing, per the commit mode).
	Processed Outcome = iota
	// DeadLetter: it exhausted its retries; send it to the dead-letter
	// destination, then commit or ack it.
	DeadLetter
	// Discard: it exhausted its retries and there is no dead-letter
	// destination; commit or ack it.
	Discard
	// Abandon: the consumer is stopping (the run ended, or it crashed)
	// before this message ended; neither it nor the rest of its poll is
	// committed or acked, and the driver's Receive should return.
	Abandon
)

// String names o as results and notes do.
func (o Outcome) String() string {
	switch o {
	case Processed:
		return "processed"
	case DeadLetter:
		return "dead-lettered"
	case Discard:
		return "discarded"
	case Abandon:
		return "abandoned"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Headers the consumer model adds to every message: gale-msg, the
// producer (uint32) and sequence number (uint64), big-endian, so
// consumers count distinct messages; gale-poison on poison messages.
const (
	msgHeader    = "gale-msg"
	poisonHeader = "gale-poison"
)

// errConsumerModelRaw: the raw producer resends one prebuilt batch, so
// its messages cannot carry their own identity or poison mark.
var errConsumerModelRaw = werr("a consumer section needs producer client (the raw producer's messages carry no identity or poison mark)")
