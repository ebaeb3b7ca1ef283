package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"gale/broker/kafka"
	"gale/linearizability"
)

// Config configures Run. Only Workload and one of Target or Driver are
// needed; every other field's zero value selects the default on it.
type Config struct {
	// Target is where to drive load; ignored when Driver is set.
	Target Target
	// Security holds TLS and SASL settings for Kafka targets.
	Security Security
	// Driver, when set, is driven instead of opening Target (a fake in
	// tests, say). Run does not close it.
	Driver Driver
	// Workload is what to run; Run validates a copy.
	Workload Workload
	// Seed seeds the run's one random source (payloads, topic names).
	// Default: from the clock. Results record it.
	Seed uint64
	// Interval is the reporting interval. Default 1 s.
	Interval time.Duration
	// DrainTimeout bounds how long consumers may take, after the producers
	// stop, to receive what was published. Default 10 s.
	DrainTimeout time.Duration
	// ReadyTimeout bounds how long consumers may take to join before load
	// starts. Default 30 s.
	ReadyTimeout time.Duration
	// Commit is the gale commit recorded in results. Default: the build's.
	Commit string
	// Progress, when set, is called after every interval, from Run's
	// goroutine, with the interval and the run's name.
	Progress func(run string, iv Interval)
	// Logf, when set, receives a line for each notable step (a probe of
	// the max-rate search).
	Logf func(format string, args ...any)
	// HistogramLog, when set, gives the writer for run i's HdrHistogram
	// log (.hlog); Run writes each interval's histograms to it, tagged
	// publish, publish_delay and e2e, in nanoseconds.
	HistogramLog func(run int) (io.Writer, error)
	// History, when set, receives the operation history of every run, JSON
	// Lines as package linearizability reads it (history.go): kafka and
	// embedded targets only. Run flushes it before returning; it does not
	// close it.
	History io.Writer
	// OnStart, when set, is called as run i starts its load (after its
	// topics exist and its consumers joined), with the instant its
	// intervals count from: a fault schedule keyed to the run's own clock
	// starts from it. It is called on Run's goroutine and must not block.
	OnStart func(run int, start time.Time)
	// Control, when set, lets another goroutine act on the run while it
	// runs (Control.CrashConsumer). Run attaches each run of a sweep to it
	// in turn, from its start to the end of its drain.
	Control *Control

	hist *history   // History's recorder and clock, set by Run
	bugs kafka.Bugs // tests only: the embedded broker's bug switches
}

func (c Config) withDefaults() Config {
	if c.Interval <= 0 {
		c.Interval = time.Second
	}
	if c.DrainTimeout <= 0 {
		c.DrainTimeout = 10 * time.Second
	}
	if c.ReadyTimeout <= 0 {
		c.ReadyTimeout = 30 * time.Second
	}
	if c.Seed == 0 {
		c.Seed = uint64(time.Now().UnixNano())
	}
	return c
}

