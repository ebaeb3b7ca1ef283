package loadgen

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseWorkload(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		err        string // substring of the error; "" for none
		check      func(t *testing.T, w Workload)
	}{
		{name: "empty mapping", yaml: "{}", check: func(t *testing.T, w Workload) {
			v, err := w.Validate()
			if err != nil {
				t.Fatal(err)
			}
			if v.Topics != 1 || v.MessageSize != 1024 || v.Duration != time.Minute || v.Subscriptions() != 1 || v.KeyDistributor != NoKey {
				t.Errorf("defaults: %+v", v)
			}
		}},
		{name: "omb fields", yaml: "name: x\ntopics: 2\npartitionsPerTopic: 16\nmessageSize: 100\nproducerRate: 5000\ntestDurationMinutes: 2\nwarmupDurationMinutes: 1\nsubscriptionsPerTopic: 0\n",
			check: func(t *testing.T, w Workload) {
				v, _ := w.Validate()
				if v.Topics != 2 || v.PartitionsPerTopic != 16 || v.TotalRate() != 5000 || v.Duration != 2*time.Minute || v.Warmup != time.Minute || v.Subscriptions() != 0 {
					t.Errorf("got %+v", v)
				}
			}},
		{name: "gale fields win", yaml: "producerRate: 5\nrate: 7\ntestDurationMinutes: 3\nduration: 2s\nwarmup: 500ms\nbatch: {maxMessages: 100, maxBytes: 4096, linger: 5ms}\n",
			check: func(t *testing.T, w Workload) {
				v, _ := w.Validate()
				if v.TotalRate() != 7 || v.Duration != 2*time.Second || v.Warmup != 500*time.Millisecond || v.Batch != (Batching{100, 4096, 5 * time.Millisecond}) {
					t.Errorf("got %+v", v)
				}
			}},
		{name: "unknown top-level field", yaml: "name: x\ntopcs: 2\n", err: `line 2: unknown field "topcs"`},
		{name: "unknown nested field", yaml: "batch:\n  maxMessages: 1\n  lingr: 1ms\n", err: `line 3: unknown field "batch.lingr"`},
		{name: "wrong type", yaml: "topics: many\n", err: "line 1"},
		{name: "bad duration", yaml: "duration: fast\n", err: "line 1"},
		{name: "not a mapping", yaml: "- a\n- b\n", err: "a workload is a mapping"},
		{name: "two documents", yaml: "name: a\n---\nname: b\n", err: "one workload per file"},
		{name: "sweep", yaml: "sweep:\n  field: batch.maxMessages\n  values: [1, 10, 100]\n", check: func(t *testing.T, w Workload) {
			runs, err := w.Runs()
			if err != nil || len(runs) != 3 || runs[2].Batch.MaxMessages != 100 || runs[2].Sweep != nil || w.Batch.MaxMessages != 0 {
				t.Errorf("runs %+v, %v", runs, err)
			}
		}},
		{name: "sweep of a duration", yaml: "sweep: {field: batch.linger, values: [1ms, 10ms]}\n", check: func(t *testing.T, w Workload) {
			runs, _ := w.Runs()
			if runs[1].Batch.Linger != 10*time.Millisecond {
				t.Errorf("linger %v", runs[1].Batch.Linger)
			}
		}},
		{name: "sweep of an unknown field", yaml: "name: x\nsweep: {field: batch.size, values: [1]}\n", err: `line 2: sweep: unknown field "batch.size"`},
		{name: "sweep with a bad value", yaml: "sweep: {field: messageSize, values: [big]}\n", err: "line 1: sweep: messageSize"},
		{name: "sweep without values", yaml: "sweep: {field: messageSize}\n", err: "sweep.values is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := ParseWorkload([]byte(tc.yaml))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, ErrWorkload) {
					t.Fatalf("err = %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, w)
		})
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		w    Workload
		err  string
	}{
		{"negative topics", Workload{Topics: -1}, "topics = -1"},
		{"ratio above one", Workload{RandomBytesRatio: 1.5}, "randomBytesRatio"},
		{"bad key distributor", Workload{KeyDistributor: "HASH"}, "keyDistributor"},
		{"bad compression", Workload{Compression: "brotli"}, "compression"},
		{"bad acks", Workload{Acks: "2"}, "acks"},
		{"negative rate", Workload{Rate: -1}, "rate = -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.w.Validate(); err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
		})
	}
}

func TestValidateLeavesCallerAlone(t *testing.T) {
	subs := 3
	w := Workload{SubscriptionsPerTopic: &subs}
	v, err := w.Validate()
	if err != nil {
		t.Fatal(err)
	}
	*v.SubscriptionsPerTopic = 9
	if w.Topics != 0 || w.Name != "" || subs != 3 {
		t.Errorf("Validate changed its receiver: %+v, subs %d", w, subs)
	}
}

// The OpenMessaging Benchmark files in testdata parse as they are.
func TestLoadOMBWorkloads(t *testing.T) {
	files, _ := filepath.Glob("testdata/omb/*.yaml")
	more, _ := filepath.Glob("testdata/*.yaml")
	files = append(files, more...)
	if len(files) < 3 {
		t.Fatalf("found %d workload files", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			w, err := LoadWorkload(f)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Validate(); err != nil {
				t.Fatal(err)
			}
			if w.PayloadFile != "" {
				if _, err := newPayloads(w, nil); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func FuzzParseWorkload(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, name := range files {
		if b, err := readFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("batch: {maxMessages: 1}\nsweep: {field: batch.maxMessages, values: [1, 2]}\n"))
	f.Add([]byte("topics: [1\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := ParseWorkload(data)
		if err != nil {
			if !errors.Is(err, ErrWorkload) {
				t.Fatalf("error not marked ErrWorkload: %v", err)
			}
			return
		}
		v, err := w.Validate()
		if err != nil {
			return
		}
		if v.Topics < 1 || v.MaxInFlight < 1 || v.Duration < 0 {
			t.Fatalf("validated workload out of range: %+v", v)
		}
		if _, err := w.Runs(); err != nil {
			t.Fatalf("a parsed sweep does not expand: %v", err)
		}
	})
}

func TestBatchBytes(t *testing.T) {
	for _, tc := range []struct {
		w    Workload
		want int32
	}{
		{Workload{MessageSize: 100, Batch: Batching{MaxBytes: 1 << 20}}, 1 << 20},
		// 100 B value, 12 B header key, 8 B header value: 132 B a record.
		{Workload{MessageSize: 100, Batch: Batching{MaxBytes: 1 << 20, MaxMessages: 10}}, 61 + 1320 + 66},
		{Workload{MessageSize: 100, Batch: Batching{MaxBytes: 1 << 20, MaxMessages: 1}}, 512}, // franz-go's floor
		{Workload{MessageSize: 100, Batch: Batching{MaxBytes: 1000, MaxMessages: 100}}, 1000},
	} {
		if got := batchBytes(tc.w); got != tc.want {
			t.Errorf("batchBytes(%+v) = %d, want %d", tc.w.Batch, got, tc.want)
		}
	}
}
