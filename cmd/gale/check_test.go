package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const histories = "../../linearizability/testdata/"

// TestCheckExitCodes: the verdict maps onto the exit-code table, and
// --expect moves a history between valid and violation.
func TestCheckExitCodes(t *testing.T) {
	tests := []struct {
		args []string
		want int
	}{
		{[]string{histories + "valid.concurrent-producers.jsonl"}, exitOK},
		{[]string{histories + "lost-write.jsonl"}, exitViolation},
		{[]string{histories + "lost-write.jsonl", "--expect", "at-most-once"}, exitOK},
		{[]string{"--expect", "at-least-once", histories + "duplicate.jsonl"}, exitOK},
		{[]string{"--expect", "exactly-once", histories + "duplicate.jsonl"}, exitViolation},
		{[]string{"--timeout", "1ns", histories + "valid.concurrent-producers.jsonl"}, exitUndecided},
		{[]string{"--expect", "twice", histories + "valid.commits.jsonl"}, exitUsage},
		{[]string{histories + "no-such-file.jsonl"}, exitUsage},
		{[]string{}, exitUsage},
		{[]string{"a.jsonl", "b.jsonl"}, exitUsage},
		{[]string{"--help"}, exitOK},
	}
	for _, tt := range tests {
		var out, errOut bytes.Buffer
		if got := checkMain(tt.args, strings.NewReader(""), &out, &errOut); got != tt.want {
			t.Errorf("gale check %s: exit %d, want %d\n%s%s", strings.Join(tt.args, " "), got, tt.want, out.String(), errOut.String())
		}
	}
}

// TestCheckUnreadable: unreadable input exits 2 and names the line.
func TestCheckUnreadable(t *testing.T) {
	in := `{"client":1,"op":"produce","topic":"t","partition":0,"values":["a"],"offset":0,"status":"ok","call_ns":1,"return_ns":2}` +
		"\n" + `{"client":1,"op":"produce","topic":"t"`
	var out, errOut bytes.Buffer
	if got := checkMain([]string{"-"}, strings.NewReader(in), &out, &errOut); got != exitUsage || !strings.Contains(errOut.String(), "line 2") {
		t.Errorf("exit %d, stderr %q; want 2 naming line 2", got, errOut.String())
	}
}

// TestCheckJSONAndHTML: --json prints the result as JSON; --html writes the
// visualisation of a violation.
func TestCheckJSONAndHTML(t *testing.T) {
	html := filepath.Join(t.TempDir(), "v.html")
	var out, errOut bytes.Buffer
	if got := checkMain([]string{"--json", "--html", html, histories + "stale-read.jsonl"}, nil, &out, &errOut); got != exitViolation {
		t.Fatalf("exit %d\n%s", got, errOut.String())
	}
	var res struct {
		Verdict   string
		Anomalies []struct{ Kind string }
	}
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || res.Verdict != "violation" || len(res.Anomalies) == 0 {
		t.Fatalf("JSON %v: %s", err, out.String())
	}
	b, err := os.ReadFile(html)
	if err != nil || !bytes.Contains(b, []byte("stale-read (line 2)")) {
		t.Errorf("visualisation missing or unannotated: %v", err)
	}
}
