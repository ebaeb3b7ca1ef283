package vfs

import (
	"bytes"
	"errors"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// fsCase is one implementation under the conformance tests: a fresh
// filesystem and an existing, empty directory in it.
type fsCase struct {
	name string
	fs   func(t *testing.T) (FS, string)
}

func osCase(name string, o OSOptions) fsCase {
	return fsCase{name, func(t *testing.T) (FS, string) { return NewOS(o), t.TempDir() }}
}

var fsCases = []fsCase{
	osCase("os/pwrite", OSOptions{WriteMode: WritePwrite}),
	osCase("os/mmap", OSOptions{WriteMode: WriteMmap}),
	osCase("os/mmap-populate", OSOptions{WriteMode: WriteMmapPopulate, PopulateAhead: 4096}),
	osCase("os/default", OSOptions{}),
	osCase("os/auto-both-paths", OSOptions{WriteMode: WriteAuto, PwriteMin: 8}),
	{"mem", func(t *testing.T) (FS, string) {
		m := NewMem()
		if err := m.MkdirAll("/data/p0"); err != nil {
			t.Fatal(err)
		}
		return m, "/data/p0"
	}},
}

// join joins names the way each implementation expects (slash paths are
// valid OS paths on Linux too).
func join(dir, name string) string { return path.Join(dir, name) }

// conformance lists behaviours every FS must share.
var conformance = []struct {
	name string
	test func(t *testing.T, fsys FS, dir string)
}{
	{"CreateOpenExtend", testCreateOpenExtend},
	{"CreateZeroSize", testCreateZeroSize},
	{"WriteAtVisibleInData", testWriteAtVisible},
	{"WriteAtOutOfRange", testWriteAtOutOfRange},
	{"Truncate", testTruncate},
	{"WritePastTruncatedSize", testWritePastTruncatedSize},
	{"ReopenSeesBytes", testReopen},
	{"TwoFilesOnOneName", testTwoFiles},
	{"RemoveWhileMapped", testRemoveWhileMapped},
	{"ListSorted", testListSorted},
	{"ListDirs", testListDirs},
	{"RemoveAll", testRemoveAll},
	{"WriteFileAtomic", testWriteFileAtomic},
	{"Errors", testErrors},
	{"CloseTwice", testCloseTwice},
	{"ConcurrentWriteSyncRead", testConcurrent},
}

func TestConformance(t *testing.T) {
	for _, c := range fsCases {
		t.Run(c.name, func(t *testing.T) {
			for _, tc := range conformance {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					fsys, dir := c.fs(t)
					tc.test(t, fsys, dir)
				})
			}
		})
	}
}

func mustCreate(t *testing.T, fsys FS, name string, size int64) File {
	t.Helper()
	f, err := fsys.Create(name, size)
	if err != nil {
		t.Fatalf("Create(%q, %d): %v", name, size, err)
	}
	return f
}

func mustOpen(t *testing.T, fsys FS, name string, size int64) File {
	t.Helper()
	f, err := fsys.Open(name, size)
	if err != nil {
		t.Fatalf("Open(%q, %d): %v", name, size, err)
	}
	return f
}

func mustWrite(t *testing.T, f File, p []byte, off int64) {
	t.Helper()
	if n, err := f.WriteAt(p, off); n != len(p) || err != nil {
		t.Fatalf("WriteAt(%d bytes, %d) = %d, %v", len(p), off, n, err)
	}
}