// Run runs the workload (once per value of its sweep, if it has one)
// and returns the results. It returns an error only when a run could not
// start (a bad workload, an unreachable target); failures during a run are
// counted in the results, and a cancelled ctx ends the run early with the
// results so far (status "interrupted").
func Run(ctx context.Context, cfg Config) (*Results, error) {
	cfg = cfg.withDefaults()
	base, err := cfg.Workload.Validate()
	if err != nil {
		return nil, err
	}
	runs, err := base.Runs()
	if err != nil {
		return nil, err
	}
	res := &Results{
		SchemaVersion: SchemaVersion,
		Target:        cfg.Target.String(),
		Workload:      workloadJSON(base),
		Environment:   CurrentEnvironment(cfg.Commit),
		Seed:          cfg.Seed,
	}
	if cfg.Driver != nil && cfg.Target.Kind == "" {
		res.Target = "custom"
	}
	if base.Sweep != nil {
		res.Sweep = &SweepResults{Field: base.Sweep.Field}
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	if cfg.History != nil {
		if cfg.Driver == nil && cfg.Target.Kind != "kafka" && cfg.Target.Kind != "embedded" {
			return nil, errHistoryTarget
		}
		aw := newAsyncWriter(cfg.History)
		rec := linearizability.NewRecorder(aw)
		cfg.hist = newHistory(rec)
		res, err := runAll(ctx, cfg, base, runs, rng, res)
		ferr := rec.Flush()
		if cerr := aw.Close(); ferr == nil {
			ferr = cerr
		}
		if ferr != nil && err == nil {
			return res, fmt.Errorf("loadgen: writing the history: %w", ferr)
		}
		return res, err
	}
	return runAll(ctx, cfg, base, runs, rng, res)
}

// runAll is Run's loop over the runs (or the max-rate search).
func runAll(ctx context.Context, cfg Config, base Workload, runs []Workload, rng *rand.Rand, res *Results) (*Results, error) {
	if base.FindMaxRate != nil {
		return res, findMaxRate(ctx, cfg, base, rng, res)
	}
	for i, w := range runs {
		w, err := w.Validate()
		if err != nil {
			return nil, err
		}
		r, err := runOne(ctx, cfg, w, i, rng)
		if err != nil {
			return nil, err
		}
		if res.Sweep == nil {
			res.Intervals, res.Summary = r.Intervals, &r.Summary
			break
		}
		r.Value = base.Sweep.Values[i]
		res.Sweep.Runs = append(res.Sweep.Runs, r)
		if ctx.Err() != nil {
			break
		}
	}
	return res, nil
}

// run is the state of one run.
type run struct {
	dataLoss atomic.Int64 // consumer errors wrapping ErrDataLoss

	cfg    Config
	w      Workload
	idx    int // the run's index in Run (sweep value, probe)
	drv    Driver
	pl     *payloads
	runID  string
	subs   int // subscriptions per topic that consume
	hlog   *hdr.HistogramLogWriter
	notes  []string
	noted  map[string]bool
	noteMu sync.Mutex // guards notes and noted

	producers, consumers []*meter
	slots                []*consumerSlot // the consumers, in creation order
	crashMu              sync.Mutex      // guards crashRng; one crash at a time
	crashRng             *rand.Rand
	out                  outcomes // the consumer model's run-wide counts
	track                *tracker // the consumer model's distinct messages; nil without one
	batchers             []batchCounter
	replayed             *Replay // set by replay; read after its goroutine ends
	batches              int64   // cumulative at the last collect
	// cumulative, warmup included; each on a cache line of its own, as
	// producers' acks and consumers' receipts add to them concurrently
	acked paddedInt64
	recv  paddedInt64

	start, measureFrom time.Time
	agg, total         window
	intervals          []Interval
	lastTick           time.Time
	backlogMax         int64
}

// noteOnce notes only the first event of a kind, so a flapping target
// does not flood the notes (the errors count every event).
func (r *run) noteOnce(kind, format string, args ...any) {
	r.noteMu.Lock()
	seen := r.noted[kind]
	if r.noted == nil {
		r.noted = map[string]bool{}
	}
	r.noted[kind] = true
	r.noteMu.Unlock()
	if !seen {
		r.note(format, args...)
	}
}

func (r *run) note(format string, args ...any) {
	r.noteMu.Lock()
	defer r.noteMu.Unlock()
	if len(r.notes) < 20 {
		r.notes = append(r.notes, fmt.Sprintf(format, args...))
	}
}

// runOne runs one workload: against cfg.Driver, or a driver opened on
// cfg.Target for this run alone (and closed after it).
func runOne(ctx context.Context, cfg Config, w Workload, idx int, rng *rand.Rand) (RunResult, error) {
	if cfg.Driver != nil {
		return runWith(ctx, cfg, cfg.Driver, w, idx, rng)
	}
	var d Driver
	var err error
	if cfg.Target.Kind == "embedded" {
		d, err = openEmbedded(ctx, w, cfg.bugs)
	} else {
		d, err = Open(ctx, cfg.Target, w, cfg.Security)
	}
	if err != nil {
		return RunResult{}, err
	}
	res, err := runWith(ctx, cfg, d, w, idx, rng)
	if cerr := d.Close(); cerr != nil && err == nil {
		res.Summary.Notes = append(res.Summary.Notes, fmt.Sprintf("closing the target: %v", cerr))
	}
	return res, err
}

func runWith(ctx context.Context, cfg Config, d Driver, w Workload, idx int, rng *rand.Rand) (RunResult, error) {
	r := &run{cfg: cfg, w: w, idx: idx, drv: d, subs: w.Subscriptions(), runID: strconv.FormatUint(rng.Uint64()%(1<<40), 36)}
	if _, ok := r.drv.(nullDriver); ok {
		r.subs = 0 // the null target delivers nothing
	}
	r.crashRng = newCrashRng(cfg.Seed + uint64(idx))
	if cfg.Control != nil {
		if cp, ok := d.(crashPreparer); ok {
			cp.prepareCrashes()
		}
	}
	if w.Consumer != nil {
		r.track = newTracker(w.Topics*r.subs, w.Topics*w.ProducersPerTopic)
	}
	if cfg.hist != nil {
		h, ok := d.(historian)
		if !ok {
			return RunResult{}, errHistoryTarget
		}
		if err := h.recordHistory(cfg.hist); err != nil {
			return RunResult{}, err
		}
	}
	var err error
	if r.pl, err = newPayloads(w, rng); err != nil {
		return RunResult{}, err
	}
	if cfg.HistogramLog != nil {
		hw, err := cfg.HistogramLog(idx)
		if err != nil {
			return RunResult{}, err
		}
		r.hlog = hdr.NewHistogramLogWriter(hw)
	}
	topics, err := r.createTopics(ctx)
	if err != nil {
		return RunResult{}, err
	}
	consumers, err := r.startConsumers(ctx, topics)
	if err != nil {
		return RunResult{}, err
	}
	producers, err := r.newProducers(ctx, topics)
	if err != nil {
		closeConsumers(consumers)
		return RunResult{}, err
	}
	return r.measure(ctx, producers, consumers), nil
}

// topicName makes a name every target accepts: [A-Za-z0-9_-].
func (r *run) topicName(i int) string {
	name := strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' {
			return c
		}
		return '_'
	}, r.w.Name)
	if len(name) > 60 {
		name = name[:60]
	}
	return fmt.Sprintf("gale-%s-%s-%d", name, r.runID, i)
}

