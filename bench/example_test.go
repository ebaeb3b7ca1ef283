package bench_test

import (
	"fmt"
	"os"

	"gale/bench"
	"gale/reports"
)

// results makes one crafted run with the publish rate given.
func results(rate float64) *reports.Results {
	return &reports.Results{SchemaVersion: reports.SchemaVersion, Summary: &reports.Summary{
		Rates: reports.Rates{PublishRate: rate}, Status: "ok",
	}}
}

func ExampleCompare() {
	var baseline, current []*reports.Results
	for _, r := range []float64{1000, 1010, 990, 1005, 995} {
		baseline = append(baseline, results(r))
		current = append(current, results(r*0.7)) // 30% slower
	}
	v, err := bench.Compare(baseline, current, bench.Options{Metrics: []string{"publish.rate_msgs"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	v.WriteText(os.Stdout)
	// Output:
	// metric               runs     baseline      current    change  p-value  verdict
	// publish.rate_msgs     5/5         1000        700.0    -30.0%    0.008  REGRESSION
	// (5 baseline vs 5 current runs; medians, tolerance 10%, and a two-sided Mann-Whitney U test at alpha 0.05)
	// gate: FAIL (regression): publish.rate_msgs -30.0%
}

func ExampleMannWhitney() {
	// The example of scipy.stats.mannwhitneyu's documentation.
	males := []float64{19, 22, 16, 29, 24}
	females := []float64{20, 11, 17, 12}
	t, _ := bench.MannWhitney(males, females)
	fmt.Printf("U=%g p=%.4f exact=%v\n", t.U, t.P, t.Exact)
	// Output:
	// U=17 p=0.1111 exact=true
}
