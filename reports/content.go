package reports

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// content builds the report's blocks, drawing its plots as it goes.
func (g *generator) content() ([]block, error) {
	var err error
	bs := []block{headingOf(1, g.title)}
	bs = append(bs, g.verdicts()...)
	bs = append(bs, g.overview())
	combined := g.combinedSpectrum()
	if len(g.inputs) > 1 {
		bs = append(bs, g.comparison(combined)...)
	}
	for _, in := range g.inputs {
		bs = append(bs, g.section(in, !combined)...)
	}
	if g.hl != nil {
		bs = append(bs, g.hlogSection()...)
	}
	bs = append(bs, g.environment()...)
	for _, b := range bs {
		if f, ok := b.(figure); ok && f.err != nil && err == nil {
			err = f.err
		}
	}
	return bs, err
}

// figure draws a plot into the report's directory; a failure is carried in
// the block and returned by content.
func (g *generator) figure(name, title, alt string, h vg.Length, drawFn func(draw.Canvas)) figure {
	p, svg, err := renderPlot(g.dir, name, title, alt, h, drawFn)
	if err == nil {
		g.plots = append(g.plots, p)
	}
	return figure{plot: p, svg: svg, err: err}
}

// verdicts are the headline: each input's scenario verdict, or the checks
// of an input that has no scenario.
func (g *generator) verdicts() []block {
	var bs []block
	for _, in := range g.inputs {
		r := in.res
		if s := r.Scenario; s != nil {
			ss := spans(txt(verdictIcon(s.Verdict)+" "), bold(verdictWord(s.Verdict)), txt(" — "+in.label))
			if s.Name != "" {
				ss = append(ss, txt(": scenario "), mono(s.Name))
			}
			ss = append(ss, txt(fmt.Sprintf(", seed %d, exit code %d", s.Seed, s.ExitCode)))
			bs = append(bs, para{spans: ss})
			if len(s.Notes) > 0 {
				var l list
				for _, n := range s.Notes {
					l.items = append(l.items, spans(txt(n)))
				}
				bs = append(bs, l)
			}
			continue
		}
		for _, c := range checksOf(r) {
			ss := spans(txt(checkIcon(c.check.Verdict)+" "), bold("check "+c.check.Verdict), txt(" — "+in.label))
			if c.where != "" {
				ss = append(ss, txt(", "+c.where))
			}
			ss = append(ss, txt(": "+c.check.Expect+", "+checkSummary(c.check)))
			bs = append(bs, para{spans: ss})
		}
	}
	return bs
}

func verdictIcon(v string) string {
	switch v {
	case "pass":
		return "✅"
	case "threshold", "violation":
		return "❌"
	}
	return "⚠️"
}

func verdictWord(v string) string {
	switch v {
	case "pass":
		return "PASS"
	case "threshold":
		return "FAIL: a threshold was breached"
	case "violation":
		return "FAIL: a guarantee was violated"
	case "undecided":
		return "UNDECIDED: the checker timed out"
	case "interrupted":
		return "INTERRUPTED"
	}
	return strings.ToUpper(v)
}

func checkIcon(v string) string {
	switch v {
	case "ok":
		return "✅"
	case "violated":
		return "❌"
	}
	return "⚠️"
}

// checkSummary says what a check found, in a few words.
func checkSummary(c *CheckResult) string {
	s := fmt.Sprintf("%s operations", fmtCount(int64(c.Operations)))
	if len(c.Violations) > 0 {
		s += "; violated by " + strings.Join(c.Violations, ", ")
	}
	var found []string
	for _, k := range slices.Sorted(maps.Keys(c.Anomalies)) {
		if n := c.Anomalies[k]; n > 0 {
			found = append(found, fmt.Sprintf("%s %s", k, fmtCount(int64(n))))
		}
	}
	if len(found) == 0 {
		s += "; no anomalies"
	} else {
		s += "; anomalies: " + strings.Join(found, ", ")
	}
	return s
}

// placedCheck is a check and the phase it belongs to ("" for the file).
type placedCheck struct {
	where string
	check *CheckResult
}

