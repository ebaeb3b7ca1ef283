package loadgen

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// A stall in an open-loop run shows in the latency: every message whose
// intended send time fell inside the stall waits for its end, so p99 is
// near the pause. The same stall in a closed-loop run delays one message
// only, which is how a closed-loop tool hides a stall (coordinated
// omission); the negative control pins that the difference is real.
func TestOpenLoopShowsStall(t *testing.T) {
	const pause = 300 * time.Millisecond
	for _, tc := range []struct {
		name string
		rate int
		msgs int64
		open bool
	}{
		{"open loop", 2000, 4000, true},
		{"closed loop", 0, 40000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newMemDriver()
			d.stallAt, d.stall = 1000, pause
			res, err := Run(testContext(t), Config{
				Driver:   d,
				Workload: Workload{Name: "stall", MessageSize: 100, Rate: tc.rate, Duration: 10 * time.Second, Messages: tc.msgs},
				Seed:     1,
			})
			if err != nil {
				t.Fatal(err)
			}
			s := res.Summary
			t.Logf("%s: published %d, publish p50 %.0f p99 %.0f max %.0f us; e2e p99 %.0f us; delay p99 %.0f us",
				s.Mode, s.Published, s.PublishLatency.P50, s.PublishLatency.P99, s.PublishLatency.Max, s.EndToEnd.P99, s.PublishDelay.P99)
			if s.Published != tc.msgs || s.Consumed != tc.msgs || s.Errors != 0 {
				t.Fatalf("published %d consumed %d errors %d, want %d, %d, 0", s.Published, s.Consumed, s.Errors, tc.msgs, tc.msgs)
			}
			pauseUs := float64(pause / time.Microsecond)
			if s.PublishLatency.Max < pauseUs {
				t.Errorf("publish max %.0f us < pause %.0f us", s.PublishLatency.Max, pauseUs)
			}
			if tc.open {
				if s.PublishLatency.P99 < 0.8*pauseUs || s.EndToEnd.P99 < 0.8*pauseUs || s.PublishDelay.P99 < 0.8*pauseUs {
					t.Errorf("open loop hid the stall: publish p99 %.0f, e2e p99 %.0f, delay p99 %.0f us; pause %.0f us",
						s.PublishLatency.P99, s.EndToEnd.P99, s.PublishDelay.P99, pauseUs)
				}
			} else if s.PublishLatency.P99 > pauseUs/2 {
				t.Errorf("closed loop p99 %.0f us: the control expects one slow message only", s.PublishLatency.P99)
			}
		})
	}
}

// A short run against the embedded broker produces and consumes, and its
// results file parses with plausible fields.
func TestEmbeddedRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a broker")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "results.json")
	w := Workload{Name: "embedded-100B", PartitionsPerTopic: 2, MessageSize: 100, Duration: 2 * time.Second, Warmup: time.Second}
	res, err := Run(testContext(t), Config{
		Target:   Target{Kind: "embedded"},
		Workload: w,
		HistogramLog: func(i int) (io.Writer, error) {
			return os.Create(HistogramLogPath(out, i, false))
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.WriteFile(out); err != nil {
		t.Fatal(err)
	}
	checkResultsFile(t, out, 100)
	checkHistogramLog(t, HistogramLogPath(out, 0, false))
}

// checkResultsFile reads a results.json back and checks what any run
// must show.
func checkResultsFile(t *testing.T, path string, size int) Results {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"schema_version": 1`, `"p99.9"`, `"end_to_end_latency_us"`, `"cpu_model"`, `"go_version"`, `"gale_commit"`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("results lack %s", key)
		}
	}
	s := r.Summary
	if s == nil {
		t.Fatal("no summary")
	}
	t.Logf("%s", SummaryLine(r.WorkloadName(), *s))
	if s.Published == 0 || s.Consumed == 0 || s.Errors != 0 || s.Status != "ok" || s.BacklogEnd != 0 {
		t.Errorf("implausible summary: %+v", s)
	}
	if got := s.PublishMBps / (s.PublishRate / 1e6); got < float64(size)*0.99 || got > float64(size)*1.01 {
		t.Errorf("MB/s %.3f and msg/s %.0f disagree with %d B messages", s.PublishMBps, s.PublishRate, size)
	}
	p := s.EndToEnd
	if p.Count == 0 || !(p.P50 > 0 && p.P50 <= p.P99 && p.P99 <= p.P999 && p.P999 <= p.Max) {
		t.Errorf("end-to-end percentiles out of order: %+v", p)
	}
	if len(r.Intervals) < 3 || !r.Intervals[0].Warmup || r.Intervals[len(r.Intervals)-1].Warmup {
		t.Errorf("want >= 3 intervals, the first warmup: %+v", r.Intervals)
	}
	if r.Environment.Cores < 1 || r.Environment.GoVersion == "" {
		t.Errorf("environment %+v", r.Environment)
	}
	return r
}

func checkHistogramLog(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd := hdr.NewHistogramLogReader(f)
	tags := map[string]int64{}
	for {
		h, err := rd.NextIntervalHistogram()
		if err != nil {
			t.Fatal(err)
		}
		if h == nil {
			break
		}
		tags[h.Tag()] += h.TotalCount()
	}
	if tags["publish"] == 0 || tags["e2e"] == 0 {
		t.Errorf("histogram log counts by tag: %v", tags)
	}
}

// Sends failing mid-run are counted and reported; the run still ends
// normally, with results.
func TestFailuresCounted(t *testing.T) {
	d := newMemDriver()
	d.failAt = 501
	res, err := Run(testContext(t), Config{
		Driver:   d,
		Workload: Workload{Name: "fail", MessageSize: 10, Rate: 5000, Duration: 10 * time.Second, Messages: 1000},
		Seed:     1,
	})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	if s.Status != "errors" || s.Errors != 500 || s.Published != 500 || s.Consumed != 500 {
		t.Errorf("status %s, errors %d, published %d, consumed %d", s.Status, s.Errors, s.Published, s.Consumed)
	}
	if notes := strings.Join(s.Notes, "\n"); !strings.Contains(notes, "mem: broker down") || !strings.Contains(notes, "ended normally") {
		t.Errorf("notes: %s", notes)
	}
}

// The replay test builds the backlog before consumers start, and reports
// their catch-up.
func TestReplay(t *testing.T) {
	res, err := Run(testContext(t), Config{
		Driver:   newMemDriver(),
		Workload: Workload{Name: "replay", MessageSize: 100, Rate: 4000, BacklogBytes: 100 * 1000, Duration: 10 * time.Second, Messages: 3000},
		Seed:     1,
	})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	rp := s.Replay
	if rp == nil {
		t.Fatal("no replay in the summary")
	}
	t.Logf("replay: %+v", *rp)
	if rp.BacklogMessages < 1000 || !rp.CaughtUp || rp.CaughtUpAt < rp.StartedAt || rp.CatchUpRate <= 0 {
		t.Errorf("replay %+v", *rp)
	}
	if s.Consumed != 3000 || s.BacklogEnd != 0 {
		t.Errorf("consumed %d, backlog %d", s.Consumed, s.BacklogEnd)
	}
}
