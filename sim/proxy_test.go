package sim

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// testServer is a TCP server on 127.0.0.1 running handle for each
// connection; cleanup closes the listener and every connection and waits for
// the handlers.
type testServer struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
}

func startServer(t testing.TB, handle func(net.Conn)) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				handle(c)
			}()
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *testServer) addr() string { return s.ln.Addr().String() }

func (s *testServer) close() {
	s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func echo(c net.Conn) {
	io.Copy(c, c)
	c.Close()
}

// greet writes name, then reads everything sent into got.
func greet(name string, got chan<- []byte) func(net.Conn) {
	return func(c net.Conn) {
		defer c.Close()
		c.Write([]byte(name))
		b := make([]byte, 1024)
		for {
			n, err := c.Read(b)
			if n > 0 && got != nil {
				got <- slices.Clone(b[:n])
			}
			if err != nil {
				return
			}
		}
	}
}

func newTestProxy(t testing.TB, upstream string) *Proxy {
	t.Helper()
	p, err := NewProxy("127.0.0.1:0", upstream, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func dial(t testing.TB, addr string) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

// readN reads exactly n bytes within 10 s.
func readN(t testing.TB, c net.Conn, n int) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b := make([]byte, n)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatalf("read %d bytes: %v", n, err)
	}
	c.SetReadDeadline(time.Time{})
	return b
}

// readNothing asserts that nothing arrives on c within d.
func readNothing(t testing.TB, c net.Conn, d time.Duration) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	b := make([]byte, 1)
	n, err := c.Read(b)
	c.SetReadDeadline(time.Time{})
	if n > 0 || !errors.Is(err, syscall.ETIMEDOUT) && !isTimeout(err) {
		t.Fatalf("got %d bytes, err %v; want nothing while the link is blackholed", n, err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// eventually polls cond every 5 ms for up to 5 s.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func ping(t testing.TB, c net.Conn) time.Duration {
	t.Helper()
	start := time.Now()
	if _, err := c.Write([]byte{'p'}); err != nil {
		t.Fatal(err)
	}
	readN(t, c, 1)
	return time.Since(start)
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

func TestProxyPassesBytesUnchanged(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault LinkFault
		size  int // bytes sent
		write int // bytes per write
	}{
		{"healthy", LinkFault{}, 8 << 20, 64 << 10},
		{"jitter", LinkFault{Delay: 2 * time.Millisecond, Jitter: 2 * time.Millisecond}, 1 << 20, 1000},
		{"capped", LinkFault{BytesPerSec: 16 << 20, Delay: time.Millisecond}, 1 << 20, 3000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, echo)
			p := newTestProxy(t, srv.addr())
			p.Set(Both, tc.fault)
			c := dial(t, p.Addr())
			seed := uint64(time.Now().UnixNano())
			t.Logf("seed = %d", seed)
			want := make([]byte, tc.size)
			for i := range want {
				want[i] = byte(rand.New(rand.NewPCG(seed, uint64(i/4096))).Uint32())
			}
			errc := make(chan error, 1)
			go func() {
				var err error
				for b := want; len(b) > 0 && err == nil; b = b[min(tc.write, len(b)):] {
					_, err = c.Write(b[:min(tc.write, len(b))])
				}
				errc <- err
			}()
			got := readN(t, c, tc.size)
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatal("bytes changed on the way through the proxy")
			}
			eventually(t, "stats to count every byte", func() bool {
				s := p.Stats()
				return s.Up.Delivered == int64(tc.size) && s.Down.Delivered == int64(tc.size)
			})
			if s := p.Stats(); s.Up.Read != int64(tc.size) || s.Down.Read != int64(tc.size) || s.Up.Dropped+s.Down.Dropped != 0 {
				t.Fatalf("stats %+v; want %d bytes read each way, none dropped", s, tc.size)
			}
		})
	}
}

