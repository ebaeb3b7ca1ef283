package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Schedule is a run's faults: a fixed list, or a Random spec that Faults
// expands from the run's seed. In a scenario file it is either a sequence of
// faults or a mapping with one key, random:
//
//	faults:
//	  - {at: 10s, kill: broker, restart_after: 2s}
//	  - {at: 25s, partition: clients-broker, for: 5s}
//
//	faults: {random: {every: 15s, kinds: {kill: 1, partition: 2, latency: 2}, for: 5s}}
type Schedule struct {
	Fixed  []Fault // used when Random is nil
	Random *Random
}

// Random describes a random fault schedule for soak runs. Fault start times
// form a seeded Poisson process: the gap before each fault is exponential
// with mean Every, counted from the end of the previous fault, so faults
// never overlap. Each fault's kind is drawn with the given weights and its
// parameters are the defaults below. Faults that would not end before the
// run's duration are dropped.
type Random struct {
	// Every is the mean gap between faults. Required.
	Every time.Duration
	// Kinds weighs the kinds to draw from (weight 0 never). Required.
	Kinds map[Kind]int
	// Start is the earliest start of the first fault's gap. Default 0.
	Start time.Duration
	// For is the duration of lasting faults. Default 5s.
	For time.Duration
	// RestartAfter is how long a crashed broker or consumer stays down.
	// Default 2s.
	RestartAfter time.Duration
	// Delay and Jitter are latency's parameters (default 20ms and 5ms);
	// Delay is also slow-close's (default 1s there).
	Delay, Jitter time.Duration
	// Rate is bandwidth's cap. Default 1MB/s.
	Rate int64
}

// maxRandomFaults bounds one expansion.
const maxRandomFaults = 100_000

// Faults returns the schedule's faults for a run of the given duration,
// sorted by At. A fixed list is returned sorted (a copy); a random spec is
// expanded from seed: the same seed and duration give the same faults every
// time. Print them with FormatFaults to get a fixed list to paste back.
func (s Schedule) Faults(seed uint64, duration time.Duration) []Fault {
	if s.Random == nil {
		out := slices.Clone(s.Fixed)
		slices.SortStableFunc(out, func(a, b Fault) int { return int(a.At - b.At) })
		return out
	}
	return s.Random.expand(seed, duration)
}

func (r *Random) expand(seed uint64, duration time.Duration) []Fault {
	rng := rand.New(rand.NewPCG(seed, 0x51C0FA017))
	kinds := make([]Kind, 0, len(r.Kinds))
	total := 0
	for _, k := range Kinds() {
		if w := r.Kinds[k]; w > 0 {
			kinds = append(kinds, k)
			total += w
		}
	}
	if total == 0 || r.Every <= 0 {
		return nil
	}
	var out []Fault
	t := r.Start
	for len(out) < maxRandomFaults {
		t += time.Duration(rng.ExpFloat64() * float64(r.Every))
		pick := rng.IntN(total)
		var k Kind
		for _, k = range kinds {
			if pick < r.Kinds[k] {
				break
			}
			pick -= r.Kinds[k]
		}
		f := r.fault(k, rng)
		f.At = t.Round(time.Millisecond)
		if f.End() > duration || t > duration {
			break
		}
		out = append(out, f)
		t = f.End()
	}
	return out
}

// fault returns a fault of kind k with the spec's parameters.
func (r *Random) fault(k Kind, rng *rand.Rand) Fault {
	or := func(v, d time.Duration) time.Duration {
		if v > 0 {
			return v
		}
		return d
	}
	sp := specs[k]
	f := Fault{Kind: k, Target: sp.targets[0]}
	if len(sp.targets) > 1 && k == Drop {
		f.Target = sp.targets[rng.IntN(len(sp.targets))]
	}
	for _, fl := range sp.required {
		switch fl {
		case fFor:
			f.For = or(r.For, 5*time.Second)
		case fRestartAfter:
			f.RestartAfter = or(r.RestartAfter, 2*time.Second)
		case fDelay:
			if k == SlowClose {
				f.Delay = or(r.Delay, time.Second)
			} else {
				f.Delay = or(r.Delay, 20*time.Millisecond)
			}
		case fRate:
			f.Rate = r.Rate
			if f.Rate <= 0 {
				f.Rate = 1e6
			}
		}
	}
	if k == Latency {
		f.Jitter = min(or(r.Jitter, 5*time.Millisecond), f.Delay)
	}
	return f
}

// FormatFaults prints faults as a YAML block sequence, one fault a line,
// ready to paste into a scenario's faults section.
func FormatFaults(faults []Fault) string {
	var b strings.Builder
	for _, f := range faults {
		b.WriteString("- ")
		b.WriteString(f.String())
		b.WriteString("\n")
	}
	return b.String()
}

