package reports

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// generate reads testdata files and writes their report into a temporary
// directory.
func generate(t *testing.T, opts Options, files ...string) (*Report, string) {
	t.Helper()
	var inputs []*Results
	for _, f := range files {
		r, err := ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, r)
	}
	if opts.Names == nil {
		opts.Names = files
	}
	return generateResults(t, opts, inputs...)
}

func generateResults(t *testing.T, opts Options, inputs ...*Results) (*Report, string) {
	t.Helper()
	dir := t.TempDir()
	rep, err := Generate(dir, inputs, opts)
	if err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(rep.Markdown)
	if err != nil {
		t.Fatal(err)
	}
	checkFiles(t, rep)
	checkHTML(t, rep)
	return rep, string(md)
}

// checkFiles checks that every file listed exists, that PNGs decode and
// that SVGs parse as XML with an <svg> root.
func checkFiles(t *testing.T, rep *Report) {
	t.Helper()
	for _, f := range rep.Files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("listed file: %v", err)
		}
		switch filepath.Ext(f) {
		case ".png":
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if w := img.Bounds().Dx(); w != 960 {
				t.Errorf("%s: %d px wide, want 960", f, w)
			}
		case ".svg":
			checkSVG(t, f, b)
		}
	}
	if len(rep.Files) != 2+2*len(rep.Plots) {
		t.Errorf("%d files for %d plots", len(rep.Files), len(rep.Plots))
	}
}

func checkSVG(t *testing.T, name string, b []byte) {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.Token()
		if err != nil {
			t.Fatalf("%s: no <svg> element: %v", name, err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Local != "svg" {
				t.Fatalf("%s: root element %q, want svg", name, se.Name.Local)
			}
			return
		}
	}
}

var (
	externalRef = regexp.MustCompile(`(?i)(src|href)\s*=\s*"(https?:|//|ftp:|file:)|url\(|@import|<script|<link|<iframe|<object`)
	imgSrc      = regexp.MustCompile(`<img src="([^"]*)"`)
)

