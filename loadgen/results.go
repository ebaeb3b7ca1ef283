package loadgen

import (
	"bufio"
	"gale/reports"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
)

// The results.json schema is package reports' (reports.Results); these
// names are loadgen's for it.
const SchemaVersion = reports.SchemaVersion

type (
	Results       = reports.Results
	SweepResults  = reports.SweepResults
	RunResult     = reports.RunResult
	Environment   = reports.Environment
	Rates         = reports.Rates
	Interval      = reports.Interval
	Summary       = reports.Summary
	Percentiles   = reports.Percentiles
	Replay        = reports.Replay
	MaxRateResult = reports.MaxRateResult
	RateProbe     = reports.RateProbe
	// ConsumerOutcome is Summary.Consumer and Interval.Consumer.
	ConsumerOutcome = reports.ConsumerOutcome
)

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
