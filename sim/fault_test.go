package sim

import (
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// examples holds one fault of every kind, in the syntax String prints.
var examples = []string{
	"{at: 10s, kill: broker, restart_after: 2s}",
	"{at: 12s, pause: broker, for: 3s}",
	"{at: 20s, restart: broker}",
	"{at: 25s, partition: clients-broker, for: 5s}",
	"{at: 25s, drop: clients->broker, for: 5s}",
	"{at: 25s, drop: broker->clients, for: 5s}",
	"{at: 40s, latency: clients-broker, delay: 20ms, jitter: 5ms, for: 10s}",
	"{at: 40s, latency: broker->clients, delay: 20ms, for: 10s}",
	"{at: 40s, bandwidth: clients-broker, rate: 1MB/s, for: 10s}",
	"{at: 40s, bandwidth: clients->broker, rate: 512KiB/s, for: 10s}",
	"{at: 50s, reset: clients-broker}",
	"{at: 50s, slow-close: clients-broker, delay: 2s, for: 10s}",
	"{at: 30s, power-loss: broker, restart_after: 1s}",
	"{at: 30s, torn-tail: broker, restart_after: 1s}",
	"{at: 30s, bitflip: broker}",
	"{at: 30s, fsync-fail: broker, for: 5s}",
	"{at: 30s, disk-full: broker, for: 5s}",
	"{at: 1m30s, crash: consumer, restart_after: 2s}",
	"{at: 0s, kill: broker, restart_after: 1.5s}",
}

// TestFaultPrintsAsItParses: every kind's canonical text parses, prints
// back to the same text, and parses again to an equal Fault.
func TestFaultPrintsAsItParses(t *testing.T) {
	kinds := map[Kind]bool{}
	for _, s := range examples {
		f, err := ParseFault(s)
		if err != nil {
			t.Fatalf("ParseFault(%q): %v", s, err)
		}
		kinds[f.Kind] = true
		if got := f.String(); got != s {
			t.Errorf("ParseFault(%q).String() = %q", s, got)
		}
		g, err := ParseFault(f.String())
		if err != nil || g != f {
			t.Errorf("round trip of %q: %+v, %v; want %+v", s, g, err, f)
		}
	}
	for _, k := range Kinds() {
		if !kinds[k] {
			t.Errorf("no example of kind %s", k)
		}
	}
}

func TestFaultFields(t *testing.T) {
	f, err := ParseFault("{latency: clients-broker, for: 10s, jitter: 5ms, at: 40s, delay: 20ms}")
	if err != nil {
		t.Fatal(err)
	}
	want := Fault{At: 40 * time.Second, Kind: Latency, Target: TargetLink, For: 10 * time.Second,
		Delay: 20 * time.Millisecond, Jitter: 5 * time.Millisecond}
	if f != want {
		t.Fatalf("got %+v, want %+v", f, want)
	}
	if f.End() != 50*time.Second {
		t.Errorf("End = %s", f.End())
	}
	r, err := ParseFault("{at: 1s, bandwidth: clients-broker, rate: 1.5MB/s, for: 1s}")
	if err != nil || r.Rate != 1_500_000 || r.String() != "{at: 1s, bandwidth: clients-broker, rate: 1500KB/s, for: 1s}" {
		t.Errorf("1.5MB/s: %+v %v %s", r, err, r)
	}
}

// TestFaultErrors: each invalid fault is an error naming the kind, the
// field and the line.
func TestFaultErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"{at: 40s, latency: clients-broker, delya: 20ms, for: 10s}", `line 1: latency: unknown field "delya"`},
		{"{at: 10s, explode: broker}", "line 1: fault: no kind"},
		{"{at: 10s, kill: broker}", "line 1: kill: restart_after is required"},
		{"{at: -1s, kill: broker, restart_after: 1s}", "line 1: kill: at: negative duration"},
		{"{at: 1s, pause: broker, for: -3s}", "line 1: pause: for: negative duration"},
		{"{at: 1s, pause: broker, for: 3}", `line 1: pause: for: "3" is not a duration`},
		{"{kill: broker, restart_after: 1s}", "line 1: kill: at is required"},
		{"{at: 1s, kill: clients-broker, restart_after: 1s}", `line 1: kill: target "clients-broker", want broker`},
		{"{at: 1s, kill: broker, restart_after: 1s, for: 2s}", "line 1: kill: does not take for"},
		{"{at: 1s, kill: broker, pause: broker, restart_after: 1s}", "line 1: fault: two kinds"},
		{"{at: 1s, at: 2s, restart: broker}", "line 1: restart: at given twice"},
		{"{at: 1s, bandwidth: clients-broker, rate: fast, for: 1s}", `rate: "fast" is not a rate`},
		{"{at: 1s, latency: clients-broker, delay: 1ms, jitter: 2ms, for: 1s}", "jitter 2ms exceeds delay 1ms"},
		{"[1, 2]", "line 1: fault: want a mapping"},
		{"{at: 1s", "fault: "},
		{"", "fault: want a mapping"},
	} {
		_, err := ParseFault(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseFault(%q) = %v, want an error containing %q", c.in, err, c.want)
		}
	}
}