func checksOf(r *Results) []placedCheck {
	var cs []placedCheck
	if r.Check != nil {
		cs = append(cs, placedCheck{"", r.Check})
	}
	for i := range r.Phases {
		if c := r.Phases[i].Check; c != nil {
			cs = append(cs, placedCheck{"phase " + phaseName(&r.Phases[i], i), c})
		}
	}
	return cs
}

func phaseName(p *Results, i int) string {
	if p.Phase != "" {
		return p.Phase
	}
	return fmt.Sprintf("phase%d", i+1)
}

// overview lists the inputs.
func (g *generator) overview() block {
	var l list
	for _, in := range g.inputs {
		ss := spans(bold(in.label))
		if in.name != "" {
			ss = append(ss, txt(" from "), mono(in.name))
		}
		runs := in.res.Runs()
		ss = append(ss, txt(": "+plural(len(runs), "run", "runs")))
		if n := countFaults(in.res); n > 0 {
			ss = append(ss, txt(", "+plural(n, "fault", "faults")))
		}
		if n := len(checksOf(in.res)); n > 0 {
			ss = append(ss, txt(", "+plural(n, "check", "checks")))
		}
		l.items = append(l.items, ss)
	}
	if g.hl != nil {
		l.items = append(l.items, spans(bold("histogram logs"), txt(": "+plural(len(g.hl.Files), "file", "files")+", "+plural(g.hl.Intervals, "interval", "intervals")+" merged")))
	}
	return l
}

func countFaults(r *Results) int {
	n := len(r.Faults)
	for i := range r.Phases {
		n += len(r.Phases[i].Faults)
	}
	return n
}

// combinedSpectrum reports whether one spectrum shows every input's runs
// (several inputs, few runs in all) instead of one spectrum per input.
func (g *generator) combinedSpectrum() bool {
	if len(g.inputs) < 2 {
		return false
	}
	n := 0
	for _, in := range g.inputs {
		n += len(in.res.Runs())
	}
	return n <= maxSpectrumRuns
}

// comparison is the section that sets several inputs side by side.
func (g *generator) comparison(spectrum bool) []block {
	bs := []block{headingOf(2, "Comparison")}
	var labels []string
	var runs [][]Run
	t := table{
		head:  []string{"input", "run", "publish msg/s", "publish MB/s", "consume msg/s", "publish p99 µs", "e2e p99 µs", "errors"},
		right: []bool{false, false, true, true, true, true, true, true},
	}
	for _, in := range g.inputs {
		rs := in.res.Runs()
		labels = append(labels, in.label)
		runs = append(runs, rs)
		for _, r := range rs {
			s := r.Summary
			t.rows = append(t.rows, []string{in.label, runName(r), fmtRate(s.PublishRate), fmtMB(s.PublishMBps), fmtRate(s.ConsumeRate),
				latencyCell(s.PublishLatency, s.PublishLatency.P99), latencyCell(s.EndToEnd, s.EndToEnd.P99), fmtCount(s.Errors)})
		}
	}
	bs = append(bs, t)
	if c := newComparison(labels, runs); len(c.runs) > 0 {
		h, fn := barsFigure(c)
		bs = append(bs, g.figure(g.plotName("compare"), "Publish rate and p99 latency, side by side",
			"bars: publish msg/s and "+c.p99Of+" p99 per input and run", h, fn))
	}
	if spectrum {
		var all []Run
		var names []string
		for i, rs := range runs {
			for _, r := range rs {
				all = append(all, r)
				n := labels[i]
				if r.Path != "" {
					n += " " + r.Path
				}
				names = append(names, n)
			}
		}
		if cs := runCurves(all, names); len(cs) > 0 {
			if h, fn, ok := spectrumFigure("Latency percentile spectrum", cs); ok {
				bs = append(bs, g.figure(g.plotName("spectrum"), "Latency percentile spectrum",
					"latency against percentile (log 1/(1-p) axis), one line per input, run and kind", h, fn))
			}
		}
	}
	return bs
}

