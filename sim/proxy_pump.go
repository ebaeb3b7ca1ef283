package sim

import (
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"time"
)

const (
	// pumpBuf is the size of one read.
	pumpBuf = 128 << 10
	// pumpQueue bounds the bytes one pump holds (delay, blackhole): past it
	// the pump stops reading and TCP flow control pushes back on the sender,
	// as a full router queue would.
	pumpQueue = 4 << 20
	// pumpCopyBelow: a held chunk smaller than this is copied to a buffer of
	// its size; a larger one keeps the read buffer.
	pumpCopyBelow = 16 << 10
)

// errKilled ends a pump whose connection was reset or closed by the proxy.
var errKilled = errors.New("sim: proxy: connection killed")

// writeError is a failed write to the destination: that side is gone, and
// the other pump, reading from it, passes its end on.
type writeError struct{ error }

// noDeadline marks the read deadline of a pump's source as unknown.
var noDeadline = time.Unix(1, 0)

// pump carries one direction of one connection: it reads chunks from src,
// holds each as its link's fault says, and writes them to dst in order.
// Only its own goroutine touches it.
type pump struct {
	c        *proxyConn
	l        *proxyLink
	src, dst *net.TCPConn
	rng      *rand.Rand
	buf      []byte
	spare    [][]byte  // read buffers given back by written chunks
	q        []chunk   // chunks read and not yet written, oldest first
	qlen     int       // bytes in q
	qcap     int       // capacity held by q
	last     time.Time // release time of the last chunk written
	deadline time.Time // read deadline set on src (noDeadline: unknown)
}

// chunk is the bytes of one read, with when they were read and their
// uniform draw for jitter.
type chunk struct {
	b  []byte
	at time.Time
	u  float64
}

func newPump(c *proxyConn, l *proxyLink, src, dst *net.TCPConn, seed, stream uint64) *pump {
	return &pump{
		c: c, l: l, src: src, dst: dst,
		rng: rand.New(rand.NewPCG(seed, stream)),
		buf: make([]byte, pumpBuf),
	}
}

// run carries bytes until the source ends and everything read is written,
// then passes the close on (after SlowClose) and exits.
func (u *pump) run() {
	err := u.loop()
	u.finish(err)
	u.c.exit()
}

// loop returns the error that ended the source (io.EOF for a clean close)
// once every chunk read has been written, or the write error or errKilled
// that cut it short.
func (u *pump) loop() error {
	var rerr error
	for {
		st := u.l.state.Load()
		wake, err := u.flush(st.fault)
		if err != nil {
			return err
		}
		if u.c.killed.Load() {
			return errKilled
		}
		if rerr != nil && len(u.q) == 0 && !st.fault.Blackhole {
			return rerr // a blackhole holds the close too
		}
		if rerr != nil || u.qcap >= pumpQueue {
			if !u.wait(wake, st.changed) {
				return errKilled
			}
			continue
		}
		if !u.deadline.Equal(wake) {
			u.src.SetReadDeadline(wake)
			u.deadline = wake
		}
		if u.l.state.Load() != st {
			continue // the fault changed; Set's wake-up may have come before ours
		}
		n, err := u.src.Read(u.buf)
		if n > 0 {
			u.l.read.Add(int64(n))
			// Load the state again: a read woken by Set's deadline can
			// still return bytes that arrived after the change.
			if err := u.take(n, u.l.state.Load().fault); err != nil {
				return err
			}
		}
		switch {
		case err == nil:
		case errors.Is(err, os.ErrDeadlineExceeded):
			u.deadline = noDeadline
		default:
			rerr = err
		}
	}
}

// flush writes every chunk whose release time has come and returns when the
// next one is due (zero: none queued, or blackholed).
func (u *pump) flush(f LinkFault) (time.Time, error) {
	for len(u.q) > 0 && !f.Blackhole {
		h := u.q[0]
		rel := u.release(f, h)
		if rel.After(time.Now()) {
			return rel, nil
		}
		if err := u.write(h.b); err != nil {
			return time.Time{}, err
		}
		u.last = rel
		u.pop()
	}
	return time.Time{}, nil
}

