package kafka

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"syscall"

	"github.com/twmb/franz-go/pkg/kmsg"
)

const (
	readBufferSize  = 64 << 10
	writeBufferSize = 64 << 10
	// keepRequestBuffer is the largest request buffer a connection keeps
	// for its next request; larger ones are left to the collector.
	keepRequestBuffer = 8 << 20
	// pendingResponses is how many responses may wait for the writer
	// before the reader stops handling requests.
	pendingResponses = 16
)

// conn is one client connection: serve runs its reading goroutine, which
// decodes and handles requests one at a time, and starts writeLoop, which
// writes the responses in request order.
type conn struct {
	s      *Server
	nc     net.Conn
	remote string
	br     *bufio.Reader
	size   [4]byte
	buf    []byte        // request bytes, reused (owned by the reader)
	out    chan response // responses in request order, to the writer
}

func newConn(s *Server, nc net.Conn) *conn {
	return &conn{
		s:      s,
		nc:     nc,
		remote: nc.RemoteAddr().String(),
		br:     bufio.NewReaderSize(nc, readBufferSize),
		out:    make(chan response, pendingResponses),
	}
}

// serve runs the connection until the client leaves, sends something it
// cannot be served, or the server closes. The caller has counted it in
// s.wg (trackConn).
func (c *conn) serve() {
	defer c.s.untrackConn(c)
	written := make(chan struct{})
	go func() {
		defer close(written)
		c.writeLoop()
	}()
	// Logged before the connection closes, so a client that sees the close
	// can find the line.
	switch err := c.safeReadLoop(); {
	case errors.Is(err, errPanic):
		c.s.log.Error("kafka: closing connection", "remote", c.remote, "err", err)
	case !quietErr(err):
		c.s.log.Warn("kafka: closing connection", "remote", c.remote, "err", err)
	}
	close(c.out)
	<-written
}

// quietErr reports errors that end a connection in the ordinary way: the
// client hung up, or the server closed it.
func quietErr(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrClosedPipe) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// errPanic marks a panic recovered while serving a connection.
var errPanic = errors.New("kafka: panic serving a request")

// safeReadLoop runs readLoop, turning a panic (a bug, but one that must not
// take the other connections down) into an error.
func (c *conn) safeReadLoop() (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("%w: %v\n%s", errPanic, v, debug.Stack())
		}
	}()
	return c.readLoop()
}

// readLoop reads, decodes and handles requests until an error.
func (c *conn) readLoop() error {
	for {
		r, err := c.readRequest()
		if err != nil {
			return err
		}
		r.c = c
		resp, err := c.s.dispatch(r)
		if err != nil {
			return err
		}
		if !resp.none() {
			c.out <- resp
		}
	}
}

// readRequest reads one size-prefixed request and decodes it.
func (c *conn) readRequest() (*request, error) {
	if _, err := io.ReadFull(c.br, c.size[:]); err != nil {
		return nil, err // io.EOF between requests: the client left
	}
	n := int32(binary.BigEndian.Uint32(c.size[:]))
	if n < 0 || n > c.s.cfg.MaxRequestBytes {
		return nil, fmt.Errorf("%w: request size %d outside [0, %d] (max request bytes)", errBadRequest, n, c.s.cfg.MaxRequestBytes)
	}
	b, err := c.readBody(int(n))
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("%w: connection closed inside a request of %d bytes", errBadRequest, n)
		}
		return nil, err
	}
	return parseRequest(b)
}

// readBody reads n bytes into the connection's buffer. A buffer larger than
// the one kept grows as the bytes arrive, so a peer announcing a large
// request must send it before the memory is committed.
func (c *conn) readBody(n int) ([]byte, error) {
	if n <= cap(c.buf) {
		b := c.buf[:n]
		_, err := io.ReadFull(c.br, b)
		return b, err
	}
	b := c.buf[:0]
	for len(b) < n {
		step := min(n-len(b), max(len(b), readBufferSize))
		if cap(b)-len(b) < step {
			nb := make([]byte, len(b), len(b)+step)
			copy(nb, b)
			b = nb
		}
		if _, err := io.ReadFull(c.br, b[len(b):len(b)+step]); err != nil {
			return nil, err
		}
		b = b[:len(b)+step]
	}
	if cap(b) <= keepRequestBuffer {
		c.buf = b[:0]
	}
	return b, nil
}

// writeLoop writes responses in order until c.out is closed, then closes the
// connection. After a write error it closes the connection at once (so the
// reader stops) and keeps draining c.out to release fetch frames.
func (c *conn) writeLoop() {
	defer c.nc.Close()
	bw := bufio.NewWriterSize(c.nc, writeBufferSize)
	var (
		buf []byte
		err error
	)
	for resp := range c.out {
		if err == nil {
			err = c.write(bw, &buf, resp)
			if err == nil && len(c.out) == 0 {
				err = bw.Flush()
			}
			if err != nil {
				if !quietErr(err) {
					c.s.log.Debug("kafka: write failed", "remote", c.remote, "err", err)
				}
				c.nc.Close()
			}
		}
		if resp.fetch != nil {
			resp.fetch.release()
		}
	}
	if err == nil {
		bw.Flush()
	}
}

// write writes one response: a kmsg message through bw, or a fetch frame
// with one vectored write after flushing bw.
func (c *conn) write(bw *bufio.Writer, buf *[]byte, resp response) error {
	if resp.fetch != nil {
		return resp.fetch.writeTo(bw, c.nc)
	}
	b := appendResponse((*buf)[:0], resp.corr, resp.msg)
	if cap(b) <= keepRequestBuffer {
		*buf = b
	}
	_, err := bw.Write(b)
	return err
}

// appendResponse appends a whole response frame: size, correlation id, the
// header's tag byte when the response is flexible (except ApiVersions,
// whose response header is always v0), then the body.
func appendResponse(dst []byte, corr int32, msg kmsg.Response) []byte {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, uint32(corr))
	if msg.IsFlexible() && msg.Key() != 18 {
		dst = append(dst, 0)
	}
	dst = msg.AppendTo(dst)
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}
