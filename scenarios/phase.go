package scenarios

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"gale/loadgen"
	"gale/sim"
)

// Phase is one step of a scenario of several (the quickstart: a sweep, a
// latency run, a fault run). A phase is the scenario's workload with the
// phase's workload fields laid over it, and has its own faults; the
// scenario's checks judge every phase that records a history.
type Phase struct {
	// Name names the phase in results and metric names; unique, no "/".
	Name string
	// Workload is the scenario's workload with this phase's overrides.
	Workload loadgen.Workload
	// RateOfMax, when positive, sets the phase's rate to this fraction of
	// the highest publish rate any earlier phase measured (rate: 50% of
	// max), decided when the phase starts.
	RateOfMax float64
	// Faults is the phase's fault schedule, on the phase's own clock.
	Faults Faults
	// History records the phase's operations and judges them with the
	// scenario's checks.
	History bool
	Line    int
}

// FaultAt is a fault of a schedule and the scenario line it came from.
type FaultAt struct {
	sim.Fault
	Line int
}

// phaseFields are a phase's own keys; every other key is a workload field.
var phaseFields = []string{"name", "faults", "history"}

func (d *decoder) phases(n *yaml.Node, base *yaml.Node) ([]Phase, error) {
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		return nil, d.errorf(n, "phases", "want a non-empty list of phases, found %s", describe(n))
	}
	var out []Phase
	names := map[string]bool{}
	for i, pn := range n.Content {
		f := index("phases", i)
		ps, err := d.pairs(pn, f, nil)
		if err != nil {
			return nil, err
		}
		ph := Phase{Line: pn.Line}
		var faults *yaml.Node
		for _, p := range ps {
			k, v := p[0], p[1]
			switch k.Value {
			case "name":
				if ph.Name, err = d.str(v, f+".name"); err == nil && (ph.Name == "" || strings.ContainsAny(ph.Name, "/= ")) {
					err = d.errorf(v, f+".name", "a phase name is a non-empty word without /, = or spaces")
				}
				if err == nil && names[ph.Name] {
					err = d.errorf(v, f+".name", "phase %q named twice", ph.Name)
				}
				names[ph.Name] = true
			case "history":
				ph.History, err = d.boolean(v, f+".history")
			case "faults":
				faults = v
			case "rate":
				if frac, ok := rateOfMax(v.Value); ok && v.Kind == yaml.ScalarNode {
					if frac <= 0 || frac > 10 {
						err = d.errorf(v, f+".rate", "want a percentage above 0%% and at most 1000%%, found %q", v.Value)
					}
					ph.RateOfMax = frac
				}
			}
			if err != nil {
				return nil, err
			}
		}
		if ph.Name == "" {
			return nil, d.errorf(pn, f, "a phase needs a name")
		}
		over := without(pn, phaseFields...)
		if ph.RateOfMax > 0 {
			over = without(over, "rate")
		}
		if ph.Workload, err = d.workload(overlay(base, over), f); err != nil {
			return nil, err
		}
		if ph.RateOfMax > 0 {
			if len(out) == 0 {
				return nil, d.errorf(pn, f+".rate", "%q needs an earlier phase that measured a rate", "% of max")
			}
			ph.Workload.Rate, ph.Workload.ProducerRate = 0, 0
			if ph.Workload.Sweep != nil || ph.Workload.FindMaxRate != nil {
				return nil, d.errorf(pn, f+".rate", "a rate relative to the max cannot go with a sweep or findMaxRate")
			}
		}
		if faults != nil {
			if ph.Faults, err = d.faults(faults, f+".faults", ph.Workload); err != nil {
				return nil, err
			}
		}
		out = append(out, ph)
	}
	return out, nil
}

// rateOfMax parses "50% of max" (or "50%") into 0.5.
func rateOfMax(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	s = strings.TrimSpace(strings.TrimSuffix(s, "of max"))
	pct, ok := strings.CutSuffix(s, "%")
	if !ok {
		return 0, false
	}
	x, err := strconv.ParseFloat(strings.TrimSpace(pct), 64)
	if err != nil {
		return -1, true
	}
	return x / 100, true
}

// workload decodes and validates a workload mapping, naming field in
// errors; loadgen's errors carry the line.
func (d *decoder) workload(n *yaml.Node, field string) (loadgen.Workload, error) {
	w, err := loadgen.DecodeWorkload(n)
	if err == nil {
		_, err = w.Validate()
	}
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), loadgen.ErrWorkload.Error()+": ")
		line := 0
		if rest, ok := strings.CutPrefix(msg, "line "); ok {
			if num, after, ok := strings.Cut(rest, ": "); ok {
				if l, perr := strconv.Atoi(num); perr == nil {
					line, msg = l, after
				}
			}
		}
		return w, &Error{File: d.file, Line: line, Field: field, Msg: msg}
	}
	return w, nil
}

// faults decodes a fault schedule (a list, or {random: {...}}) and checks
// each fixed fault starts within the run.
func (d *decoder) faults(n *yaml.Node, field string, w loadgen.Workload) (Faults, error) {
	out := Faults{Line: n.Line}
	v, _ := w.Validate()
	if v.Sweep != nil || v.FindMaxRate != nil {
		return out, d.errorf(n, field, "faults need a single run: not with a sweep or findMaxRate")
	}
	if err := n.Decode(&out.Schedule); err != nil {
		var se *sim.SyntaxError
		if errors.As(err, &se) {
			return out, &Error{File: d.file, Line: se.Line, Field: field, Msg: se.Msg}
		}
		return out, d.errorf(n, field, "%v", err)
	}
	out.duration = v.Warmup + v.Duration
	if out.Random != nil {
		return out, nil
	}
	for i, fn := range n.Content {
		f := out.Fixed[i]
		if f.At >= out.duration {
			return out, d.errorf(fn, index(field, i)+".at", "%s is not before the end of the run (%s)", f.At, out.duration)
		}
		out.Lines = append(out.Lines, fn.Line)
	}
	return out, nil
}

// Faults is a run's fault schedule as the scenario gives it.
type Faults struct {
	sim.Schedule
	Line     int   // of the section
	Lines    []int // of each fixed fault
	duration time.Duration
}

// Empty reports whether there is no schedule.
func (f Faults) Empty() bool { return f.Random == nil && len(f.Fixed) == 0 }

// For returns the faults of a run from seed, sorted by At.
func (f Faults) For(seed uint64) []sim.Fault {
	if f.Empty() {
		return nil
	}
	return f.Schedule.Faults(seed, f.duration)
}

// kinds returns the schedule's fault kinds that can occur, each with the
// line to blame, for static checks.
func (f Faults) kinds() []FaultAt {
	if f.Random != nil {
		var out []FaultAt
		for _, k := range sim.Kinds() {
			if f.Random.Kinds[k] > 0 {
				out = append(out, FaultAt{Fault: sim.Fault{Kind: k}, Line: f.Line})
			}
		}
		return out
	}
	var out []FaultAt
	for i, x := range f.Fixed {
		out = append(out, FaultAt{Fault: x, Line: f.Lines[i]})
	}
	return out
}

func (p *Phase) String() string { return fmt.Sprintf("phase %s", p.Name) }