// release is when chunk h may go out under f: never before the chunk
// before it.
func (u *pump) release(f LinkFault, h chunk) time.Time {
	rel := h.at.Add(f.hold(h.u))
	if rel.Before(u.last) {
		return u.last
	}
	return rel
}

// take handles n fresh bytes in u.buf: written at once when nothing is
// queued and they are due, else queued.
func (u *pump) take(n int, f LinkFault) error {
	c := chunk{b: u.buf[:n], at: time.Now(), u: u.rng.Float64()}
	if len(u.q) == 0 && !f.Blackhole {
		if rel := u.release(f, c); !rel.After(c.at) {
			u.last = rel
			return u.write(c.b)
		}
	}
	if n < pumpCopyBelow {
		c.b = append([]byte(nil), c.b...)
	} else if k := len(u.spare); k > 0 {
		u.buf, u.spare = u.spare[k-1], u.spare[:k-1]
	} else {
		u.buf = make([]byte, pumpBuf)
	}
	u.q = append(u.q, c)
	u.qlen += len(c.b)
	u.qcap += cap(c.b)
	return nil
}

func (u *pump) pop() {
	h := u.q[0]
	u.q[0] = chunk{}
	u.q = u.q[1:]
	u.qlen -= len(h.b)
	u.qcap -= cap(h.b)
	if cap(h.b) == pumpBuf {
		u.spare = append(u.spare, h.b[:pumpBuf])
	}
	if len(u.q) == 0 {
		u.q = u.q[:0:0]
	}
}

// write writes b to dst, in pieces of at most one bucket when the direction
// is capped, waiting for tokens before each.
func (u *pump) write(b []byte) error {
	for len(b) > 0 {
		n := u.l.piece(len(b))
		if d := u.l.reserve(n, time.Now()); d > 0 {
			until, rate := time.Now().Add(d), u.l.state.Load().fault.BytesPerSec
			ok := u.holdUntil(func(f LinkFault) time.Time {
				if f.BytesPerSec != rate {
					return time.Time{} // a new cap (or none): go now
				}
				return until
			})
			if !ok {
				return errKilled
			}
		}
		m, err := u.dst.Write(b[:n])
		u.l.delivered.Add(int64(m))
		if err != nil {
			return writeError{err}
		}
		b = b[n:]
	}
	return nil
}

// wait blocks until wake (if set), a fault change, or the connection dies;
// it reports false for the last.
func (u *pump) wait(wake time.Time, changed <-chan struct{}) bool {
	var tc <-chan time.Time
	if !wake.IsZero() {
		t := time.NewTimer(time.Until(wake))
		defer t.Stop()
		tc = t.C
	}
	select {
	case <-tc:
	case <-changed:
	case <-u.c.done:
		return false
	}
	return true
}

// holdUntil waits until due(f), f being the link's fault, read again on
// every change; it reports false if the connection dies first.
func (u *pump) holdUntil(due func(LinkFault) time.Time) bool {
	for {
		st := u.l.state.Load()
		d := time.Until(due(st.fault))
		if d <= 0 {
			return true
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
			return true
		case <-st.changed:
			t.Stop()
		case <-u.c.done:
			t.Stop()
			return false
		}
	}
}

// finish passes on how the source ended: a clean close becomes a half-close
// of dst SlowClose later; a reset or error on either side resets both. Bytes
// still held are counted as dropped.
func (u *pump) finish(err error) {
	if u.qlen > 0 {
		u.l.dropped.Add(int64(u.qlen))
		u.q, u.qlen, u.qcap = nil, 0, 0
	}
	var we writeError
	if err == errKilled || errors.As(err, &we) || u.c.killed.Load() {
		return
	}
	closed := time.Now()
	if !u.holdUntil(func(f LinkFault) time.Time { return closed.Add(f.SlowClose) }) {
		return
	}
	if err == io.EOF {
		u.dst.CloseWrite()
		return
	}
	u.c.kill(true)
}
