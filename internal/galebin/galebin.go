// Package galebin builds the gale binary for tests that run it as a child
// process (the subprocess broker of package sim and of scenarios): once per
// test process, into a temporary directory that Main removes.
//
// Path is safe for concurrent use.
package galebin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	once sync.Once
	path string
	err  error
)

// Path returns the path of a gale binary built from this tree, building it
// on the first call. Under -short it skips the test (the build takes a while
// on a shared machine). A failed build (another package of the tree
// mid-edit) skips the test, except under CI=true, where it fails it.
func Path(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: not building the gale binary for the subprocess broker")
	}
	once.Do(build)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return path
}

func build() {
	dir, e := os.MkdirTemp("", "gale-bin-")
	if e != nil {
		err = e
		return
	}
	gotool, e := exec.LookPath("go")
	if e != nil {
		gotool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	path = filepath.Join(dir, "gale")
	if out, e := exec.Command(gotool, "build", "-o", path, "gale/cmd/gale").CombinedOutput(); e != nil {
		err = fmt.Errorf("go build gale/cmd/gale: %v\n%s", e, out)
	}
}

// Main runs a package's tests and removes the binary Path built; call it
// from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if path != "" {
		os.RemoveAll(filepath.Dir(path))
	}
	os.Exit(code)
}
