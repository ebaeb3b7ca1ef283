package bench

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gale/reports"
)

// shape is the true performance of a crafted run, before jitter.
type shape struct {
	rate   float64 // msg/s, published and consumed
	pubP99 float64 // us
	e2eP50 float64
	e2eP99 float64
}

var base = shape{rate: 250_000, pubP99: 2_000, e2eP50: 800, e2eP99: 5_000}

// summary makes a run's summary from s, each figure scaled by its own
// jitter factor in [1-j, 1+j].
func summary(s shape, rng *rand.Rand, j float64) *reports.Summary {
	f := func(x float64) float64 { return x * (1 - j + 2*j*rng.Float64()) }
	rate := f(s.rate)
	return &reports.Summary{
		Mode:           "closed",
		Rates:          reports.Rates{Published: int64(rate * 3), PublishRate: rate, ConsumeRate: f(s.rate), Consumed: int64(rate * 3)},
		PublishLatency: reports.Percentiles{Count: 1000, P50: f(s.pubP99 / 4), P99: f(s.pubP99), P999: f(2 * s.pubP99)},
		EndToEnd:       reports.Percentiles{Count: 1000, P50: f(s.e2eP50), P99: f(s.e2eP99), P999: f(2 * s.e2eP99)},
		Status:         "ok",
	}
}

