package linearizability

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Errors a Reader reports, always wrapped in a *LineError naming the line.
var (
	ErrMalformed        = errors.New("linearizability: malformed JSON")
	ErrUnknownOp        = errors.New("linearizability: unknown op")
	ErrUnknownStatus    = errors.New("linearizability: unknown status")
	ErrMissingField     = errors.New("linearizability: missing field")
	ErrBadField         = errors.New("linearizability: field out of range")
	ErrReturnBeforeCall = errors.New("linearizability: return before call")
	ErrLineTooLong      = errors.New("linearizability: line too long")
)

// Bounds on a history line and on offsets (which keeps offset arithmetic
// clear of overflow).
const (
	MaxLineBytes = 64 << 20
	MaxOffset    = 1<<62 - 1
)

// LineError is an unreadable history line.
type LineError struct {
	Line int   // 1-based
	Err  error // one of the Err* sentinels, possibly wrapped with detail
}

func (e *LineError) Error() string {
	return fmt.Sprintf("linearizability: line %d: %s", e.Line, strings.TrimPrefix(e.Err.Error(), "linearizability: "))
}

func (e *LineError) Unwrap() error { return e.Err }

// Reader reads a history one operation at a time. It is not safe for
// concurrent use.
type Reader struct {
	r    *bufio.Reader
	line int
	buf  []byte
	err  error // sticky
}

// NewReader returns a Reader of the JSON Lines history in r. Blank lines are
// skipped; fields the format does not define are ignored.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 64<<10)}
}

// Read returns the next operation, io.EOF after the last one, or a
// *LineError for a malformed line (after which it keeps returning it).
func (r *Reader) Read() (Op, error) {
	for r.err == nil {
		b, err := r.readLine()
		if err != nil {
			r.err = err
			break
		}
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		op, err := parseLine(b)
		if err != nil {
			r.err = &LineError{Line: r.line, Err: err}
			break
		}
		op.Line = r.line
		return op, nil
	}
	return Op{}, r.err
}

// readLine returns the next line without its newline; io.EOF once no bytes
// are left.
func (r *Reader) readLine() ([]byte, error) {
	r.buf = r.buf[:0]
	for {
		chunk, err := r.r.ReadSlice('\n')
		r.buf = append(r.buf, chunk...)
		if len(r.buf) > MaxLineBytes {
			r.line++
			return nil, &LineError{Line: r.line, Err: fmt.Errorf("%w: more than %d bytes", ErrLineTooLong, MaxLineBytes)}
		}
		switch {
		case err == nil:
			r.line++
			return r.buf[:len(r.buf)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF) && len(r.buf) > 0:
			r.line++
			return r.buf, nil
		default:
			return nil, err
		}
	}
}

// ReadHistory reads a whole history.
func ReadHistory(r io.Reader) ([]Op, error) {
	var ops []Op
	hr := NewReader(r)
	for {
		op, err := hr.Read()
		if errors.Is(err, io.EOF) {
			return ops, nil
		}
		if err != nil {
			return ops, err
		}
		ops = append(ops, op)
	}
}

// ReadFile reads the history in the named file.
func ReadFile(name string) ([]Op, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadHistory(f)
}

// wireOp is a history line as decoded; nil pointers are absent fields.
type wireOp struct {
	Client    *int64    `json:"client"`
	Op        *string   `json:"op"`
	Group     *string   `json:"group"`
	Topic     *string   `json:"topic"`
	Partition *int32    `json:"partition"`
	Offset    *int64    `json:"offset"`
	Values    *[]string `json:"values"`
	Status    *string   `json:"status"`
	Call      *int64    `json:"call_ns"`
	Return    *int64    `json:"return_ns"`
}

func missing(field string) error { return fmt.Errorf("%w %q", ErrMissingField, field) }

// parseLine decodes and validates one line.
func parseLine(b []byte) (Op, error) {
	var w wireOp
	if err := json.Unmarshal(b, &w); err != nil {
		return Op{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	var op Op
	switch {
	case w.Op == nil:
		return op, missing("op")
	case w.Status == nil:
		return op, missing("status")
	case w.Client == nil:
		return op, missing("client")
	case w.Topic == nil:
		return op, missing("topic")
	case w.Partition == nil:
		return op, missing("partition")
	case w.Call == nil:
		return op, missing("call_ns")
	case w.Return == nil:
		return op, missing("return_ns")
	}
	var ok bool
	if op.Kind, ok = parseOpKind(*w.Op); !ok {
		return op, fmt.Errorf("%w %q", ErrUnknownOp, *w.Op)
	}
	if op.Status, ok = parseStatus(*w.Status); !ok {
		return op, fmt.Errorf("%w %q", ErrUnknownStatus, *w.Status)
	}
	op.Client, op.Topic, op.Partition = int(*w.Client), *w.Topic, *w.Partition
	op.Call, op.Return = *w.Call, *w.Return
	if op.Return < op.Call {
		return op, fmt.Errorf("%w: return_ns %d < call_ns %d", ErrReturnBeforeCall, op.Return, op.Call)
	}
	if op.Partition < 0 {
		return op, fmt.Errorf("%w: partition %d", ErrBadField, op.Partition)
	}
	if op.hasGroup() {
		if w.Group == nil {
			return op, missing("group")
		}
		op.Group = *w.Group
	}
	if op.hasOffset() {
		if w.Offset == nil {
			return op, missing("offset")
		}
		op.Offset = *w.Offset
		min := int64(0)
		if op.Kind == FetchCommitted {
			min = -1
		}
		if op.Offset < min || op.Offset > MaxOffset {
			return op, fmt.Errorf("%w: offset %d", ErrBadField, op.Offset)
		}
	}
	if op.hasValues() {
		if w.Values == nil {
			return op, missing("values")
		}
		op.Values = *w.Values
		if op.Kind == Produce && len(op.Values) == 0 {
			return op, fmt.Errorf("%w: a produce sends at least one value", ErrBadField)
		}
	}
	return op, nil
}
