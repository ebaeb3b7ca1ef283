package linearizability

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// MaxListed bounds how many anomalies of one kind WriteText lists.
const MaxListed = 10

// WriteText writes the human summary: what was checked, each partition
// that is not plainly fine, each anomaly (at most MaxListed per kind) with
// its history lines, and the verdict.
func (r *Result) WriteText(w io.Writer) error {
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "checked %s on %s, expecting %s\n", plural(r.Operations, "operation"), plural(len(r.Partitions), "partition"), r.Expect)
	fine := 0
	for _, p := range r.Partitions {
		if len(r.Partitions) > 20 && (p.Linearizability == OutcomeLinearizable || p.Linearizability == OutcomeNotChecked) {
			fine++
			continue
		}
		fmt.Fprintf(b, "  %s/%d: %s, %s", p.Topic, p.Partition, plural(p.Operations, "operation"), p.Linearizability)
		if p.Detail != "" {
			fmt.Fprintf(b, ": %s", p.Detail)
		}
		b.WriteByte('\n')
	}
	if fine > 0 {
		what := "linearizable"
		if !r.Expect.runsPorcupine() {
			what = "not searched for a linearization"
		}
		fmt.Fprintf(b, "  %s more %s\n", plural(fine, "partition"), what)
	}
	if len(r.Anomalies) == 0 {
		fmt.Fprintf(b, "no anomalies\n")
	} else {
		fmt.Fprintf(b, "%s, %d violating %s\n", plural(len(r.Anomalies), "anomaly"), r.Violations(), r.Expect)
	}
	for i := 0; i < len(r.Anomalies); {
		kind := r.Anomalies[i].Kind
		j := i
		for j < len(r.Anomalies) && r.Anomalies[j].Kind == kind {
			j++
		}
		note := ""
		if !r.Expect.Violates(kind) {
			note = ", tolerated by " + r.Expect.String()
		}
		fmt.Fprintf(b, "  %s (%d%s)\n", kind, j-i, note)
		for k := i; k < j && k < i+MaxListed; k++ {
			fmt.Fprintf(b, "    %s\n", r.Anomalies[k].where())
		}
		if j-i > MaxListed {
			fmt.Fprintf(b, "    ... and %d more (--json lists them all)\n", j-i-MaxListed)
		}
		i = j
	}
	fmt.Fprintf(b, "verdict: %s\n", r.Verdict)
	return b.Flush()
}

// WriteJSON writes r as one indented JSON document.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// plural renders n things, with the noun's plural when n != 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(noun, "y"))
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