func TestProxyLatencyAppliesToOpenConnections(t *testing.T) {
	srv := startServer(t, echo)
	p := newTestProxy(t, srv.addr())
	c := dial(t, p.Addr())
	var healthy, delayed []time.Duration
	for range 9 {
		healthy = append(healthy, ping(t, c))
	}
	const delay = 20 * time.Millisecond
	p.Set(Both, LinkFault{Delay: delay})
	for range 9 {
		rtt := ping(t, c)
		if rtt < 2*delay {
			t.Fatalf("round trip %v with %v delay each way; want at least %v", rtt, delay, 2*delay)
		}
		delayed = append(delayed, rtt)
	}
	t.Logf("median round trip: healthy %v, with %v delay each way %v", median(healthy), delay, median(delayed))
	p.Set(Up, LinkFault{Delay: delay, Jitter: delay / 2})
	p.Set(Down, LinkFault{})
	for range 9 {
		if rtt := ping(t, c); rtt < delay/2 {
			t.Fatalf("round trip %v with one-way delay %v±%v; want at least %v", rtt, delay, delay/2, delay/2)
		}
	}
}

func TestProxyBlackholeHoldsUntilHealed(t *testing.T) {
	srv := startServer(t, echo)
	p := newTestProxy(t, srv.addr())
	old := dial(t, p.Addr())
	ping(t, old)
	p.Set(Both, LinkFault{Blackhole: true})
	old.Write([]byte("x"))
	readNothing(t, old, 200*time.Millisecond)
	fresh := dial(t, p.Addr()) // accepted, and blackholed too
	fresh.Write([]byte("y"))
	readNothing(t, fresh, 100*time.Millisecond)
	eventually(t, "2 bytes held up", func() bool { return p.Stats().Up.Held == 2 })

	p.Clear()
	ping(t, dial(t, p.Addr()))
	// The held bytes go through once the partition heals.
	if got := readN(t, old, 1); string(got) != "x" {
		t.Fatalf("old connection got %q after healing, want the held %q", got, "x")
	}
	if got := readN(t, fresh, 1); string(got) != "y" {
		t.Fatalf("fresh connection got %q after healing, want the held %q", got, "y")
	}
	eventually(t, "nothing held", func() bool { s := p.Stats(); return s.Up.Held+s.Down.Held == 0 })
	if s := p.Stats(); s.Accepted != 3 || s.Up.Dropped+s.Down.Dropped != 0 {
		t.Fatalf("stats %+v; want 3 accepted, nothing dropped", s)
	}
}

func TestProxyOneWayDrop(t *testing.T) {
	for _, dir := range []Direction{Up, Down} {
		t.Run(dir.String(), func(t *testing.T) {
			got := make(chan []byte, 16)
			srv := startServer(t, greet("hello", got))
			p := newTestProxy(t, srv.addr())
			p.Set(dir, LinkFault{Blackhole: true})
			c := dial(t, p.Addr())
			c.Write([]byte("ping"))
			if dir == Up {
				if g := readN(t, c, 5); string(g) != "hello" {
					t.Fatalf("client got %q, want hello", g)
				}
				select {
				case b := <-got:
					t.Fatalf("server got %q through a blackholed up link", b)
				case <-time.After(200 * time.Millisecond):
				}
				eventually(t, "4 bytes held up", func() bool { return p.Stats().Up.Held == 4 })
			} else {
				if b := <-got; string(b) != "ping" {
					t.Fatalf("server got %q, want ping", b)
				}
				readNothing(t, c, 200*time.Millisecond)
				eventually(t, "5 bytes held down", func() bool { return p.Stats().Down.Held == 5 })
			}
		})
	}
}

func TestProxyBandwidthCapSharedByConnections(t *testing.T) {
	const (
		rate  = 1 << 20
		each  = 256 << 10
		conns = 2
		burst = rate / 100 // 10 ms worth
	)
	done := make(chan int, 64)
	srv := startServer(t, func(c net.Conn) {
		n, _ := io.Copy(io.Discard, c)
		done <- int(n)
	})
	p := newTestProxy(t, srv.addr())
	p.Set(Up, LinkFault{BytesPerSec: rate})
	start := time.Now()
	for range conns {
		c := dial(t, p.Addr())
		go func() {
			c.Write(make([]byte, each))
			c.CloseWrite()
		}()
	}
	total := 0
	for range conns {
		total += <-done
	}
	el := time.Since(start)
	if total != conns*each {
		t.Fatalf("server got %d bytes, want %d", total, conns*each)
	}
	if want := time.Duration(float64(total-burst) / rate * float64(time.Second)); el < want {
		t.Fatalf("%d bytes through a %d B/s cap took %v; want at least %v", total, rate, el, want)
	}
	t.Logf("%d bytes at a %d B/s cap in %v (%.0f B/s)", total, rate, el, float64(total)/el.Seconds())
}

