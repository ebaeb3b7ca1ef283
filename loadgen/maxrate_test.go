package loadgen

import (
	"strings"
	"testing"
	"time"
)

func TestJudge(t *testing.T) {
	lat := func(p99 float64) Percentiles { return Percentiles{Count: 10, P99: p99} }
	for _, tc := range []struct {
		name   string
		s      Summary
		rate   int
		held   bool
		reason string
	}{
		{"holds", Summary{Status: "ok", Rates: Rates{PublishRate: 990}, EndToEnd: lat(4000)}, 1000, true, "held"},
		{"too slow", Summary{Status: "ok", Rates: Rates{PublishRate: 900}, EndToEnd: lat(10)}, 1000, false, "under 95%"},
		{"p99 over", Summary{Status: "ok", Rates: Rates{PublishRate: 1000}, EndToEnd: lat(6000)}, 1000, false, "p99 6000 us over 5000 us"},
		{"publish p99 without consumers", Summary{Status: "ok", Rates: Rates{PublishRate: 1000}, PublishLatency: lat(6000)}, 1000, false, "p99 6000"},
		{"backlog", Summary{Status: "ok", Rates: Rates{PublishRate: 1000}, BacklogMax: 900, BacklogEnd: 800, EndToEnd: lat(10)}, 1000, false, "backlog 800"},
		{"errors", Summary{Status: "errors", Rates: Rates{Errors: 3, PublishRate: 1000}}, 1000, false, "3 errors"},
		{"closed loop only measures", Summary{Status: "ok", Rates: Rates{PublishRate: 1e6}}, 0, false, "closed loop"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := judge(tc.s, tc.rate, 5*time.Millisecond)
			if p.Held != tc.held || !strings.Contains(p.Reason, tc.reason) {
				t.Errorf("held %v (%s), want %v (%s)", p.Held, p.Reason, tc.held, tc.reason)
			}
		})
	}
}

// The search runs against the in-memory broker, bounded by MaxProbes, and
// says how it decided.
func TestFindMaxRate(t *testing.T) {
	res, err := Run(testContext(t), Config{
		Driver: newMemDriver(),
		Workload: Workload{Name: "find", MessageSize: 100, MaxInFlight: 100,
			FindMaxRate: &FindMaxRate{P99: time.Second, Probe: 300 * time.Millisecond, MaxProbes: 4}},
		Seed: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	mr := res.MaxRate
	if mr == nil || len(mr.Probes) < 2 || len(mr.Probes) > 4 || mr.Decision == "" || mr.Probes[0].Rate != 0 {
		t.Fatalf("search: %+v", mr)
	}
	for _, p := range mr.Probes {
		t.Logf("probe at %d: %.0f msg/s, p99 %.0f us: %s", p.Rate, p.Achieved, p.P99, p.Reason)
	}
	t.Log(mr.Decision)
	if mr.Rate > 0 && (res.Summary == nil || res.Summary.Mode != "open") {
		t.Errorf("a rate held but the summary is not its run: %+v", res.Summary)
	}
}