func mustClose(t *testing.T, f File) {
	t.Helper()
	if err := f.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func checkSize(t *testing.T, f File, size int64, mapped int) {
	t.Helper()
	if got := f.Size(); got != size {
		t.Errorf("Size() = %d, want %d", got, size)
	}
	if got := len(f.Data()); got != mapped {
		t.Errorf("len(Data()) = %d, want %d", got, mapped)
	}
}

func checkZero(t *testing.T, b []byte, what string) {
	t.Helper()
	if i := slices.IndexFunc(b, func(c byte) bool { return c != 0 }); i >= 0 {
		t.Errorf("%s: byte %d is %#x, want zero", what, i, b[i])
	}
}

func testCreateOpenExtend(t *testing.T, fsys FS, dir string) {
	name := join(dir, "00.log")
	f := mustCreate(t, fsys, name, 8192)
	checkSize(t, f, 8192, 8192)
	checkZero(t, f.Data(), "new file")
	mustWrite(t, f, []byte("hello"), 100)
	mustClose(t, f)

	f = mustOpen(t, fsys, name, 0) // smaller than the file: maps it all
	checkSize(t, f, 8192, 8192)
	if got := string(f.Data()[100:105]); got != "hello" {
		t.Errorf("reopened: %q, want hello", got)
	}
	mustClose(t, f)

	f = mustOpen(t, fsys, name, 16384)
	checkSize(t, f, 16384, 16384)
	if got := string(f.Data()[100:105]); got != "hello" {
		t.Errorf("extended: %q, want hello", got)
	}
	checkZero(t, f.Data()[8192:], "extension")
	mustWrite(t, f, []byte("tail"), 16380)
	mustClose(t, f)

	b, err := fsys.ReadFile(name)
	if err != nil || len(b) != 16384 || string(b[16380:]) != "tail" {
		t.Errorf("ReadFile: %d bytes ending %q, %v", len(b), b[len(b)-4:], err)
	}
}

func testCreateZeroSize(t *testing.T, fsys FS, dir string) {
	name := join(dir, "empty")
	f := mustCreate(t, fsys, name, 0)
	checkSize(t, f, 0, 0)
	if _, err := f.WriteAt([]byte("x"), 0); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("WriteAt on an empty mapping: %v, want ErrOutOfRange", err)
	}
	if err := f.Sync(); err != nil {
		t.Error(err)
	}
	mustClose(t, f)
	f = mustOpen(t, fsys, name, 0)
	checkSize(t, f, 0, 0)
	mustClose(t, f)
	f = mustOpen(t, fsys, name, 4096)
	checkSize(t, f, 4096, 4096)
	checkZero(t, f.Data(), "extended empty file")
	mustClose(t, f)
}

func testWriteAtVisible(t *testing.T, fsys FS, dir string) {
	f := mustCreate(t, fsys, join(dir, "f"), 1<<20)
	defer mustClose(t, f)
	var off int64
	for i := range 300 {
		p := bytes.Repeat([]byte{byte(i + 1)}, 1+i*7)
		mustWrite(t, f, p, off)
		if got := f.Data()[off : off+int64(len(p))]; !bytes.Equal(got, p) {
			t.Fatalf("write %d at %d not visible in Data()", i, off)
		}
		off += int64(len(p))
	}
	checkZero(t, f.Data()[off:], "past the writes")
	if got := f.Size(); got != 1<<20 {
		t.Errorf("Size() = %d after writes inside the file, want %d", got, 1<<20)
	}
}

func testWriteAtOutOfRange(t *testing.T, fsys FS, dir string) {
	f := mustCreate(t, fsys, join(dir, "f"), 4096)
	defer mustClose(t, f)
	for _, tc := range []struct {
		off int64
		n   int
	}{{-1, 1}, {4096, 1}, {4095, 2}, {1 << 40, 1}, {0, 4097}} {
		if n, err := f.WriteAt(make([]byte, tc.n), tc.off); n != 0 || !errors.Is(err, ErrOutOfRange) {
			t.Errorf("WriteAt(%d bytes, %d) = %d, %v; want ErrOutOfRange", tc.n, tc.off, n, err)
		}
	}
	mustWrite(t, f, []byte("ok"), 4094)
	mustWrite(t, f, nil, 4096)
}

