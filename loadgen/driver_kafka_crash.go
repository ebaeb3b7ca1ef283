package loadgen

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Crashable Kafka consumers (Control.CrashConsumer): a crash must look to
// the broker like a killed process, so franz-go's Close, which leaves the
// group and may commit, must not reach it. Each crashable consumer dials
// through a connTracker; a crash cuts every connection and refuses new
// ones, then cancels the client's context so Close returns at once.

// crashSession is the crashable members' session timeout: the broker's
// least (group.min.session.timeout.ms), so the group notices a crashed
// member within seconds. Heartbeats go at a third of it or faster.
const (
	crashSession   = 6 * time.Second
	crashHeartbeat = time.Second
	crashRebalance = 15 * time.Second
)

// errCrashed is what a crashed consumer's dials return.
var errCrashed = errors.New("loadgen: kafka consumer crashed (simulated)")

// connTracker dials and remembers the connections, to cut them all.
type connTracker struct {
	tls *tls.Config // nil: plain TCP

	mu    sync.Mutex // guards dead and conns
	dead  bool
	conns []net.Conn
}

func (t *connTracker) dial(ctx context.Context, network, host string) (net.Conn, error) {
	t.mu.Lock()
	dead := t.dead
	t.mu.Unlock()
	if dead {
		return nil, errCrashed
	}
	d := net.Dialer{Timeout: dialTimeout}
	c, err := d.DialContext(ctx, network, host)
	if err != nil {
		return nil, err
	}
	if t.tls != nil {
		cfg := t.tls.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName, _, _ = net.SplitHostPort(host)
		}
		c = tls.Client(c, cfg)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dead {
		c.Close()
		return nil, errCrashed
	}
	t.conns = append(t.conns, c)
	return c, nil
}

// kill cuts every connection and refuses new ones.
func (t *connTracker) kill() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dead = true
	for _, c := range t.conns {
		c.Close()
	}
	t.conns = nil
}

// crashableOpts are a crashable consumer's client options in place of the
// driver's base: the seeds, SASL, TLS through c's connTracker, a context
// of c's own and the short session timeout.
func (d *kafkaDriver) crashableOpts(c *kafkaConsumer) ([]kgo.Opt, error) {
	sec := d.sec
	t := &connTracker{}
	if sec.TLS || sec.CAFile != "" || sec.CertFile != "" || sec.tlsConfig != nil {
		cfg, err := sec.tlsConf()
		if err != nil {
			return nil, err
		}
		t.tls = cfg
	}
	sec.TLS, sec.CAFile, sec.CertFile, sec.KeyFile, sec.tlsConfig = false, "", "", "", nil
	sasl, err := sec.kgoOpts() // SASL alone now
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	c.conns, c.cancel = t, cancel
	return append([]kgo.Opt{
		kgo.SeedBrokers(d.seeds...), kgo.Dialer(t.dial), kgo.WithContext(ctx),
		kgo.SessionTimeout(crashSession), kgo.HeartbeatInterval(crashHeartbeat), kgo.RebalanceTimeout(crashRebalance),
	}, sasl...), nil
}
