package loadgen

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
)

// SchemaVersion is the version of the results.json layout (Results). It
// changes when a field is renamed or removed or changes meaning.
const SchemaVersion = 1

// Results is what results.json holds: one run, or one run per value of a
// sweep. Field names are documented in README ("gale loadgen").
type Results struct {
	SchemaVersion int         `json:"schema_version"`
	Target        string      `json:"target"` // never carries credentials
	Workload      Workload    `json:"workload"`
	Environment   Environment `json:"environment"`
	Seed          uint64      `json:"seed"`
	// Intervals and Summary are the run's, when there is no sweep.
	Intervals []Interval `json:"intervals,omitempty"`
	Summary   *Summary   `json:"summary,omitempty"`
	// Sweep holds one run per swept value, in order.
	Sweep *SweepResults `json:"sweep,omitempty"`
	// MaxRate is the max-sustainable-rate search, when the workload asked
	// for one; Intervals and Summary are then the best probe's.
	MaxRate *MaxRateResult `json:"max_rate,omitempty"`
}

// SweepResults are the runs of a sweep.
type SweepResults struct {
	Field string      `json:"field"`
	Runs  []RunResult `json:"runs"`
}

// Run is one run of a workload.
type RunResult struct {
	Name      string     `json:"name"`
	Value     string     `json:"value,omitempty"` // the swept field's value
	Intervals []Interval `json:"intervals"`
	Summary   Summary    `json:"summary"`
}

// Environment describes where the run happened.
type Environment struct {
	CPUModel   string `json:"cpu_model"`
	Cores      int    `json:"cores"`
	GoVersion  string `json:"go_version"`
	GaleCommit string `json:"gale_commit"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	Hostname   string `json:"hostname"`
}

// Interval is one interval (a second, by default) of a run. Counts are of
// Rates are the counts and rates an Interval and a Summary both carry; its
// fields appear at the top level of their JSON objects.
type Rates struct {
	Published   int64   `json:"published"` // acknowledged by the broker
	PublishRate float64 `json:"publish_msgs_per_s"`
	PublishMBps float64 `json:"publish_mb_per_s"`
	Consumed    int64   `json:"consumed"`
	ConsumeRate float64 `json:"consume_msgs_per_s"`
	ConsumeMBps float64 `json:"consume_mb_per_s"`
	Errors      int64   `json:"errors"`
}

// events during the interval: messages acknowledged, received, failed.
type Interval struct {
	Start  float64 `json:"start_s"` // seconds since the run started
	End    float64 `json:"end_s"`
	Warmup bool    `json:"warmup"` // excluded from the summary

	Rates
	Backlog int64 `json:"backlog"` // published x subscriptions - consumed, so far
	// Batches counts producer batches acknowledged (Kafka targets; 0
	// where the driver has no batches).
	Batches   int64   `json:"batches"`
	BatchRate float64 `json:"batches_per_s"`

	PublishLatency Percentiles `json:"publish_latency_us"`
	PublishDelay   Percentiles `json:"publish_delay_us"`
	EndToEnd       Percentiles `json:"end_to_end_latency_us"`
}

// Summary totals a run's measured (non-warmup) intervals.
type Summary struct {
	Mode string `json:"mode"` // "open" (constant rate) or "closed" (max throughput)
	// TargetRate is the configured rate, msg/s (0 in closed loop).
	TargetRate     int     `json:"target_rate"`
	Seconds        float64 `json:"seconds"`         // measured publishing time
	ConsumeSeconds float64 `json:"consume_seconds"` // measured time including the drain

	Sent int64 `json:"sent"`
	Rates
	BacklogMax int64   `json:"backlog_max"`
	Batches    int64   `json:"batches"`
	BatchRate  float64 `json:"batches_per_s"`
	// BatchMessages is the mean messages per batch, published / batches.
	BatchMessages float64 `json:"messages_per_batch"`
	BacklogEnd    int64   `json:"backlog_end"` // what the consumers never received

	PublishLatency Percentiles `json:"publish_latency_us"`
	PublishDelay   Percentiles `json:"publish_delay_us"`
	EndToEnd       Percentiles `json:"end_to_end_latency_us"`

	// Replay is the replay test's outcome, when the workload asked for a
	// backlog.
	Replay *Replay `json:"replay,omitempty"`

	// Status is "ok", "errors" (some sends or receives failed; the run
	// went on and ended normally) or "interrupted" (cancelled, as by
	// Ctrl-C; results up to then).
	Status string   `json:"status"`
	Notes  []string `json:"notes,omitempty"`
}

// CurrentEnvironment describes this machine and build. commit, when not
// empty, is the gale commit to record; otherwise the build's VCS stamp.
func CurrentEnvironment(commit string) Environment {
	e := Environment{
		CPUModel:   cpuModel(),
		Cores:      runtime.NumCPU(),
		GoVersion:  runtime.Version(),
		GaleCommit: commit,
		OS:         runtime.GOOS,
		Arch:       runtime.GOARCH,
	}
	e.Hostname, _ = os.Hostname()
	if e.GaleCommit == "" {
		e.GaleCommit = "unknown"
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" {
					e.GaleCommit = s.Value
				}
			}
		}
	}
	return e
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// Replay reports a replay (backlog) test: consumers started once the
// backlog was built, read from the earliest offset while producers went
// on, and caught up when the backlog fell to 1% of what it was.
type Replay struct {
	BacklogBytes    int64   `json:"backlog_bytes"`    // asked for
	BacklogMessages int64   `json:"backlog_messages"` // when consumers started
	StartedAt       float64 `json:"consumers_started_s"`
	CaughtUp        bool    `json:"caught_up"`
	CaughtUpAt      float64 `json:"caught_up_s"`
	CatchUpSeconds  float64 `json:"catch_up_seconds"`
	CatchUpRate     float64 `json:"catch_up_msgs_per_s"` // consumed during the catch-up / its duration
}
