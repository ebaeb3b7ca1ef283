package reports

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// writeHlog writes an .hlog as gale loadgen does: per interval a publish
// and an e2e histogram, values in nanoseconds; interval i records n values
// of base*(i+1) ns each.
func writeHlog(t testing.TB, path string, intervals int, n int64, base int64) {
	t.Helper()
	var buf bytes.Buffer
	w := hdr.NewHistogramLogWriter(&buf)
	start := int64(1_700_000_000_000)
	w.OutputLogFormatVersion()
	w.OutputStartTime(start)
	w.OutputBaseTime(start)
	w.SetBaseTime(start)
	w.OutputLegend()
	for i := range intervals {
		for _, tag := range []string{"publish", "e2e"} {
			h := hdr.New(hlogLowest, hlogHighest, hlogDigits)
			v := base * int64(i+1)
			if tag == "e2e" {
				v *= 2
			}
			if err := h.RecordValues(v, n); err != nil {
				t.Fatal(err)
			}
			h.SetTag(tag)
			h.SetStartTimeMs(start + int64(i)*1000)
			h.SetEndTimeMs(start + int64(i+1)*1000)
			if err := w.OutputIntervalHistogram(h); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReadHistogramLogsMerges(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.hlog"), filepath.Join(dir, "b.hlog")
	writeHlog(t, a, 3, 1000, 100_000)  // 100, 200, 300 µs
	writeHlog(t, b, 2, 500, 1_000_000) // 1, 2 ms: a slower machine
	hl, err := ReadHistogramLogs([]string{a, b}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(hl.Tags, ","); got != "publish,e2e" {
		t.Errorf("tags %s", got)
	}
	pub := hl.Histograms["publish"]
	if n := pub.TotalCount(); n != 3*1000+2*500 {
		t.Errorf("publish count %d, want 4000", n)
	}
	if hl.Intervals != 10 || hl.Skipped != 0 || hl.Dropped != 0 {
		t.Errorf("intervals %d skipped %d dropped %d", hl.Intervals, hl.Skipped, hl.Dropped)
	}
	// the merged max is the slow machine's
	if m := pub.Max(); !pub.ValuesAreEquivalent(m, 2_000_000) {
		t.Errorf("publish max %d ns, want 2 ms", m)
	}

	// skipping the first second leaves out each file's first interval
	hl, err = ReadHistogramLogs([]string{a, b}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if n := hl.Histograms["publish"].TotalCount(); n != 2*1000+1*500 {
		t.Errorf("publish count after skip %d, want 2500", n)
	}
	if hl.Skipped != 4 {
		t.Errorf("skipped %d, want 4", hl.Skipped)
	}
}

func TestReadHistogramLogsErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.hlog")
	os.WriteFile(empty, []byte("#[Histogram log format version 1.3]\n"), 0o644)
	corrupt := filepath.Join(dir, "corrupt.hlog")
	os.WriteFile(corrupt, []byte("Tag=e2e,0.0,1.0,1.0,HISTFAAAACh4nJNpmSzMwMDAxAABzFCaEUzOmTtnP4QFAEPQA/8=garbage\n"), 0o644)
	for _, tc := range []struct {
		name, path string
		is         error
	}{
		{"missing", filepath.Join(dir, "nope.hlog"), os.ErrNotExist},
		{"empty", empty, ErrHistogramLog},
		{"corrupt", corrupt, ErrHistogramLog},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadHistogramLogs([]string{tc.path}, 0)
			if !errors.Is(err, tc.is) {
				t.Fatalf("error %v, want %v", err, tc.is)
			}
			if !strings.Contains(err.Error(), filepath.Base(tc.path)) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestGenerateHlogs(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.hlog"), filepath.Join(dir, "b.hlog")
	writeHlog(t, a, 3, 1000, 100_000)
	writeHlog(t, b, 2, 500, 1_000_000)
	rep, md := generate(t, Options{Hlogs: []string{a, b}}, "target-embedded.json")
	wantLines(t, md,
		"## Histogram logs",
		"| tag | count | p50 µs | p90 µs | p99 µs | p99.9 µs | p99.99 µs | max µs |",
		// 1000 values each of 100, 200 and 300 µs, 500 each of 1 and 2 ms
		// (to HdrHistogram's 3 digits)
		"| publish | 4,000 | 200.1 | 2,001 | 2,001 | 2,001 | 2,001 | 2,001 |",
		"| e2e | 4,000 | 400.1 | 4,002 | 4,002 | 4,002 | 4,002 | 4,002 |",
	)
	if !strings.Contains(md, "📈 [Latency percentile spectrum, 2 .hlog files merged](spectrum-hlog.png)") {
		t.Error("no merged spectrum")
	}
	if n := plotNames(rep); n[len(n)-1] != "spectrum-hlog" {
		t.Errorf("plots %v", n)
	}

	// histogram logs alone make a report too
	rep, err := Generate(t.TempDir(), nil, Options{Hlogs: []string{a}})
	if err != nil {
		t.Fatal(err)
	}
	wantPlots(t, rep, "spectrum-hlog")
}

// FuzzHistogramLog feeds arbitrary bytes to the .hlog reader: it returns
// an error or histograms, and never panics.
func FuzzHistogramLog(f *testing.F) {
	dir := f.TempDir()
	p := filepath.Join(dir, "seed.hlog")
	writeHlog(f, p, 2, 10, 1000)
	seed, _ := os.ReadFile(p)
	f.Add(seed)
	f.Add([]byte("Tag=e2e,0.0,1.0,1.0,HISTFAAAAA==\n"))
	f.Add([]byte("#[StartTime: 12.5 (seconds since epoch)]\n1,2,3,x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		hl := &HistogramLogs{Histograms: map[string]*hdr.Histogram{}}
		if err := hl.read(bytes.NewReader(b), 0); err != nil {
			if !errors.Is(err, ErrHistogramLog) {
				t.Fatalf("error %v is not ErrHistogramLog", err)
			}
			return
		}
		for _, tag := range hl.Tags {
			if hl.Histograms[tag] == nil {
				t.Fatalf("tag %q without a histogram", tag)
			}
		}
	})
}
