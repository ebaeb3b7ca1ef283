package sim

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// SyntaxError is a fault (or schedule) that does not parse or is invalid. It
// names the line of the scenario file (1 for ParseFault's single line).
type SyntaxError struct {
	Line int    // 1-based line of the offending key or value; 0 if unknown
	Msg  string // "latency: unknown field \"delya\""
}

func (e *SyntaxError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return e.Msg
}

func syntaxErr(n *yaml.Node, format string, args ...any) error {
	line := 0
	if n != nil {
		line = n.Line
	}
	return &SyntaxError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// ParseFault parses one fault from its text, a YAML flow mapping such as
// {at: 10s, kill: broker, restart_after: 2s}. It accepts exactly what
// String prints, and also block mappings, any key order and any duration
// spelling time.ParseDuration takes.
func ParseFault(s string) (Fault, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(s), &doc); err != nil {
		return Fault{}, &SyntaxError{Msg: "fault: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return Fault{}, &SyntaxError{Line: 1, Msg: fmt.Sprintf("fault: want a mapping such as %s, got %q", exampleFault, s)}
	}
	return decodeFault(doc.Content[0])
}

const exampleFault = "{at: 10s, kill: broker, restart_after: 2s}"

// UnmarshalYAML decodes a fault from a scenario file; errors name the line.
func (f *Fault) UnmarshalYAML(n *yaml.Node) error {
	d, err := decodeFault(n)
	if err != nil {
		return err
	}
	*f = d
	return nil
}

// MarshalYAML encodes f as the flow mapping String prints.
func (f Fault) MarshalYAML() (any, error) {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(f.String()), &n); err != nil {
		return nil, err
	}
	return n.Content[0], nil
}

// decodeFault reads a fault from a mapping node and validates it.
func decodeFault(n *yaml.Node) (Fault, error) {
	if n.Kind != yaml.MappingNode {
		return Fault{}, syntaxErr(n, "fault: want a mapping such as %s", exampleFault)
	}
	var f Fault
	var kindKey *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if _, ok := specs[Kind(k.Value)]; ok && k.Kind == yaml.ScalarNode {
			if kindKey != nil {
				return Fault{}, syntaxErr(k, "fault: two kinds, %s and %s", kindKey.Value, k.Value)
			}
			kindKey = k
			f.Kind = Kind(k.Value)
			v := n.Content[i+1]
			if v.Kind != yaml.ScalarNode {
				return Fault{}, syntaxErr(v, "%s: want a target such as %s", f.Kind, specs[f.Kind].targets[0])
			}
			f.Target = v.Value
		}
	}
	if kindKey == nil {
		return Fault{}, syntaxErr(n, "fault: no kind (one of %s)", kindList())
	}
	name := string(f.Kind)
	sp := specs[f.Kind]
	if !contains(sp.targets, f.Target) {
		return Fault{}, syntaxErr(n.Content[indexOf(n, kindKey)+1], "%s: target %q, want %s", name, f.Target, strings.Join(sp.targets, " or "))
	}
	seen := map[string]bool{}
	hasAt := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k == kindKey {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			return Fault{}, syntaxErr(k, "%s: a key must be a plain name", name)
		}
		if seen[k.Value] {
			return Fault{}, syntaxErr(k, "%s: %s given twice", name, k.Value)
		}
		seen[k.Value] = true
		fl := field(k.Value)
		switch {
		case fl == fAt:
			hasAt = true
		case contains(sp.required, fl) || contains(sp.optional, fl):
		case contains(fieldOrder, fl):
			return Fault{}, syntaxErr(k, "%s: does not take %s (it takes %s)", name, fl, fieldsOf(sp))
		case Kind(k.Value).Valid():
			return Fault{}, syntaxErr(k, "%s: two kinds, %s and %s", name, f.Kind, k.Value)
		default:
			return Fault{}, syntaxErr(k, "%s: unknown field %q (it takes %s)", name, k.Value, fieldsOf(sp))
		}
		if v.Kind != yaml.ScalarNode {
			return Fault{}, syntaxErr(v, "%s: %s: want a single value", name, fl)
		}
		var x int64
		var err error
		if fl == fRate {
			x, err = ParseRate(v.Value)
		} else {
			var d time.Duration
			d, err = parseDuration(v.Value)
			x = int64(d)
		}
		if err != nil {
			return Fault{}, syntaxErr(v, "%s: %s: %v", name, fl, err)
		}
		f.set(fl, x)
	}
	if !hasAt {
		return Fault{}, syntaxErr(n, "%s: at is required (when the fault starts, e.g. at: 10s)", name)
	}
	for _, fl := range sp.required {
		if !seen[string(fl)] {
			return Fault{}, syntaxErr(n, "%s: %s is required", name, fl)
		}
	}
	if err := f.Validate(); err != nil {
		return Fault{}, syntaxErr(n, "%v", err)
	}
	return f, nil
}

