package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Tests of `gale broker` as users run it: the gale binary, built once per
// test run, in subprocesses.

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// galeBinary builds the gale binary (once) and returns its path.
func galeBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "gale-bin-")
		if buildErr != nil {
			return
		}
		gotool, err := exec.LookPath("go")
		if err != nil {
			gotool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		out, err := exec.Command(gotool, "build", "-o", filepath.Join(buildDir, "gale"), ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(buildDir, "gale")
}

// runGale runs the gale binary to completion (at most a minute) and returns
// its exit code, stdout and stderr.
func runGale(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(c, galeBinary(t), args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil && cmd.ProcessState == nil {
		t.Fatal(err)
	}
	return cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()
}

func TestBrokerCLIUsage(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	data := t.TempDir()
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string // a substring of stdout
		stderr string // a substring of stderr
	}{
		{"help", []string{"broker", "--help"}, exitOK, "-flush policy", ""},
		{"help lists defaults", []string{"broker", "-h"}, exitOK, "(default 104857600)", ""},
		{"unknown flag", []string{"broker", "--data", data, "--bogus"}, exitUsage, "", "flag provided but not defined: -bogus"},
		{"bad flush policy", []string{"broker", "--data", data, "--flush", "sometimes"}, exitUsage, "", `invalid value "sometimes" for flag -flush`},
		{"segment too small", []string{"broker", "--data", data, "--segment-bytes", "10"}, exitUsage, "", `invalid value "10" for flag -segment-bytes`},
		{"retention zero", []string{"broker", "--data", data, "--retention-ms", "0"}, exitUsage, "", `invalid value "0" for flag -retention-ms`},
		{"bad partitions", []string{"broker", "--data", data, "--default-partitions", "x"}, exitUsage, "", `invalid value "x" for flag -default-partitions`},
		{"bad listen", []string{"broker", "--data", data, "--listen", "9092"}, exitUsage, "", `invalid value "9092" for flag -listen`},
		{"advertise port 0", []string{"broker", "--data", data, "--advertise", "h:0"}, exitUsage, "", `invalid value "h:0" for flag -advertise`},
		{"no data dir", []string{"broker", "--listen", "127.0.0.1:0"}, exitUsage, "", "--data DIR is required"},
		{"stray argument", []string{"broker", "--data", data, "extra"}, exitUsage, "", `unexpected argument "extra"`},
		{"address in use", []string{"broker", "--data", data, "--listen", busy.Addr().String()}, exitUsage, "", "cannot listen"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runGale(t, tc.args...)
			if code != tc.code || !strings.Contains(stdout, tc.stdout) || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("gale %s: exit %d, want %d\nstdout (want %q):\n%s\nstderr (want %q):\n%s",
					strings.Join(tc.args, " "), code, tc.code, tc.stdout, stdout, tc.stderr, stderr)
			}
		})
	}
}

// brokerProc is a `gale broker` subprocess.
type brokerProc struct {
	t      testing.TB
	cmd    *exec.Cmd
	addr   string
	stderr *lockedBuffer
	exited chan struct{} // closed once the process has been waited for
}

// lockedBuffer collects a process's stderr lines, safe for concurrent use.
type lockedBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *lockedBuffer) add(line string) {
	b.mu.Lock()
	b.lines = append(b.lines, line)
	b.mu.Unlock()
}

// grep returns the lines that contain substr.
func (b *lockedBuffer) grep(substr string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, l := range b.lines {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return out
}

var servingAddr = regexp.MustCompile(`msg="kafka: serving" addr=(\S+)`)

// startBrokerProc runs `gale broker --listen 127.0.0.1:0 --data dir` plus
// extra flags, waits for the start line and for the port to accept
// connections, and returns the running process. It is killed at the end
// of the test if still running.
func startBrokerProc(t testing.TB, dir string, extra ...string) *brokerProc {
	t.Helper()
	args := append([]string{"broker", "--listen", "127.0.0.1:0", "--data", dir}, extra...)
	cmd := exec.Command(galeBinary(t), args...)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &brokerProc{t: t, cmd: cmd, stderr: new(lockedBuffer), exited: make(chan struct{})}
	addrc := make(chan string, 1)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			p.stderr.add(sc.Text())
			if m := servingAddr.FindStringSubmatch(sc.Text()); m != nil {
				addrc <- m[1]
			}
		}
	}()
	go func() {
		<-scanned // Wait must not run before the pipe is drained
		cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			cmd.Process.Kill()
			<-p.exited
		}
		if t.Failed() {
			t.Logf("broker stderr:\n%s", strings.Join(p.stderr.grep(""), "\n"))
		}
	})
	select {
	case p.addr = <-addrc:
	case <-p.exited:
		t.Fatalf("gale broker exited at start: %v\n%s", cmd.ProcessState, strings.Join(p.stderr.grep(""), "\n"))
	case <-time.After(30 * time.Second):
		t.Fatalf("gale broker did not log its address within 30 s:\n%s", strings.Join(p.stderr.grep(""), "\n"))
	}
	nc, err := net.DialTimeout("tcp", p.addr, 5*time.Second)
	if err != nil {
		t.Fatalf("gale broker does not accept on %s: %v", p.addr, err)
	}
	nc.Close()
	return p
}

// stop sends sig and waits for the process to exit; see wait.
func (p *brokerProc) stop(sig syscall.Signal) int {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
	return p.wait()
}

// wait waits (at most a minute) for the process to exit and returns its
// exit code (-1 if a signal killed it).
func (p *brokerProc) wait() int {
	p.t.Helper()
	select {
	case <-p.exited:
	case <-time.After(time.Minute):
		p.t.Fatal("gale broker still running after a minute")
	}
	return p.cmd.ProcessState.ExitCode()
}
