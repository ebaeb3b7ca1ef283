package scenarios

import (
	"slices"
	"time"

	"gopkg.in/yaml.v3"

	"gale/linearizability"
	"gale/reports"
)

// Checks say what a recorded history must uphold.
type Checks struct {
	// Expect is the delivery guarantee (at-most-once, at-least-once,
	// exactly-once or linearizable). Default at-least-once.
	Expect linearizability.Guarantee
	// Linearizable also runs porcupine's linearizability search, and
	// counts stale reads and "nonlinearizable" as violations on top of
	// Expect's. Default false (true when Expect is linearizable).
	Linearizable bool
	// Timeout bounds the linearizability search. Default
	// linearizability.DefaultTimeout.
	Timeout time.Duration
}

var checkFields = []string{"expect", "linearizable", "timeout"}

func (d *decoder) checks(n *yaml.Node, field string) (*Checks, error) {
	c := &Checks{Expect: linearizability.AtLeastOnce}
	ps, err := d.pairs(n, field, checkFields)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		k, v := p[0], p[1]
		f := join(field, k.Value)
		switch k.Value {
		case "expect":
			var s string
			if s, err = d.str(v, f); err == nil {
				if c.Expect, err = linearizability.ParseGuarantee(s); err != nil {
					err = d.errorf(v, f, "%v", err)
				}
			}
		case "linearizable":
			c.Linearizable, err = d.boolean(v, f)
		case "timeout":
			if c.Timeout, err = d.duration(v, f); err == nil && c.Timeout == 0 {
				err = d.errorf(v, f, "must be positive")
			}
		}
		if err != nil {
			return nil, err
		}
	}
	if c.Expect == linearizability.Linearizable {
		c.Linearizable = true
	}
	if c.Timeout == 0 {
		c.Timeout = linearizability.DefaultTimeout
	}
	return c, nil
}

// String is the expectation as results.json records it: "at-least-once",
// "linearizable", or "at-least-once+linearizable".
func (c *Checks) String() string {
	s := c.Expect.String()
	if c.Linearizable && c.Expect != linearizability.Linearizable {
		s += "+linearizable"
	}
	return s
}

// violates reports whether anomaly k breaks c.
func (c *Checks) violates(k linearizability.AnomalyKind) bool {
	return c.Expect.Violates(k) ||
		c.Linearizable && (k == linearizability.StaleRead || k == linearizability.NotLinearizable)
}

// Judge checks a history file with c and returns the verdict as
// results.json records it; historyName is what the result names the file.
func (c *Checks) Judge(path, historyName string) (*reports.CheckResult, error) {
	ops, err := linearizability.ReadFile(path)
	if err != nil {
		return nil, err
	}
	expect := c.Expect
	if c.Linearizable {
		expect = linearizability.Linearizable // runs porcupine; violations are judged below
	}
	res, err := linearizability.Check(ops, linearizability.Options{Expect: expect, Timeout: c.Timeout})
	if err != nil {
		return nil, err
	}
	return c.result(res, historyName), nil
}

func (c *Checks) result(res *linearizability.Result, historyName string) *reports.CheckResult {
	cr := &reports.CheckResult{History: historyName, Expect: c.String(), Operations: res.Operations, Verdict: "ok"}
	for _, a := range res.Anomalies {
		if cr.Anomalies == nil {
			cr.Anomalies = map[string]int{}
		}
		cr.Anomalies[a.Kind.String()]++
		if c.violates(a.Kind) && !slices.Contains(cr.Violations, a.Kind.String()) {
			cr.Violations = append(cr.Violations, a.Kind.String())
		}
	}
	switch {
	case len(cr.Violations) > 0:
		cr.Verdict = "violated"
	case timedOut(res):
		cr.Verdict = "undecided"
	}
	return cr
}

func timedOut(res *linearizability.Result) bool {
	for _, p := range res.Partitions {
		if p.Linearizability == linearizability.OutcomeTimedOut {
			return true
		}
	}
	return false
}
