package vfs

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"testing"
)

// keepN keeps n unsynced bytes of every file.
func keepN(n int) CrashOptions {
	return CrashOptions{Keep: func(string, int) int { return n }}
}

// memWithFile returns a Mem holding one open file "/d/f" of size bytes.
func memWithFile(t *testing.T, size int64) (*Mem, File) {
	t.Helper()
	m := NewMem()
	if err := m.MkdirAll("/d"); err != nil {
		t.Fatal(err)
	}
	return m, mustCreate(t, m, "/d/f", size)
}

func readAll(t *testing.T, m *Mem, name string) []byte {
	t.Helper()
	b, err := m.ReadFile(name)
	if err != nil {
		t.Fatalf("ReadFile(%q): %v", name, err)
	}
	return b
}

func TestMemCrash(t *testing.T) {
	tests := []struct {
		name string
		// run writes to f, then the test crashes m with keep.
		run  func(t *testing.T, f File)
		keep CrashOptions
		want string // contents after the crash, "." for a zero byte
	}{
		{"unsynced bytes vanish", func(t *testing.T, f File) {
			mustWrite(t, f, []byte("abc"), 1)
		}, CrashOptions{}, "........"},
		{"synced bytes survive", func(t *testing.T, f File) {
			mustWrite(t, f, []byte("abc"), 1)
			syncOK(t, f)
			mustWrite(t, f, []byte("de"), 4)
		}, CrashOptions{}, ".abc...."},
		{"keep all", func(t *testing.T, f File) {
			mustWrite(t, f, []byte("abc"), 1)
			syncOK(t, f)
			mustWrite(t, f, []byte("de"), 4)
		}, keepN(1 << 30), ".abcde.."},
		{"keep is clamped below", func(t *testing.T, f File) {
			mustWrite(t, f, []byte("abc"), 0)
		}, keepN(-5), "........"},
		{"torn write", func(t *testing.T, f File) {
			mustWrite(t, f, []byte("abcdef"), 0)
		}, keepN(4), "abcd...."},
		{"overwrite of synced bytes is lost", func(t *testing.T, f File) {
			mustWrite(t, f, []byte("abcdefgh"), 0)
			syncOK(t, f)
			mustWrite(t, f, []byte("XY"), 3)
		}, CrashOptions{}, "abcdefgh"},
		{"truncate is durable at once", func(t *testing.T, f File) {
			mustWrite(t, f, []byte("abcdefgh"), 0)
			syncOK(t, f)
			truncateOK(t, f, 3)
		}, CrashOptions{}, "abc"},
		{"truncate cuts unsynced writes", func(t *testing.T, f File) {
			mustWrite(t, f, []byte("abcdefgh"), 0)
			truncateOK(t, f, 5)
			truncateOK(t, f, 8)
		}, keepN(1 << 30), "abcde..."},
		{"write past truncated size extends on replay", func(t *testing.T, f File) {
			truncateOK(t, f, 2)
			mustWrite(t, f, []byte("xyz"), 4)
		}, keepN(2), "....xy"},
		{"extension by write is lost without sync", func(t *testing.T, f File) {
			truncateOK(t, f, 2)
			mustWrite(t, f, []byte("xyz"), 4)
		}, CrashOptions{}, ".."},
		{"sync makes the extension durable", func(t *testing.T, f File) {
			truncateOK(t, f, 2)
			mustWrite(t, f, []byte("xyz"), 4)
			syncOK(t, f)
		}, CrashOptions{}, "....xyz"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, f := memWithFile(t, 8)
			tc.run(t, f)
			c := m.CrashClone(tc.keep)
			if got := dots(readAll(t, c, "/d/f")); got != tc.want {
				t.Errorf("after crash: %q, want %q (%v)", got, tc.want, m)
			}
			if n := c.Unsynced("/d/f"); n != 0 {
				t.Errorf("crashed file has %d unsynced bytes", n)
			}
		})
	}
}

func syncOK(t *testing.T, f File) {
	t.Helper()
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
}

func truncateOK(t *testing.T, f File, size int64) {
	t.Helper()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
}

func dots(b []byte) string {
	return string(bytes.ReplaceAll(b, []byte{0}, []byte(".")))
}

