package linearizability

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// OpKind is what an operation did: the "op" field of a history line.
type OpKind uint8

// The operations a history records.
const (
	// Produce sent Values as one batch to a topic-partition; on StatusOK,
	// Offset is the base offset the broker assigned.
	Produce OpKind = iota + 1
	// Fetch read consecutive records starting at Offset; Values is what came
	// back, possibly nothing.
	Fetch
	// Commit stored Offset as Group's committed offset for the partition.
	Commit
	// FetchCommitted read Group's committed offset for the partition into
	// Offset (-1: none committed).
	FetchCommitted
)

var opKindNames = [...]string{Produce: "produce", Fetch: "fetch", Commit: "commit", FetchCommitted: "fetch_committed"}

func (k OpKind) String() string {
	if int(k) < len(opKindNames) && opKindNames[k] != "" {
		return opKindNames[k]
	}
	return "OpKind(" + strconv.Itoa(int(k)) + ")"
}

func parseOpKind(s string) (OpKind, bool) {
	for k, name := range opKindNames {
		if name != "" && name == s {
			return OpKind(k), true
		}
	}
	return 0, false
}

// Status is how an operation ended: the "status" field of a history line.
type Status uint8

// Operation outcomes.
const (
	// StatusOK: the operation took effect and its results are recorded.
	StatusOK Status = iota + 1
	// StatusFail: the operation definitely did not take effect.
	StatusFail
	// StatusUnknown: the operation may or may not have taken effect (a
	// timeout, a lost connection).
	StatusUnknown
)

var statusNames = [...]string{StatusOK: "ok", StatusFail: "fail", StatusUnknown: "unknown"}

func (s Status) String() string {
	if int(s) < len(statusNames) && statusNames[s] != "" {
		return statusNames[s]
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}

func parseStatus(s string) (Status, bool) {
	for st, name := range statusNames {
		if name != "" && name == s {
			return Status(st), true
		}
	}
	return 0, false
}

// Op is one completed operation of a history: one JSON line. Which fields
// matter depends on Kind and Status; see the package doc for the table.
type Op struct {
	// Line is the 1-based line of the history the operation was read from;
	// zero for operations built in memory. The writer ignores it.
	Line int

	Client    int    // the client that ran the operation; a client's operations are sequential
	Kind      OpKind // produce, fetch, commit, fetch_committed
	Group     string // consumer group (commit, fetch_committed)
	Topic     string
	Partition int32
	// Offset: the base offset assigned (produce, ok only), the first offset
	// read (fetch), the offset committed (commit) or read back
	// (fetch_committed, ok only; -1 when none is committed).
	Offset int64
	// Values: what was sent (produce) or read (fetch, ok only; may be empty).
	Values []string
	Status Status
	// Call and Return are monotonic timestamps in nanoseconds, Call <= Return,
	// on one clock shared by every client of the history.
	Call, Return int64
}

// hasOffset reports whether Offset is meaningful for op.
func (op *Op) hasOffset() bool {
	switch op.Kind {
	case Produce, FetchCommitted:
		return op.Status == StatusOK
	}
	return true
}

// hasValues reports whether Values is meaningful for op.
func (op *Op) hasValues() bool {
	return op.Kind == Produce || op.Kind == Fetch && op.Status == StatusOK
}

// hasGroup reports whether Group is meaningful for op.
func (op *Op) hasGroup() bool { return op.Kind == Commit || op.Kind == FetchCommitted }

// AppendJSON appends op as one line of JSON, newline included, to dst. It
// writes only the fields that matter for op's kind and status, in a fixed
// order. Strings that are not valid UTF-8 have each bad byte replaced by
// U+FFFD, as encoding/json does.
func (op *Op) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"client":`...)
	dst = strconv.AppendInt(dst, int64(op.Client), 10)
	dst = append(dst, `,"op":`...)
	dst = appendString(dst, op.Kind.String())
	if op.hasGroup() {
		dst = append(dst, `,"group":`...)
		dst = appendString(dst, op.Group)
	}
	dst = append(dst, `,"topic":`...)
	dst = appendString(dst, op.Topic)
	dst = append(dst, `,"partition":`...)
	dst = strconv.AppendInt(dst, int64(op.Partition), 10)
	if op.hasOffset() {
		dst = append(dst, `,"offset":`...)
		dst = strconv.AppendInt(dst, op.Offset, 10)
	}
	if op.hasValues() {
		dst = append(dst, `,"values":[`...)
		for i, v := range op.Values {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, v)
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"status":`...)
	dst = appendString(dst, op.Status.String())
	dst = append(dst, `,"call_ns":`...)
	dst = strconv.AppendInt(dst, op.Call, 10)
	dst = append(dst, `,"return_ns":`...)
	dst = strconv.AppendInt(dst, op.Return, 10)
	return append(dst, "}\n"...)
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, `\ufffd`...)
			} else {
				dst = append(dst, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			dst = append(dst, c)
		}
		i++
	}
	return append(dst, '"')
}

// String describes op briefly, for explanations and visualisations.
func (op *Op) String() string {
	switch op.Kind {
	case Produce:
		if op.Status == StatusOK {
			return fmt.Sprintf("produce %s -> @%d", quoteValues(op.Values, 4), op.Offset)
		}
		return fmt.Sprintf("produce %s -> %s", quoteValues(op.Values, 4), op.Status)
	case Fetch:
		if op.Status == StatusOK {
			return fmt.Sprintf("fetch @%d -> %s", op.Offset, quoteValues(op.Values, 4))
		}
		return fmt.Sprintf("fetch @%d -> %s", op.Offset, op.Status)
	case Commit:
		return fmt.Sprintf("commit %s @%d -> %s", op.Group, op.Offset, op.Status)
	case FetchCommitted:
		if op.Status == StatusOK {
			return fmt.Sprintf("fetch_committed %s -> @%d", op.Group, op.Offset)
		}
		return fmt.Sprintf("fetch_committed %s -> %s", op.Group, op.Status)
	}
	return op.Kind.String()
}

// quoteValues renders at most max values, then a count of the rest.
func quoteValues(vs []string, max int) string {
	b := []byte{'['}
	for i, v := range vs {
		if i == max {
			b = fmt.Appendf(b, " ...%d more", len(vs)-max)
			break
		}
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendQuote(b, v)
	}
	return string(append(b, ']'))
}