// runs makes n results files of one run each, jittered by j (0.03 = ±3%).
func runs(t *testing.T, n int, s shape, j float64, seed uint64) []*reports.Results {
	t.Helper()
	t.Logf("seed = %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	var out []*reports.Results
	for range n {
		out = append(out, &reports.Results{SchemaVersion: reports.SchemaVersion, Target: "embedded", Summary: summary(s, rng, j)})
	}
	return out
}

func rowOf(t *testing.T, v *Verdict, metric string) Row {
	t.Helper()
	for _, r := range v.Rows {
		if r.Metric == metric {
			return r
		}
	}
	t.Fatalf("no row %s in %v", metric, metricNames(v))
	return Row{}
}

func metricNames(v *Verdict) []string {
	var out []string
	for _, r := range v.Rows {
		out = append(out, r.Metric)
	}
	return out
}

func compare(t *testing.T, b, c []*reports.Results, o Options) *Verdict {
	t.Helper()
	v, err := Compare(b, c, o)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	if err := v.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", text.String())
	return v
}

// TestCompareWithinNoise: 5 runs against 5 of the same system, each figure
// jittered by ±5%, pass on every default metric and every seed tried.
func TestCompareWithinNoise(t *testing.T) {
	for seed := range uint64(20) {
		v := compare(t, runs(t, 5, base, 0.05, seed), runs(t, 5, base, 0.05, seed+100), Options{})
		if v.Outcome != Pass || len(v.Rows) != len(DefaultMetrics) {
			t.Fatalf("seed %d: outcome %s with %d rows, want pass with %d", seed, v.Outcome, len(v.Rows), len(DefaultMetrics))
		}
		for _, r := range v.Rows {
			if !r.Tested || r.Judgement != Same {
				t.Errorf("seed %d: %s judged %s (tested %v)", seed, r.Metric, r.Judgement, r.Tested)
			}
		}
	}
}

// TestCompareThroughputDrop: a 30% drop in throughput is a significant
// regression of both rates, and nothing else regresses.
func TestCompareThroughputDrop(t *testing.T) {
	slow := base
	slow.rate *= 0.7
	v := compare(t, runs(t, 5, base, 0.03, 1), runs(t, 5, slow, 0.03, 2), Options{})
	if v.Outcome != Regression {
		t.Fatalf("outcome %s, want regression", v.Outcome)
	}
	for _, m := range []string{"publish.rate_msgs", "consume.rate_msgs"} {
		r := rowOf(t, v, m)
		if r.Judgement != Worse || !r.Tested || r.Test.P >= 0.05 || r.Change > -0.2 {
			t.Errorf("%s: %+v", m, r)
		}
	}
	if got := len(v.Regressions()); got != 2 {
		t.Errorf("%d regressions, want 2", got)
	}
	if !strings.HasPrefix(v.Headline(), "FAIL (regression): consume.rate_msgs -") {
		t.Errorf("headline %q", v.Headline())
	}
}

// TestCompareP99Rise: a higher tail latency is a regression (lower is
// better for latencies); a higher rate is an improvement, which passes.
func TestCompareP99Rise(t *testing.T) {
	worse := base
	worse.e2eP99 *= 1.4
	v := compare(t, runs(t, 6, base, 0.03, 3), runs(t, 5, worse, 0.03, 4), Options{})
	if v.Outcome != Regression || rowOf(t, v, "e2e.p99_us").Judgement != Worse {
		t.Fatalf("outcome %s, e2e.p99_us %s", v.Outcome, rowOf(t, v, "e2e.p99_us").Judgement)
	}

	better := base
	better.rate *= 1.3
	v = compare(t, runs(t, 5, base, 0.03, 5), runs(t, 5, better, 0.03, 6), Options{})
	if v.Outcome != Pass || rowOf(t, v, "publish.rate_msgs").Judgement != Better {
		t.Fatalf("outcome %s, publish.rate_msgs %s", v.Outcome, rowOf(t, v, "publish.rate_msgs").Judgement)
	}
	if !strings.Contains(v.Headline(), "2 improved") {
		t.Errorf("headline %q", v.Headline())
	}
}

// TestCompareNoiseNotSignificant: a median 11% worse from samples that
// overlap is not significant, so it is noise, not a regression.
func TestCompareNoiseNotSignificant(t *testing.T) {
	mk := func(rates ...float64) []*reports.Results {
		var out []*reports.Results
		for _, r := range rates {
			s := summary(base, rand.New(rand.NewPCG(1, 1)), 0)
			s.PublishRate = r
			out = append(out, &reports.Results{SchemaVersion: 1, Summary: s})
		}
		return out
	}
	v := compare(t, mk(90, 95, 100, 105, 200), mk(80, 85, 89, 120, 130), Options{Metrics: []string{"publish.rate_msgs"}})
	r := rowOf(t, v, "publish.rate_msgs")
	if v.Outcome != Pass || r.Judgement != Noise || r.Change > -0.1 || r.Test.P < 0.05 {
		t.Fatalf("outcome %s, row %+v", v.Outcome, r)
	}
}

// TestCompareFewRuns: with 3 runs a side the tolerance alone decides, and
// the verdict says so.
func TestCompareFewRuns(t *testing.T) {
	slow := base
	slow.rate *= 0.7
	v := compare(t, runs(t, 3, base, 0.02, 7), runs(t, 3, slow, 0.02, 8), Options{})
	if v.Outcome != Regression || rowOf(t, v, "publish.rate_msgs").Judgement != Worse {
		t.Fatalf("outcome %s", v.Outcome)
	}
	for _, r := range v.Rows {
		if r.Tested {
			t.Errorf("%s: U test run with 3 runs a side", r.Metric)
		}
	}
	if !slices.ContainsFunc(v.Notes, func(n string) bool { return strings.HasPrefix(n, "n<5: tolerance only") }) {
		t.Errorf("notes %q lack n<5: tolerance only", v.Notes)
	}
	var text strings.Builder
	v.WriteText(&text)
	if !strings.Contains(text.String(), "n<5") {
		t.Errorf("table does not say n<5:\n%s", text.String())
	}

	slightly := base
	slightly.rate *= 0.95
	v = compare(t, runs(t, 3, base, 0, 9), runs(t, 3, slightly, 0, 10), Options{})
	if v.Outcome != Pass {
		t.Errorf("5%% drop with 10%% tolerance: outcome %s", v.Outcome)
	}
	v = compare(t, runs(t, 3, base, 0, 9), runs(t, 3, slightly, 0, 10), Options{Tolerance: 0.03})
	if v.Outcome != Regression {
		t.Errorf("5%% drop with 3%% tolerance: outcome %s", v.Outcome)
	}
}

// checked returns a check result with the given verdict.
func checked(verdict string) *reports.CheckResult {
	return &reports.CheckResult{Expect: "at-least-once", Verdict: verdict, Violations: []string{"lost-write"}}
}

// TestCompareViolation: a guarantee violated in a current run is a
// violation whatever the metrics say; one the scenario expected is not;
// one in the baseline is only noted.
func TestCompareViolation(t *testing.T) {
	tests := []struct {
		name string
		mod  func(r *reports.Results)
		want Outcome
	}{
		{"check violated", func(r *reports.Results) { r.Check = checked("violated") }, Violation},
		{"check ok", func(r *reports.Results) { r.Check = checked("ok") }, Pass},
		{"scenario violation", func(r *reports.Results) {
			r.Scenario = &reports.ScenarioResult{Name: "kill", Verdict: "violation", ExitCode: 3}
		}, Violation},
		{"phase check violated", func(r *reports.Results) {
			r.Scenario = &reports.ScenarioResult{Name: "quickstart", Verdict: "pass"}
			r.Phases = []reports.Results{{Phase: "fault", Summary: r.Summary, Check: checked("violated")}}
		}, Violation},
		{"expected violation found", func(r *reports.Results) {
			r.Scenario = &reports.ScenarioResult{Name: "power-loss", ExpectViolation: "lost-write", Verdict: "pass"}
			r.Phases = []reports.Results{{Phase: "fault", Summary: r.Summary, Check: checked("violated")}}
		}, Pass},
		{"expected violation missing", func(r *reports.Results) {
			r.Scenario = &reports.ScenarioResult{Name: "power-loss", ExpectViolation: "lost-write", Verdict: "violation"}
		}, Violation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			slow := base
			slow.rate *= 0.5 // a regression too: the violation outranks it
			cur := runs(t, 5, base, 0.02, 11)
			if tt.want == Violation {
				cur = runs(t, 5, slow, 0.02, 11)
			}
			tt.mod(cur[3])
			v := compare(t, runs(t, 5, base, 0.02, 12), cur, Options{CurrentNames: []string{"a", "b", "c", "d.json", "e"}})
			if v.Outcome != tt.want {
				t.Fatalf("outcome %s, want %s", v.Outcome, tt.want)
			}
			if tt.want == Violation && !strings.HasPrefix(v.Headline(), "FAIL (guarantee violated): d.json") {
				t.Errorf("headline %q does not name the run", v.Headline())
			}
		})
	}

	b := runs(t, 5, base, 0.02, 13)
	b[0].Check = checked("violated")
	v := compare(t, b, runs(t, 5, base, 0.02, 14), Options{})
	if v.Outcome != Pass || !slices.ContainsFunc(v.Notes, func(n string) bool { return strings.Contains(n, "baseline run 1") }) {
		t.Errorf("baseline violation: outcome %s, notes %q", v.Outcome, v.Notes)
	}

	c := runs(t, 5, base, 0.02, 15)
	c[1].Check = checked("undecided")
	b = runs(t, 5, base, 0.02, 16)
	for i := range 5 {
		b[i].Environment = reports.Environment{CPUModel: "EPYC", Cores: 2}
		c[i].Environment = b[i].Environment
	}
	c[2].Environment = reports.Environment{CPUModel: "Xeon", Cores: 4}
	v = compare(t, b, c, Options{})
	if v.Outcome != Pass || !slices.Contains(v.Notes, "current run 2: check undecided (the checker timed out)") {
		t.Errorf("undecided check: outcome %s, notes %q", v.Outcome, v.Notes)
	}
	if !slices.Contains(v.Notes, "the sides ran on different machines: baseline EPYC, 2 cores; current EPYC, 2 cores | Xeon, 4 cores") {
		t.Errorf("machine change not noted: %q", v.Notes)
	}
}

