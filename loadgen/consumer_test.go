package loadgen

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Each distribution, seeded, has about its mean, stays within [0, max],
// and gives the same draws for the same seed.
func TestProcessingDraw(t *testing.T) {
	const seed, n = 42, 20000
	t.Logf("seed = %d", seed)
	for _, tc := range []struct {
		p        Processing
		wantMean time.Duration // of the capped draws, roughly
	}{
		{Processing{Distribution: Fixed, Mean: 2 * time.Millisecond}, 2 * time.Millisecond},
		{Processing{Distribution: Exponential, Mean: 2 * time.Millisecond, Max: 20 * time.Millisecond}, 2 * time.Millisecond},
		{Processing{Distribution: Uniform, Mean: 2 * time.Millisecond, Max: 20 * time.Millisecond}, 2 * time.Millisecond},
		{Processing{Distribution: Normal, Mean: 2 * time.Millisecond, Max: 20 * time.Millisecond, StdDev: 500 * time.Microsecond}, 2 * time.Millisecond},
		// a cap below the tail pulls the mean down: exponential capped at its mean
		{Processing{Distribution: Exponential, Mean: 2 * time.Millisecond, Max: 2 * time.Millisecond}, time.Duration((1 - math.Exp(-1)) * 2e6)},
	} {
		t.Run(tc.p.Distribution, func(t *testing.T) {
			m, err := ConsumerModel{Processing: tc.p}.validate()
			if err != nil {
				t.Fatal(err)
			}
			p := m.Processing
			a, b := rand.New(rand.NewPCG(seed, 1)), rand.New(rand.NewPCG(seed, 1))
			var sum float64
			for range n {
				d := p.draw(a)
				if d != p.draw(b) {
					t.Fatal("the same seed gave different draws")
				}
				if d < 0 || p.Distribution != Fixed && d > p.Max {
					t.Fatalf("draw %v outside [0, %v]", d, p.Max)
				}
				sum += float64(d)
			}
			mean := sum / n
			if math.Abs(mean-float64(tc.wantMean)) > 0.05*float64(tc.wantMean) {
				t.Errorf("mean %v, want %v within 5%%", time.Duration(mean), tc.wantMean)
			}
		})
	}
}

// Poison messages are a pure function of seed, producer and sequence:
// none at rate 0, all at 1, about the rate in between, and another seed
// picks others.
func TestIsPoison(t *testing.T) {
	const n = 200000
	count := func(seed uint64, prod int, rate float64) int {
		k := 0
		for i := range int64(n) {
			if isPoison(seed, prod, i, rate) {
				k++
			}
		}
		return k
	}
	if k := count(1, 0, 0); k != 0 {
		t.Errorf("rate 0 poisoned %d", k)
	}
	if k := count(1, 0, 1); k != n {
		t.Errorf("rate 1 poisoned %d of %d", k, n)
	}
	for _, rate := range []float64{0.001, 0.01, 0.3} {
		k := count(7, 3, rate)
		want := rate * n
		if math.Abs(float64(k)-want) > 5*math.Sqrt(want) {
			t.Errorf("rate %v poisoned %d of %d, want about %.0f", rate, k, n, want)
		}
	}
	same := 0
	for i := range int64(10000) {
		if isPoison(1, 0, i, 0.5) == isPoison(2, 0, i, 0.5) {
			same++
		}
		if isPoison(1, 0, i, 0.5) != isPoison(1, 0, i, 0.5) {
			t.Fatal("not deterministic")
		}
	}
	if same > 5500 || same < 4500 {
		t.Errorf("seeds 1 and 2 agree on %d of 10000 at rate 0.5: not independent", same)
	}
}

