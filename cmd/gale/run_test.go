package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gale/scenarios"
)

// stderrFile is a file standing in for stderr (live progress wants an
// *os.File).
func stderrFile(t *testing.T) *os.File {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func contents(t *testing.T, f *os.File) string {
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRunList: --list names every canned scenario with its description.
func TestRunList(t *testing.T) {
	var out bytes.Buffer
	if code := runMain(context.Background(), []string{"--list"}, &out, stderrFile(t)); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	names := scenarios.Canned()
	if len(names) < 13 {
		t.Errorf("only %d canned scenarios: %v", len(names), names)
	}
	for _, name := range names {
		s, err := scenarios.LoadCanned(name)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !strings.Contains(out.String(), name) || !strings.Contains(out.String(), s.Description) {
			t.Errorf("--list lacks %s and its description:\n%s", name, out.String())
		}
	}
}

// TestRunInvalidScenario: an invalid scenario exits 2 naming the file, the
// line and the field, before anything runs.
func TestRunInvalidScenario(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ text, want string }{
		{"name: bad\nworkload: {duration: 5s}\nfaults:\n  - {at: 1s, kill: broker, restart_after: 1s}\n  - {at: 2s, pause: brokr, for: 1s}\n", "bad.yaml:5: faults"},
		{"name: bad\nworkload:\n  duration: 5s\n  rat: 100\n", "bad.yaml:4: workload"},
		{"name: bad\nworkload: {duration: 5s}\nthresholds: {publish.p99: {max: 1}}\n", "bad.yaml:3: thresholds.publish.p99"},
	}
	for _, tt := range tests {
		path := filepath.Join(dir, "bad.yaml")
		if err := os.WriteFile(path, []byte(tt.text), 0o644); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		stderr := stderrFile(t)
		code := runMain(context.Background(), []string{path, "--out", filepath.Join(dir, "out")}, &out, stderr)
		if msg := contents(t, stderr); code != exitUsage || !strings.Contains(msg, tt.want) {
			t.Errorf("exit %d, stderr %q; want 2 naming %q", code, msg, tt.want)
		}
	}
	var out bytes.Buffer
	stderr := stderrFile(t)
	if code := runMain(context.Background(), []string{"no-such-scenario"}, &out, stderr); code != exitUsage {
		t.Errorf("unknown scenario: exit %d, want 2: %s", code, contents(t, stderr))
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Error("an invalid scenario created its output directory")
	}
}

// TestRunScenario: a short scenario runs end to end, prints the seed and
// the verdict, writes results.json and the report, and exits by the
// verdict (a threshold breached: 1).
func TestRunScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a scenario for a few seconds; skipped under -short")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "s.yaml")
	text := "name: s\nseed: 3\ntarget: {broker: embedded}\n" +
		"workload: {messageSize: 100, rate: 200, duration: 3s}\n" +
		"faults: [{at: 1s, latency: clients-broker, delay: 10ms, for: 1s}]\n" +
		"checks: {expect: at-least-once}\n" +
		"thresholds: {publish.rate_msgs: {min: 1000000}}\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	var stdout bytes.Buffer
	stderr := stderrFile(t)
	code := runMain(context.Background(), []string{"--seed", "11", path, "--out", out}, &stdout, stderr)
	msg := contents(t, stderr)
	if code != exitThreshold {
		t.Errorf("exit %d, want 1 (threshold)\n%s\n%s", code, stdout.String(), msg)
	}
	if !strings.Contains(msg, "seed 11") || !strings.Contains(msg, "inject {at: 1s, latency") {
		t.Errorf("stderr lacks the seed or the fault:\n%s", msg)
	}
	for _, f := range []string{"results.json", "history.jsonl", "report.md"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
}