func TestProxyResetSendsRST(t *testing.T) {
	serverErr := make(chan error, 1)
	srv := startServer(t, func(c net.Conn) {
		_, err := io.Copy(c, c)
		serverErr <- err
		c.Close()
	})
	p := newTestProxy(t, srv.addr())
	c := dial(t, p.Addr())
	ping(t, c)
	if n := p.Reset(); n != 1 {
		t.Fatalf("Reset() = %d, want 1", n)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("client read after Reset: %v; want connection reset", err)
	}
	if err := <-serverErr; !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("server read after Reset: %v; want connection reset", err)
	}
	eventually(t, "no open connection", func() bool { return p.Stats().Open == 0 })
	ping(t, dial(t, p.Addr())) // new connections still work
	if s := p.Stats(); s.Resets != 1 {
		t.Fatalf("stats %+v; want 1 reset", s)
	}
}

func TestProxySetUpstream(t *testing.T) {
	a := startServer(t, greet("A", nil))
	b := startServer(t, greet("B", nil))
	p := newTestProxy(t, a.addr())
	ca := dial(t, p.Addr())
	if g := readN(t, ca, 1); string(g) != "A" {
		t.Fatalf("first connection reached %q, want A", g)
	}
	p.SetUpstream(b.addr())
	if g := readN(t, dial(t, p.Addr()), 1); string(g) != "B" {
		t.Fatalf("connection after SetUpstream reached %q, want B", g)
	}
	if _, err := ca.Write([]byte("still here")); err != nil {
		t.Fatalf("open connection broken by SetUpstream: %v", err)
	}
}

func TestProxyUpstreamUnreachableClosesClient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	p := newTestProxy(t, dead)
	c := dial(t, p.Addr())
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := c.Read(make([]byte, 1)); n != 0 || isTimeout(err) || err == nil {
		t.Fatalf("read from a proxy with no upstream: %d bytes, %v; want the connection closed", n, err)
	}
	if s := p.Stats(); s.Refused != 1 || s.Open != 0 {
		t.Fatalf("stats %+v; want 1 refused, 0 open", s)
	}
}

func TestProxySlowClose(t *testing.T) {
	const slow = 150 * time.Millisecond
	closed := make(chan time.Time, 1)
	srv := startServer(t, func(c net.Conn) {
		c.Write([]byte("bye"))
		closed <- time.Now()
		c.Close()
	})
	p := newTestProxy(t, srv.addr())
	p.Set(Down, LinkFault{SlowClose: slow})
	c := dial(t, p.Addr())
	readN(t, c, 3)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read after the server closed: %v, want EOF", err)
	}
	if gap := time.Since(<-closed); gap < slow {
		t.Fatalf("the close reached the client %v after the server closed; want at least %v", gap, slow)
	}
	c.Close() // the client's close ends the connection (it was half-closed)
	eventually(t, "no open connection", func() bool { return p.Stats().Open == 0 })
}

func TestProxyBlackholeHoldsClose(t *testing.T) {
	closeNow := make(chan struct{})
	srv := startServer(t, func(c net.Conn) {
		<-closeNow
		c.Close()
	})
	p := newTestProxy(t, srv.addr())
	c := dial(t, p.Addr())
	eventually(t, "the connection to open", func() bool { return p.Stats().Open == 1 })
	p.Set(Down, LinkFault{Blackhole: true}) // the server's close travels down
	close(closeNow)
	readNothing(t, c, 200*time.Millisecond)
	p.Clear()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read after healing: %v, want the held EOF", err)
	}
}

func TestLinkFaultHoldStaysWithinJitter(t *testing.T) {
	f := LinkFault{Delay: 20 * time.Millisecond, Jitter: 5 * time.Millisecond}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		if h := f.hold(r.Float64()); h < f.Delay-f.Jitter || h > f.Delay+f.Jitter {
			t.Fatalf("hold %v outside %v±%v", h, f.Delay, f.Jitter)
		}
	}
	if h := (LinkFault{Delay: time.Millisecond, Jitter: time.Second}).hold(0); h != 0 {
		t.Fatalf("hold with jitter larger than delay = %v, want 0 (never negative)", h)
	}
}

