package linearizability

import "fmt"

// Guarantee is what a history is expected to uphold: it decides which
// anomalies count as violations. The zero value is Linearizable.
//
//	anomaly                     at-most-once  at-least-once  exactly-once  linearizable
//	lost-write                  tolerated     violation      violation     violation
//	unseen                      tolerated     violation      violation     violation
//	skip                        tolerated     violation      violation     violation
//	inconsistent-offset         tolerated     violation      violation     violation
//	nonmonotonic-send           tolerated     violation      violation     violation
//	duplicate                   violation     tolerated      violation     violation
//	nonmonotonic-read           violation     tolerated      violation     violation
//	committed-offset-backwards  violation     tolerated      violation     violation
//	aborted-read                violation     tolerated      violation     violation
//	stale-read                  tolerated     tolerated      tolerated     violation
//	nonlinearizable             not checked   not checked    not checked   violation
//
// The delivery guarantees judge messages, not recency: at-most-once
// tolerates everything that only loses messages (a lost acked tail shows up
// as lost writes, and as offsets reused for other values and other
// batches), at-least-once everything that only delivers them again (a
// consumer rewinding, a committed offset going back, a produce reported
// failed that was written and then retried). No delivery guarantee promises
// that a poll sees the latest record, so stale reads count only under
// Linearizable, which is the reference broker's contract and also runs
// porcupine.
type Guarantee uint8

// The guarantees, weakest first after the default.
const (
	Linearizable Guarantee = iota
	AtMostOnce
	AtLeastOnce
	ExactlyOnce
)

var guaranteeNames = [...]string{
	Linearizable: "linearizable",
	AtMostOnce:   "at-most-once",
	AtLeastOnce:  "at-least-once",
	ExactlyOnce:  "exactly-once",
}

// Guarantees lists every guarantee, weakest first.
func Guarantees() []Guarantee { return []Guarantee{AtMostOnce, AtLeastOnce, ExactlyOnce, Linearizable} }

func (g Guarantee) String() string {
	if int(g) < len(guaranteeNames) {
		return guaranteeNames[g]
	}
	return fmt.Sprintf("Guarantee(%d)", int(g))
}

// ParseGuarantee is the inverse of String.
func ParseGuarantee(s string) (Guarantee, error) {
	for g, name := range guaranteeNames {
		if name == s {
			return Guarantee(g), nil
		}
	}
	return 0, fmt.Errorf("linearizability: unknown guarantee %q (want at-most-once, at-least-once, exactly-once or linearizable)", s)
}

// MarshalText writes the guarantee's name.
func (g Guarantee) MarshalText() ([]byte, error) { return []byte(g.String()), nil }

// UnmarshalText parses a guarantee's name.
func (g *Guarantee) UnmarshalText(b []byte) (err error) {
	*g, err = ParseGuarantee(string(b))
	return err
}

// Violates reports whether an anomaly of kind k breaks guarantee g.
func (g Guarantee) Violates(k AnomalyKind) bool {
	switch k {
	case LostWrite, Unseen, Skip, InconsistentOffset, NonmonotonicSend:
		return g != AtMostOnce
	case Duplicate, NonmonotonicRead, CommittedBackwards, AbortedRead:
		return g != AtLeastOnce
	case StaleRead, NotLinearizable:
		return g == Linearizable
	}
	return true
}

// runsPorcupine reports whether checking g needs the linearizability search.
func (g Guarantee) runsPorcupine() bool { return g == Linearizable }
