package vfs

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var (
	benchFileSize = flag.Int64("vfs.filesize", 1<<30, "size of the files BenchmarkWrite appends to")
	benchDir      = flag.String("vfs.dir", "", "directory for benchmark files (default: a temporary directory)")
)

var benchBatches = []int{1 << 10, 16 << 10, 64 << 10, 1 << 20}

func batchName(n int) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%dMiB", n>>20)
	}
	return fmt.Sprintf("%dKiB", n>>10)
}

var benchModes = []struct {
	name string
	mode WriteMode
}{
	{"pwrite", WritePwrite},
	{"mmap", WriteMmap},
	{"mmap-populate", WriteMmapPopulate},
	{"auto", WriteAuto},
}

func benchFileDir(b *testing.B) string {
	if *benchDir == "" {
		return b.TempDir()
	}
	dir, err := os.MkdirTemp(*benchDir, "vfsbench")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func benchBatch(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*7 + 1)
	}
	return p
}

// BenchmarkWrite measures steady-state appends: each iteration writes one
// batch after the previous one into a file preallocated to -vfs.filesize
// (1 GiB). When the file is full it is closed and removed and a fresh one is
// created, with the timer stopped, so every byte timed is a first write to
// a fresh, preallocated page (as when a segment fills), never an overwrite
// of a page already in the cache and the mapping, which wrapping around
// would measure. Removing a full file also drops its dirty pages, so the
// figures are page-cache speed with little writeback.
//
// "reference" is os.File.Write of the same batches to a fresh file without
// preallocation, rolled at the same size.
func BenchmarkWrite(b *testing.B) {
	for _, n := range benchBatches {
		for _, m := range benchModes {
			b.Run(fmt.Sprintf("batch=%s/mode=%s", batchName(n), m.name), func(b *testing.B) {
				benchAppend(b, NewOS(OSOptions{WriteMode: m.mode}), n, false)
			})
		}
		b.Run(fmt.Sprintf("batch=%s/mode=reference", batchName(n)), func(b *testing.B) {
			benchReference(b, n)
		})
	}
}

// BenchmarkWriteRead is BenchmarkWrite with each batch then read back
// through Data() once (copied out, as a consumer would): the cost of
// pwrite-then-read-via-mmap against write-via-mmap, since after a pwrite the
// reader's first touch of each page faults the page into the mapping.
func BenchmarkWriteRead(b *testing.B) {
	for _, n := range benchBatches {
		for _, m := range benchModes {
			b.Run(fmt.Sprintf("batch=%s/mode=%s", batchName(n), m.name), func(b *testing.B) {
				benchAppend(b, NewOS(OSOptions{WriteMode: m.mode}), n, true)
			})
		}
	}
}

func benchAppend(b *testing.B, fsys FS, n int, read bool) {
	dir := benchFileDir(b)
	size := *benchFileSize
	p := benchBatch(n)
	dst := make([]byte, n)
	files := 0
	fresh := func() File {
		files++
		f, err := fsys.Create(filepath.Join(dir, fmt.Sprint(files)), size)
		if err != nil {
			b.Fatal(err)
		}
		return f
	}
	drop := func(f File) {
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		if err := fsys.Remove(filepath.Join(dir, fmt.Sprint(files))); err != nil {
			b.Fatal(err)
		}
	}
	f := fresh()
	var off int64
	b.SetBytes(int64(n))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if off+int64(n) > size {
			b.StopTimer()
			drop(f)
			f, off = fresh(), 0
			b.StartTimer()
		}
		if _, err := f.WriteAt(p, off); err != nil {
			b.Fatal(err)
		}
		if read {
			copy(dst, f.Data()[off:off+int64(n)])
		}
		off += int64(n)
	}
	b.StopTimer()
	drop(f)
}

func benchReference(b *testing.B, n int) {
	dir := benchFileDir(b)
	size := *benchFileSize
	p := benchBatch(n)
	files := 0
	fresh := func() *os.File {
		files++
		f, err := os.Create(filepath.Join(dir, fmt.Sprint(files)))
		if err != nil {
			b.Fatal(err)
		}
		return f
	}
	drop := func(f *os.File) {
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		if err := os.Remove(f.Name()); err != nil {
			b.Fatal(err)
		}
	}
	f := fresh()
	var off int64
	b.SetBytes(int64(n))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if off+int64(n) > size {
			b.StopTimer()
			drop(f)
			f, off = fresh(), 0
			b.StartTimer()
		}
		if _, err := f.Write(p); err != nil {
			b.Fatal(err)
		}
		off += int64(n)
	}
	b.StopTimer()
	drop(f)
}
