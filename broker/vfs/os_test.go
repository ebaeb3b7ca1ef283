package vfs

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"

	"golang.org/x/sys/unix"
)

func TestOSCreatePreallocates(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	f := mustCreate(t, NewOS(OSOptions{}), name, 1<<20)
	defer mustClose(t, f)
	var st unix.Stat_t
	if err := unix.Stat(name, &st); err != nil {
		t.Fatal(err)
	}
	if st.Size != 1<<20 {
		t.Errorf("size %d", st.Size)
	}
	if st.Blocks*512 < 1<<20 {
		t.Logf("%d bytes allocated for 1 MiB: this filesystem does not preallocate", st.Blocks*512)
	}
}

func TestOSModes(t *testing.T) {
	for _, tc := range []struct {
		o    OSOptions
		want WriteMode
	}{
		{OSOptions{}, defaultWriteMode},
		{OSOptions{WriteMode: WritePwrite}, WritePwrite},
		{OSOptions{WriteMode: WriteMmapPopulate}, WriteMmapPopulate},
	} {
		if got := NewOS(tc.o).Mode(); got != tc.want {
			t.Errorf("NewOS(%+v).Mode() = %v, want %v", tc.o, got, tc.want)
		}
	}
	var zero OS
	if got := zero.Mode(); got != defaultWriteMode {
		t.Errorf("zero OS mode %v", got)
	}
	if got := DefaultOS.(*OS).Mode(); got != defaultWriteMode {
		t.Errorf("DefaultOS mode %v", got)
	}
}

// TestOSReadPastTruncateFaults pins the caveat in the package doc: reading
// a mapped page wholly past the end of the file raises SIGBUS (here turned
// into a panic by debug.SetPanicOnFault; without it the process dies).
func TestOSReadPastTruncateFaults(t *testing.T) {
	f := mustCreate(t, NewOS(OSOptions{}), filepath.Join(t.TempDir(), "f"), 4*4096)
	defer mustClose(t, f)
	mustWrite(t, f, []byte("x"), 3*4096)
	truncateOK(t, f, 100)
	sink = f.Data()[4095] // the page holding the end of the file is readable
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	faulted := func() (faulted bool) {
		defer func() { faulted = recover() != nil }()
		sink = f.Data()[3*4096]
		return false
	}()
	if !faulted {
		t.Error("reading past the end of the file did not fault")
	}
}

var sink byte // keeps the loads above

// TestOSPopulateNearEOF checks that prefaulting ahead stops at the end of
// the file (a write after Truncate, with the mapping longer than the file).
func TestOSPopulateNearEOF(t *testing.T) {
	fsys := NewOS(OSOptions{WriteMode: WriteMmapPopulate, PopulateAhead: 1 << 20})
	f := mustCreate(t, fsys, filepath.Join(t.TempDir(), "f"), 4<<20)
	defer mustClose(t, f)
	mustWrite(t, f, []byte("a"), 0)
	truncateOK(t, f, 10)
	mustWrite(t, f, []byte("b"), 10)
	mustWrite(t, f, []byte("c"), 3<<20)
	if got := string(f.Data()[:11]) + string(f.Data()[3<<20]); got != "a\x00\x00\x00\x00\x00\x00\x00\x00\x00bc" {
		t.Errorf("got %q", got)
	}
	if got, err := os.ReadFile(f.(*osFile).name); err != nil || len(got) != 3<<20+1 {
		t.Errorf("file is %d bytes, %v", len(got), err)
	}
}
