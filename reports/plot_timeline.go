package reports

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// band is a shaded stretch of a timeline: a fault window or the warmup.
type band struct {
	from, to float64 // seconds
	label    string
	fill     color.Color
}

var (
	warmupFill = color.NRGBA{0x80, 0x80, 0x80, 0x24}
	faultFill  = color.NRGBA{0xd5, 0x5e, 0x00, 0x40}
	faultError = color.NRGBA{0xcc, 0x00, 0x00, 0x50}
)

// bands is a plotter that shades its bands over the full height of the
// data area, behind the lines, and labels them at the top (when labels is
// set), staggering labels that would overlap.
type bands struct {
	bands  []band
	labels bool
	row0   int // the first text row used for labels (rows above hold the legend)
}

func (b bands) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	sty := labelStyle(p, 8.5)
	lineH := sty.Height("M") * 1.15
	var lastEnd vg.Length = -1e9
	row := 0
	for _, bd := range b.bands {
		x0, x1 := trX(bd.from), trX(bd.to)
		if x1-x0 < vg.Points(2) { // an instant fault: a thin bar
			x0, x1 = x0-vg.Points(1), x0+vg.Points(1)
		}
		x0, x1 = max(x0, c.Min.X), min(x1, c.Max.X)
		if x1 <= x0 {
			continue
		}
		c.FillPolygon(bd.fill, []vg.Point{{X: x0, Y: c.Min.Y}, {X: x1, Y: c.Min.Y}, {X: x1, Y: c.Max.Y}, {X: x0, Y: c.Max.Y}})
		if !b.labels || bd.label == "" {
			continue
		}
		if x0 < lastEnd {
			row++
		} else {
			row = 0
		}
		pt := vg.Point{X: x0 + vg.Points(2), Y: c.Max.Y - vg.Points(4) - vg.Length(b.row0+row%3)*lineH}
		c.FillText(sty, pt, bd.label)
		lastEnd = max(lastEnd, pt.X+sty.Width(bd.label)+vg.Points(4))
	}
}

// timelineBands returns the warmup and the faults of a run as bands.
func timelineBands(ivs []Interval, faults []FaultWindow) []band {
	var bs []band
	end := -1.0
	for _, iv := range ivs {
		if iv.Warmup {
			end = max(end, iv.End)
		}
	}
	if end > 0 {
		bs = append(bs, band{from: ivs[0].Start, to: end, label: "warmup", fill: warmupFill})
	}
	for _, f := range faults {
		fill, label := faultFill, f.Kind
		if label == "" {
			label = "fault"
		}
		if f.Error != "" {
			fill, label = faultError, label+" (failed)"
		}
		bs = append(bs, band{from: f.Start, to: max(f.End, f.Start), label: label, fill: fill})
	}
	return bs
}

// timelineFigure plots a run's throughput (msg/s, above) and p99 latency
// (below) per interval, at each interval's midpoint, with its warmup and
// faults shaded on both panels.
func timelineFigure(title string, ivs []Interval, faults []FaultWindow) (vg.Length, func(draw.Canvas), bool) {
	if len(ivs) < 2 {
		return 0, nil, false
	}
	var pub, cons plotter.XYs
	// an interval with nothing measured breaks the latency lines
	p99Pub, p99E2E := segments{}, segments{}
	for _, iv := range ivs {
		x := (iv.Start + iv.End) / 2
		pub = append(pub, plotter.XY{X: x, Y: iv.PublishRate})
		cons = append(cons, plotter.XY{X: x, Y: iv.ConsumeRate})
		p99Pub.add(x, iv.PublishLatency)
		p99E2E.add(x, iv.EndToEnd)
	}
	bs := timelineBands(ivs, faults)
	points := len(ivs) <= 60
	tp := newPlot(title, "", "msg/s")
	tp.Add(bands{bands: bs, labels: true, row0: 2})
	rightLegend(tp)
	ls, gs := seriesLook(0, 0)
	addSeries(tp, "publish", pub, ls, gs, points)
	ls, gs = seriesLook(2, 1)
	addSeries(tp, "consume", cons, ls, gs, points)
	linearTicks(&tp.Y, tickCount)
	headroom(tp, true, 3)

	lp := newPlot("", "seconds since the run started", "p99 latency")
	lp.Add(bands{bands: bs})
	rightLegend(lp)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, seg := range append(append(segments{}, p99Pub...), p99E2E...) {
		for _, xy := range seg {
			lo, hi = min(lo, xy.Y), max(hi, xy.Y)
		}
	}
	panels := []*plot.Plot{tp}
	if !math.IsInf(lo, 0) {
		logY := hi/lo > 20
		for _, s := range []struct {
			name   string
			segs   segments
			ci, di int
		}{{"end-to-end p99", p99E2E, 0, 0}, {"publish p99", p99Pub, 4, 1}} {
			ls, gs := seriesLook(s.ci, s.di)
			name := s.name
			for _, seg := range s.segs {
				addSeries(lp, name, logXY(seg, false, logY), ls, gs, points)
				name = "" // one legend entry per series
			}
		}
		if logY {
			logAxis(&lp.Y, tickMicros)
		} else {
			linearTicks(&lp.Y, tickMicros)
		}
		headroom(lp, !logY, 2)
		panels = append(panels, lp)
	} else {
		tp.X.Label.Text = lp.X.Label.Text
	}
	// every panel spans the run and every fault
	x0, x1 := ivs[0].Start, ivs[len(ivs)-1].End
	for _, b := range bs {
		x0, x1 = min(x0, b.from), max(x1, b.to)
	}
	for _, p := range panels {
		p.X.Min, p.X.Max = x0, x1
		linearTicks(&p.X, trimFloat)
	}
	return panelHeight * vg.Length(len(panels)), stack(panels...), true
}

// rightLegend moves the legend to the top right, clear of the band labels.
func rightLegend(p *plot.Plot) {
	p.Legend.Left = false
	p.Legend.XOffs = -vg.Points(6)
}

// segments are a series broken where nothing was measured.
type segments []plotter.XYs

// add appends p's p99 at x, or starts a new segment when p is empty.
func (s *segments) add(x float64, p Percentiles) {
	if p.Count == 0 || p.P99 <= 0 {
		if n := len(*s); n > 0 && len((*s)[n-1]) > 0 {
			*s = append(*s, nil)
		}
		return
	}
	if len(*s) == 0 {
		*s = append(*s, nil)
	}
	last := &(*s)[len(*s)-1]
	*last = append(*last, plotter.XY{X: x, Y: p.P99})
}