// The consumer section parses in both forms of processing, and bad
// values are errors naming the field.
func TestConsumerModelParse(t *testing.T) {
	w, err := ParseWorkload([]byte("name: c\nconsumer:\n  processing: 2ms\n  poisonRate: 0.001\n  retries: 3\n  deadLetter: true\n  commit: before\n"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := w.Validate()
	if err != nil {
		t.Fatal(err)
	}
	want := ConsumerModel{Processing: Processing{Distribution: Fixed, Mean: 2 * time.Millisecond}, PoisonRate: 0.001, Retries: 3, DeadLetter: true, Commit: CommitBefore}
	if *v.Consumer != want {
		t.Errorf("got %+v, want %+v", *v.Consumer, want)
	}
	if v.Consumer == w.Consumer {
		t.Error("Validate shares the caller's consumer section")
	}
	w, err = ParseWorkload([]byte("consumer:\n  processing: {distribution: exponential, mean: 2ms}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if v, err = w.Validate(); err != nil || v.Consumer.Processing.Max != 20*time.Millisecond || v.Consumer.Commit != CommitAfter {
		t.Errorf("defaults: %+v, %v", v.Consumer, err)
	}
	if _, err := w.With("consumer.processing.mean", "5ms"); err != nil {
		t.Errorf("sweeping consumer.processing.mean: %v", err)
	}
	for _, tc := range []struct{ yaml, want string }{
		{"consumer:\n  retry: 3\n", `line 2: unknown field "consumer.retry"`},
		{"consumer:\n  processing: {distribution: exponential, meen: 2ms}\n", `unknown field "consumer.processing.meen"`},
		{"consumer:\n  processing: soon\n", "processing: want a duration"},
		{"consumer:\n  commit: during\n", `consumer.commit "during"`},
		{"consumer:\n  poisonRate: 2\n", "consumer.poisonRate = 2"},
		{"consumer:\n  retries: -1\n", "consumer.retries = -1"},
		{"consumer:\n  processing: {distribution: pareto, mean: 1ms}\n", `distribution "pareto"`},
		{"consumer:\n  processing: {distribution: uniform, mean: 2ms, max: 1ms}\n", "below its mean"},
		{"producer: raw\nconsumer: {retries: 1}\n", "needs producer client"},
	} {
		w, err := ParseWorkload([]byte(tc.yaml))
		if err == nil {
			_, err = w.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrWorkload) && !strings.Contains(err.Error(), "bad workload") {
			t.Errorf("%q: got %v, want an error containing %q", tc.yaml, err, tc.want)
		}
	}
}

// With the in-memory driver: every message ends processed or
// dead-lettered, the poison ones (recomputed from the seed) are the dead
// letters, each retried Retries times, and the check balances.
func TestConsumerModelCounts(t *testing.T) {
	const msgs, seed = 3000, 5
	model := &ConsumerModel{Processing: Processing{Mean: 20 * time.Microsecond}, PoisonRate: 0.02, Retries: 2, DeadLetter: true}
	res, err := Run(testContext(t), Config{
		Driver:   newMemDriver(),
		Workload: Workload{Name: "model", MessageSize: 100, Messages: msgs, Duration: 10 * time.Second, ProducersPerTopic: 2, Consumer: model},
		Seed:     seed,
	})
	if err != nil {
		t.Fatal(err)
	}
	poison := int64(0)
	for p := range 2 {
		for i := range int64(msgs / 2) {
			if isPoison(seed, p, i, model.PoisonRate) {
				poison++
			}
		}
	}
	c := res.Summary.Consumer
	t.Logf("%+v", *c)
	switch {
	case c == nil:
		t.Fatal("no consumer outcome")
	case !c.Balanced || c.Distinct != msgs || c.Processed+c.DeadLettered != msgs:
		t.Errorf("unbalanced: %+v", *c)
	case c.DeadLettered != poison || c.Retried != 2*poison || c.Redelivered != 0 || c.Discarded != 0:
		t.Errorf("dead-lettered %d retried %d, want %d and %d", c.DeadLettered, c.Retried, poison, 2*poison)
	}
	var ivProcessed int64
	for _, iv := range res.Intervals {
		if iv.Consumer == nil {
			t.Fatal("an interval without its consumer outcome")
		}
		ivProcessed += iv.Consumer.Processed + iv.Consumer.DeadLettered
	}
	if ivProcessed != msgs {
		t.Errorf("intervals account for %d messages, want %d", ivProcessed, msgs)
	}
}

// Without dead letters, what exhausts its retries is discarded, and still
// counted.
func TestConsumerModelDiscard(t *testing.T) {
	res, err := Run(testContext(t), Config{
		Driver:   newMemDriver(),
		Workload: Workload{Name: "discard", MessageSize: 10, Messages: 500, Duration: 10 * time.Second, Consumer: &ConsumerModel{PoisonRate: 0.1}},
		Seed:     9,
	})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Summary.Consumer
	if c.DeadLettered != 0 || c.Discarded == 0 || c.Processed+c.Discarded != 500 || !c.Balanced {
		t.Errorf("%+v", *c)
	}
}

// CrashConsumer needs a run in progress with consumers.
func TestCrashConsumerErrors(t *testing.T) {
	var ctl Control
	if err := ctl.CrashConsumer(time.Second); !errors.Is(err, ErrNotRunning) {
		t.Errorf("idle: got %v, want ErrNotRunning", err)
	}
	zero := 0
	var got error
	_, err := Run(testContext(t), Config{
		Driver:   newMemDriver(),
		Workload: Workload{Name: "no-consumers", SubscriptionsPerTopic: &zero, Messages: 10, Duration: time.Second},
		Control:  &ctl,
		OnStart:  func(int, time.Time) { got = ctl.CrashConsumer(0) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if got == nil || !strings.Contains(got.Error(), "no consumers") {
		t.Errorf("a run without consumers: got %v", got)
	}
	if err := ctl.CrashConsumer(time.Second); !errors.Is(err, ErrNotRunning) {
		t.Errorf("after the run: got %v, want ErrNotRunning", err)
	}
}

// A crash on the in-memory driver (which has no redelivery) replaces the
// consumer, and the run still ends: the crash is noted and counted.
func TestCrashConsumerMem(t *testing.T) {
	var ctl Control
	crashed := make(chan error, 1)
	res, err := Run(testContext(t), Config{
		Driver:   newMemDriver(),
		Workload: Workload{Name: "crash", MessageSize: 10, Rate: 2000, Messages: 2000, Duration: 5 * time.Second, Consumer: &ConsumerModel{}},
		Control:  &ctl,
		OnStart: func(int, time.Time) {
			go func() {
				time.Sleep(200 * time.Millisecond)
				crashed <- ctl.CrashConsumer(100 * time.Millisecond)
			}()
		},
		DrainTimeout: 5 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-crashed; err != nil {
		t.Fatal(err)
	}
	c := res.Summary.Consumer
	notes := strings.Join(res.Summary.Notes, "\n")
	t.Logf("%+v\n%s", *c, notes)
	if c.Crashes != 1 || !strings.Contains(notes, "crashed at") || !strings.Contains(notes, "replacement") {
		t.Errorf("the crash is not in the results: crashes %d, notes %q", c.Crashes, notes)
	}
	if c.Distinct < 1990 || c.Processed+c.Unfinished != c.Distinct {
		t.Errorf("counts inconsistent: %+v", *c)
	}
}

// A consumer error marked ErrDataLoss is counted in summary.data_loss; any
// other consumer error is not (the negative control). franz-go's data-loss
// error is the one the Kafka driver marks.
func TestDataLossCounted(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want int64
	}{
		{"data loss", fetchError(&kgo.ErrDataLoss{Topic: "t", Partition: 0, ConsumedTo: 210420, ResetTo: 0}), 1},
		{"other failure", fetchError(errors.New("broker unreachable")), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newMemDriver()
			d.recvErr = tc.err
			res, err := Run(testContext(t), Config{
				Driver:   d,
				Workload: Workload{Name: "loss", MessageSize: 100, Messages: 100, Duration: 5 * time.Second},
				Seed:     1,
			})
			if err != nil {
				t.Fatal(err)
			}
			if s := res.Summary; s.DataLoss != tc.want || s.Errors != 1 {
				t.Errorf("data_loss %d errors %d, want %d and 1; notes %v", s.DataLoss, s.Errors, tc.want, s.Notes)
			}
		})
	}
}
