package scenarios

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"gale/linearizability"
	"gale/loadgen"
	"gale/sim"
)

// Scenario is a parsed, validated scenario file (see the package doc for
// the format). Parse and Load return it; Run runs it. A Scenario is not
// modified by Run and may be run several times, or concurrently.
type Scenario struct {
	Name        string
	Description string
	// Seed is the scenario's seed; HasSeed is false when the file gave
	// none (Run then draws one from the clock and prints it).
	Seed    uint64
	HasSeed bool
	Target  Target
	// Workload is the workload of a scenario without phases, and the base
	// every phase overrides.
	Workload loadgen.Workload
	// Faults is the schedule of a scenario without phases.
	Faults Faults
	// Checks judge the recorded history; nil records none (in a scenario
	// of phases, the phases with history: true are judged).
	Checks     *Checks
	Thresholds []Threshold
	// ExpectViolation are the anomalies the scenario expects (such as
	// lost-write): finding any of them is the pass, finding none a
	// failure. A list names the ways one failure can show: acked writes
	// lost under power loss are lost-write when nobody read them, and
	// inconsistent-offset when the broker reused their offsets.
	ExpectViolation []string
	// Phases, when not empty, are run in order instead of one run.
	Phases []Phase
	// File is where the scenario came from: a path, or canned:<name>.
	File string
}

var topFields = []string{"name", "description", "seed", "target", "workload", "faults", "checks", "thresholds", "expect_violation", "phases"}

// Load reads and parses a scenario file. A workload given as
// {file: path} is read relative to the scenario's directory.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &Error{File: path, Msg: err.Error()}
	}
	return parse(data, path, filepath.Dir(path))
}

// Parse parses a scenario from data; file names it in errors. A workload
// {file: path} is read relative to the current directory.
func Parse(data []byte, file string) (*Scenario, error) {
	return parse(data, file, ".")
}