// replay returns the contents a crash keeping k unsynced bytes must leave:
// base, then the writes' bytes in order, the last one cut.
func replay(base []byte, writes []memWrite, k int) []byte {
	out := slices.Clone(base)
	for _, w := range writes {
		p := w.p[:min(len(w.p), k)]
		k -= len(p)
		out = growZero(out, w.off+int64(len(p)))
		copy(out[w.off:], p)
	}
	return out
}

// TestMemCrashEveryBoundary crashes after every number of kept unsynced
// bytes, 0 to all, for sequential and for overlapping writes.
func TestMemCrashEveryBoundary(t *testing.T) {
	tests := []struct {
		name   string
		writes []memWrite
	}{
		{"two appends", []memWrite{{4, []byte("hello")}, {9, []byte("world!")}}},
		{"overlapping", []memWrite{{2, []byte("aaaaaa")}, {4, []byte("bbb")}, {0, []byte("cccc")}}},
		{"same offset", []memWrite{{3, []byte("111")}, {3, []byte("22")}, {3, []byte("3")}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			const size = 16
			m, f := memWithFile(t, size)
			base := bytes.Repeat([]byte{'s'}, size)
			mustWrite(t, f, base, 0)
			syncOK(t, f)
			total := 0
			for _, w := range tc.writes {
				mustWrite(t, f, w.p, w.off)
				total += len(w.p)
			}
			if got := m.Unsynced("/d/f"); got != total {
				t.Fatalf("Unsynced = %d, want %d", got, total)
			}
			for k := 0; k <= total; k++ {
				c := m.CrashClone(CrashOptions{Keep: func(name string, unsynced int) int {
					if name != "/d/f" || unsynced != total {
						t.Errorf("Keep(%q, %d), want (/d/f, %d)", name, unsynced, total)
					}
					return k
				}})
				want := replay(base, tc.writes, k)
				if got := readAll(t, c, "/d/f"); !bytes.Equal(got, want) {
					t.Errorf("keep %d: %q, want %q", k, got, want)
				}
			}
			if got, want := f.Data(), replay(base, tc.writes, total); !bytes.Equal(got, want) {
				t.Errorf("the original's Data() = %q, want %q", got, want)
			}
		})
	}
}

// TestMemCrashCloneIsIndependent checks that a clone and its original do
// not share state, and that the original keeps working.
func TestMemCrashCloneIsIndependent(t *testing.T) {
	m, f := memWithFile(t, 8)
	mustWrite(t, f, []byte("ab"), 0)
	syncOK(t, f)
	mustWrite(t, f, []byte("cd"), 2)
	c := m.CrashClone(CrashOptions{})

	mustWrite(t, f, []byte("ef"), 4) // the original goes on
	syncOK(t, f)
	if got := dots(readAll(t, m, "/d/f")); got != "abcdef.." {
		t.Errorf("original: %q", got)
	}
	if got := dots(readAll(t, c, "/d/f")); got != "ab......" {
		t.Errorf("clone: %q", got)
	}

	g := mustOpen(t, c, "/d/f", 16) // the clone works on its own
	mustWrite(t, g, []byte("zz"), 0)
	mustClose(t, g)
	if got := dots(readAll(t, m, "/d/f")); got != "abcdef.." {
		t.Errorf("original after writing the clone: %q", got)
	}
	mustClose(t, f)
}

