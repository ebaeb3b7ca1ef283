package reports

import (
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// curve is one line of a spectrum: colour ci tells the run, dash di the
// kind of latency.
type curve struct {
	name   string
	xys    plotter.XYs
	ci, di int
}

// Dashes of the latency kinds on a spectrum.
const (
	dashE2E     = 0
	dashPublish = 1
	dashDelay   = 2
)

// maxSpectrumRuns is how many runs a summary spectrum shows both kinds
// for; past it, it shows one kind per run (end-to-end where measured).
const maxSpectrumRuns = 4

// runCurves returns the spectrum curves of runs, named by their labels.
func runCurves(runs []Run, labels []string) []curve {
	both := len(runs) <= maxSpectrumRuns
	var cs []curve
	for i, r := range runs {
		s := r.Summary
		e2e := percentilesCurve(s.EndToEnd)
		pub := percentilesCurve(s.PublishLatency)
		if e2e != nil {
			cs = append(cs, curve{name: join(labels[i], "end-to-end"), xys: e2e, ci: i, di: dashE2E})
		}
		if pub != nil && (both || e2e == nil) {
			cs = append(cs, curve{name: join(labels[i], "publish"), xys: pub, ci: i, di: dashPublish})
		}
	}
	return cs
}

// hlogCurves returns one curve per tag of merged histogram logs.
func hlogCurves(hl *HistogramLogs) []curve {
	var cs []curve
	for i, tag := range hl.sortedTags() {
		xys := histogramCurve(hl.Histograms[tag])
		if xys == nil {
			continue
		}
		name, di := tag, i
		switch tag {
		case "e2e":
			name, di = "end-to-end", dashE2E
		case "publish":
			di = dashPublish
		case "publish_delay":
			name, di = "publish delay", dashDelay
		}
		cs = append(cs, curve{name: name, xys: xys, ci: i, di: di})
	}
	return cs
}

// spectrumFigure plots curves on the percentile axis; y is log when the
// latencies span more than 20x.
func spectrumFigure(title string, cs []curve) (vg.Length, func(draw.Canvas), bool) {
	lo, hi, xHi := math.Inf(1), math.Inf(-1), 2.0
	for _, c := range cs {
		for _, p := range c.xys {
			if p.Y > 0 {
				lo, hi = min(lo, p.Y), max(hi, p.Y)
			}
			xHi = max(xHi, p.X)
		}
	}
	if math.IsInf(lo, 0) {
		return 0, nil, false
	}
	logY := hi/lo > 20
	p := newPlot(title, "percentile", "latency")
	for _, c := range cs {
		xys := logXY(c.xys, true, logY)
		ls, gs := seriesLook(c.ci, c.di)
		addSeries(p, c.name, xys, ls, gs, len(xys) <= 12)
	}
	var ticks []plot.Tick
	for _, x := range spectrumTicks(xHi) {
		ticks = append(ticks, plot.Tick{Value: math.Log10(x), Label: spectrumLabel(x)})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Min = max(min(p.X.Min, math.Log10(2)), 0)
	p.X.Max = max(p.X.Max, ticks[len(ticks)-1].Value)
	if logY {
		logAxis(&p.Y, tickMicros)
	} else {
		linearTicks(&p.Y, tickMicros)
	}
	headroom(p, !logY, len(cs))
	return panelHeight * 1.25, stack(p), true
}
