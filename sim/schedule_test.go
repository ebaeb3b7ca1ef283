package sim

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

const soak = "{random: {every: 15s, kinds: {kill: 1, partition: 2, latency: 2, drop: 1}, for: 5s}}"

// TestRandomScheduleDeterministic: one seed gives the same faults every
// time; another seed gives others; printed, they parse back as a fixed list.
func TestRandomScheduleDeterministic(t *testing.T) {
	s, err := ParseSchedule(soak)
	if err != nil {
		t.Fatal(err)
	}
	const seed = 42
	t.Logf("seed = %d", seed)
	a := s.Faults(seed, 10*time.Minute)
	b := s.Faults(seed, 10*time.Minute)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("same seed, different faults:\n%s\n%s", FormatFaults(a), FormatFaults(b))
	}
	if len(a) < 10 {
		t.Fatalf("%d faults in 10 minutes at one per ~20s:\n%s", len(a), FormatFaults(a))
	}
	if c := s.Faults(seed+1, 10*time.Minute); reflect.DeepEqual(a, c) {
		t.Fatal("seeds 42 and 43 gave the same faults")
	}
	kinds := map[Kind]int{}
	for i, f := range a {
		if err := f.Validate(); err != nil {
			t.Fatalf("fault %d %s: %v", i, f, err)
		}
		if f.End() > 10*time.Minute {
			t.Errorf("fault %s ends after the run", f)
		}
		if i > 0 && f.At < a[i-1].End() {
			t.Errorf("fault %s overlaps %s", f, a[i-1])
		}
		kinds[f.Kind]++
	}
	for _, k := range []Kind{Kill, Partition, Latency, Drop} {
		if kinds[k] == 0 {
			t.Errorf("no %s in %d faults", k, len(a))
		}
	}
	text := FormatFaults(a)
	back, err := ParseSchedule(text)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Faults(0, 0); !reflect.DeepEqual(got, a) {
		t.Fatalf("printed schedule reads back differently:\n%s\n%s", text, FormatFaults(got))
	}
	if again, err := ParseSchedule(s.String()); err != nil || !reflect.DeepEqual(again, s) {
		t.Fatalf("spec %q prints as %q, reads back as %+v, %v", soak, s.String(), again, err)
	}
}

func TestRandomDefaults(t *testing.T) {
	s, err := ParseSchedule("{random: {every: 1s, kinds: {latency: 1, bandwidth: 1, slow-close: 1, kill: 1, crash: 1, bitflip: 1}}}")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range s.Faults(7, time.Minute) {
		if err := f.Validate(); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestScheduleErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"{random: {kinds: {kill: 1}}}", "line 1: random: every is required"},
		{"{random: {every: 1s}}", "random: kinds is required"},
		{"{random: {every: 1s, kinds: {explode: 1}}}", `random: kinds: unknown fault kind "explode"`},
		{"{random: {every: 1s, kinds: {kill: -1}}}", "weight"},
		{"{random: {every: 1s, kinds: {kill: 0}}}", "every weight is 0"},
		{"{random: {every: 1s, kinds: {kill: 1}, evrey: 2s}}", `random: unknown field "evrey"`},
		{"{often: 1}", "faults: want a list"},
		{"- {at: 1s, kill: broker}\n- {at: 2s, reset: clients-broker}", "line 1: kill: restart_after is required"},
		{"- {at: 1s, reset: clients-broker}\n- {at: 2s, kill: broker}", "line 2: kill: restart_after is required"},
	} {
		_, err := ParseSchedule(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseSchedule(%q) = %v, want an error containing %q", c.in, err, c.want)
		}
	}
}

// TestScheduleInScenario: a Schedule decodes from a scenario's faults
// section, either form.
func TestScheduleInScenario(t *testing.T) {
	var v struct {
		Faults Schedule `yaml:"faults"`
	}
	if err := yaml.Unmarshal([]byte("faults:\n  - {at: 20s, restart: broker}\n  - {at: 10s, kill: broker, restart_after: 2s}\n"), &v); err != nil {
		t.Fatal(err)
	}
	got := v.Faults.Faults(1, time.Minute)
	if len(got) != 2 || got[0].Kind != Kill || got[1].Kind != Restart {
		t.Fatalf("fixed list, sorted by at: %v", got)
	}
	if err := yaml.Unmarshal([]byte("faults: "+soak+"\n"), &v); err != nil || v.Faults.Random == nil {
		t.Fatalf("random: %+v %v", v.Faults, err)
	}
}
