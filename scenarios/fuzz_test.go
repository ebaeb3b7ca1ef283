package scenarios

import (
	"errors"
	"testing"
)

// FuzzParse: no input makes Parse panic, and every failure is an *Error
// (ErrScenario); a scenario that parses has a name and a valid workload.
func FuzzParse(f *testing.F) {
	for _, name := range Canned() {
		data, err := CannedFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(validBase + "faults: [{at: 1s, reset: clients-broker}]\nthresholds: {publish.p99_us: {max: 1}}\n"))
	f.Add([]byte("name: x\nworkload: {duration: 1s}\nphases: [{name: a}, {name: b, rate: 50% of max}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data, "fuzz.yaml")
		if err != nil {
			if !errors.Is(err, ErrScenario) {
				t.Fatalf("error %v (%T) is not ErrScenario", err, err)
			}
			return
		}
		if s.Name == "" {
			t.Fatal("parsed a scenario without a name")
		}
		if _, err := s.Workload.Validate(); err != nil {
			t.Fatalf("parsed an invalid workload: %v", err)
		}
	})
}