// checkHTML checks that report.html makes no request of its own: no
// external URLs, no scripts or stylesheets to load, and every image
// embedded as an SVG data: URI that decodes.
func checkHTML(t *testing.T, rep *Report) {
	t.Helper()
	b, err := os.ReadFile(rep.HTML)
	if err != nil {
		t.Fatal(err)
	}
	h := string(b)
	if m := externalRef.FindString(h); m != "" {
		t.Errorf("report.html refers outside itself: %q", m)
	}
	imgs := imgSrc.FindAllStringSubmatch(h, -1)
	if len(imgs) != len(rep.Plots) {
		t.Errorf("report.html has %d images for %d plots", len(imgs), len(rep.Plots))
	}
	for _, m := range imgs {
		data, ok := strings.CutPrefix(m[1], "data:image/svg+xml;base64,")
		if !ok {
			t.Fatalf("image not embedded: %.60s", m[1])
		}
		svg, err := base64.StdEncoding.DecodeString(data)
		if err != nil {
			t.Fatal(err)
		}
		checkSVG(t, "embedded image", svg)
	}
	for _, want := range []string{"<!DOCTYPE html>", `<meta charset="utf-8">`, "</html>"} {
		if !strings.Contains(h, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
}

// wantLines checks that md holds each line, whole.
func wantLines(t *testing.T, md string, lines ...string) {
	t.Helper()
	have := map[string]bool{}
	for _, l := range strings.Split(md, "\n") {
		have[l] = true
	}
	for _, l := range lines {
		if !have[l] {
			t.Errorf("report.md lacks the line\n\t%s", l)
		}
	}
	if t.Failed() {
		t.Logf("report.md:\n%s", md)
	}
}

func plotNames(rep *Report) []string {
	var ns []string
	for _, p := range rep.Plots {
		ns = append(ns, p.Name)
	}
	return ns
}

func wantPlots(t *testing.T, rep *Report, names ...string) {
	t.Helper()
	if got := strings.Join(plotNames(rep), " "); got != strings.Join(names, " ") {
		t.Errorf("plots %q, want %q", got, strings.Join(names, " "))
	}
}

func TestGenerateSweep(t *testing.T) {
	rep, md := generate(t, Options{}, "sweep.json")
	wantLines(t, md,
		"# gale report: sweep-batch",
		"### Sweep over batch.maxMessages",
		"| batch.maxMessages | publish msg/s | batches/s | msg/batch | publish MB/s | consume msg/s | publish p99 µs | e2e p99 µs | errors |",
		"| 1 | 110,519 | 36,841 | 3.0 | 11.05 | 109,814 | 147,194 | 147,718 | 0 |",
		"| 1000 | 564,412 (peak) | 771 | 731.8 | 56.44 | 561,569 | 32,309 | 84,476 | 0 |",
		"📈 [Throughput by batch.maxMessages](sweep.png) ([SVG](sweep.svg))",
		"<details><summary>Each run of the sweep: rates and latency percentiles</summary>",
		"| publish | 564,412 | 56.44 | 11,436 | 32,309 | 37,257 | 41,419 |",
		"| all | AMD EPYC | 2 | linux/amd64 | go1.26.8 | unknown | vm |",
	)
	// a sweep's runs are not timelines: the sweep plot shows them
	wantPlots(t, rep, "sweep", "spectrum")
	if strings.Contains(md, "✅") || strings.Contains(md, "❌") {
		t.Error("a verdict on a file that has none")
	}
}

func TestGenerateScenario(t *testing.T) {
	rep, md := generate(t, Options{}, "scenario.json")
	wantLines(t, md,
		"✅ **PASS** — embedded quickstart: scenario `quickstart`, seed 42, exit code 0",
		"- at-least-once held over 1,048,576 operations (37 duplicates, which at-least-once allows)",
		"| metric | min | max | value | held |",
		"| sweep/batch.maxMessages=10000/publish.rate\\_msgs | 500,000 | – | 900,000 | ✅ yes |",
		"| latency/e2e.p99\\_us | – | 5,000 | 4,680 | ✅ yes |",
		"### Phase: sweep",
		"### Phase: latency",
		"**Run** — open loop at 450,000 msg/s · 5.0 s measured · 2,250,000 published · 2,250,000 consumed · 0 errors · 45,000 batches (50.0 msg/batch)",
		"| publish | 450,000 | 45.00 | 900.0 | 3,600 | 6,300 | 9,000 |",
		"| consume, end-to-end | 450,000 | 45.00 | 1,170 | 4,680 | 8,190 | 11,700 |",
		"### Phase: faults",
		"#### Fault timeline",
		"| start s | end s | kind | fault | outcome |",
		"| 5.0 | 6.5 | kill | {at: 5s, kill: broker, restart\\_after: 1.5s} | injected |",
		"| 10.5 | 10.5 | partition | {at: 10.5s, partition: consumers} | ⚠️ no such node: consumers |",
		"#### Check: at-least-once",
		"✅ **ok** — 1,048,576 operations; anomalies: duplicate 37 (history `faults.history.jsonl`)",
		"| duplicate | 37 | no |",
		"| lost-write | 0 | no |",
		"📈 [Throughput and p99 over time: faults](faults-timeline.png) ([SVG](faults-timeline.svg))",
	)
	if !strings.Contains(md, "⚠️ **status errors**") {
		t.Error("the fault run's status is not flagged")
	}
	wantPlots(t, rep, "sweep", "latency-timeline", "faults-timeline", "spectrum")
}

func TestGenerateViolation(t *testing.T) {
	r, err := ReadFile("testdata/scenario.json")
	if err != nil {
		t.Fatal(err)
	}
	r.Scenario.Verdict, r.Scenario.ExitCode = "violation", 3
	r.Scenario.Thresholds[1].Value, r.Scenario.Thresholds[1].Held = 7200, false
	c := r.Phases[2].Check
	c.Verdict, c.Violations = "violated", []string{"lost-write", "nonlinearizable"}
	c.Anomalies["lost-write"] = 2
	_, md := generateResults(t, Options{Title: "nightly"}, r)
	wantLines(t, md,
		"# nightly",
		"❌ **FAIL: a guarantee was violated** — embedded quickstart: scenario `quickstart`, seed 42, exit code 3",
		"| latency/e2e.p99\\_us | – | 5,000 | 7,200 | ❌ no |",
		"❌ **violated** — 1,048,576 operations; violated by lost-write, nonlinearizable; anomalies: duplicate 37, lost-write 2 (history `faults.history.jsonl`)",
		"| lost-write | 2 | ❌ yes |",
		"| nonlinearizable | – | ❌ yes |",
	)
}

func TestGenerateTwoTargets(t *testing.T) {
	rep, md := generate(t, Options{}, "target-embedded.json", "target-kafka.json")
	wantLines(t, md,
		"# gale report: compare-100B",
		"## Comparison",
		"| input | run | publish msg/s | publish MB/s | consume msg/s | publish p99 µs | e2e p99 µs | errors |",
		"| embedded compare-100B | run | 250,000 | 25.00 | 250,000 | 2,400 | 3,120 | 0 |",
		"| kafka://127.0.0.1:9092 compare-100B | run | 180,000 | 18.00 | 180,000 | 5,600 | 7,280 | 0 |",
		"## embedded compare-100B",
		"## kafka://127.0.0.1:9092 compare-100B",
		"target `kafka://127.0.0.1:9092` · workload `compare-100B` · 100 B messages · seed 7 · file `target-kafka.json`",
	)
	// few runs in all: one spectrum for both, in the comparison
	wantPlots(t, rep, "compare", "spectrum", "embedded-compare-100b-timeline", "kafka-127-0-0-1-9092-compare-100b-timeline")
}

func TestGenerateSameLabels(t *testing.T) {
	rep, md := generate(t, Options{Names: []string{"a/one.json", "b/one.json"}}, "target-embedded.json", "target-embedded.json")
	wantLines(t, md,
		"## embedded compare-100B (a/one.json)",
		"## embedded compare-100B (b/one.json)",
	)
	_, md = generate(t, Options{Names: []string{}}, "target-embedded.json", "target-embedded.json")
	wantLines(t, md, "## embedded compare-100B #1", "## embedded compare-100B #2")
	if len(rep.Plots) != 4 {
		t.Errorf("plots %v", plotNames(rep))
	}
}

func TestGenerateMaxRate(t *testing.T) {
	r := readTestdata(t, "target-kafka.json")
	r.MaxRate = &MaxRateResult{Rate: 160000, Criterion: "p99 <= 5ms", Decision: "160,000 msg/s held; 200,000 did not.",
		Probes: []RateProbe{
			{Rate: 0, Achieved: 180000, P99: 7280, Held: false, Reason: "closed loop"},
			{Rate: 160000, Achieved: 159990.7, P99: 4100, Held: true},
			{Rate: 200000, Achieved: 178000, P99: 9000, Backlog: 12000, Held: false, Reason: "p99 9ms > 5ms"},
		}}
	_, md := generateResults(t, Options{}, r)
	wantLines(t, md,
		"### Max sustainable rate",
		"Highest rate that held: **160,000 msg/s** (criterion: `p99 <= 5ms`). 160,000 msg/s held; 200,000 did not.",
		"| target msg/s | achieved msg/s | p99 µs | backlog at end | errors | held | reason |",
		"| closed loop | 180,000 | 7,280 | 0 | 0 | ❌ no | closed loop |",
		"| 160,000 | 159,991 | 4,100 | 0 | 0 | ✅ yes |  |",
		"| 200,000 | 178,000 | 9,000 | 12,000 | 0 | ❌ no | p99 9ms \\> 5ms |",
	)
}

func TestGenerateNoRuns(t *testing.T) {
	r := &Results{SchemaVersion: SchemaVersion, Target: "embedded",
		Scenario: &ScenarioResult{Name: "empty", Verdict: "interrupted", ExitCode: 2}}
	rep, md := generateResults(t, Options{}, r)
	wantLines(t, md, "⚠️ **INTERRUPTED** — embedded empty: scenario `empty`, seed 0, exit code 2")
	if len(rep.Plots) != 0 {
		t.Errorf("plots drawn without data: %v", plotNames(rep))
	}
}

func TestGenerateNothing(t *testing.T) {
	if _, err := Generate(t.TempDir(), nil, Options{}); err == nil {
		t.Error("no error for nothing to report")
	}
	if _, err := Generate(t.TempDir(), []*Results{nil}, Options{}); err == nil {
		t.Error("no error for a nil input")
	}
}

func TestGenerateDoesNotChangeInputs(t *testing.T) {
	r, err := ReadFile("testdata/scenario.json")
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile("testdata/scenario.json")
	if _, err := Generate(t.TempDir(), []*Results{r}, Options{}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "r.json")
	if err := r.WriteFile(out); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(out)
	a, _ := Decode(before)
	b, _ := Decode(after)
	ab, _ := jsonOf(a)
	bb, _ := jsonOf(b)
	if !bytes.Equal(ab, bb) {
		t.Error("Generate changed its input")
	}
}

func jsonOf(r *Results) ([]byte, error) {
	var buf bytes.Buffer
	dir, err := os.MkdirTemp("", "reports")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := r.WriteFile(filepath.Join(dir, "x.json")); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(dir, "x.json"))
	buf.Write(b)
	return buf.Bytes(), err
}

// BenchmarkGenerate times a report on the quickstart-like scenario (a
// sweep, a latency run, a fault run: 4 plots, each PNG and SVG).
func BenchmarkGenerate(b *testing.B) {
	r, err := ReadFile("testdata/scenario.json")
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	for b.Loop() {
		if _, err := Generate(dir, []*Results{r}, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