// TestCompareMetricFilter: names and patterns select metrics, prefixed
// forms included; a pattern matching nothing is noted; nothing in common
// is ErrNoMetrics.
func TestCompareMetricFilter(t *testing.T) {
	phased := func(seed uint64) []*reports.Results {
		out := runs(t, 5, base, 0.02, seed)
		for _, r := range out {
			r.Phases = []reports.Results{{Phase: "latency", Summary: r.Summary}}
		}
		return out
	}
	tests := []struct {
		metrics []string
		want    []string
	}{
		{nil, []string{"consume.rate_msgs", "e2e.p50_us", "e2e.p99.9_us", "e2e.p99_us",
			"latency/consume.rate_msgs", "latency/e2e.p50_us", "latency/e2e.p99.9_us", "latency/e2e.p99_us",
			"latency/publish.p99_us", "latency/publish.rate_msgs", "publish.p99_us", "publish.rate_msgs"}},
		{[]string{"e2e.p99_us"}, []string{"e2e.p99_us", "latency/e2e.p99_us"}},
		{[]string{"latency/e2e.*"}, []string{"latency/e2e.max_us", "latency/e2e.mean_us", "latency/e2e.p50_us",
			"latency/e2e.p75_us", "latency/e2e.p90_us", "latency/e2e.p95_us", "latency/e2e.p99.99_us",
			"latency/e2e.p99.9_us", "latency/e2e.p99_us"}},
		{[]string{"publish.rate_mb", "errors", "nope.*"}, []string{"errors", "latency/errors", "latency/publish.rate_mb", "publish.rate_mb"}},
	}
	for _, tt := range tests {
		v := compare(t, phased(15), phased(16), Options{Metrics: tt.metrics})
		if got := metricNames(v); !slices.Equal(got, tt.want) {
			t.Errorf("--metrics %q: got %q, want %q", tt.metrics, got, tt.want)
		}
		if slices.Contains(tt.metrics, "nope.*") && !slices.Contains(v.Notes, `"nope.*": no such metric on both sides`) {
			t.Errorf("notes %q lack the unmatched pattern", v.Notes)
		}
	}
	_, err := Compare(phased(15), phased(16), Options{Metrics: []string{"max_rate.msgs"}})
	if !errors.Is(err, ErrNoMetrics) {
		t.Errorf("no metric in common: err %v", err)
	}
	if _, err := Compare(phased(15), phased(16), Options{Metrics: []string{"[x"}}); err == nil {
		t.Error("bad pattern accepted")
	}
}

