package linearizability

import (
	"bufio"
	"io"
	"sync"
)

// Recorder writes a history, one JSON line per Record. It is safe for
// concurrent use: many clients may Record at once, and each line is written
// whole. Lines appear in the order Record is called, which need not be the
// order of the operations' timestamps; readers and checkers do not care.
//
// Writes are buffered; Flush pushes them out (the Recorder never closes w).
// The first write error sticks: later Records are dropped and Flush returns
// it.
type Recorder struct {
	mu  sync.Mutex
	w   *bufio.Writer // mu guards w, buf, err, n
	buf []byte
	err error
	n   int64
}

// NewRecorder returns a Recorder writing to w.
func NewRecorder(w io.Writer) *Recorder {
	return &Recorder{w: bufio.NewWriterSize(w, 256<<10)}
}

// Record appends op as one line. op.Line is ignored. Timestamps should come
// from one monotonic clock shared by every client (time.Since of one start
// instant, in nanoseconds), taken just before the request is sent and just
// after its answer arrives.
func (r *Recorder) Record(op Op) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return
	}
	r.buf = op.AppendJSON(r.buf[:0])
	if _, err := r.w.Write(r.buf); err != nil {
		r.err = err
		return
	}
	r.n++
}

// Len returns the number of operations recorded so far.
func (r *Recorder) Len() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// Flush writes out buffered lines and returns the first write error.
func (r *Recorder) Flush() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err == nil {
		r.err = r.w.Flush()
	}
	return r.err
}