// TestFaultYAMLLine: inside a scenario file the error names the file's line.
func TestFaultYAMLLine(t *testing.T) {
	doc := "name: x\nfaults:\n  - {at: 10s, kill: broker, restart_after: 2s}\n\n\n\n  - {at: 40s, latency: clients-broker, delya: 20ms, for: 10s}\n"
	var v struct {
		Faults []Fault `yaml:"faults"`
	}
	err := yaml.Unmarshal([]byte(doc), &v)
	if err == nil || err.Error() != `line 7: latency: unknown field "delya" (it takes at, delay, jitter, for)` {
		t.Fatalf("got %v", err)
	}
	doc = "faults:\n  - at: 10s\n    kill: broker\n    restart_after: 2s\n"
	if err := yaml.Unmarshal([]byte(doc), &v); err != nil || len(v.Faults) != 1 || v.Faults[0].String() != examples[0] {
		t.Fatalf("block mapping: %v %v", v.Faults, err)
	}
	out, err := yaml.Marshal(v)
	if err != nil || !strings.Contains(string(out), examples[0]) {
		t.Fatalf("marshal: %q %v", out, err)
	}
}

func TestRate(t *testing.T) {
	for in, want := range map[string]int64{"1MB/s": 1e6, "1MiB/s": 1 << 20, "10KB/s": 1e4, "7B/s": 7, "7": 7, "2GiB/s": 2 << 30, "0.5KiB/s": 512} {
		got, err := ParseRate(in)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %d, %v; want %d", in, got, err, want)
		}
		if back, _ := ParseRate(formatRate(got)); back != got {
			t.Errorf("formatRate(%d) = %q reads back as %d", got, formatRate(got), back)
		}
	}
	for _, in := range []string{"", "MB/s", "-1MB/s", "1e6B/s", "NaNB/s", "1 MB/s", "9999999999PB/s", "0x10B/s"} {
		if _, err := ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q): no error", in)
		}
	}
}

// FuzzParseFault: whatever parses prints as text that parses to an equal
// Fault, which prints the same.
func FuzzParseFault(f *testing.F) {
	for _, s := range examples {
		f.Add(s)
	}
	f.Add("{at: 1.5s, bandwidth: clients-broker, rate: 1.25MB/s, for: 1h}")
	f.Add("at: 1s\nreset: clients-broker\n")
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 512 {
			return // a fault is one short line; long inputs only slow minimizing
		}
		a, err := ParseFault(s)
		if err != nil {
			return
		}
		if err := a.Validate(); err != nil {
			t.Fatalf("ParseFault(%q) returned an invalid fault: %v", s, err)
		}
		b, err := ParseFault(a.String())
		if err != nil {
			t.Fatalf("ParseFault(%q) = %+v, whose text %q does not parse: %v", s, a, a.String(), err)
		}
		if a != b {
			t.Fatalf("round trip of %q: %+v, then %+v", s, a, b)
		}
		if a.String() != b.String() {
			t.Fatalf("prints differently: %q, %q", a.String(), b.String())
		}
	})
}