func (r *run) createTopics(ctx context.Context) ([]string, error) {
	var topics []string
	for i := range r.w.Topics {
		t := r.topicName(i)
		if err := r.drv.CreateTopic(ctx, t, r.w.PartitionsPerTopic); err != nil {
			return nil, err
		}
		topics = append(topics, t)
	}
	return topics, nil
}

// readier is implemented by consumers that join asynchronously (Kafka
// group members); the run waits for them before starting load.
type readier interface {
	Ready(ctx context.Context) error
}

func (r *run) startConsumers(ctx context.Context, topics []string) ([]*consumerSlot, error) {
	var cs []*consumerSlot
	for ti, t := range topics {
		for s := range r.subs {
			sub := fmt.Sprintf("sub-%03d-%s", s, r.runID)
			for range r.w.ConsumerPerSubscription {
				c, err := r.drv.NewConsumer(ctx, t, sub)
				if err != nil {
					closeConsumers(cs)
					return nil, err
				}
				i := len(cs)
				seed := r.cfg.Seed + uint64(r.idx)<<32
				sl := &consumerSlot{
					idx: i, topic: t, sub: sub, subID: ti*r.subs + s, m: newMeter(), c: c,
					rng:   rand.New(rand.NewPCG(seed, uint64(i)+1)),
					timer: time.NewTimer(time.Hour),
				}
				sl.timer.Stop()
				cs = append(cs, sl)
				r.consumers = append(r.consumers, sl.m)
			}
		}
	}
	r.slots = cs
	rctx, cancel := context.WithTimeout(ctx, r.cfg.ReadyTimeout)
	defer cancel()
	waiting := 0
	for _, c := range cs {
		if rd, ok := c.c.(readier); ok {
			if rd.Ready(rctx) != nil {
				waiting++
			}
		}
	}
	if waiting > 0 {
		r.note("%d consumers had not joined their group after %v", waiting, r.cfg.ReadyTimeout)
	}
	return cs, nil
}

// closeConsumers closes the slots' current members (not the crashed
// ones: a crash closed them).
func closeConsumers(cs []*consumerSlot) {
	for _, s := range cs {
		if c := s.current(); c != nil {
			c.Close()
		}
	}
}

// batchCounter is implemented by producers that know how many batches
// the broker acknowledged, cumulatively.
type batchCounter interface {
	Batches() int64
}

type producerRun struct {
	p     Producer
	m     *meter
	limit int64  // messages to send; 0: no limit
	idx   uint32 // the producer's index in the run (Message.Producer)
}

