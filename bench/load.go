package bench

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gale/reports"
)

// Expand turns command-line arguments into results file paths. Each
// argument may hold several, comma-separated; each is a file, a directory
// (every *.json file beneath it, recursively, in lexical order) or a
// filepath.Match glob. A glob that matches nothing, a missing path and a
// directory with no *.json file are errors naming it. The result has no
// duplicates and keeps first-seen order.
func Expand(args []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, arg := range args {
		for _, a := range strings.Split(arg, ",") {
			if a = strings.TrimSpace(a); a == "" {
				continue
			}
			paths, err := expandOne(a)
			if err != nil {
				return nil, err
			}
			for _, p := range paths {
				add(p)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("bench: no results files in %q", strings.Join(args, ","))
	}
	return out, nil
}

func expandOne(a string) ([]string, error) {
	if strings.ContainsAny(a, "*?[") {
		if _, err := os.Stat(a); err != nil { // a name may hold '[' literally
			m, err := filepath.Glob(a)
			if err != nil {
				return nil, fmt.Errorf("bench: pattern %q: %v", a, err)
			}
			if len(m) == 0 {
				return nil, fmt.Errorf("bench: %s: no file matches", a)
			}
			var out []string
			for _, p := range m {
				ps, err := expandPath(p)
				if err != nil {
					return nil, err
				}
				out = append(out, ps...)
			}
			return out, nil
		}
	}
	return expandPath(a)
}

func expandPath(p string) ([]string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if !st.IsDir() {
		return []string{p}, nil
	}
	var out []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), ".json") {
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("bench: %s: no *.json results file in the directory", p)
	}
	slices.Sort(out)
	return out, nil
}

// Load reads results files; the first that cannot be read gives an error
// naming it (reports.ReadFile's).
func Load(paths []string) ([]*reports.Results, error) {
	out := make([]*reports.Results, 0, len(paths))
	for _, p := range paths {
		r, err := reports.ReadFile(p)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}