func testTruncate(t *testing.T, fsys FS, dir string) {
	name := join(dir, "f")
	f := mustCreate(t, fsys, name, 3*4096)
	defer mustClose(t, f)
	mustWrite(t, f, bytes.Repeat([]byte{0xaa}, 3*4096), 0)
	if err := f.Truncate(100); err != nil {
		t.Fatal(err)
	}
	checkSize(t, f, 100, 3*4096)
	if !bytes.Equal(f.Data()[:100], bytes.Repeat([]byte{0xaa}, 100)) {
		t.Error("bytes below the truncated size changed")
	}
	if b, err := fsys.ReadFile(name); err != nil || len(b) != 100 {
		t.Errorf("ReadFile after Truncate(100): %d bytes, %v", len(b), err)
	}
	if err := f.Truncate(2 * 4096); err != nil {
		t.Fatal(err)
	}
	checkSize(t, f, 2*4096, 3*4096)
	checkZero(t, f.Data()[100:2*4096], "truncated then extended")
	if err := f.Sync(); err != nil {
		t.Error(err)
	}
}

func testWritePastTruncatedSize(t *testing.T, fsys FS, dir string) {
	f := mustCreate(t, fsys, join(dir, "f"), 4*4096)
	defer mustClose(t, f)
	mustWrite(t, f, bytes.Repeat([]byte{1}, 4*4096), 0)
	if err := f.Truncate(50); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, f, []byte("abc"), 50) // appending at the end
	checkSize(t, f, 53, 4*4096)
	mustWrite(t, f, []byte("far"), 3*4096) // leaving a gap
	checkSize(t, f, 3*4096+3, 4*4096)
	checkZero(t, f.Data()[53:3*4096], "gap")
	if got := string(f.Data()[50:53]) + string(f.Data()[3*4096:3*4096+3]); got != "abcfar" {
		t.Errorf("got %q", got)
	}
}

func testReopen(t *testing.T, fsys FS, dir string) {
	name := join(dir, "f")
	f := mustCreate(t, fsys, name, 64<<10)
	want := bytes.Repeat([]byte("0123456789"), 5000)
	mustWrite(t, f, want, 7)
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	mustClose(t, f)
	f = mustOpen(t, fsys, name, 64<<10)
	defer mustClose(t, f)
	if !bytes.Equal(f.Data()[7:7+len(want)], want) {
		t.Error("reopened file lost bytes")
	}
}

// testTwoFiles opens one name twice, the second time larger, and checks that
// both mappings see the writes made through either.
func testTwoFiles(t *testing.T, fsys FS, dir string) {
	name := join(dir, "f")
	a := mustCreate(t, fsys, name, 4096)
	defer mustClose(t, a)
	b := mustOpen(t, fsys, name, 8192)
	defer mustClose(t, b)
	mustWrite(t, b, []byte("via b"), 10)
	mustWrite(t, a, []byte("via a"), 20)
	mustWrite(t, b, []byte("beyond a"), 5000)
	if got := string(a.Data()[10:15]) + string(a.Data()[20:25]); got != "via bvia a" {
		t.Errorf("a sees %q", got)
	}
	if got := string(b.Data()[10:15]) + string(b.Data()[20:25]); got != "via bvia a" {
		t.Errorf("b sees %q", got)
	}
	if got := len(a.Data()); got != 4096 {
		t.Errorf("a's mapping changed length to %d", got)
	}
}

func testRemoveWhileMapped(t *testing.T, fsys FS, dir string) {
	name := join(dir, "f")
	f := mustCreate(t, fsys, name, 8192)
	mustWrite(t, f, []byte("still here"), 4000)
	if err := fsys.Remove(name); err != nil {
		t.Fatal(err)
	}
	if got := string(f.Data()[4000:4010]); got != "still here" {
		t.Errorf("after Remove, Data() = %q", got)
	}
	mustWrite(t, f, []byte("more"), 5000)
	if err := f.Sync(); err != nil {
		t.Error(err)
	}
	if names, _ := fsys.List(dir); len(names) != 0 {
		t.Errorf("List after Remove = %q", names)
	}
	if _, err := fsys.Open(name, 0); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open after Remove: %v", err)
	}
	if err := fsys.Remove(name); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("second Remove: %v", err)
	}
	g := mustCreate(t, fsys, name, 4096) // the name is free again
	checkZero(t, g.Data(), "new file under a removed name")
	mustClose(t, g)
	mustClose(t, f)
}