func (r *run) newProducers(ctx context.Context, topics []string) ([]producerRun, error) {
	n := len(topics) * r.w.ProducersPerTopic
	var ps []producerRun
	for _, t := range topics {
		for range r.w.ProducersPerTopic {
			p, err := r.drv.NewProducer(ctx, t)
			if err != nil {
				for _, p := range ps {
					p.p.Close(ctx)
				}
				return nil, err
			}
			var limit int64
			if r.w.Messages > 0 {
				limit = r.w.Messages / int64(n)
				if int64(len(ps)) < r.w.Messages%int64(n) {
					limit++
				}
				limit = max(limit, 1)
			}
			if bc, ok := p.(batchCounter); ok {
				r.batchers = append(r.batchers, bc)
			}
			m := newMeter()
			ps = append(ps, producerRun{p, m, limit, uint32(len(ps))})
			r.producers = append(r.producers, m)
		}
	}
	return ps, nil
}

// measure runs the load: consumers first, then producers until the
// deadline, then a drain; it collects one Interval per tick.
func (r *run) measure(ctx context.Context, ps []producerRun, cs []*consumerSlot) RunResult {
	iv := r.cfg.Interval
	warm := (r.w.Warmup + iv - 1) / iv * iv // whole intervals, so none straddles
	r.start = time.Now()
	r.lastTick = r.start
	r.cfg.Control.attach(r)
	if r.cfg.OnStart != nil {
		r.cfg.OnStart(r.idx, r.start)
	}
	r.measureFrom = r.start.Add(warm)
	end := r.measureFrom.Add(r.w.Duration)
	if r.hlog != nil {
		r.hlog.OutputLogFormatVersion()
		r.hlog.OutputStartTime(r.start.UnixMilli())
		r.hlog.OutputBaseTime(r.start.UnixMilli())
		r.hlog.SetBaseTime(r.start.UnixMilli())
		r.hlog.OutputComment("[gale loadgen " + r.w.Name + "; values in nanoseconds]")
		r.hlog.OutputLegend()
	}

	cctx, ccancel := context.WithCancel(ctx)
	pctx, pcancel := context.WithDeadline(ctx, end)
	var cwg sync.WaitGroup
	if r.w.BacklogBytes > 0 && len(cs) > 0 {
		cwg.Go(func() { r.replay(cctx, pctx, cs, &cwg) })
	} else {
		for _, c := range cs {
			cwg.Go(func() { r.consume(cctx, c) })
		}
	}
	var pwg sync.WaitGroup
	rate := float64(r.w.TotalRate()) / float64(max(1, len(ps)))
	// Sends outlive a cancelled ctx: an interrupted run stops sending but
	// lets what is in flight be acknowledged. A send blocked on a broker
	// that stopped answering ends DrainTimeout after the deadline.
	sctx, scancel := context.WithDeadline(context.WithoutCancel(ctx), end.Add(r.cfg.DrainTimeout))
	defer scancel()
	for _, p := range ps {
		pwg.Go(func() { r.produce(sctx, pctx, p, rate) })
	}
	pdone := make(chan struct{})
	go func() { pwg.Wait(); close(pdone) }()

	ticker := time.NewTicker(iv)
	defer ticker.Stop()
	r.waitProducers(ticker, pdone)
	pcancel()
	stopped := time.Now()
	r.drain(ctx, ticker)
	drained := time.Now()
	r.cfg.Control.attach(nil)
	ccancel()
	cwg.Wait() // a consumer may finish a long poll first
	closeConsumers(cs)
	r.collect(time.Now())
	sum := r.summary(ctx, stopped, drained)
	sum.Replay = r.replayed
	return RunResult{Name: r.w.Name, Intervals: r.intervals, Summary: sum}
}