func indexOf(n *yaml.Node, k *yaml.Node) int {
	for i, c := range n.Content {
		if c == k {
			return i
		}
	}
	return 0
}

func contains[T comparable](s []T, v T) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func fieldsOf(sp spec) string {
	s := []string{"at"}
	for _, fl := range fieldOrder {
		if contains(sp.required, fl) || contains(sp.optional, fl) {
			s = append(s, string(fl))
		}
	}
	return strings.Join(s, ", ")
}

// parseDuration is time.ParseDuration that rejects negative durations.
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 2s or 150ms", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration %s", s)
	}
	return d, nil
}

// formatDuration prints d so that time.ParseDuration reads it back exactly.
func formatDuration(d time.Duration) string { return d.String() }

// rateUnits are the units ParseRate accepts, largest first within each base;
// formatRate picks the first that divides the rate exactly.
var rateUnits = []struct {
	name string
	n    int64
}{
	{"GiB", 1 << 30}, {"GB", 1e9}, {"MiB", 1 << 20}, {"MB", 1e6},
	{"KiB", 1 << 10}, {"KB", 1e3}, {"B", 1},
}

// maxRate bounds a rate (1 PiB/s) so that every rate prints and parses back
// exactly.
const maxRate = 1 << 50

// ParseRate parses a bandwidth such as 1MB/s, 512KiB/s or 1.5GB/s into bytes
// per second. Units: B, KB, MB, GB (powers of 1000) and KiB, MiB, GiB
// (powers of 1024); a bare number is bytes per second.
func ParseRate(s string) (int64, error) {
	num := strings.TrimSuffix(s, "/s")
	unit := int64(1)
	for _, u := range rateUnits {
		if strings.HasSuffix(num, u.name) {
			num, unit = strings.TrimSuffix(num, u.name), u.n
			break
		}
	}
	bad := fmt.Errorf("%q is not a rate such as 1MB/s or 512KiB/s", s)
	if num == "" || strings.TrimSpace(num) != num || strings.ContainsAny(num, "eE_xXoObB+") {
		return 0, bad
	}
	var v float64
	if i, err := strconv.ParseInt(num, 10, 64); err == nil {
		if i < 0 {
			return 0, fmt.Errorf("negative rate %s", s)
		}
		if i > maxRate/unit {
			return 0, fmt.Errorf("rate %s is too large (at most 1PiB/s)", s)
		}
		return i * unit, nil
	} else if v, err = strconv.ParseFloat(num, 64); err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, bad
	}
	if v < 0 {
		return 0, fmt.Errorf("negative rate %s", s)
	}
	r := math.Round(v * float64(unit))
	if r > maxRate {
		return 0, fmt.Errorf("rate %s is too large (at most 1PiB/s)", s)
	}
	return int64(r), nil
}

// formatRate prints a rate in the largest unit that divides it exactly.
func formatRate(r int64) string {
	for _, u := range rateUnits {
		if r != 0 && r%u.n == 0 {
			return strconv.FormatInt(r/u.n, 10) + u.name + "/s"
		}
	}
	return strconv.FormatInt(r, 10) + "B/s"
}
