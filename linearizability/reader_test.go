package linearizability

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"
)

const (
	goodProduce = `{"client":7,"op":"produce","topic":"t","partition":0,"values":["a","b"],"offset":12,"status":"ok","call_ns":1000,"return_ns":2000}`
	goodFetch   = `{"client":9,"op":"fetch","topic":"t","partition":0,"offset":12,"values":["a","b"],"status":"ok","call_ns":2500,"return_ns":2600}`
	goodCommit  = `{"client":9,"op":"commit","group":"g","topic":"t","partition":0,"offset":14,"status":"ok","call_ns":2700,"return_ns":2800}`
	goodFetchC  = `{"client":9,"op":"fetch_committed","group":"g","topic":"t","partition":0,"offset":14,"status":"ok","call_ns":2900,"return_ns":3000}`
)

// TestReadIssueExample reads the four lines the format's specification
// shows.
func TestReadIssueExample(t *testing.T) {
	in := strings.Join([]string{goodProduce, goodFetch, goodCommit, goodFetchC}, "\n")
	ops, err := ReadHistory(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Op{
		{Line: 1, Client: 7, Kind: Produce, Topic: "t", Values: []string{"a", "b"}, Offset: 12, Status: StatusOK, Call: 1000, Return: 2000},
		{Line: 2, Client: 9, Kind: Fetch, Topic: "t", Offset: 12, Values: []string{"a", "b"}, Status: StatusOK, Call: 2500, Return: 2600},
		{Line: 3, Client: 9, Kind: Commit, Group: "g", Topic: "t", Offset: 14, Status: StatusOK, Call: 2700, Return: 2800},
		{Line: 4, Client: 9, Kind: FetchCommitted, Group: "g", Topic: "t", Offset: 14, Status: StatusOK, Call: 2900, Return: 3000},
	}
	if len(ops) != len(want) {
		t.Fatalf("read %d operations, want %d", len(ops), len(want))
	}
	for i := range want {
		if !sameOp(ops[i], want[i]) {
			t.Errorf("line %d: got %+v, want %+v", i+1, ops[i], want[i])
		}
	}
}

func sameOp(a, b Op) bool {
	return a.Line == b.Line && a.Client == b.Client && a.Kind == b.Kind && a.Group == b.Group &&
		a.Topic == b.Topic && a.Partition == b.Partition && a.Offset == b.Offset &&
		slices.Equal(a.Values, b.Values) && a.Status == b.Status && a.Call == b.Call && a.Return == b.Return
}

// TestReadErrors: every malformed line is reported with its number.
func TestReadErrors(t *testing.T) {
	replace := func(old, new string) string { return strings.Replace(goodProduce, old, new, 1) }
	tests := []struct {
		name string
		line string
		want error
	}{
		{"bad JSON", `{"client":7,`, ErrMalformed},
		{"not an object", `[1,2]`, ErrMalformed},
		{"wrong type", replace(`"client":7`, `"client":"seven"`), ErrMalformed},
		{"unknown op", replace(`"op":"produce"`, `"op":"consume"`), ErrUnknownOp},
		{"unknown status", replace(`"status":"ok"`, `"status":"maybe"`), ErrUnknownStatus},
		{"missing op", replace(`"op":"produce",`, ``), ErrMissingField},
		{"missing client", replace(`"client":7,`, ``), ErrMissingField},
		{"missing topic", replace(`"topic":"t",`, ``), ErrMissingField},
		{"missing partition", replace(`"partition":0,`, ``), ErrMissingField},
		{"missing offset of an acked produce", replace(`"offset":12,`, ``), ErrMissingField},
		{"missing values", replace(`"values":["a","b"],`, ``), ErrMissingField},
		{"null values", replace(`["a","b"]`, `null`), ErrMissingField},
		{"missing call", replace(`"call_ns":1000,`, ``), ErrMissingField},
		{"missing return", replace(`,"return_ns":2000`, ``), ErrMissingField},
		{"missing group", strings.Replace(goodCommit, `"group":"g",`, ``, 1), ErrMissingField},
		{"missing fetch values", strings.Replace(goodFetch, `"values":["a","b"],`, ``, 1), ErrMissingField},
		{"return before call", replace(`"return_ns":2000`, `"return_ns":999`), ErrReturnBeforeCall},
		{"negative offset", replace(`"offset":12`, `"offset":-1`), ErrBadField},
		{"huge offset", replace(`"offset":12`, `"offset":9000000000000000000`), ErrBadField},
		{"negative partition", replace(`"partition":0`, `"partition":-2`), ErrBadField},
		{"empty produce", replace(`["a","b"]`, `[]`), ErrBadField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := goodFetch + "\n\n" + tt.line + "\n" + goodFetch + "\n"
			ops, err := ReadHistory(strings.NewReader(in))
			var le *LineError
			if !errors.As(err, &le) || le.Line != 3 || !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v on line 3", err, tt.want)
			}
			if len(ops) != 1 {
				t.Errorf("read %d operations before the bad line, want 1", len(ops))
			}
			if !strings.Contains(err.Error(), "line 3") {
				t.Errorf("error %q does not name the line", err)
			}
		})
	}
}

