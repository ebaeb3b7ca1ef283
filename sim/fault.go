package sim

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Kind names what a Fault does. Its text is the key that names the fault in
// a scenario file ("kill" in {at: 10s, kill: broker, restart_after: 2s}).
type Kind string

// The fault kinds. See the package documentation for what each does on each
// target.
const (
	Kill      Kind = "kill"       // kill -9 the broker, restart it after RestartAfter
	Pause     Kind = "pause"      // SIGSTOP the broker, SIGCONT after For
	Restart   Kind = "restart"    // graceful restart (SIGTERM, wait, start)
	Partition Kind = "partition"  // blackhole the link both ways for For
	Drop      Kind = "drop"       // blackhole one direction of the link for For
	Latency   Kind = "latency"    // delay the link by Delay±Jitter for For
	Bandwidth Kind = "bandwidth"  // cap the link at Rate bytes per second for For
	Reset     Kind = "reset"      // reset every open connection
	SlowClose Kind = "slow-close" // a close reaches the other side Delay late, for For
	PowerLoss Kind = "power-loss" // crash losing every unsynced write, restart after RestartAfter
	TornTail  Kind = "torn-tail"  // crash keeping a torn prefix of the unsynced writes
	Bitflip   Kind = "bitflip"    // flip one bit inside a batch of a sealed segment
	FsyncFail Kind = "fsync-fail" // every fsync fails for For
	DiskFull  Kind = "disk-full"  // every write and create fails with ENOSPC for For
	Crash     Kind = "crash"      // crash a consumer group member, restart after RestartAfter
)

// The targets a fault is aimed at.
const (
	TargetBroker   = "broker"          // the broker process (or in-process server) and its disk
	TargetLink     = "clients-broker"  // the link through the proxy, both ways
	TargetUp       = "clients->broker" // the link, clients to broker only
	TargetDown     = "broker->clients" // the link, broker to clients only
	TargetConsumer = "consumer"        // a consumer group member (run by the load generator)
)

// field names a fault parameter as it is spelled in the syntax.
type field string

const (
	fAt           field = "at"
	fFor          field = "for"
	fRestartAfter field = "restart_after"
	fDelay        field = "delay"
	fJitter       field = "jitter"
	fRate         field = "rate"
)

// fieldOrder is the order String prints parameters in.
var fieldOrder = []field{fDelay, fJitter, fRate, fFor, fRestartAfter}

// spec says, for one kind, which targets it accepts and which parameters it
// requires or allows.
type spec struct {
	targets  []string
	required []field
	optional []field
}

var linkTargets = []string{TargetLink, TargetUp, TargetDown}

var specs = map[Kind]spec{
	Kill:      {targets: []string{TargetBroker}, required: []field{fRestartAfter}},
	Pause:     {targets: []string{TargetBroker}, required: []field{fFor}},
	Restart:   {targets: []string{TargetBroker}},
	Partition: {targets: []string{TargetLink}, required: []field{fFor}},
	Drop:      {targets: []string{TargetUp, TargetDown}, required: []field{fFor}},
	Latency:   {targets: linkTargets, required: []field{fDelay, fFor}, optional: []field{fJitter}},
	Bandwidth: {targets: linkTargets, required: []field{fRate, fFor}},
	Reset:     {targets: []string{TargetLink}},
	SlowClose: {targets: []string{TargetLink}, required: []field{fDelay, fFor}},
	PowerLoss: {targets: []string{TargetBroker}, required: []field{fRestartAfter}},
	TornTail:  {targets: []string{TargetBroker}, required: []field{fRestartAfter}},
	Bitflip:   {targets: []string{TargetBroker}},
	FsyncFail: {targets: []string{TargetBroker}, required: []field{fFor}},
	DiskFull:  {targets: []string{TargetBroker}, required: []field{fFor}},
	Crash:     {targets: []string{TargetConsumer}, required: []field{fRestartAfter}},
}

