package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

const reportData = "../../reports/testdata/"

// copyResults copies testdata results files into a temporary directory.
func copyResults(t *testing.T, names ...string) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for _, n := range names {
		b, err := os.ReadFile(reportData + n)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return dir, paths
}

// TestReportWritesBesideResults: by default the report goes into the
// first results file's directory; the summary and the files written are
// printed.
func TestReportWritesBesideResults(t *testing.T) {
	dir, paths := copyResults(t, "target-embedded.json", "target-kafka.json")
	var out, errOut bytes.Buffer
	if code := reportMain(paths, &out, &errOut); code != exitOK {
		t.Fatalf("exit %d\n%s", code, errOut.String())
	}
	for _, f := range []string{"report.md", "report.html", "compare.png", "compare.svg", "spectrum.png"} {
		p := filepath.Join(dir, f)
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s not written: %v", f, err)
		}
		if !strings.Contains(out.String(), "  "+p+"\n") {
			t.Errorf("%s not listed in the output", p)
		}
	}
	for _, want := range []string{"gale: embedded compare-100B\n", "gale: kafka://127.0.0.1:9092 compare-100B\n", "wrote:\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

// TestReportFlags: --out, --title and --hlog, with flags after the files.
func TestReportFlags(t *testing.T) {
	_, paths := copyResults(t, "scenario.json")
	out := filepath.Join(t.TempDir(), "new", "dir")
	hlog := filepath.Join(t.TempDir(), "one.hlog")
	var log bytes.Buffer
	h := hdr.New(1, 3_600_000_000_000, 3)
	h.RecordValues(250_000, 1000) // 250 µs
	h.SetTag("e2e")
	if err := hdr.NewHistogramLogWriter(&log).OutputIntervalHistogram(h); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hlog, log.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code := reportMain([]string{paths[0], "--out", out, "--title", "nightly quickstart", "--hlog", hlog}, &stdout, &stderr)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr.String())
	}
	md, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# nightly quickstart\n", "## Histogram logs\n", "✅ **PASS**"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
}

// TestReportUnreadable: an unreadable input exits 2 and names the file.
func TestReportUnreadable(t *testing.T) {
	dir := t.TempDir()
	notJSON := filepath.Join(dir, "garbage.json")
	os.WriteFile(notJSON, []byte("not json"), 0o644)
	noSchema := filepath.Join(dir, "other.json")
	os.WriteFile(noSchema, []byte(`{"name":"x"}`), 0o644)
	good := reportData + "target-kafka.json"
	for _, tc := range []struct {
		args []string
		name string // the file the error must name
	}{
		{[]string{good, filepath.Join(dir, "missing.json")}, "missing.json"},
		{[]string{notJSON}, "garbage.json"},
		{[]string{good, noSchema}, "other.json"},
		{[]string{good, "--hlog", filepath.Join(dir, "missing.hlog"), "--out", dir}, "missing.hlog"},
		{[]string{good, "--hlog", notJSON, "--out", dir}, "garbage.json"},
	} {
		var out, errOut bytes.Buffer
		code := reportMain(tc.args, &out, &errOut)
		if code != exitUsage || !strings.Contains(errOut.String(), tc.name) {
			t.Errorf("gale report %s: exit %d, stderr %q; want 2 naming %s", strings.Join(tc.args, " "), code, errOut.String(), tc.name)
		}
	}
}

// TestReportUsage: no input is a usage error; --help is not.
func TestReportUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int
	}{
		{nil, exitUsage},
		{[]string{"--out"}, exitUsage},
		{[]string{"--bogus", reportData + "sweep.json"}, exitUsage},
		{[]string{"--help"}, exitOK},
	} {
		var out, errOut bytes.Buffer
		if code := reportMain(tc.args, &out, &errOut); code != tc.want {
			t.Errorf("gale report %s: exit %d, want %d", strings.Join(tc.args, " "), code, tc.want)
		}
	}
}
