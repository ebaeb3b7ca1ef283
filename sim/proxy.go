package sim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// proxyDialTimeout bounds the dial to the upstream for one accepted client.
const proxyDialTimeout = 3 * time.Second

// Proxy is an in-process TCP fault proxy. Every client connection accepted
// on Addr is carried to the upstream through two pumps, one goroutine per
// direction, which apply the fault state of their direction (LinkFault) to
// each chunk they read:
//
//   - latency: a chunk is held Delay±Jitter, and never released before the
//     chunk read before it (release = max(previous release, read + hold));
//   - bandwidth: a token bucket per direction, shared by every connection;
//   - blackhole: bytes are held, not discarded, on open and new connections,
//     and so is a close; lifting it lets them through in order. A dropped
//     byte inside a TCP stream cannot happen on a real network (TCP
//     retransmits, or the connection dies) and would desynchronise the
//     Kafka framing; held bytes give what a partition gives: requests that
//     time out at the client and may still reach the broker after healing.
//     A pump holds at most 4 MiB, then stops reading, so TCP flow control
//     stalls the sender as a full queue would;
//   - reset (Reset): both sides get an RST now, held bytes are dropped;
//   - slow close: a clean close (EOF) is passed on as a half-close SlowClose
//     later; a reset or read error is passed on as a reset;
//   - an unreachable upstream closes the client connection at once.
//
// A change (Set) applies at once to open connections and to bytes already
// held: release times are computed against the fault state current when
// the chunk is due. Jitter draws come from the seed, one PCG stream per
// connection and direction (by accept order); chunk boundaries come from
// the kernel, so a replay holds the same draws, not necessarily the same
// bytes. Its methods are safe for concurrent use; Close waits for every
// goroutine it started.
type Proxy struct {
	ln     net.Listener
	seed   uint64
	links  [2]*proxyLink // [0] up (clients -> broker), [1] down
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine the proxy starts

	mu       sync.Mutex // mu guards the fields below
	upstream string
	conns    map[*proxyConn]struct{}
	closed   bool

	nextID   atomic.Uint64
	accepted atomic.Int64
	refused  atomic.Int64
	resets   atomic.Int64
}

// ProxyStats counts what a proxy did since NewProxy.
type ProxyStats struct {
	Accepted int64 // client connections accepted
	Open     int64 // connections carried now (upstream dialled, not yet closed)
	Refused  int64 // clients closed at once because the upstream was unreachable
	Resets   int64 // connections reset by Reset
	Up, Down DirStats
}

// DirStats counts the bytes of one direction, over every connection.
type DirStats struct {
	Read      int64 // bytes read from the sending side
	Delivered int64 // bytes written to the receiving side
	Held      int64 // bytes read and not yet delivered (delay, cap, blackhole)
	Dropped   int64 // bytes read and never delivered: their connection ended first
}

// NewProxy listens on listen (e.g. "127.0.0.1:0") and carries every
// accepted connection to upstream. seed is the only source of randomness
// (jitter).
func NewProxy(listen, upstream string, seed uint64) (*Proxy, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("sim: proxy: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{
		ln: ln, seed: seed, ctx: ctx, cancel: cancel,
		links:    [2]*proxyLink{newProxyLink(), newProxyLink()},
		upstream: upstream,
		conns:    map[*proxyConn]struct{}{},
	}
	p.wg.Add(1)
	go p.acceptLoop()
	return p, nil
}

// Addr is the host:port clients dial.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// SetUpstream sends new connections to addr (a restarted broker on a new
// port); open connections keep their upstream.
func (p *Proxy) SetUpstream(addr string) {
	p.mu.Lock()
	p.upstream = addr
	p.mu.Unlock()
}

// Set replaces the fault state of dir (Both sets both directions). It
// applies at once to open connections too: held bytes are re-timed against
// the new state, and lifting a blackhole releases them.
func (p *Proxy) Set(dir Direction, f LinkFault) {
	f = f.normalized()
	for i, l := range p.links {
		if dir == Both || int(dir) == i+1 {
			l.set(f)
		}
	}
	// Wake the pumps blocked in a read whose deadline the change moves.
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		if dir != Down {
			c.client.SetReadDeadline(time.Now())
		}
		if dir != Up {
			c.server.SetReadDeadline(time.Now())
		}
	}
}