// section is one input's part of the report.
func (g *generator) section(in input, spectrum bool) []block {
	r := in.res
	bs := []block{headingOf(2, in.label), g.describeRun(r, in.name)}
	if s := r.Scenario; s != nil && len(s.Thresholds) > 0 {
		bs = append(bs, headingOf(3, "Thresholds"), thresholdTable(s.Thresholds))
		if s.ExpectViolation != "" {
			bs = append(bs, paraOf(txt("This scenario expects a violation: "), mono(s.ExpectViolation), txt("; finding it is the pass.")))
		}
	}
	single := len(g.inputs) == 1
	prefix := ""
	if !single {
		prefix = in.label
	}
	bs = append(bs, g.ownerBlocks(r, prefix, "", 3)...)
	for i := range r.Phases {
		p := &r.Phases[i]
		name := phaseName(p, i)
		bs = append(bs, headingOf(3, "Phase: "+name))
		if p.Target != r.Target || p.WorkloadName() != r.WorkloadName() {
			bs = append(bs, g.describeRun(p, ""))
		}
		bs = append(bs, g.ownerBlocks(p, prefix, name, 4)...)
	}
	if spectrum {
		runs := r.Runs()
		var names []string
		for _, run := range runs {
			names = append(names, run.Path)
		}
		if cs := runCurves(runs, names); len(cs) > 0 {
			title := "Latency percentile spectrum"
			if !single {
				title += ": " + in.label
			}
			if h, fn, ok := spectrumFigure(title, cs); ok {
				note := ""
				if len(runs) > maxSpectrumRuns {
					note = " (end-to-end only, with this many runs)"
				}
				bs = append(bs, headingOf(3, "Latency percentile spectrum"),
					g.figure(g.plotName(prefix, "spectrum"), title+note,
						"latency against percentile (log 1/(1-p) axis), one line per run and kind", h, fn))
			}
		}
	}
	return bs
}

// describeRun is the line under a section's heading: what ran, where.
func (g *generator) describeRun(r *Results, file string) block {
	var ss []span
	add := func(s ...span) {
		if len(ss) > 0 {
			ss = append(ss, txt(" · "))
		}
		ss = append(ss, s...)
	}
	if t := targetOf(r); t != "" {
		add(txt("target "), mono(t))
	}
	if w := r.WorkloadName(); w != "" {
		add(txt("workload "), mono(w))
	}
	if n := messageSize(r); n > 0 {
		add(txt(fmt.Sprintf("%d B messages", n)))
	}
	if r.Seed != 0 {
		add(txt(fmt.Sprintf("seed %d", r.Seed)))
	}
	if file != "" {
		add(txt("file "), mono(file))
	}
	return para{spans: ss}
}

// messageSize reads the workload's messageSize, 0 if it has none.
func messageSize(r *Results) int {
	var w struct {
		MessageSize int `json:"messageSize"`
	}
	_ = json.Unmarshal(r.Workload, &w)
	return w.MessageSize
}

