package reports

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
)

func readTestdata(t testing.TB, name string) *Results {
	t.Helper()
	r, err := ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestWriteSummary(t *testing.T) {
	var b bytes.Buffer
	if err := WriteSummary(&b, readTestdata(t, "scenario.json")); err != nil {
		t.Fatal(err)
	}
	want := `gale: embedded quickstart — PASS (exit 0), 2/2 thresholds held
  sweep    batch.maxMessages 1→110k 100→480k 10000→900k msg/s; peak 900k msg/s (90.0 MB/s) at 10000
  latency  450k msg/s (45.0 MB/s) at 450k target; e2e p50 1.17 ms, p99 4.68 ms, p99.9 8.19 ms, max 11.7 ms
  faults   83.6k msg/s (8.36 MB/s) at 100k target; e2e p50 910 µs, p99 3.64 ms, p99.9 6.37 ms, max 9.10 ms, 120 errors, status errors
           faults: kill 5.0–6.5 s; latency 9.0–10.0 s; partition at 10.5 s (failed)
           check: at-least-once ok — 1,048,576 operations; anomalies: duplicate 37
`
	if b.String() != want {
		t.Errorf("summary:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestWriteSummaryFitsOneScreen(t *testing.T) {
	var inputs []*Results
	for range 6 {
		inputs = append(inputs, readTestdata(t, "scenario.json"), readTestdata(t, "sweep.json"))
	}
	var b bytes.Buffer
	if err := WriteSummary(&b, inputs...); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != maxSummaryLines {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), maxSummaryLines, b.String())
	}
	if last := lines[len(lines)-1]; !strings.Contains(last, "more in the report") {
		t.Errorf("last line %q does not say what was left out", last)
	}

	rep := &Report{HTML: "out/report.html", Markdown: "out/report.md", Plots: make([]Plot, 4)}
	b.Reset()
	if err := rep.WriteSummary(&b, inputs...); err != nil {
		t.Fatal(err)
	}
	lines = strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != maxSummaryLines || lines[len(lines)-2] != "report: out/report.html" {
		t.Errorf("report summary (%d lines) does not end with where the report is:\n%s", len(lines), b.String())
	}
}

func TestFormats(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{grouped(1234567.891, 2), "1,234,567.89"},
		{grouped(-1234, 0), "-1,234"},
		{grouped(999, 0), "999"},
		{fmtRate(564412.3), "564,412"},
		{fmtRate(2.25), "2.2"},
		{fmtMB(56.444), "56.44"},
		{fmtMB(123.45), "123.5"},
		{fmtUs(82.64), "82.6"},
		{fmtUs(543686.7), "543,687"},
		{fmtValue(500000), "500,000"},
		{fmtValue(0.25), "0.25"},
		{fmtValue(12345.5), "12,345.5"},
		{short(564412), "564k"},
		{short(1234567), "1.23M"},
		{short(20027), "20.0k"},
		{human(850), "850 µs"},
		{human(4680), "4.68 ms"},
		{human(2_050_000), "2.05 s"},
		{tickCount(1500000), "1.5M"},
		{tickMicros(1000), "1 ms"},
		{tickMicros(0), "0"},
		{spectrumLabel(spectrumX(99.9)), "99.9%"},
		{spectrumLabel(spectrumX(50)), "50%"},
		{slug("kafka://127.0.0.1:9092 compare-100B"), "kafka-127-0-0-1-9092-compare-100b"},
		{mdEscape("# a|b *c* [d]"), `\# a\|b \*c\* \[d\]`},
		{mdCode("a`b"), "``a`b``"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestPlotNamesAreUnique(t *testing.T) {
	g := &generator{used: map[string]bool{}}
	var got []string
	for _, parts := range [][]string{{"", "sweep", "sweep"}, {"sweep"}, {"sweep"}, {"Run 100", "timeline"}, {}} {
		got = append(got, g.plotName(parts...))
	}
	if s := fmt.Sprint(got); s != "[sweep sweep-2 sweep-3 run-100-timeline plot]" {
		t.Errorf("names %s", s)
	}
}

func TestPercentilesCurve(t *testing.T) {
	p := Percentiles{Count: 5000, P50: 1, P75: 2, P90: 3, P95: 4, P99: 5, P999: 6, P9999: 7, Max: 8}
	c := percentilesCurve(p)
	// 5000 samples say nothing past p = 1 - 1/5000: p99.99 is left out
	// and the max sits at x = 5000
	if len(c) != 7 || c[5].Y != 6 || c[6].X != 5000 || c[6].Y != 8 {
		t.Errorf("curve %v", c)
	}
	if percentilesCurve(Percentiles{}) != nil {
		t.Error("a curve for no samples")
	}
}

// FuzzDecode feeds arbitrary bytes to Decode; what decodes must walk
// (Runs, Metrics) and summarise without panicking.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"scenario.json", "sweep.json", "target-kafka.json"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"schema_version":1,"sweep":{"field":"x","runs":[]},"phases":[{"phases":[{}]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Decode(b)
		if err != nil {
			return
		}
		r.Runs()
		Metrics(r)
		var out bytes.Buffer
		if err := WriteSummary(&out, r); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(out.String(), "\n"); n > maxSummaryLines {
			t.Fatalf("summary of %d lines", n)
		}
	})
}
