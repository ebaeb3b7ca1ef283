package scenarios

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
)

//go:embed *.yaml
var library embed.FS

// Canned returns the names of the canned scenarios, sorted.
func Canned() []string {
	entries, _ := fs.ReadDir(library, ".")
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}

// CannedFile returns a canned scenario's YAML text.
func CannedFile(name string) ([]byte, error) {
	data, err := library.ReadFile(path.Clean(name) + ".yaml")
	if err != nil {
		return nil, fmt.Errorf("%w: no canned scenario %q (canned: %s)", ErrScenario, name, strings.Join(Canned(), ", "))
	}
	return data, nil
}

// LoadCanned parses a canned scenario.
func LoadCanned(name string) (*Scenario, error) {
	data, err := CannedFile(name)
	if err != nil {
		return nil, err
	}
	return parse(data, "canned:"+name, ".")
}

// Open loads a scenario by path, or by canned name when no file of that
// name exists and it has no extension or slash.
func Open(nameOrPath string) (*Scenario, error) {
	if !strings.ContainsAny(nameOrPath, `/\.`) {
		if slices.Contains(Canned(), nameOrPath) {
			return LoadCanned(nameOrPath)
		}
		if _, err := os.Stat(nameOrPath); err != nil {
			return nil, &Error{File: nameOrPath, Msg: fmt.Sprintf("no such file, and no canned scenario of that name (canned: %s)", strings.Join(Canned(), ", "))}
		}
	}
	return Load(nameOrPath)
}