// ownerBlocks shows what one Results (a file or a phase) holds: its run,
// its sweep, its max-rate search, its faults and its check.
func (g *generator) ownerBlocks(r *Results, prefix, phase string, lvl int) []block {
	var bs []block
	if r.Summary != nil {
		run := Run{Path: phase, Intervals: r.Intervals, Summary: r.Summary, Owner: r}
		bs = append(bs, runBlocks(run, "Run")...)
	}
	if s := r.Sweep; s != nil && len(s.Runs) > 0 {
		bs = append(bs, headingOf(lvl, "Sweep over "+s.Field), sweepTable(s))
		label := ""
		if prefix != "" || phase != "" {
			label = join(prefix, phase)
		}
		h, fn := sweepFigure(s.Field, []sweepLine{newSweepLine(label, s)})
		bs = append(bs, g.figure(g.plotName(prefix, phase, "sweep"), "Throughput by "+s.Field,
			"msg/s and MB/s against "+s.Field, h, fn))
		var each []block
		for i := range s.Runs {
			sr := &s.Runs[i]
			run := Run{Path: s.Field + "=" + sr.Value, Intervals: sr.Intervals, Summary: &sr.Summary, Owner: r}
			each = append(each, runBlocks(run, "")...)
		}
		bs = append(bs, details{summary: "Each run of the sweep: rates and latency percentiles", blocks: each})
	}
	if m := r.MaxRate; m != nil {
		bs = append(bs, headingOf(lvl, "Max sustainable rate"), maxRateBlock(m))
		if len(m.Probes) > 0 {
			bs = append(bs, probeTable(m.Probes))
		}
	}
	if len(r.Faults) > 0 {
		bs = append(bs, headingOf(lvl, "Fault timeline"), faultTable(r.Faults))
	}
	if r.Summary != nil {
		title := "Throughput and p99 over time"
		if phase != "" || prefix != "" {
			title += ": " + join(prefix, phase)
		}
		if h, fn, ok := timelineFigure(title, r.Intervals, r.Faults); ok {
			alt := "per-interval msg/s and p99 latency"
			if len(r.Faults) > 0 {
				alt += ", fault windows shaded"
			}
			bs = append(bs, g.figure(g.plotName(prefix, phase, "timeline"), title, alt, h, fn))
		}
	}
	if c := r.Check; c != nil {
		bs = append(bs, headingOf(lvl, "Check: "+c.Expect))
		bs = append(bs, checkBlocks(c)...)
	}
	return bs
}

// runBlocks is one run: a line saying how it ran, then its rates and
// latency percentiles.
func runBlocks(r Run, name string) []block {
	s := r.Summary
	if name == "" {
		name = runName(r)
	}
	ss := spans(bold(name), txt(" — "))
	mode := "closed loop (max throughput)"
	if s.Mode == "open" {
		mode = "open loop at " + fmtRate(float64(s.TargetRate)) + " msg/s"
	}
	parts := []string{mode, fmtSeconds(s.Seconds) + " s measured",
		fmtCount(s.Published) + " published", fmtCount(s.Consumed) + " consumed",
		fmtCount(s.Errors) + " errors"}
	if s.Batches > 0 {
		parts = append(parts, fmt.Sprintf("%s batches (%s msg/batch)", fmtCount(s.Batches), grouped(s.BatchMessages, 1)))
	}
	if s.BacklogEnd > 0 {
		parts = append(parts, fmtCount(s.BacklogEnd)+" never consumed")
	}
	ss = append(ss, txt(strings.Join(parts, " · ")))
	if s.Status != "" && s.Status != "ok" {
		ss = append(ss, txt(" · ⚠️ "), bold("status "+s.Status))
	}
	bs := []block{para{spans: ss}}
	t := table{
		head:  []string{"", "msg/s", "MB/s", "p50 µs", "p99 µs", "p99.9 µs", "max µs"},
		right: []bool{false, true, true, true, true, true, true},
	}
	t.rows = append(t.rows, latencyRow("publish", fmtRate(s.PublishRate), fmtMB(s.PublishMBps), s.PublishLatency))
	t.rows = append(t.rows, latencyRow("consume, end-to-end", fmtRate(s.ConsumeRate), fmtMB(s.ConsumeMBps), s.EndToEnd))
	if s.PublishDelay.Count > 0 && s.Mode == "open" {
		t.rows = append(t.rows, latencyRow("publish delay", "", "", s.PublishDelay))
	}
	bs = append(bs, t)
	if rp := s.Replay; rp != nil {
		msg := fmt.Sprintf("Replay: consumers started at %s s with %s messages of backlog; ", fmtSeconds(rp.StartedAt), fmtCount(rp.BacklogMessages))
		if rp.CaughtUp {
			msg += fmt.Sprintf("caught up at %s s, in %s s (%s msg/s).", fmtSeconds(rp.CaughtUpAt), fmtSeconds(rp.CatchUpSeconds), fmtRate(rp.CatchUpRate))
		} else {
			msg += "did not catch up."
		}
		bs = append(bs, textPara(msg))
	}
	if len(s.Notes) > 0 {
		var l list
		for _, n := range s.Notes {
			l.items = append(l.items, spans(txt(n)))
		}
		bs = append(bs, l)
	}
	return bs
}