// replay is the replay test: it waits (until the producers' deadline at
// most) for the backlog, starts the consumers, and watches them catch up.
func (r *run) replay(cctx, pctx context.Context, cs []*consumerSlot, cwg *sync.WaitGroup) {
	rp := &Replay{BacklogBytes: r.w.BacklogBytes}
	r.replayed = rp
	size := int64(max(1, r.pl.size()))
	poll := time.NewTicker(5 * time.Millisecond)
	defer poll.Stop()
	for r.acked.Load()*size < r.w.BacklogBytes && pctx.Err() == nil {
		<-poll.C
	}
	if pctx.Err() != nil {
		r.note("the backlog of %d bytes was not built before the producers stopped; consumers started then", r.w.BacklogBytes)
	}
	start := time.Now()
	rp.StartedAt = start.Sub(r.start).Seconds()
	rp.BacklogMessages = r.backlog()
	recv0 := r.recv.Load()
	for _, c := range cs {
		cwg.Go(func() { r.consume(cctx, c) })
	}
	for cctx.Err() == nil {
		if r.backlog() <= rp.BacklogMessages/100 {
			now := time.Now()
			rp.CaughtUp, rp.CaughtUpAt = true, now.Sub(r.start).Seconds()
			rp.CatchUpSeconds = now.Sub(start).Seconds()
			rp.CatchUpRate = perSec(r.recv.Load()-recv0, rp.CatchUpSeconds)
			return
		}
		select {
		case <-poll.C:
		case <-cctx.Done():
		}
	}
}

func (r *run) waitProducers(ticker *time.Ticker, pdone <-chan struct{}) {
	for {
		select {
		case now := <-ticker.C:
			r.collect(now)
		case <-pdone:
			return
		}
	}
}

// drain waits, bounded by DrainTimeout, until consumers have received
// every published message once per subscription.
func (r *run) drain(ctx context.Context, ticker *time.Ticker) {
	if r.subs == 0 || len(r.consumers) == 0 {
		return
	}
	deadline := time.NewTimer(r.cfg.DrainTimeout)
	defer deadline.Stop()
	poll := time.NewTicker(5 * time.Millisecond)
	defer poll.Stop()
	for !r.drained() {
		select {
		case now := <-ticker.C:
			r.collect(now)
		case <-poll.C:
		case <-deadline.C:
			r.note("consumers had not caught up %v after the producers stopped", r.cfg.DrainTimeout)
			return
		case <-ctx.Done():
			return
		}
	}
}

// drained reports whether the consumers received every published
// message once per subscription and, with a consumer model, ended each
// one they could: none is being processed, no crashed member awaits its
// replacement, and every distinct message received ended (or will not:
// commit before processing lost it in a crash).
func (r *run) drained() bool {
	want := r.acked.Load() * int64(r.subs)
	if r.recv.Load() < want {
		return false
	}
	if r.w.Consumer == nil {
		return true
	}
	o := &r.out
	if o.processed.Load()+o.deadLettered.Load()+o.discarded.Load() >= want {
		return true
	}
	if o.busy.Load() > 0 {
		return false
	}
	for _, s := range r.slots {
		if s.current() == nil {
			return false
		}
	}
	return true
}

// batchSender is implemented by producers that send whole batches (gale's
// raw producer); the load loop then hands them BatchSize messages at a
// time, each with its own send timestamp. SendBatch must not keep sentAt
// after calling done: the load loop reuses it.
type batchSender interface {
	BatchSize() int
	SendBatch(ctx context.Context, sentAt []int64, done func(error))
}

// produce sends until pctx ends (the deadline) or the producer's limit.
// Open loop (rate > 0): message i is due at its intended time, and both
// latencies count from it. Closed loop: as fast as MaxInFlight allows.
// Sends use ctx, so the deadline does not fail messages in flight.
func (r *run) produce(ctx, pctx context.Context, p producerRun, rate float64) {
	defer func() {
		cctx, cancel := context.WithTimeout(ctx, r.cfg.DrainTimeout)
		defer cancel()
		if err := p.p.Close(cctx); err != nil {
			r.note("closing a producer: %v", err)
		}
	}()
	if bs, ok := p.p.(batchSender); ok {
		r.produceBatches(ctx, pctx, p, bs, rate)
		return
	}
	if ms, ok := p.p.(messageBatchSender); ok {
		r.produceMessages(ctx, pctx, p, ms, rate)
		return
	}
	inflight := newInflight(r.w.MaxInFlight)
	model := r.w.Consumer
	open := rate > 0
	pc := newPacer(clockNow(), max(rate, 1))
	spin := pc.spin()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	size := r.pl.size()
	for i := int64(0); p.limit == 0 || i < p.limit; i++ {
		var intended int64
		if open {
			t := pc.intended(i)
			if waitUntil(pctx, t, timer, spin) != nil {
				return
			}
			intended = t.UnixNano()
		}
		if !inflight.acquire(pctx) {
			return
		}
		now := nowNs() // the one clock read per message
		if pctx.Err() != nil {
			return
		}
		sentAt, delay := now, int64(-1)
		if open {
			sentAt, delay = intended, now-intended
		}
		p.m.sent(size, delay)
		msg := Message{Key: r.pl.key(i), Value: r.pl.value(i), SentAt: sentAt}
		if model != nil {
			msg.Tagged, msg.Producer, msg.Seq = true, p.idx, uint64(i)
			msg.Poison = isPoison(r.cfg.Seed, int(p.idx), i, model.PoisonRate)
		}
		p.p.Send(ctx, msg, func(err error) {
			p.m.acked(size, nowNs()-sentAt, err)
			if err == nil {
				r.acked.Add(1)
			} else {
				r.noteOnce("send", "a send failed: %v", err)
			}
			inflight.release()
		})
	}
}