// TestCompareSweep: a sweep's runs are compared one by one, under their
// prefixed names, and a metric only on one side is noted, not compared.
func TestCompareSweep(t *testing.T) {
	sweep := func(seed uint64, values ...string) []*reports.Results {
		rng := rand.New(rand.NewPCG(seed, 1))
		var out []*reports.Results
		for range 5 {
			r := &reports.Results{SchemaVersion: 1, Sweep: &reports.SweepResults{Field: "batch.maxMessages"}}
			for _, val := range values {
				r.Sweep.Runs = append(r.Sweep.Runs, reports.RunResult{Name: val, Value: val, Summary: *summary(base, rng, 0.02)})
			}
			out = append(out, r)
		}
		return out
	}
	v := compare(t, sweep(1, "1", "100"), sweep(2, "1", "100", "1000"), Options{Metrics: []string{"publish.rate_msgs"}})
	want := []string{"batch.maxMessages=1/publish.rate_msgs", "batch.maxMessages=100/publish.rate_msgs"}
	if got := metricNames(v); !slices.Equal(got, want) || v.Outcome != Pass {
		t.Errorf("rows %q (outcome %s), want %q", got, v.Outcome, want)
	}
	if !slices.Contains(v.Notes, "batch.maxMessages=1000/publish.rate_msgs: only in the current runs, not compared") {
		t.Errorf("notes %q", v.Notes)
	}
}

func TestCompareBadInput(t *testing.T) {
	r := runs(t, 1, base, 0, 1)
	for _, tt := range []struct {
		name string
		b, c []*reports.Results
		o    Options
	}{
		{"no baseline", nil, r, Options{}},
		{"no current", r, nil, Options{}},
		{"negative tolerance", r, r, Options{Tolerance: -0.1}},
		{"alpha 1", r, r, Options{Alpha: 1}},
		{"MinRuns 1", r, r, Options{MinRuns: 1}},
	} {
		if _, err := Compare(tt.b, tt.c, tt.o); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

func TestSelects(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"e2e.p99_us", "e2e.p99_us", true},
		{"e2e.p99_us", "latency/e2e.p99_us", true},
		{"e2e.p99_us", "quickstart/batch.maxMessages=10/e2e.p99_us", true},
		{"e2e.p99_us", "e2e.p99.9_us", false},
		{"e2e.*", "latency/e2e.p50_us", true},
		{"latency/*", "latency/e2e.p50_us", true},
		{"latency/*", "e2e.p50_us", false},
		{"latency/*", "sweep/latency/e2e.p50_us", false},
		{"*/publish.rate_msgs", "batch.maxMessages=1/publish.rate_msgs", true},
		{"*/publish.rate_msgs", "publish.rate_msgs", false},
		{"publish.*_us", "publish.p99_us", true},
		{"publish.*_us", "publish_delay.p99_us", false},
	}
	for _, tt := range tests {
		if got := Selects(tt.pattern, tt.name); got != tt.want {
			t.Errorf("Selects(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func TestMedianAndChange(t *testing.T) {
	xs := []float64{5, 1, 3}
	if m := median(xs); m != 3 || !slices.Equal(xs, []float64{5, 1, 3}) {
		t.Errorf("median %v, xs %v", m, xs)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median of 4 = %v", m)
	}
	for _, tt := range []struct{ b, c, want float64 }{{100, 70, -0.3}, {-10, -5, 0.5}, {0, 0, 0}, {2, 2, 0}} {
		if got := change(tt.b, tt.c); got < tt.want-1e-12 || got > tt.want+1e-12 {
			t.Errorf("change(%v, %v) = %v, want %v", tt.b, tt.c, got, tt.want)
		}
	}
	if got := formatChange(change(0, 5)); got != "+Inf%" {
		t.Errorf("from 0 to 5: %s", got)
	}
}

func TestParseTolerance(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want float64
		ok   bool
	}{{"10%", 0.10, true}, {"10", 0.10, true}, {" 2.5 % ", 0.025, true}, {"0", 0, false}, {"-5%", 0, false}, {"ten", 0, false}, {"Inf", 0, false}} {
		got, err := ParseTolerance(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseTolerance(%q) = %v, %v", tt.in, got, err)
		}
	}
}