func latencyRow(name, rate, mb string, p Percentiles) []string {
	return []string{name, rate, mb, latencyCell(p, p.P50), latencyCell(p, p.P99), latencyCell(p, p.P999), latencyCell(p, p.Max)}
}

// latencyCell is a latency figure, or a dash when nothing was measured.
func latencyCell(p Percentiles, v float64) string {
	if p.Count == 0 {
		return "–"
	}
	return fmtUs(v)
}

// sweepTable has a row per swept value; the peak rate is marked.
func sweepTable(s *SweepResults) table {
	t := table{
		head:  []string{s.Field, "publish msg/s", "batches/s", "msg/batch", "publish MB/s", "consume msg/s", "publish p99 µs", "e2e p99 µs", "errors"},
		right: []bool{true, true, true, true, true, true, true, true, true},
	}
	peak := 0
	for i, r := range s.Runs {
		if r.Summary.PublishRate > s.Runs[peak].Summary.PublishRate {
			peak = i
		}
	}
	for i, r := range s.Runs {
		m := r.Summary
		rate := fmtRate(m.PublishRate)
		if i == peak && len(s.Runs) > 1 {
			rate += " (peak)"
		}
		t.rows = append(t.rows, []string{r.Value, rate, fmtRate(m.BatchRate), grouped(m.BatchMessages, 1), fmtMB(m.PublishMBps),
			fmtRate(m.ConsumeRate), latencyCell(m.PublishLatency, m.PublishLatency.P99), latencyCell(m.EndToEnd, m.EndToEnd.P99), fmtCount(m.Errors)})
	}
	return t
}

func maxRateBlock(m *MaxRateResult) block {
	ss := spans(txt("Highest rate that held: "), bold(fmtRate(float64(m.Rate))+" msg/s"))
	if m.Criterion != "" {
		ss = append(ss, txt(" (criterion: "), mono(m.Criterion), txt(")"))
	}
	if m.Decision != "" {
		ss = append(ss, txt(". "+m.Decision))
	}
	return para{spans: ss}
}

func probeTable(ps []RateProbe) table {
	t := table{
		head:  []string{"target msg/s", "achieved msg/s", "p99 µs", "backlog at end", "errors", "held", "reason"},
		right: []bool{true, true, true, true, true, false, false},
	}
	for _, p := range ps {
		target := fmtRate(float64(p.Rate))
		if p.Rate == 0 {
			target = "closed loop"
		}
		held := "❌ no"
		if p.Held {
			held = "✅ yes"
		}
		t.rows = append(t.rows, []string{target, fmtRate(p.Achieved), fmtUs(p.P99), fmtCount(p.Backlog), fmtCount(p.Errors), held, p.Reason})
	}
	return t
}

func faultTable(fs []FaultWindow) table {
	t := table{
		head:  []string{"start s", "end s", "kind", "fault", "outcome"},
		right: []bool{true, true, false, false, false},
	}
	for _, f := range fs {
		outcome := "injected"
		if f.Error != "" {
			outcome = "⚠️ " + f.Error
		}
		t.rows = append(t.rows, []string{fmtSeconds(f.Start), fmtSeconds(f.End), f.Kind, f.Fault, outcome})
	}
	return t
}

func thresholdTable(ts []ThresholdResult) table {
	t := table{
		head:  []string{"metric", "min", "max", "value", "held"},
		right: []bool{false, true, true, true, false},
	}
	bound := func(p *float64) string {
		if p == nil {
			return "–"
		}
		return fmtValue(*p)
	}
	for _, th := range ts {
		held := "❌ no"
		if th.Held {
			held = "✅ yes"
		}
		t.rows = append(t.rows, []string{th.Metric, bound(th.Min), bound(th.Max), fmtValue(th.Value), held})
	}
	return t
}