// String prints the schedule as it is written in a scenario file: a random
// spec as {random: {...}}, a fixed list as a flow sequence.
func (s Schedule) String() string {
	if s.Random != nil {
		return "{random: " + s.Random.String() + "}"
	}
	parts := make([]string, len(s.Fixed))
	for i, f := range s.Fixed {
		parts[i] = f.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// String prints r as the flow mapping UnmarshalYAML reads.
func (r Random) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "{every: %s, kinds: {", formatDuration(r.Every))
	first := true
	for _, k := range Kinds() {
		if w, ok := r.Kinds[k]; ok {
			if !first {
				b.WriteString(", ")
			}
			first = false
			fmt.Fprintf(&b, "%s: %d", k, w)
		}
	}
	b.WriteString("}")
	for _, p := range []struct {
		name string
		v    time.Duration
	}{{"start", r.Start}, {"for", r.For}, {"restart_after", r.RestartAfter}, {"delay", r.Delay}, {"jitter", r.Jitter}} {
		if p.v != 0 {
			fmt.Fprintf(&b, ", %s: %s", p.name, formatDuration(p.v))
		}
	}
	if r.Rate != 0 {
		fmt.Fprintf(&b, ", rate: %s", formatRate(r.Rate))
	}
	b.WriteString("}")
	return b.String()
}

// UnmarshalYAML reads a schedule: a sequence of faults, or {random: {...}}.
func (s *Schedule) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.SequenceNode:
		var fixed []Fault
		for _, c := range n.Content {
			f, err := decodeFault(c)
			if err != nil {
				return err
			}
			fixed = append(fixed, f)
		}
		*s = Schedule{Fixed: fixed}
		return nil
	case yaml.MappingNode:
		if len(n.Content) != 2 || n.Content[0].Value != "random" {
			return syntaxErr(n, "faults: want a list of faults or {random: {every: 15s, kinds: {kill: 1}}}")
		}
		r, err := decodeRandom(n.Content[1])
		if err != nil {
			return err
		}
		*s = Schedule{Random: &r}
		return nil
	}
	return syntaxErr(n, "faults: want a list of faults or {random: {...}}")
}

// UnmarshalYAML reads a random spec (the value of random:).
func (r *Random) UnmarshalYAML(n *yaml.Node) error {
	d, err := decodeRandom(n)
	if err != nil {
		return err
	}
	*r = d
	return nil
}

// ParseSchedule parses a schedule from its text (what Schedule.String or
// FormatFaults prints).
func ParseSchedule(text string) (Schedule, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		return Schedule{}, &SyntaxError{Msg: "faults: " + strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if len(doc.Content) != 1 {
		return Schedule{}, &SyntaxError{Line: 1, Msg: "faults: empty"}
	}
	var s Schedule
	err := s.UnmarshalYAML(doc.Content[0])
	return s, err
}

func decodeRandom(n *yaml.Node) (Random, error) {
	if n.Kind != yaml.MappingNode {
		return Random{}, syntaxErr(n, "random: want a mapping such as {every: 15s, kinds: {kill: 1, partition: 2}}")
	}
	var r Random
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			return Random{}, syntaxErr(k, "random: %s given twice", k.Value)
		}
		seen[k.Value] = true
		var dst *time.Duration
		switch k.Value {
		case "every":
			dst = &r.Every
		case "start":
			dst = &r.Start
		case "for":
			dst = &r.For
		case "restart_after":
			dst = &r.RestartAfter
		case "delay":
			dst = &r.Delay
		case "jitter":
			dst = &r.Jitter
		case "rate":
			if v.Kind != yaml.ScalarNode {
				return Random{}, syntaxErr(v, "random: rate: want a rate such as 1MB/s")
			}
			x, err := ParseRate(v.Value)
			if err != nil {
				return Random{}, syntaxErr(v, "random: rate: %v", err)
			}
			r.Rate = x
			continue
		case "kinds":
			ks, err := decodeWeights(v)
			if err != nil {
				return Random{}, err
			}
			r.Kinds = ks
			continue
		default:
			return Random{}, syntaxErr(k, "random: unknown field %q (it takes every, kinds, start, for, restart_after, delay, jitter, rate)", k.Value)
		}
		if v.Kind != yaml.ScalarNode {
			return Random{}, syntaxErr(v, "random: %s: want a duration such as 5s", k.Value)
		}
		d, err := parseDuration(v.Value)
		if err != nil {
			return Random{}, syntaxErr(v, "random: %s: %v", k.Value, err)
		}
		*dst = d
	}
	if r.Every <= 0 {
		return Random{}, syntaxErr(n, "random: every is required and must be positive (the mean gap between faults)")
	}
	if len(r.Kinds) == 0 {
		return Random{}, syntaxErr(n, "random: kinds is required, e.g. {kill: 1, partition: 2}")
	}
	return r, nil
}

func decodeWeights(n *yaml.Node) (map[Kind]int, error) {
	if n.Kind != yaml.MappingNode {
		return nil, syntaxErr(n, "random: kinds: want a mapping of kind to weight, e.g. {kill: 1, partition: 2}")
	}
	ks := map[Kind]int{}
	positive := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !Kind(k.Value).Valid() {
			return nil, syntaxErr(k, "random: kinds: unknown fault kind %q (known: %s)", k.Value, kindList())
		}
		if _, dup := ks[Kind(k.Value)]; dup {
			return nil, syntaxErr(k, "random: kinds: %s given twice", k.Value)
		}
		w, err := strconv.Atoi(v.Value)
		if err != nil || w < 0 || w > 1_000_000 || v.Kind != yaml.ScalarNode {
			return nil, syntaxErr(v, "random: kinds: %s: weight %q, want a whole number from 0 to 1000000", k.Value, v.Value)
		}
		ks[Kind(k.Value)] = w
		positive = positive || w > 0
	}
	if !positive {
		return nil, syntaxErr(n, "random: kinds: every weight is 0")
	}
	return ks, nil
}
