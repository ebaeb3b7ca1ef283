package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gale/reports"
)

// writeRuns writes n results files into dir/name/, one run each: the
// publish rate and e2e p99 given, jittered by a fixed ±2% pattern, and the
// check verdict given ("" for none) on the last run.
func writeRuns(t *testing.T, dir, name string, n int, rate, p99 float64, check string) string {
	t.Helper()
	d := filepath.Join(dir, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	jitter := []float64{1, 1.02, 0.98, 1.01, 0.99, 1.015, 0.985}
	for i := range n {
		j := jitter[i%len(jitter)]
		r := &reports.Results{SchemaVersion: reports.SchemaVersion, Target: "embedded", Summary: &reports.Summary{
			Mode:     "closed",
			Rates:    reports.Rates{PublishRate: rate * j, ConsumeRate: rate * j},
			EndToEnd: reports.Percentiles{Count: 100, P50: p99 / 5 * j, P99: p99 * j, P999: 2 * p99 * j},
			Status:   "ok",
		}}
		if check != "" && i == n-1 {
			r.Check = &reports.CheckResult{Expect: "at-least-once", Verdict: check, Violations: []string{"lost-write"}}
		}
		if err := r.WriteFile(filepath.Join(d, "run"+string(rune('a'+i))+".json")); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// TestGateExitCodes: pass, regression, violation and unreadable input map
// onto the exit-code table, with files given as directories, globs,
// repeated flags and comma-separated lists.
func TestGateExitCodes(t *testing.T) {
	dir := t.TempDir()
	base := writeRuns(t, dir, "base", 5, 250e3, 5000, "")
	same := writeRuns(t, dir, "same", 5, 248e3, 5050, "")
	slow := writeRuns(t, dir, "slow", 5, 175e3, 5000, "")
	tail := writeRuns(t, dir, "tail", 5, 250e3, 7000, "")
	violated := writeRuns(t, dir, "violated", 5, 250e3, 5000, "violated")
	few := writeRuns(t, dir, "few", 3, 175e3, 5000, "")
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"schema_version": 1, "summary": `), 0o644)
	other := filepath.Join(dir, "other.json")
	(&reports.Results{SchemaVersion: 1, MaxRate: &reports.MaxRateResult{Rate: 1000}}).WriteFile(other)

	tests := []struct {
		name   string
		args   []string
		want   int
		stdout string // must appear in stdout
		stderr string // must appear in stderr
	}{
		{"within noise", []string{"--baseline", base, "--current", same}, exitOK, "gate: PASS", ""},
		{"throughput drop", []string{"--baseline", base, "--current", slow}, exitThreshold, "publish.rate_msgs", ""},
		{"p99 rise", []string{"--baseline", base + "/*.json", "--current", tail}, exitThreshold, "e2e.p99_us +40.0%", ""},
		{"metric filter hides the drop", []string{"--baseline", base, "--current", slow, "--metrics", "e2e.*"}, exitOK, "e2e.p99_us", ""},
		{"tolerance widened", []string{"--baseline", base, "--current", slow, "--tolerance", "35%"}, exitOK, "tolerance 35%", ""},
		{"few runs: tolerance only", []string{"--baseline", base, "--current", few}, exitThreshold, "n<5: tolerance only", ""},
		{"violation", []string{"--baseline", base, "--current", violated}, exitViolation, "rune.json", ""},
		{"comma-separated and repeated", []string{"--baseline", base + "/runa.json," + base + "/runb.json", "--baseline", base + "/runc.json",
			"--current", same + "/runa.json", "--current", same + "/runb.json,"}, exitOK, "3/2", ""},
		{"unreadable current", []string{"--baseline", base, "--current", same + "," + bad}, exitUsage, "", "bad.json"},
		{"missing baseline", []string{"--baseline", filepath.Join(dir, "nope.json"), "--current", same}, exitUsage, "", "nope.json"},
		{"glob matching nothing", []string{"--baseline", dir + "/zz*.json", "--current", same}, exitUsage, "", "zz*.json: no file matches"},
		{"no metric in common", []string{"--baseline", base, "--current", other}, exitUsage, "", "no metric in common"},
		{"bad tolerance", []string{"--baseline", base, "--current", same, "--tolerance", "lots"}, exitUsage, "", "tolerance"},
		{"no current", []string{"--baseline", base}, exitUsage, "", "need --baseline and --current"},
		{"help", []string{"--help"}, exitOK, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GITHUB_STEP_SUMMARY", "")
			var out, errOut bytes.Buffer
			got := gateMain(tt.args, &out, &errOut)
			if got != tt.want || !strings.Contains(out.String(), tt.stdout) || !strings.Contains(errOut.String(), tt.stderr) {
				t.Errorf("gale gate %s: exit %d, want %d (stdout wants %q, stderr %q)\nstdout:\n%sstderr:\n%s",
					strings.Join(tt.args, " "), got, tt.want, tt.stdout, tt.stderr, out.String(), errOut.String())
			}
		})
	}
}

// TestGateMarkdown: --markdown writes the verdict, and it is appended to
// $GITHUB_STEP_SUMMARY, keeping what the file held.
func TestGateMarkdown(t *testing.T) {
	dir := t.TempDir()
	base := writeRuns(t, dir, "base", 5, 250e3, 5000, "")
	slow := writeRuns(t, dir, "slow", 5, 175e3, 5000, "")
	md := filepath.Join(dir, "gate.md")
	summary := filepath.Join(dir, "summary.md")
	os.WriteFile(summary, []byte("earlier step\n"), 0o644)
	t.Setenv("GITHUB_STEP_SUMMARY", summary)
	var out, errOut bytes.Buffer
	if got := gateMain([]string{"--baseline", base, "--current", slow, "--markdown", md}, &out, &errOut); got != exitThreshold {
		t.Fatalf("exit %d\n%s%s", got, out.String(), errOut.String())
	}
	b, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"### gale gate: FAIL (regression)", "| `publish.rate_msgs` | 5/5 | 250000 | 175000 | -30.0% | 0.008 | **REGRESSION** |"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("markdown lacks %q:\n%s", want, b)
		}
	}
	s, _ := os.ReadFile(summary)
	if !strings.HasPrefix(string(s), "earlier step\n### gale gate:") {
		t.Errorf("step summary:\n%s", s)
	}
}
