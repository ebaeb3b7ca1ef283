package sim

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Bounds on waiting for a broker child.
const (
	startTimeout = 15 * time.Second // from exec to accepting connections
	stopTimeout  = 10 * time.Second // from SIGTERM to exit, before SIGKILL
	killTimeout  = 5 * time.Second  // from SIGKILL to reaped
)

// process is one `gale broker` child. Its stderr is copied to logf, line by
// line, and scanned for the address it listens on. A goroutine reaps it;
// done is closed when it has exited and been reaped.
type process struct {
	cmd  *exec.Cmd
	addr string
	done chan struct{}
	err  error // the exit status; read after done is closed
}

// startProcess runs bin with args (which must make it listen on
// 127.0.0.1:0) and returns once it accepts connections on the address it
// logged, or an error (then the child is killed and reaped).
func startProcess(ctx context.Context, bin string, args []string, logf func(string, ...any)) (*process, error) {
	cmd := exec.Command(bin, args...)
	// The child dies with this process even if Close is never called.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("sim: start %s: %w", bin, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			logf("broker[%d]: %s", cmd.Process.Pid, line)
			if a, ok := servingAddr(line); ok {
				select {
				case addrc <- a:
				default:
				}
			}
		}
		p.err = cmd.Wait()
		close(p.done)
	}()
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	select {
	case p.addr = <-addrc:
	case <-p.done:
		return nil, fmt.Errorf("sim: broker %s exited at start: %v (its log is above)", bin, p.err)
	case <-ctx.Done():
		p.kill()
		return nil, fmt.Errorf("sim: broker %s did not log its address within %s: %w", bin, startTimeout, ctx.Err())
	}
	if err := waitAccepting(ctx, p.addr, p.done); err != nil {
		p.kill()
		return nil, err
	}
	return p, nil
}

// servingAddr finds the address in the broker's start line, a slog text
// line such as `... msg="kafka: serving" addr=127.0.0.1:40123 dir=...`.
func servingAddr(line string) (string, bool) {
	if !strings.Contains(line, `msg="kafka: serving"`) {
		return "", false
	}
	_, rest, ok := strings.Cut(line, " addr=")
	if !ok {
		return "", false
	}
	addr, _, _ := strings.Cut(rest, " ")
	return addr, addr != ""
}

// waitAccepting dials addr until a connection succeeds, the context ends,
// or done is closed (the process exited).
func waitAccepting(ctx context.Context, addr string, done <-chan struct{}) error {
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			return c.Close()
		}
		select {
		case <-done:
			return fmt.Errorf("sim: broker exited before accepting on %s", addr)
		case <-ctx.Done():
			return fmt.Errorf("sim: broker not accepting on %s: %w", addr, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// signal sends sig to the child; an exited child is an error.
func (p *process) signal(sig syscall.Signal) error {
	select {
	case <-p.done:
		return fmt.Errorf("sim: broker pid %d has exited (%v)", p.cmd.Process.Pid, p.err)
	default:
	}
	return p.cmd.Process.Signal(sig)
}

// kill sends SIGKILL and waits (bounded) until the child is reaped.
func (p *process) kill() error {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.done:
		return nil
	case <-time.After(killTimeout):
		return fmt.Errorf("sim: broker pid %d not reaped %s after SIGKILL", p.cmd.Process.Pid, killTimeout)
	}
}

// stop asks the child to shut down cleanly (SIGTERM; SIGCONT too, in case
// it is paused) and waits up to stopTimeout, then kills it.
func (p *process) stop() error {
	if err := p.signal(syscall.SIGTERM); err != nil {
		return err
	}
	_ = p.cmd.Process.Signal(syscall.SIGCONT)
	select {
	case <-p.done:
		if p.err != nil {
			return fmt.Errorf("sim: broker pid %d shut down with %v", p.cmd.Process.Pid, p.err)
		}
		return nil
	case <-time.After(stopTimeout):
		p.kill()
		return fmt.Errorf("sim: broker pid %d did not exit %s after SIGTERM; killed", p.cmd.Process.Pid, stopTimeout)
	}
}
