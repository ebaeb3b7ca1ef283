package linearizability

import (
	"fmt"
	"strconv"
	"strings"
)

// AnomalyKind names a way a history can go wrong. The names follow Jepsen's
// Kafka checker where it has one.
type AnomalyKind uint8

// The anomalies the checks name. See the package doc for their definitions.
const (
	LostWrite          AnomalyKind = iota + 1 // acked, below the highest offset read, never read
	Unseen                                    // acked, never read, though the consumers read to the end
	Duplicate                                 // one value at two offsets
	InconsistentOffset                        // one offset, two values
	Skip                                      // a consumer's next read starts past where its last one ended
	NonmonotonicRead                          // a consumer's next read starts before where its last one ended
	NonmonotonicSend                          // a producer's next batch lands below its previous one
	AbortedRead                               // a value of a failed produce was read
	StaleRead                                 // an empty read at an offset known to exist before it began
	CommittedBackwards                        // a group's committed offset went back with no commit asking for it
	NotLinearizable                           // porcupine found no linearization of the partition
)

var anomalyNames = [...]string{
	LostWrite:          "lost-write",
	Unseen:             "unseen",
	Duplicate:          "duplicate",
	InconsistentOffset: "inconsistent-offset",
	Skip:               "skip",
	NonmonotonicRead:   "nonmonotonic-read",
	NonmonotonicSend:   "nonmonotonic-send",
	AbortedRead:        "aborted-read",
	StaleRead:          "stale-read",
	CommittedBackwards: "committed-offset-backwards",
	NotLinearizable:    "nonlinearizable",
}

// AnomalyKinds lists every kind, in report order.
func AnomalyKinds() []AnomalyKind {
	ks := make([]AnomalyKind, 0, len(anomalyNames)-1)
	for k := range anomalyNames[1:] {
		ks = append(ks, AnomalyKind(k+1))
	}
	return ks
}

func (k AnomalyKind) String() string {
	if int(k) < len(anomalyNames) && anomalyNames[k] != "" {
		return anomalyNames[k]
	}
	return "AnomalyKind(" + strconv.Itoa(int(k)) + ")"
}

// ParseAnomalyKind is the inverse of String.
func ParseAnomalyKind(s string) (AnomalyKind, error) {
	for k, name := range anomalyNames {
		if name != "" && name == s {
			return AnomalyKind(k), nil
		}
	}
	return 0, fmt.Errorf("linearizability: unknown anomaly %q", s)
}

// MarshalText writes the kind's name.
func (k AnomalyKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText parses a kind's name.
func (k *AnomalyKind) UnmarshalText(b []byte) (err error) {
	*k, err = ParseAnomalyKind(string(b))
	return err
}

// Anomaly is one named problem found in a history.
type Anomaly struct {
	Kind      AnomalyKind `json:"kind"`
	Topic     string      `json:"topic"`
	Partition int32       `json:"partition"`
	Group     string      `json:"group,omitempty"`  // for CommittedBackwards
	Client    *int        `json:"client,omitempty"` // for per-client anomalies
	Lines     []int       `json:"lines"`            // the history lines involved, ascending
	Explain   string      `json:"explanation"`      // one line, for people
	Violation bool        `json:"violation"`        // whether it breaks the expected guarantee
}

// String renders the anomaly on one line.
func (a *Anomaly) String() string { return a.Kind.String() + " " + a.where() }

// where renders the anomaly without its kind: partition, lines, explanation.
func (a *Anomaly) where() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s/%d", a.Topic, a.Partition)
	if len(a.Lines) > 0 {
		b.WriteString(" line")
		if len(a.Lines) > 1 {
			b.WriteByte('s')
		}
		for i, l := range a.Lines {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, " %d", l)
		}
	}
	b.WriteString(": ")
	b.WriteString(a.Explain)
	return b.String()
}