func testListSorted(t *testing.T, fsys FS, dir string) {
	for _, n := range []string{"00000000000000000010.log", "b", "00000000000000000000.log", "a.index", "00000000000000000000.index"} {
		mustClose(t, mustCreate(t, fsys, join(dir, n), 0))
	}
	if err := fsys.MkdirAll(join(dir, "sub/deeper")); err != nil {
		t.Fatal(err)
	}
	mustClose(t, mustCreate(t, fsys, join(dir, "sub/nested"), 10))
	got, err := fsys.List(dir)
	want := []string{"00000000000000000000.index", "00000000000000000000.log", "00000000000000000010.log", "a.index", "b"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("List = %q, %v; want %q", got, err, want)
	}
	if got, err := fsys.List(join(dir, "sub")); err != nil || !slices.Equal(got, []string{"nested"}) {
		t.Errorf("List(sub) = %q, %v", got, err)
	}
	if got, err := fsys.List(join(dir, "sub/deeper")); err != nil || len(got) != 0 {
		t.Errorf("List(empty dir) = %q, %v", got, err)
	}
}

func testListDirs(t *testing.T, fsys FS, dir string) {
	for _, d := range []string{"t-1", "t-0", "__gale_offsets", "t-0/deeper"} {
		if err := fsys.MkdirAll(join(dir, d)); err != nil {
			t.Fatal(err)
		}
	}
	mustClose(t, mustCreate(t, fsys, join(dir, "meta.json"), 3))
	mustClose(t, mustCreate(t, fsys, join(dir, "t-0/file"), 3))
	if got, err := fsys.ListDirs(dir); err != nil || !slices.Equal(got, []string{"__gale_offsets", "t-0", "t-1"}) {
		t.Errorf("ListDirs = %q, %v", got, err)
	}
	if got, err := fsys.ListDirs(join(dir, "t-1")); err != nil || len(got) != 0 {
		t.Errorf("ListDirs(empty dir) = %q, %v", got, err)
	}
	if got, err := fsys.List(dir); err != nil || !slices.Equal(got, []string{"meta.json"}) {
		t.Errorf("List = %q, %v (directories must not be listed)", got, err)
	}
	if _, err := fsys.ListDirs(join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ListDirs(missing) = %v, want fs.ErrNotExist", err)
	}
}

func testRemoveAll(t *testing.T, fsys FS, dir string) {
	for _, d := range []string{"t-0/a/b", "t-00", "t-1"} {
		if err := fsys.MkdirAll(join(dir, d)); err != nil {
			t.Fatal(err)
		}
	}
	open := mustCreate(t, fsys, join(dir, "t-0/seg"), 8)
	mustWrite(t, open, []byte("kept"), 0)
	mustClose(t, mustCreate(t, fsys, join(dir, "t-0/a/b/deep"), 3))
	mustClose(t, mustCreate(t, fsys, join(dir, "t-00/other"), 3))
	if err := fsys.RemoveAll(join(dir, "t-0")); err != nil {
		t.Fatal(err)
	}
	if got, err := fsys.ListDirs(dir); err != nil || !slices.Equal(got, []string{"t-00", "t-1"}) {
		t.Errorf("ListDirs after RemoveAll = %q, %v", got, err)
	}
	if got, err := fsys.List(join(dir, "t-00")); err != nil || !slices.Equal(got, []string{"other"}) {
		t.Errorf("a sibling sharing the prefix: List = %q, %v", got, err)
	}
	if _, err := fsys.Open(join(dir, "t-0/a/b/deep"), 0); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open of a removed file: %v, want fs.ErrNotExist", err)
	}
	if got := string(open.Data()[:4]); got != "kept" {
		t.Errorf("a File open on a removed file reads %q", got)
	}
	mustWrite(t, open, []byte("more"), 4)
	mustClose(t, open)
	if err := fsys.RemoveAll(join(dir, "t-0")); err != nil {
		t.Errorf("RemoveAll of a missing directory: %v", err)
	}
	mustClose(t, mustCreate(t, fsys, join(dir, "file"), 3))
	if err := fsys.RemoveAll(join(dir, "file")); err != nil {
		t.Fatal(err)
	}
	if got, err := fsys.List(dir); err != nil || len(got) != 0 {
		t.Errorf("RemoveAll of a file: List = %q, %v", got, err)
	}
	if err := fsys.MkdirAll(join(dir, "t-0")); err != nil {
		t.Fatalf("MkdirAll after RemoveAll: %v", err)
	}
}