// checkBlocks shows a check: the verdict, then each anomaly kind found
// and whether it breaks the expected guarantee.
func checkBlocks(c *CheckResult) []block {
	ss := spans(txt(checkIcon(c.Verdict)+" "), bold(c.Verdict), txt(" — "+checkSummary(c)))
	if c.History != "" {
		ss = append(ss, txt(" (history "), mono(c.History), txt(")"))
	}
	bs := []block{para{spans: ss}}
	kinds := slices.Sorted(maps.Keys(c.Anomalies))
	for _, v := range c.Violations {
		if !slices.Contains(kinds, v) {
			kinds = append(kinds, v)
		}
	}
	if len(kinds) == 0 {
		return bs
	}
	t := table{head: []string{"anomaly", "count", "breaks " + c.Expect}, right: []bool{false, true, false}}
	for _, k := range kinds {
		n, counted := c.Anomalies[k]
		count := "–"
		if counted {
			count = fmtCount(int64(n))
		}
		breaks := "no"
		if slices.Contains(c.Violations, k) {
			breaks = "❌ yes"
		}
		t.rows = append(t.rows, []string{k, count, breaks})
	}
	return append(bs, t)
}

// hlogSection shows the merged histogram logs: a table and the spectrum.
func (g *generator) hlogSection() []block {
	hl := g.hl
	bs := []block{headingOf(2, "Histogram logs")}
	files := make([]span, 0, 2*len(hl.Files))
	for i, f := range hl.Files {
		if i > 0 {
			files = append(files, txt(", "))
		}
		files = append(files, mono(f))
	}
	msg := fmt.Sprintf(": %s merged", plural(hl.Intervals, "interval histogram", "interval histograms"))
	if hl.Skipped > 0 {
		msg += fmt.Sprintf(", %d skipped as warmup", hl.Skipped)
	}
	if hl.Dropped > 0 {
		msg += fmt.Sprintf(", %s values out of range dropped", fmtCount(hl.Dropped))
	}
	bs = append(bs, para{spans: append(append(spans(txt("From ")), files...), txt(msg+"."))})
	t := table{
		head:  []string{"tag", "count", "p50 µs", "p90 µs", "p99 µs", "p99.9 µs", "p99.99 µs", "max µs"},
		right: []bool{false, true, true, true, true, true, true, true},
	}
	for _, tag := range hl.sortedTags() {
		h := hl.Histograms[tag]
		us := func(q float64) string { return fmtUs(float64(h.ValueAtQuantile(q)) / 1e3) }
		t.rows = append(t.rows, []string{tag, fmtCount(h.TotalCount()), us(50), us(90), us(99), us(99.9), us(99.99), fmtUs(float64(h.Max()) / 1e3)})
	}
	bs = append(bs, t)
	if cs := hlogCurves(hl); len(cs) > 0 {
		title := fmt.Sprintf("Latency percentile spectrum, %s merged", plural(len(hl.Files), ".hlog file", ".hlog files"))
		if h, fn, ok := spectrumFigure(title, cs); ok {
			bs = append(bs, g.figure(g.plotName("spectrum", "hlog"), title,
				"latency against percentile from the full histograms, one line per tag", h, fn))
		}
	}
	return bs
}

// environment lists where each input ran; identical rows are shown once.
func (g *generator) environment() []block {
	if len(g.inputs) == 0 {
		return nil
	}
	t := table{head: []string{"input", "CPU", "cores", "OS/arch", "Go", "gale", "host"}, right: []bool{false, false, true}}
	seen := map[Environment]int{}
	for _, in := range g.inputs {
		e := in.res.Environment
		if i, ok := seen[e]; ok {
			t.rows[i][0] += ", " + in.label
			continue
		}
		seen[e] = len(t.rows)
		t.rows = append(t.rows, []string{in.label, e.CPUModel, strconv.Itoa(e.Cores), e.OS + "/" + e.Arch, e.GoVersion, e.GaleCommit, e.Hostname})
	}
	if len(t.rows) == 1 {
		t.rows[0][0] = "all"
	}
	return []block{headingOf(2, "Environment"), t}
}