func parse(data []byte, file, dir string) (*Scenario, error) {
	d := &decoder{file: file}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, &Error{File: file, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if len(doc.Content) != 1 {
		return nil, &Error{File: file, Line: doc.Line, Msg: "want a mapping of field: value"}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{File: file, Line: extra.Line, Msg: "one scenario per file (found a second document)"}
	}
	ps, err := d.pairs(doc.Content[0], "", topFields)
	if err != nil {
		return nil, err
	}
	s := &Scenario{File: file, Target: Target{}.withDefaults()}
	nodes := map[string]*yaml.Node{}
	keys := map[string]*yaml.Node{}
	for _, p := range ps {
		keys[p[0].Value], nodes[p[0].Value] = p[0], p[1]
	}
	if err := s.decodeScalars(d, nodes); err != nil {
		return nil, err
	}
	if n := nodes["target"]; n != nil {
		if s.Target, err = d.target(n); err != nil {
			return nil, err
		}
	}
	wn := nodes["workload"]
	if wn == nil {
		return nil, d.errorf(doc.Content[0], "workload", "a scenario needs a workload")
	}
	if wn, err = d.workloadNode(wn, dir); err != nil {
		return nil, err
	}
	if s.Workload, err = d.workload(wn, "workload"); err != nil {
		return nil, err
	}
	if s.Workload.Name == "" || s.Workload.Name == "workload" {
		s.Workload.Name = s.Name
	}
	if n := nodes["phases"]; n != nil {
		if s.Phases, err = d.phases(n, wn); err != nil {
			return nil, err
		}
		if nodes["faults"] != nil {
			return nil, d.errorf(keys["faults"], "faults", "a scenario of phases gives each phase its faults")
		}
	}
	if n := nodes["faults"]; n != nil {
		if s.Faults, err = d.faults(n, "faults", s.Workload); err != nil {
			return nil, err
		}
	}
	if n := nodes["checks"]; n != nil {
		if s.Checks, err = d.checks(n, "checks"); err != nil {
			return nil, err
		}
	}
	if n := nodes["thresholds"]; n != nil {
		if s.Thresholds, err = d.thresholds(n); err != nil {
			return nil, err
		}
	}
	if err := s.validate(d, keys); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Scenario) decodeScalars(d *decoder, nodes map[string]*yaml.Node) error {
	var err error
	if n := nodes["name"]; n != nil {
		if s.Name, err = d.str(n, "name"); err == nil && (s.Name == "" || strings.ContainsAny(s.Name, "/\\ ")) {
			err = d.errorf(n, "name", "a name is a word without slashes or spaces (it names the output directory)")
		}
	} else {
		err = &Error{File: d.file, Field: "name", Msg: "a scenario needs a name"}
	}
	if err != nil {
		return err
	}
	if n := nodes["description"]; n != nil {
		if s.Description, err = d.str(n, "description"); err != nil {
			return err
		}
	}
	if n := nodes["seed"]; n != nil {
		if s.Seed, err = d.uinteger(n, "seed"); err != nil {
			return err
		}
		s.HasSeed = true
	}
	if n := nodes["expect_violation"]; n != nil {
		items := []*yaml.Node{n}
		if n.Kind == yaml.SequenceNode && len(n.Content) > 0 {
			items = n.Content
		}
		for _, it := range items {
			k, err := d.str(it, "expect_violation")
			if err != nil {
				return err
			}
			if _, perr := linearizability.ParseAnomalyKind(k); perr != nil && k != "data-loss" {
				return d.errorf(it, "expect_violation", "%v (or data-loss: a consumer told records it had not read are gone)", perr)
			}
			s.ExpectViolation = append(s.ExpectViolation, k)
		}
	}
	return nil
}

// workloadNode returns the workload mapping: inline, or read from
// {file: path}.
func (d *decoder) workloadNode(n *yaml.Node, dir string) (*yaml.Node, error) {
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 || n.Content[0].Value != "file" {
		return n, nil
	}
	name, err := d.str(n.Content[1], "workload.file")
	if err != nil {
		return nil, err
	}
	if !filepath.IsAbs(name) {
		name = filepath.Join(dir, name)
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, d.errorf(n.Content[1], "workload.file", "%v", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) != 1 {
		return nil, d.errorf(n.Content[1], "workload.file", "%s: not a YAML workload", name)
	}
	if _, err := (&decoder{file: name}).workload(doc.Content[0], "workload"); err != nil {
		return nil, err // names the workload file and its line
	}
	w := doc.Content[0]
	if i := keyIndex(w, "payloadFile"); i >= 0 && !filepath.IsAbs(w.Content[i+1].Value) {
		pf := *w.Content[i+1]
		pf.Value = filepath.Join(filepath.Dir(name), pf.Value)
		w = overlay(w, &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{w.Content[i], &pf}})
	}
	return w, nil
}

// validate checks what spans sections: faults against the target, checks
// against the target and phases, metric names, the expected violation.
func (s *Scenario) validate(d *decoder, keys map[string]*yaml.Node) error {
	if s.Target.External() {
		for _, f := range s.allFaults() {
			return &Error{File: d.file, Line: f.Line, Field: "faults", Msg: fmt.Sprintf("%s: faults need gale's own broker (target broker: embedded or subprocess), not an external one", f.Fault)}
		}
	}
	for _, f := range s.allFaults() {
		if err := sim.Supports(s.Target.envConfig(), f.Fault.Kind); err != nil {
			return &Error{File: d.file, Line: f.Line, Field: "faults", Msg: fmt.Sprintf("%s: %v", f.Fault, err)}
		}
	}
	if s.Checks != nil && !s.Target.Kafka() {
		return d.errorf(keys["checks"], "checks", "histories are recorded on Kafka targets only (gale's broker or kafka://), not %s", s.Target)
	}
	if s.Checks != nil && len(s.Phases) > 0 && !s.anyHistory() {
		return d.errorf(keys["checks"], "checks", "no phase records a history: set history: true on the phases to check")
	}
	if s.anyHistory() && !s.Target.Kafka() {
		return d.errorf(keys["phases"], "phases", "histories are recorded on Kafka targets only, not %s", s.Target)
	}
	if len(s.ExpectViolation) > 0 && s.Checks == nil {
		return d.errorf(keys["expect_violation"], "expect_violation", "an expected violation needs checks to find it")
	}
	for _, t := range s.Thresholds {
		if err := s.checkMetric(t.Metric); err != nil {
			return &Error{File: d.file, Line: t.Line, Field: "thresholds." + t.Metric, Msg: err.Error()}
		}
	}
	return nil
}

// allFaults lists every fault (or, for a random schedule, every kind) of
// s with its line.
func (s *Scenario) allFaults() []FaultAt {
	out := s.Faults.kinds()
	for _, p := range s.Phases {
		out = append(out, p.Faults.kinds()...)
	}
	return out
}

func (s *Scenario) anyHistory() bool {
	for _, p := range s.Phases {
		if p.History {
			return true
		}
	}
	return false
}