// proxyGoroutines counts the goroutines running the proxy's code.
func proxyGoroutines() int {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "sim.(*pump)") || strings.Contains(g, "sim.(*Proxy)") {
			n++
		}
	}
	return n
}

func TestProxyCloseLeavesNoGoroutines(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		srv := startServer(t, echo)
		defer srv.close()
		p, err := NewProxy("127.0.0.1:0", srv.addr(), 7)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var clients []net.Conn
		// Traffic in every state: delayed, capped, blackholed, closing slowly.
		for i := range 6 {
			c, err := net.Dial("tcp", p.Addr())
			if err != nil {
				t.Fatal(err)
			}
			clients = append(clients, c)
			wg.Add(2)
			go func() {
				defer wg.Done()
				c.Write(make([]byte, 1<<20))
				if i%2 == 0 {
					c.(*net.TCPConn).CloseWrite()
				}
			}()
			go func() {
				defer wg.Done()
				io.Copy(io.Discard, c)
			}()
		}
		faults := []LinkFault{
			{Delay: 30 * time.Millisecond, Jitter: 10 * time.Millisecond},
			{BytesPerSec: 256 << 10},
			{Blackhole: true},
			{SlowClose: time.Second},
			{},
			{Blackhole: true, Delay: time.Millisecond},
		}
		for i, f := range faults {
			p.Set(Direction(i%3), f)
			time.Sleep(10 * time.Millisecond)
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if n := proxyGoroutines(); n != 0 {
			t.Fatalf("%d proxy goroutines still running after Close", n)
		}
		for _, c := range clients {
			c.Close()
		}
		wg.Wait()
	}()
	eventually(t, "goroutines back to the count before the test", func() bool {
		return runtime.NumGoroutine() <= before
	})
}

func TestLinkFaultString(t *testing.T) {
	for _, tc := range []struct {
		f    LinkFault
		want string
	}{
		{LinkFault{}, "healthy"},
		{LinkFault{Delay: 20 * time.Millisecond, Jitter: 5 * time.Millisecond}, "delay=20ms jitter=5ms"},
		{LinkFault{BytesPerSec: 1 << 20, Blackhole: true, SlowClose: time.Second}, "rate=1048576B/s blackhole slowclose=1s"},
	} {
		if got := tc.f.String(); got != tc.want {
			t.Errorf("%#v.String() = %q, want %q", tc.f, got, tc.want)
		}
	}
}

// BenchmarkProxyThroughput streams 64 KiB writes one way over a healthy
// link, straight to the sink (direct) and through the proxy.
func BenchmarkProxyThroughput(b *testing.B) {
	const size = 64 << 10
	for _, via := range []string{"direct", "proxy"} {
		b.Run(via, func(b *testing.B) {
			got := make(chan int64, 1)
			srv := startServer(b, func(c net.Conn) {
				n, _ := io.CopyBuffer(io.Discard, struct{ io.Reader }{c}, make([]byte, 128<<10))
				got <- n
			})
			addr := srv.addr()
			if via == "proxy" {
				addr = newTestProxy(b, addr).Addr()
			}
			c := dial(b, addr)
			buf := make([]byte, size)
			b.SetBytes(size)
			cpu0 := cpuTime()
			b.ResetTimer()
			for range b.N {
				if _, err := c.Write(buf); err != nil {
					b.Fatal(err)
				}
			}
			c.CloseWrite()
			if n := <-got; n != int64(b.N)*size {
				b.Fatalf("sink got %d bytes, want %d", n, int64(b.N)*size)
			}
			reportCPU(b, cpu0, size)
		})
	}
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports MB moved per CPU second of the whole process (sender,
// proxy and sink), a figure that holds on a shared machine where wall-clock
// MB/s does not.
func reportCPU(b *testing.B, cpu0 time.Duration, size int) {
	cpu := cpuTime() - cpu0
	if cpu > 0 {
		b.ReportMetric(float64(b.N)*float64(size)/1e6/cpu.Seconds(), "MB/cpu-s")
	}
}