// TestReadLenient: blank lines are skipped (but counted), fields the format
// does not define are ignored, and fields that do not apply are dropped.
func TestReadLenient(t *testing.T) {
	in := "\n   \n" +
		`{"client":1,"op":"produce","topic":"t","partition":3,"values":["x"],"offset":5,"status":"unknown","call_ns":1,"return_ns":2,"note":"hi"}` + "\r\n" +
		`{"client":1,"op":"fetch","topic":"t","partition":3,"offset":5,"values":["junk"],"status":"fail","call_ns":3,"return_ns":3}`
	ops, err := ReadHistory(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Op{
		{Line: 3, Client: 1, Kind: Produce, Topic: "t", Partition: 3, Values: []string{"x"}, Status: StatusUnknown, Call: 1, Return: 2},
		{Line: 4, Client: 1, Kind: Fetch, Topic: "t", Partition: 3, Offset: 5, Status: StatusFail, Call: 3, Return: 3},
	}
	if len(ops) != 2 || !sameOp(ops[0], want[0]) || !sameOp(ops[1], want[1]) {
		t.Fatalf("got %+v, want %+v", ops, want)
	}
}

// TestRoundTrip: what AppendJSON writes, the Reader reads back.
func TestRoundTrip(t *testing.T) {
	ops := []Op{
		{Client: -3, Kind: Produce, Topic: "t\"\\\n\x01é", Partition: 2, Values: []string{"", "v\t", "\u2028"}, Offset: 1 << 40, Status: StatusOK, Call: -5, Return: 7},
		{Client: 1, Kind: Fetch, Topic: "t", Offset: 3, Values: []string{}, Status: StatusOK},
		{Client: 1, Kind: Fetch, Topic: "t", Offset: 3, Status: StatusUnknown},
		{Client: 1, Kind: Commit, Group: "g", Topic: "t", Offset: 3, Status: StatusFail},
		{Client: 1, Kind: FetchCommitted, Group: "g", Topic: "t", Offset: -1, Status: StatusOK},
	}
	var b []byte
	for i := range ops {
		b = ops[i].AppendJSON(b)
	}
	got, err := ReadHistory(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%v in\n%s", err, b)
	}
	for i := range ops {
		ops[i].Line = i + 1
		if !sameOp(got[i], ops[i]) {
			t.Errorf("got %+v, want %+v", got[i], ops[i])
		}
	}
}

// TestRecorderConcurrent: many clients recording at once produce whole,
// readable lines, one per operation.
func TestRecorderConcurrent(t *testing.T) {
	var buf bytes.Buffer
	rec := NewRecorder(&buf)
	const clients, each = 8, 500
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := range each {
				rec.Record(Op{Client: c, Kind: Produce, Topic: "t", Values: []string{strings.Repeat("v", i%50)}, Offset: int64(i), Status: StatusOK, Call: int64(i), Return: int64(i + 1)})
			}
		})
	}
	wg.Wait()
	if err := rec.Flush(); err != nil {
		t.Fatal(err)
	}
	if rec.Len() != clients*each {
		t.Errorf("Len = %d, want %d", rec.Len(), clients*each)
	}
	ops, err := ReadHistory(&buf)
	if err != nil {
		t.Fatal(err)
	}
	perClient := make(map[int]int)
	for _, op := range ops {
		perClient[op.Client]++
	}
	for c := range clients {
		if perClient[c] != each {
			t.Errorf("client %d: %d lines, want %d", c, perClient[c], each)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRecorderStickyError(t *testing.T) {
	rec := NewRecorder(failWriter{})
	op := Op{Kind: Fetch, Topic: "t", Status: StatusOK}
	rec.Record(op)
	if err := rec.Flush(); err == nil {
		t.Fatal("Flush hid the write error")
	}
	rec.Record(op)
	if err := rec.Flush(); err == nil || rec.Len() != 1 {
		t.Errorf("after an error: Flush = %v, Len = %d", err, rec.Len())
	}
}

// FuzzReader: arbitrary bytes never panic; errors name a line that exists;
// reading whole or in pieces gives the same answer; whatever reads back
// writes and reads back the same.
func FuzzReader(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.jsonl")
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint16(len(b)/2))
	}
	f.Add([]byte(goodProduce+"\n"+goodFetch), uint16(7))
	f.Add([]byte("{\"op\":\"fetch\"}\n\n\x00"), uint16(1))
	f.Fuzz(func(t *testing.T, data []byte, split uint16) {
		ops, err := ReadHistory(bytes.NewReader(data))
		cut := min(int(split), len(data))
		pieces := io.MultiReader(iotest.OneByteReader(bytes.NewReader(data[:cut])), bytes.NewReader(data[cut:]))
		ops2, err2 := ReadHistory(pieces)
		if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() || len(ops) != len(ops2) {
			t.Fatalf("whole: %d ops, %v; in pieces: %d ops, %v", len(ops), err, len(ops2), err2)
		}
		if err != nil {
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("error names no line: %v", err)
			}
			if lines := bytes.Count(data, []byte("\n")) + 1; le.Line < 1 || le.Line > lines {
				t.Fatalf("error names line %d of %d", le.Line, lines)
			}
		}
		var b []byte
		for i := range ops {
			b = ops[i].AppendJSON(b)
		}
		back, err := ReadHistory(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("rereading what was written: %v\n%s", err, b)
		}
		for i := range ops {
			want := ops[i]
			want.Line = i + 1
			if !sameOp(back[i], want) {
				t.Fatalf("op %d: wrote %+v, read back %+v", i, want, back[i])
			}
		}
		if len(ops) > 0 {
			if _, err := Check(ops, Options{Timeout: 50 * time.Millisecond}); err != nil {
				t.Fatal(err)
			}
		}
	})
}