func testWriteFileAtomic(t *testing.T, fsys FS, dir string) {
	name := join(dir, "checkpoint")
	for _, data := range [][]byte{[]byte("first version"), []byte("2"), {}} {
		if err := fsys.WriteFileAtomic(name, data); err != nil {
			t.Fatal(err)
		}
		got, err := fsys.ReadFile(name)
		if err != nil || !bytes.Equal(got, data) {
			t.Errorf("ReadFile = %q, %v; want %q", got, err, data)
		}
	}
	if names, err := fsys.List(dir); err != nil || !slices.Equal(names, []string{"checkpoint"}) {
		t.Errorf("List = %q, %v; want only the file (no temporaries)", names, err)
	}
}

func testErrors(t *testing.T, fsys FS, dir string) {
	name := join(dir, "exists")
	mustClose(t, mustCreate(t, fsys, name, 10))
	missing := join(dir, "missing")
	for _, tc := range []struct {
		op   string
		err  error
		want error
		path string
	}{
		{"Create existing", second(fsys.Create(name, 10)), fs.ErrExist, name},
		{"Open missing", second(fsys.Open(missing, 10)), fs.ErrNotExist, missing},
		{"ReadFile missing", second(fsys.ReadFile(missing)), fs.ErrNotExist, missing},
		{"Remove missing", fsys.Remove(missing), fs.ErrNotExist, missing},
		{"List missing", second(fsys.List(missing)), fs.ErrNotExist, missing},
		{"Create in missing dir", second(fsys.Create(join(missing, "f"), 10)), fs.ErrNotExist, missing},
		{"WriteFileAtomic in missing dir", fsys.WriteFileAtomic(join(missing, "f"), nil), fs.ErrNotExist, missing},
	} {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.op, tc.err, tc.want)
		} else if !strings.Contains(tc.err.Error(), filepath.Base(tc.path)) {
			t.Errorf("%s: %q does not name %s", tc.op, tc.err, tc.path)
		}
	}
	if got, err := fsys.ReadFile(name); err != nil || len(got) != 10 {
		t.Errorf("a failed Create changed the file: %d bytes, %v", len(got), err)
	}
}

func second[T any](_ T, err error) error { return err }

func testCloseTwice(t *testing.T, fsys FS, dir string) {
	f := mustCreate(t, fsys, join(dir, "f"), 4096)
	mustClose(t, f)
	if err := f.Close(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("second Close: %v, want ErrClosed", err)
	}
	if _, err := f.WriteAt([]byte("x"), 0); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("WriteAt after Close: %v, want ErrClosed", err)
	}
	if err := f.Sync(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Sync after Close: %v, want ErrClosed", err)
	}
	if err := f.Truncate(0); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Truncate after Close: %v, want ErrClosed", err)
	}
}

// testConcurrent runs the log's pattern: one writer appends and publishes
// its end with an atomic, a syncer syncs in a loop, and readers check every
// byte below the published end (run with -race).
func testConcurrent(t *testing.T, fsys FS, dir string) {
	const size, batch = 1 << 20, 1000
	f := mustCreate(t, fsys, join(dir, "f"), size)
	defer mustClose(t, f)
	var end atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { close(done); wg.Wait() }() // before Close unmaps
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
			}
			if err := f.Sync(); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for range 2 {
		wg.Go(func() {
			for {
				e := end.Load()
				d := f.Data()[:e]
				for i := int64(0); i < e; i += 997 {
					if d[i] != byte(i/batch+1) {
						t.Errorf("byte %d = %d, want %d", i, d[i], byte(i/batch+1))
						return
					}
				}
				select {
				case <-done:
					return
				default:
				}
			}
		})
	}
	p := make([]byte, batch)
	for off := int64(0); off+batch <= size; off += batch {
		for i := range p {
			p[i] = byte(off/batch + 1)
		}
		mustWrite(t, f, p, off)
		end.Store(off + batch)
	}
}