// Clear makes the link healthy both ways.
func (p *Proxy) Clear() { p.Set(Both, LinkFault{}) }

// Fault returns the fault state of one direction (Up or Down).
func (p *Proxy) Fault(dir Direction) LinkFault {
	if dir == Down {
		return p.links[1].state.Load().fault
	}
	return p.links[0].state.Load().fault
}

// Reset resets every open connection now: both sides get an RST
// (SetLinger(0) then Close), and bytes held for them are dropped. It
// returns how many connections it reset.
func (p *Proxy) Reset() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for c := range p.conns {
		if c.kill(true) {
			n++
		}
	}
	p.resets.Add(int64(n))
	return n
}

// Stats returns the proxy's counters.
func (p *Proxy) Stats() ProxyStats {
	p.mu.Lock()
	open := int64(len(p.conns))
	p.mu.Unlock()
	return ProxyStats{
		Accepted: p.accepted.Load(), Open: open,
		Refused: p.refused.Load(), Resets: p.resets.Load(),
		Up: p.links[0].stats(), Down: p.links[1].stats(),
	}
}

func (l *proxyLink) stats() DirStats {
	s := DirStats{Dropped: l.dropped.Load(), Delivered: l.delivered.Load(), Read: l.read.Load()}
	s.Held = max(s.Read-s.Delivered-s.Dropped, 0)
	return s
}

// Close stops accepting, closes every connection (held bytes are dropped)
// and waits for every goroutine of the proxy to end.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	err := p.ln.Close()
	p.cancel()
	for c := range p.conns {
		c.kill(false)
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	for {
		nc, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || p.ctx.Err() != nil {
				return
			}
			// Out of file descriptors and the like: back off, keep serving.
			select {
			case <-time.After(10 * time.Millisecond):
			case <-p.ctx.Done():
				return
			}
			continue
		}
		p.accepted.Add(1)
		p.wg.Add(1)
		go p.carry(nc.(*net.TCPConn), p.nextID.Add(1)-1)
	}
}

// carry dials the upstream for client, then runs the up pump in this
// goroutine and the down pump in a second one. An unreachable upstream
// closes the client at once.
func (p *Proxy) carry(client *net.TCPConn, id uint64) {
	defer p.wg.Done()
	p.mu.Lock()
	upstream := p.upstream
	p.mu.Unlock()
	d := net.Dialer{Timeout: proxyDialTimeout}
	sc, err := d.DialContext(p.ctx, "tcp", upstream)
	if err != nil {
		p.refused.Add(1)
		client.Close()
		return
	}
	c := &proxyConn{p: p, client: client, server: sc.(*net.TCPConn), done: make(chan struct{})}
	c.live.Store(2)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		c.kill(false)
		return
	}
	p.conns[c] = struct{}{}
	p.mu.Unlock()
	up := newPump(c, p.links[0], client, c.server, p.seed, 2*id)
	down := newPump(c, p.links[1], c.server, client, p.seed, 2*id+1)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		down.run()
	}()
	up.run()
}

// proxyConn is one carried connection: the client side accepted by the
// proxy and the server side it dialled.
type proxyConn struct {
	p              *Proxy
	client, server *net.TCPConn
	done           chan struct{} // closed by kill
	killed         atomic.Bool
	live           atomic.Int32 // pumps still running; the last one out closes
}

// kill closes both sides now, with an RST if reset, and wakes both pumps.
// It reports whether this call did it (false if already killed).
func (c *proxyConn) kill(reset bool) bool {
	if !c.killed.CompareAndSwap(false, true) {
		return false
	}
	close(c.done)
	if reset {
		c.client.SetLinger(0)
		c.server.SetLinger(0)
	}
	c.client.Close()
	c.server.Close()
	return true
}

// exit is called by each pump as it ends; the second closes both sides and
// forgets the connection.
func (c *proxyConn) exit() {
	if c.live.Add(-1) != 0 {
		return
	}
	c.kill(false)
	c.p.mu.Lock()
	delete(c.p.conns, c)
	c.p.mu.Unlock()
}
