package reports

import (
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// sweepLine is one sweep's throughput against the swept value.
type sweepLine struct {
	label  string // the input (and phase) it belongs to
	values []string
	pub    []float64 // msg/s
	cons   []float64
	pubMB  []float64 // MB/s
	consMB []float64
}

func newSweepLine(label string, s *SweepResults) sweepLine {
	l := sweepLine{label: label}
	for _, r := range s.Runs {
		l.values = append(l.values, r.Value)
		l.pub = append(l.pub, r.Summary.PublishRate)
		l.cons = append(l.cons, r.Summary.ConsumeRate)
		l.pubMB = append(l.pubMB, r.Summary.PublishMBps)
		l.consMB = append(l.consMB, r.Summary.ConsumeMBps)
	}
	return l
}

// sweepAxis says how swept values map to x: numbers where every value of
// every line is one (log scale when they are positive and span 10x or
// more), positions 0, 1, 2... with the values as labels otherwise.
type sweepAxis struct {
	numeric bool
	log     bool
	names   []string // the nominal axis's labels
}

func newSweepAxis(lines []sweepLine) sweepAxis {
	a := sweepAxis{numeric: true}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, l := range lines {
		for _, v := range l.values {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				a.numeric = false
			}
			lo, hi = min(lo, f), max(hi, f)
		}
	}
	if a.numeric {
		a.log = lo > 0 && hi/lo >= 10
		return a
	}
	seen := map[string]bool{}
	for _, l := range lines {
		for _, v := range l.values {
			if !seen[v] {
				seen[v] = true
				a.names = append(a.names, v)
			}
		}
	}
	return a
}

func (a sweepAxis) x(v string) float64 {
	if a.numeric {
		f, _ := strconv.ParseFloat(v, 64)
		return f
	}
	for i, n := range a.names {
		if n == v {
			return float64(i)
		}
	}
	return 0
}

func (a sweepAxis) apply(p *plot.Plot) {
	switch {
	case a.log:
		logAxis(&p.X, tickCount)
		p.X.Min -= 0.15 // clear of the frame
		p.X.Max += 0.15
	case a.numeric:
		linearTicks(&p.X, tickCount)
	default:
		p.NominalX(a.names...)
	}
}

// sweepFigure plots throughput against the swept field: msg/s above, MB/s
// below, one colour per line, publish solid and consume dashed.
func sweepFigure(field string, lines []sweepLine) (h vg.Length, drawFn func(draw.Canvas)) {
	ps := sweepPlots(field, lines)
	return vg.Length(len(ps)) * panelHeight, stack(ps...)
}

// sweepPlots are sweepFigure's panels.
func sweepPlots(field string, lines []sweepLine) []*plot.Plot {
	ax := newSweepAxis(lines)
	xLabel := field
	if field == "batch.maxMessages" {
		xLabel = "batch size (batch.maxMessages, messages)"
	}
	msgs := newPlot("Throughput by "+field, "", "msg/s")
	mb := newPlot("", xLabel, "MB/s")
	series := func(l sweepLine, ys []float64) plotter.XYs {
		var xys plotter.XYs
		for i, v := range l.values {
			xys = append(xys, plotter.XY{X: ax.x(v), Y: ys[i]})
		}
		return logXY(xys, ax.log, false)
	}
	n := 0
	for i, l := range lines {
		name := l.label
		if len(lines) == 1 {
			name = ""
		}
		pubLS, gs := seriesLook(i, 0)
		consLS, _ := seriesLook(i, 1)
		addSeries(msgs, join(name, "publish"), series(l, l.pub), pubLS, gs, true)
		addSeries(msgs, join(name, "consume"), series(l, l.cons), consLS, gs, true)
		// the top panel's legend serves both
		addSeries(mb, "", series(l, l.pubMB), pubLS, gs, true)
		addSeries(mb, "", series(l, l.consMB), consLS, gs, true)
		n += 2
	}
	for _, p := range []*plot.Plot{msgs, mb} {
		ax.apply(p)
		linearTicks(&p.Y, tickCount)
		headroom(p, true, n)
	}
	return []*plot.Plot{msgs, mb}
}

// join joins a label and a name with a space, either may be empty.
func join(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " " + b
}