// TestMemCrashNamespace checks that creating and removing files is durable at
// once, for files and directories alike.
func TestMemCrashNamespace(t *testing.T) {
	m := NewMem()
	for _, err := range []error{
		m.MkdirAll("/a/b"),
		m.WriteFileAtomic("/a/ckpt", []byte("atomic")),
		m.WriteFileAtomic("/a/gone", nil),
		m.Remove("/a/gone"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	mustClose(t, mustCreate(t, m, "/a/b/new", 3))
	c := m.CrashClone(keepN(100))
	if got, err := c.List("/a"); err != nil || !slices.Equal(got, []string{"ckpt"}) {
		t.Errorf("List(/a) = %q, %v", got, err)
	}
	if got, err := c.List("/a/b"); err != nil || !slices.Equal(got, []string{"new"}) {
		t.Errorf("List(/a/b) = %q, %v", got, err)
	}
	if got := string(readAll(t, c, "/a/ckpt")); got != "atomic" {
		t.Errorf("ckpt = %q", got)
	}
	if got := dots(readAll(t, c, "/a/b/new")); got != "..." {
		t.Errorf("new = %q", got)
	}
}

// TestMemCrashDirectories: making and removing directories is durable at
// once, so a clone sees them as they are.
func TestMemCrashDirectories(t *testing.T) {
	m := NewMem()
	for _, d := range []string{"/d/t-0", "/d/t-1/sub", "/d/t-2"} {
		if err := m.MkdirAll(d); err != nil {
			t.Fatal(err)
		}
	}
	f := mustCreate(t, m, "/d/t-1/seg", 4)
	mustWrite(t, f, []byte("gone"), 0)
	if err := m.RemoveAll("/d/t-1"); err != nil {
		t.Fatal(err)
	}
	c := m.CrashClone(keepN(100))
	if got, err := c.ListDirs("/d"); err != nil || !slices.Equal(got, []string{"t-0", "t-2"}) {
		t.Errorf("clone: ListDirs(/d) = %q, %v", got, err)
	}
	if _, err := c.List("/d/t-1"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("clone: List of a removed directory: %v", err)
	}
	for _, name := range []string{".", "/", "", "/d/.."} {
		if err := m.RemoveAll(name); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("RemoveAll(%q) = %v, want fs.ErrInvalid", name, err)
		}
	}
	mustClose(t, f)
}

func TestMemPaths(t *testing.T) {
	m := NewMem()
	if err := m.MkdirAll("data//p0/"); err != nil {
		t.Fatal(err)
	}
	mustClose(t, mustCreate(t, m, "./data/p0/../p0/f", 1))
	if got, err := m.List("data/p0"); err != nil || !slices.Equal(got, []string{"f"}) {
		t.Errorf("List = %q, %v", got, err)
	}
	if got, err := m.List("data"); err != nil || len(got) != 0 {
		t.Errorf("List(data) = %q, %v; directories are not listed", got, err)
	}
	if err := m.MkdirAll("data/p0/f/x"); err == nil {
		t.Error("MkdirAll through a file succeeded")
	}
	if err := m.Remove("data"); err == nil {
		t.Error("Remove of a non-empty directory succeeded")
	}
	if _, err := m.Create("data", 1); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Create over a directory: %v", err)
	}
}

// TestMemUnsynced checks the count Keep ranges over.
func TestMemUnsynced(t *testing.T) {
	m, f := memWithFile(t, 100)
	steps := []struct {
		do   func()
		want int
	}{
		{func() { mustWrite(t, f, make([]byte, 10), 0) }, 10},
		{func() { mustWrite(t, f, make([]byte, 5), 3) }, 15},
		{func() { truncateOK(t, f, 6) }, 9}, // 6 + 3
		{func() { syncOK(t, f) }, 0},
		{func() { mustWrite(t, f, make([]byte, 1), 99) }, 1},
	}
	for i, s := range steps {
		s.do()
		if got := m.Unsynced("/d/f"); got != s.want {
			t.Errorf("step %d: Unsynced = %d, want %d", i, got, s.want)
		}
	}
	if got := m.Unsynced("/d/missing"); got != 0 {
		t.Errorf("Unsynced(missing) = %d", got)
	}
}

func ExampleMem_CrashClone() {
	m := NewMem()
	m.MkdirAll("/log")
	f, _ := m.Create("/log/0.log", 8)
	f.WriteAt([]byte("abc"), 0)
	f.Sync()
	f.WriteAt([]byte("defg"), 3)
	// Power loss after two of the four unsynced bytes reached the disk.
	c := m.CrashClone(CrashOptions{Keep: func(string, int) int { return 2 }})
	b, _ := c.ReadFile("/log/0.log")
	fmt.Printf("%q, unsynced before the crash: %d\n", b, m.Unsynced("/log/0.log"))
	// Output: "abcde\x00\x00\x00", unsynced before the crash: 4
}