// Kinds returns every fault kind, sorted.
func Kinds() []Kind {
	ks := make([]Kind, 0, len(specs))
	for k := range specs {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { _, ok := specs[k]; return ok }

// Fault is one fault of a schedule: what happens, to what, when, and for how
// long. It prints (String) as a YAML flow mapping that ParseFault reads back
// to an equal Fault:
//
//	{at: 40s, latency: clients-broker, delay: 20ms, jitter: 5ms, for: 10s}
//
// Parameters a kind does not use are zero. The zero Fault is not valid.
type Fault struct {
	// At is when the fault starts, as an offset from the start of the load.
	At time.Duration
	// Kind is what the fault does, Target what it is aimed at (one of the
	// Target constants).
	Kind   Kind
	Target string
	// For is how long a lasting fault (pause, partition, drop, latency,
	// bandwidth, slow-close, fsync-fail, disk-full) lasts.
	For time.Duration
	// RestartAfter is how long a crashed broker (kill, power-loss,
	// torn-tail) or consumer (crash) stays down.
	RestartAfter time.Duration
	// Delay is the added latency (latency) or how late a close reaches the
	// other side (slow-close); Jitter spreads latency uniformly over
	// Delay±Jitter.
	Delay, Jitter time.Duration
	// Rate is the bandwidth cap in bytes per second (bandwidth).
	Rate int64
}

// Duration is how long the fault lasts from its start: For, or RestartAfter
// for a crash; 0 for an instant fault (restart, reset, bitflip).
func (f Fault) Duration() time.Duration { return f.For + f.RestartAfter }

// End is At + Duration.
func (f Fault) End() time.Duration { return f.At + f.Duration() }

// String prints f in the syntax ParseFault reads: a YAML flow mapping with
// at first, then the kind and its target, then the parameters the kind uses.
func (f Fault) String() string {
	var b strings.Builder
	b.WriteString("{at: ")
	b.WriteString(formatDuration(f.At))
	b.WriteString(", ")
	b.WriteString(string(f.Kind))
	b.WriteString(": ")
	b.WriteString(f.Target)
	sp := specs[f.Kind]
	for _, fl := range fieldOrder {
		if !slices.Contains(sp.required, fl) && !(slices.Contains(sp.optional, fl) && f.get(fl) != 0) {
			continue
		}
		b.WriteString(", ")
		b.WriteString(string(fl))
		b.WriteString(": ")
		if fl == fRate {
			b.WriteString(formatRate(f.Rate))
		} else {
			b.WriteString(formatDuration(time.Duration(f.get(fl))))
		}
	}
	b.WriteString("}")
	return b.String()
}

// get returns the value of parameter fl (a duration in nanoseconds, or the
// rate).
func (f Fault) get(fl field) int64 {
	switch fl {
	case fAt:
		return int64(f.At)
	case fFor:
		return int64(f.For)
	case fRestartAfter:
		return int64(f.RestartAfter)
	case fDelay:
		return int64(f.Delay)
	case fJitter:
		return int64(f.Jitter)
	case fRate:
		return f.Rate
	}
	return 0
}

// set stores v as parameter fl.
func (f *Fault) set(fl field, v int64) {
	switch fl {
	case fAt:
		f.At = time.Duration(v)
	case fFor:
		f.For = time.Duration(v)
	case fRestartAfter:
		f.RestartAfter = time.Duration(v)
	case fDelay:
		f.Delay = time.Duration(v)
	case fJitter:
		f.Jitter = time.Duration(v)
	case fRate:
		f.Rate = v
	}
}

// Validate reports what is wrong with f, or nil: an unknown kind, a target
// the kind does not accept, a negative or missing required parameter, a
// parameter the kind does not use.
func (f Fault) Validate() error {
	sp, ok := specs[f.Kind]
	if !ok {
		return fmt.Errorf("unknown fault kind %q (known: %s)", f.Kind, kindList())
	}
	if !slices.Contains(sp.targets, f.Target) {
		return fmt.Errorf("%s: target %q, want %s", f.Kind, f.Target, strings.Join(sp.targets, " or "))
	}
	if f.At < 0 {
		return fmt.Errorf("%s: at: negative duration %s", f.Kind, f.At)
	}
	for _, fl := range fieldOrder {
		v := f.get(fl)
		switch {
		case v < 0:
			return fmt.Errorf("%s: %s: negative value %d", f.Kind, fl, v)
		case v == 0 && slices.Contains(sp.required, fl):
			return fmt.Errorf("%s: %s is required and must be positive", f.Kind, fl)
		case v != 0 && !slices.Contains(sp.required, fl) && !slices.Contains(sp.optional, fl):
			return fmt.Errorf("%s: does not take %s", f.Kind, fl)
		}
	}
	if f.Kind == Latency && f.Jitter > f.Delay {
		return fmt.Errorf("latency: jitter %s exceeds delay %s", f.Jitter, f.Delay)
	}
	return nil
}

// IsLink reports whether f acts on the link through the proxy.
func (f Fault) IsLink() bool { return slices.Contains(linkTargets, f.Target) }

func kindList() string {
	var s []string
	for _, k := range Kinds() {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}
