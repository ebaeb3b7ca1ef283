package linearizability

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata/*.golden from what the checker says now")

// histories returns the stored histories: testdata/NAME.jsonl, where NAME
// is "valid" or an anomaly kind, then optionally "." and a variant.
func histories(t testing.TB) []string {
	files, err := filepath.Glob("testdata/*.jsonl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no stored histories: %v", err)
	}
	return files
}

// wantKind returns the anomaly a stored history is named after, or 0 for a
// valid one.
func wantKind(t testing.TB, file string) AnomalyKind {
	name, _, _ := strings.Cut(filepath.Base(file), ".")
	if name == "valid" {
		return 0
	}
	k, err := ParseAnomalyKind(name)
	if err != nil {
		t.Fatalf("%s is named after no anomaly: %v", file, err)
	}
	return k
}

// TestHistories replays every stored history: a valid one must give no
// anomaly and linearize; one named after an anomaly must show it and be a
// violation. The full report and the verdict under each guarantee must
// match NAME.golden (go test -run TestHistories -rewrite regenerates them).
func TestHistories(t *testing.T) {
	for _, file := range histories(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".jsonl")
		t.Run(name, func(t *testing.T) {
			ops, err := ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Check(ops, Options{Timeout: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			want := wantKind(t, file)
			if want == 0 {
				if res.Verdict != Valid || len(res.Anomalies) > 0 {
					t.Errorf("a valid history was judged %s with %d anomalies", res.Verdict, len(res.Anomalies))
				}
				for _, p := range res.Partitions {
					if p.Linearizability != OutcomeLinearizable {
						t.Errorf("%s/%d: %s: %s", p.Topic, p.Partition, p.Linearizability, p.Detail)
					}
				}
			} else {
				if !slices.ContainsFunc(res.Anomalies, func(a Anomaly) bool { return a.Kind == want }) {
					t.Errorf("no %s anomaly found", want)
				}
				if res.Verdict != Violation {
					t.Errorf("verdict %s, want violation", res.Verdict)
				}
			}
			got := report(t, ops, res)
			golden := strings.TrimSuffix(file, ".jsonl") + ".golden"
			if *rewrite {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			wantOut, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -rewrite to create it)", err)
			}
			if !bytes.Equal(got, wantOut) {
				t.Errorf("report differs from %s (-rewrite to accept):\n--- got\n%s--- want\n%s", golden, got, wantOut)
			}
		})
	}
}

// report renders res, then the verdict the history gets under every
// guarantee.
func report(t *testing.T, ops []Op, res *Result) []byte {
	var b bytes.Buffer
	if err := res.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	b.WriteString("--\n")
	for _, g := range Guarantees() {
		r, err := Check(ops, Options{Expect: g, Timeout: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s: %s\n", g, r.Verdict)
	}
	return b.Bytes()
}

// TestEveryAnomalyHasAHistory: every checker must be able to fail, so each
// anomaly kind has a stored history that triggers it.
func TestEveryAnomalyHasAHistory(t *testing.T) {
	have := make(map[AnomalyKind]bool)
	for _, file := range histories(t) {
		have[wantKind(t, file)] = true
	}
	for _, k := range AnomalyKinds() {
		if !have[k] {
			t.Errorf("no testdata/%s*.jsonl history triggers %s", k, k)
		}
	}
	if !have[0] {
		t.Error("no testdata/valid*.jsonl history")
	}
}
