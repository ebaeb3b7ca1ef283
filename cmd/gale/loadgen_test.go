package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadgenCommand(t *testing.T) {
	dir := t.TempDir()
	wl := filepath.Join(dir, "w.yaml")
	if err := os.WriteFile(wl, []byte("name: cli\nmessageSize: 100\nsubscriptionsPerTopic: 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: cli\nmesageSize: 100\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "results.json")
	for _, tc := range []struct {
		name string
		args []string
		code int
	}{
		{"null target", []string{"--target", "null", "--workload", wl, "--out", out, "--quiet", "--duration", "300ms", "--rate", "1000"}, exitOK},
		{"unknown field", []string{"--target", "null", "--workload", bad, "--out", out, "--quiet"}, exitUsage},
		{"bad target", []string{"--target", "redis://x:1", "--workload", wl, "--quiet"}, exitUsage},
		{"unreachable target", []string{"--target", "kafka://127.0.0.1:1", "--workload", wl, "--quiet"}, exitUsage},
		{"missing workload", []string{"--target", "null"}, exitUsage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if code := run(append([]string{"loadgen"}, tc.args...), io.Discard, io.Discard); code != tc.code {
				t.Fatalf("exit %d, want %d", code, tc.code)
			}
		})
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		SchemaVersion int `json:"schema_version"`
		Target        string
		Summary       struct {
			Mode      string
			Published int64
		}
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if r.SchemaVersion != 1 || r.Target != "null" || r.Summary.Mode != "open" || r.Summary.Published < 100 {
		t.Errorf("results %+v", r)
	}
	if _, err := os.Stat(filepath.Join(dir, "results.hlog")); err != nil {
		t.Error(err)
	}
}

// --history writes a history gale check judges; targets that cannot
// record one are a usage error.
func TestLoadgenHistory(t *testing.T) {
	dir := t.TempDir()
	wl := filepath.Join(dir, "w.yaml")
	if err := os.WriteFile(wl, []byte("name: cli\nmessageSize: 100\npartitionsPerTopic: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hist := filepath.Join(dir, "history.jsonl")
	out := filepath.Join(dir, "results.json")
	if code := run([]string{"loadgen", "--target", "null", "--workload", wl, "--out", out, "--quiet", "--history", hist}, io.Discard, io.Discard); code != exitUsage {
		t.Errorf("null target with --history: exit %d, want %d", code, exitUsage)
	}
	if testing.Short() {
		return
	}
	args := []string{"loadgen", "--target", "embedded", "--workload", wl, "--out", out, "--quiet", "--duration", "1s", "--rate", "2000", "--history", hist}
	if code := run(args, io.Discard, io.Discard); code != exitOK {
		t.Fatalf("embedded with --history: exit %d", code)
	}
	if st, err := os.Stat(hist); err != nil || st.Size() == 0 {
		t.Fatalf("history: %v, %v", st, err)
	}
	if code := run([]string{"check", "--expect", "exactly-once", hist}, io.Discard, io.Discard); code != exitOK {
		t.Errorf("gale check --expect exactly-once: exit %d, want %d", code, exitOK)
	}
}

// A workload's consumer section reaches results.json: every message
// processed or dead-lettered, and the check holds.
func TestLoadgenConsumerModel(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a broker")
	}
	dir := t.TempDir()
	wl := filepath.Join(dir, "w.yaml")
	yaml := "name: cli-consumer\nmessageSize: 100\npartitionsPerTopic: 2\nconsumer:\n  processing: 50us\n  poisonRate: 0.05\n  retries: 1\n  deadLetter: true\n"
	if err := os.WriteFile(wl, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "results.json")
	if code := run([]string{"loadgen", "--target", "embedded", "--workload", wl, "--out", out, "--quiet", "--duration", "1s", "--rate", "1000"}, io.Discard, io.Discard); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Summary struct {
			Published int64
			Consumer  *struct {
				Commit       string
				Processed    int64
				DeadLettered int64 `json:"dead_lettered"`
				Balanced     bool
			}
		}
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	c := r.Summary.Consumer
	if c == nil || c.Commit != "after" || !c.Balanced || c.DeadLettered == 0 || c.Processed+c.DeadLettered != r.Summary.Published {
		t.Errorf("summary.consumer %+v, published %d", c, r.Summary.Published)
	}
}
