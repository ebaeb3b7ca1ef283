package kafka

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"gale/broker/record"
	"gale/broker/seglog"
)

// Tests with kcat (librdkafka) against a broker in this process.

// needKcat returns kcat's path, skipping the test when it is missing
// (failing it under CI=true, where .ci/run installs it).
func needKcat(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("kcat")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("kcat not found on PATH under CI=true (.ci/run installs it: apt-get install -y kcat)")
		}
		t.Skip("kcat not found on PATH; install it (apt-get install -y kcat) to run this test")
	}
	return path
}

// kcat runs kcat with args and stdin, and returns its standard output. It
// fails the test if kcat fails or takes more than a minute.
func kcat(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(c, needKcat(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kcat %s: %v\nstderr:\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

func TestKcatMetadata(t *testing.T) {
	needKcat(t)
	b := startBroker(t, "")
	b.createTopic(t, "listed", 3)
	out := kcat(t, "", "-b", b.addr, "-L")
	for _, want := range []string{
		" 1 brokers:",
		"broker 0 at " + b.addr,
		`topic "listed" with 3 partitions:`,
		"partition 2, leader 0, replicas: 0, isrs: 0",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("kcat -L output lacks %q:\n%s", want, out)
		}
	}
}

// TestKcatRoundTrip produces lines with kcat, with each compression codec
// and with librdkafka's idempotent producer, to auto-created topics, and
// consumes them back with kcat. The stored batches keep the producer's
// codec.
func TestKcatRoundTrip(t *testing.T) {
	needKcat(t)
	b := startBroker(t, "")
	var lines []string
	for i := range 500 {
		lines = append(lines, fmt.Sprintf("line %d %s", i, strings.Repeat("kcat ", i%20)))
	}
	in := strings.Join(lines, "\n") + "\n"
	for _, tc := range []struct {
		name  string
		args  []string
		codec record.Codec
		idem  bool
	}{
		{"none", nil, record.None, false},
		{"gzip", []string{"-z", "gzip"}, record.Gzip, false},
		{"snappy", []string{"-z", "snappy"}, record.Snappy, false},
		{"lz4", []string{"-z", "lz4"}, record.LZ4, false},
		{"zstd", []string{"-z", "zstd"}, record.Zstd, false},
		{"idempotent-zstd", []string{"-z", "zstd", "-X", "enable.idempotence=true"}, record.Zstd, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			topic := "kcat-" + tc.name
			kcat(t, in, append([]string{"-b", b.addr, "-t", topic, "-P"}, tc.args...)...)
			out := kcat(t, "", "-b", b.addr, "-t", topic, "-C", "-e", "-q")
			if out != in {
				t.Fatalf("consumed %d bytes, want the %d produced:\n%.300s", len(out), len(in), out)
			}
			tp := b.lookup(topic)
			if tp == nil {
				t.Fatalf("topic %s was not auto-created", topic)
			}
			// librdkafka sends a batch uncompressed when compressing does
			// not make it smaller (a lone short line, say): look for the
			// codec in any batch.
			codecs := make(map[record.Codec]int)
			idem := 0
			for _, h := range storedHeaders(t, tp.parts[0]) {
				codecs[h.Codec()]++
				if h.ProducerID >= 0 {
					idem++
				}
			}
			if codecs[tc.codec] == 0 || tc.idem != (idem > 0) {
				t.Fatalf("stored batches by codec %v, %d with a producer id; want %v batches, idempotent %v", codecs, idem, tc.codec, tc.idem)
			}
		})
	}
}

// storedHeaders returns the header of every batch of l.
func storedHeaders(t testing.TB, l *seglog.Log) []record.Header {
	t.Helper()
	var hs []record.Header
	for off := l.StartOffset(); off < l.EndOffset(); {
		c, err := l.Read(off, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		for b := c.Data; len(b) > 0; b = b[mustHeader(t, b).Size():] {
			hs = append(hs, mustHeader(t, b))
			off = hs[len(hs)-1].NextOffset()
		}
		c.Release()
	}
	return hs
}
