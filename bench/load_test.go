package bench

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gale/reports"
)

// TestExpand: files, directories (recursive, *.json only), globs and
// comma-separated lists expand in order without duplicates; what names no
// file is an error naming it.
func TestExpand(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"a/r1.json", "a/r1.hlog", "a/sub/r2.json", "b/r3.json", "b/r4.json", "c/notes.txt"} {
		p := filepath.Join(dir, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("{}"), 0o644)
	}
	j := func(s ...string) string { return filepath.Join(append([]string{dir}, s...)...) }
	tests := []struct {
		args []string
		want []string
		err  string
	}{
		{[]string{j("a")}, []string{j("a/r1.json"), j("a/sub/r2.json")}, ""},
		{[]string{j("b/*.json")}, []string{j("b/r3.json"), j("b/r4.json")}, ""},
		{[]string{j("b/r4.json") + "," + j("a/r1.json"), j("b/r4.json"), j("*/r3.json")}, []string{j("b/r4.json"), j("a/r1.json"), j("b/r3.json")}, ""},
		{[]string{j("a/r1.hlog")}, []string{j("a/r1.hlog")}, ""}, // named explicitly: Load will judge it
		{[]string{j("nope.json")}, nil, "nope.json"},
		{[]string{j("b/*.xml")}, nil, "b/*.xml: no file matches"},
		{[]string{j("c")}, nil, "no *.json results file"},
		{[]string{" , "}, nil, "no results files"},
	}
	for _, tt := range tests {
		got, err := Expand(tt.args)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Expand(%q): err %v, want one containing %q", tt.args, err, tt.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("Expand(%q) = %q, %v; want %q", tt.args, got, err, tt.want)
		}
	}
}

// TestLoad: a real loadgen results file loads and has every default
// metric; a file that is not results is an error naming it.
func TestLoad(t *testing.T) {
	rs, err := Load([]string{"testdata/loadgen-small.json"})
	if err != nil {
		t.Fatal(err)
	}
	m := reports.Metrics(rs[0])
	for _, name := range DefaultMetrics {
		if _, ok := m[name]; !ok {
			t.Errorf("testdata/loadgen-small.json lacks %s", name)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"target": "x"}`), 0o644)
	_, err = Load([]string{"testdata/loadgen-small.json", bad})
	if !errors.Is(err, reports.ErrResults) || !strings.Contains(err.Error(), bad) {
		t.Errorf("err %v, want ErrResults naming %s", err, bad)
	}
}

// TestCompareRealFileWithItself: a real run compared with itself passes
// with every row unchanged (tolerance only: one run a side).
func TestCompareRealFileWithItself(t *testing.T) {
	rs, err := Load([]string{"testdata/loadgen-small.json"})
	if err != nil {
		t.Fatal(err)
	}
	v := compare(t, rs, rs, Options{})
	if v.Outcome != Pass || len(v.Rows) != len(DefaultMetrics) {
		t.Fatalf("outcome %s, rows %v", v.Outcome, metricNames(v))
	}
	for _, r := range v.Rows {
		if r.Change != 0 || r.Tested {
			t.Errorf("%+v", r)
		}
	}
}
