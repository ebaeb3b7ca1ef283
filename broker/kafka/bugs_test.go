package kafka

import (
	"strings"
	"testing"
)

func TestParseBugs(t *testing.T) {
	tests := []struct {
		in   string
		want Bugs
		err  string
	}{
		{"", Bugs{}, ""},
		{"stale-fetch", Bugs{StaleFetch: 1}, ""},
		{"duplicate-batch=5,forget-commits=2", Bugs{DuplicateBatch: 5, ForgetCommits: 2}, ""},
		{"lose-acked-tail-on-restart=1, reorder-batches=3,skip-fetch,ack-then-fail=7", Bugs{LoseAckedTailOnRestart: 1, ReorderBatches: 3, SkipFetch: 1, AckThenFail: 7}, ""},
		{"no-such-bug", Bugs{}, "unknown bug"},
		{"skip-fetch=0", Bugs{}, "positive count"},
		{"skip-fetch=x", Bugs{}, "positive count"},
	}
	for _, tt := range tests {
		got, err := ParseBugs(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseBugs(%q) = %v, want an error containing %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseBugs(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			continue
		}
		if back, err := ParseBugs(got.String()); err != nil || back != got {
			t.Errorf("ParseBugs(%q) = %+v, %v; want %+v back", got.String(), back, err, got)
		}
	}
}

func TestNegativeBugIsAnError(t *testing.T) {
	if _, err := New(Config{Dir: t.TempDir(), Bugs: Bugs{StaleFetch: -1}}); err == nil || !strings.Contains(err.Error(), "stale-fetch") {
		t.Fatalf("New with a negative bug switch: %v", err)
	}
}
