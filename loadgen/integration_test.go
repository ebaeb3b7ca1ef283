package loadgen

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// needServer skips the test when addr does not answer, except under
// CI=true, where the servers are part of the environment and their
// absence is a failure.
func needServer(t *testing.T, name, addr string) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test")
	}
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s at %s unreachable under CI=true: %v", name, addr, err)
		}
		t.Skipf("%s at %s unreachable (%v); start it to run this test", name, addr, err)
	}
	c.Close()
}

// Short open-loop runs against the RabbitMQ and NATS JetStream servers of
// this machine: everything published is consumed, results are plausible.
func TestExternalTargets(t *testing.T) {
	for _, tc := range []struct {
		name, addr, url string
	}{
		{"RabbitMQ", "127.0.0.1:5672", "amqp://guest:guest@127.0.0.1:5672/"},
		{"NATS JetStream", "127.0.0.1:4222", "nats://127.0.0.1:4222"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			needServer(t, tc.name, tc.addr)
			tgt, err := ParseTarget(tc.url)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "results.json")
			res, err := Run(testContext(t), Config{
				Target:   tgt,
				Workload: Workload{Name: "external-100B", MessageSize: 100, Rate: 2000, Duration: 2 * time.Second, Warmup: time.Second},
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Target != tgt.String() || res.Target == tc.url && tc.name == "RabbitMQ" {
				t.Errorf("target recorded as %q", res.Target)
			}
			if err := res.WriteFile(out); err != nil {
				t.Fatal(err)
			}
			r := checkResultsFile(t, out, 100)
			if s := r.Summary; s.Mode != "open" || s.PublishRate < 1000 || s.PublishRate > 3000 {
				t.Errorf("open loop at 2000 msg/s published %.0f msg/s", s.PublishRate)
			}
		})
	}
}