// produceBatches is produce for a batchSender: batch j holds messages
// j*n .. j*n+n-1, is sent when its last message is due (open loop), and
// each message's latency counts from its own intended time, so the wait
// to fill a batch counts as it does for a lingering client.
func (r *run) produceBatches(ctx, pctx context.Context, p producerRun, bs batchSender, rate float64) {
	n := int64(bs.BatchSize())
	window := max(1, r.w.MaxInFlight/int(n))
	inflight := newInflight(window)
	// free holds the send-time slices of acknowledged batches, for reuse:
	// at most window are in flight, so at most window are ever made.
	free := make(chan []int64, window)
	var delays []int64 // open loop; sentBatch does not keep it
	open := rate > 0
	pc := newPacer(clockNow(), max(rate, 1))
	spin := spinFor(time.Duration(float64(n) * pc.period)) // one wait per batch
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	size := r.pl.size()
	for i := int64(0); p.limit == 0 || i < p.limit; i += n {
		if open && waitUntil(pctx, pc.intended(i+n-1), timer, spin) != nil {
			return
		}
		if !inflight.acquire(pctx) {
			return
		}
		now := nowNs()
		if pctx.Err() != nil {
			return
		}
		var sentAt []int64
		select {
		case sentAt = <-free:
		default:
			sentAt = make([]int64, n)
		}
		delays = delays[:0]
		for k := range sentAt {
			sentAt[k] = now
			if open {
				t := pc.intended(i + int64(k)).UnixNano()
				sentAt[k] = t
				delays = append(delays, now-t)
			}
		}
		p.m.sentBatch(size, int(n), delays)
		bs.SendBatch(ctx, sentAt, func(err error) {
			p.m.ackedBatch(size, sentAt, nowNs(), err)
			if err == nil {
				r.acked.Add(n)
			} else {
				r.noteOnce("send", "a batch send failed: %v", err)
			}
			select {
			case free <- sentAt:
			default: // cannot happen: at most window batches are out
			}
			inflight.release()
		})
	}
}

// collect closes the interval ending at now: it gathers every meter's
// window, logs its histograms and folds a measured interval into the
// totals.
func (r *run) collect(now time.Time) {
	r.agg.reset()
	for _, m := range r.producers {
		m.swapInto(&r.agg)
	}
	for _, m := range r.consumers {
		m.swapInto(&r.agg)
	}
	a := &r.agg
	secs := now.Sub(r.lastTick).Seconds()
	warmup := r.lastTick.Before(r.measureFrom.Add(-r.cfg.Interval / 2))
	backlog := r.backlog()
	var batches int64
	for _, b := range r.batchers {
		batches += b.Batches()
	}
	batches, r.batches = batches-r.batches, batches
	iv := Interval{
		Start:          r.lastTick.Sub(r.start).Seconds(),
		End:            now.Sub(r.start).Seconds(),
		Warmup:         warmup,
		Rates:          a.rates(secs, secs),
		Backlog:        backlog,
		Batches:        batches,
		BatchRate:      perSec(batches, secs),
		PublishLatency: percentiles(a.pub),
		PublishDelay:   percentiles(a.delay),
		EndToEnd:       percentiles(a.e2e),
	}
	if r.w.Consumer != nil {
		iv.Consumer = r.intervalOutcome(a, secs)
	}
	r.logHistograms(r.lastTick, now)
	if !warmup {
		r.total.add(a)
		r.backlogMax = max(r.backlogMax, backlog)
	}
	r.intervals = append(r.intervals, iv)
	r.lastTick = now
	if r.cfg.Progress != nil {
		r.cfg.Progress(r.w.Name, iv)
	}
}

func (r *run) logHistograms(from, to time.Time) {
	if r.hlog == nil {
		return
	}
	for _, h := range []struct {
		tag string
		h   *hdr.Histogram
	}{{"publish", r.agg.pub}, {"publish_delay", r.agg.delay}, {"e2e", r.agg.e2e}} {
		if h.h == nil || h.h.TotalCount() == 0 {
			continue
		}
		h.h.SetTag(h.tag)
		h.h.SetStartTimeMs(from.UnixMilli())
		h.h.SetEndTimeMs(to.UnixMilli())
		if err := r.hlog.OutputIntervalHistogram(h.h); err != nil {
			r.note("writing the histogram log: %v", err)
			r.hlog = nil
			return
		}
	}
}

// backlog is what was published but not yet received, per subscription
// summed. A consumer may see a message before its producer sees the ack;
// such a message counts as received, not as a negative backlog.
func (r *run) backlog() int64 {
	return max(0, r.acked.Load()*int64(r.subs)-r.recv.Load())
}

// paddedInt64 is an atomic.Int64 alone on its cache line.
type paddedInt64 struct {
	_ [64]byte
	atomic.Int64
	_ [56]byte
}

// rates turns w's counts into Rates: publishing over pubSecs, consuming
// over conSecs.
func (w *window) rates(pubSecs, conSecs float64) Rates {
	return Rates{
		Published:   w.acked,
		PublishRate: perSec(w.acked, pubSecs),
		PublishMBps: perSec(w.ackedBytes, pubSecs) / 1e6,
		Consumed:    w.recv,
		ConsumeRate: perSec(w.recv, conSecs),
		ConsumeMBps: perSec(w.recvBytes, conSecs) / 1e6,
		Errors:      w.errs,
	}
}

func perSec(n int64, secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return float64(n) / secs
}

func (r *run) summary(ctx context.Context, stopped, drained time.Time) Summary {
	t := &r.total
	pubSecs := max(0, stopped.Sub(r.measureFrom).Seconds())
	conSecs := max(0, drained.Sub(r.measureFrom).Seconds())
	s := Summary{
		Mode:           "closed",
		TargetRate:     r.w.TotalRate(),
		Seconds:        pubSecs,
		ConsumeSeconds: conSecs,
		Sent:           t.sent,
		Rates:          t.rates(pubSecs, conSecs),
		BacklogMax:     r.backlogMax,
		BacklogEnd:     r.backlog(),
		PublishLatency: percentiles(t.pub),
		PublishDelay:   percentiles(t.delay),
		EndToEnd:       percentiles(t.e2e),
		Status:         "ok",
	}
	if s.TargetRate > 0 {
		s.Mode = "open"
	}
	for _, iv := range r.intervals {
		if iv.Warmup {
			s.Errors += iv.Errors // failures are never excluded
		} else {
			s.Batches += iv.Batches
		}
	}
	s.BatchRate = perSec(s.Batches, pubSecs)
	if s.Batches > 0 {
		s.BatchMessages = float64(s.Published) / float64(s.Batches)
	}
	if r.w.Consumer != nil {
		s.Consumer = r.consumerOutcome(t, conSecs)
		if c := s.Consumer; !c.Balanced {
			r.note("consumer check: processed %d + dead-lettered %d + discarded %d != consumed %d (distinct): %d received never ended (commit %s)",
				c.Processed, c.DeadLettered, c.Discarded, c.Distinct, c.Unfinished, c.Commit)
		}
	}
	s.DataLoss = r.dataLoss.Load()
	if s.Errors > 0 {
		s.Status = "errors"
		r.note("%d sends or receives failed; the run went on and ended normally", s.Errors)
	}
	if errors.Is(ctx.Err(), context.Canceled) || ctx.Err() != nil {
		s.Status = "interrupted"
		r.note("the run was interrupted; results cover it up to then")
	}
	r.noteMu.Lock()
	s.Notes = append([]string(nil), r.notes...)
	r.noteMu.Unlock()
	return s
}

// workloadJSON is w as results.json records it.
func workloadJSON(w Workload) json.RawMessage {
	b, err := json.Marshal(w)
	if err != nil {
		panic(fmt.Sprintf("loadgen: workload does not marshal: %v", err)) // a bug: Workload is plain data
	}
	return b
}
