package reports

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// comparison is what the side-by-side bars show: per input (a results
// file or target) and per run path, the publish rate and a p99.
type comparison struct {
	inputs []string    // legend names
	runs   []string    // the categories on x: run paths ("run" for a file's one run)
	rate   [][]float64 // [input][run] msg/s; NaN where that input has no such run
	p99    [][]float64 // [input][run] µs; NaN where missing
	p99Of  string      // "end-to-end" or "publish"
}

// newComparison lines up the runs of several inputs by run path.
func newComparison(labels []string, runs [][]Run) comparison {
	c := comparison{inputs: labels, p99Of: "end-to-end"}
	idx := map[string]int{}
	for _, rs := range runs {
		for _, r := range rs {
			if r.Summary.EndToEnd.Count == 0 {
				c.p99Of = "publish"
			}
			name := runName(r)
			if _, ok := idx[name]; !ok {
				idx[name] = len(c.runs)
				c.runs = append(c.runs, name)
			}
		}
	}
	for _, rs := range runs {
		rate := nanRow(len(c.runs))
		p99 := nanRow(len(c.runs))
		for _, r := range rs {
			j := idx[runName(r)]
			rate[j] = r.Summary.PublishRate
			p99[j] = r.Summary.PublishLatency.P99
			if c.p99Of == "end-to-end" {
				p99[j] = r.Summary.EndToEnd.P99
			}
		}
		c.rate = append(c.rate, rate)
		c.p99 = append(c.p99, p99)
	}
	return c
}

func nanRow(n int) []float64 {
	r := make([]float64, n)
	for i := range r {
		r[i] = math.NaN()
	}
	return r
}

// runName names a run for a table or an axis: its path, or "run".
func runName(r Run) string {
	if r.Path == "" {
		return "run"
	}
	return r.Path
}

// barFills are the bars' colours: far apart in lightness, with a dark
// outline so the lightest still shows.
var barFills = []color.Color{
	color.RGBA{0x00, 0x72, 0xb2, 0xff},
	color.RGBA{0xe6, 0x9f, 0x00, 0xff},
	color.RGBA{0x33, 0x33, 0x33, 0xff},
	color.RGBA{0x56, 0xb4, 0xe9, 0xff},
	color.RGBA{0xd5, 0x5e, 0x00, 0xff},
	color.RGBA{0xcc, 0x79, 0xa7, 0xff},
}

// barsFigure draws the comparison: publish msg/s above, p99 below, one
// bar per input in each run's group, each bar labelled with its value.
func barsFigure(c comparison) (vg.Length, func(draw.Canvas)) {
	rp := newPlot("Comparison: publish rate and p99 latency", "", "publish msg/s")
	lp := newPlot("", "", c.p99Of+" p99 latency")
	// a bar's width: the groups share ~6.5 in, each group 70% bars
	groupW := vg.Length(6.5*vg.Inch) / vg.Length(len(c.runs))
	w := min(groupW*0.7/vg.Length(c.widest()), vg.Points(40))
	for _, panel := range []struct {
		p      *plot.Plot
		vals   [][]float64
		format func(float64) string
	}{{rp, c.rate, tickCount}, {lp, c.p99, tickMicros}} {
		for i, name := range c.inputs {
			first := true
			for j, v := range panel.vals[i] {
				if math.IsNaN(v) {
					continue // that input has no such run: no bar
				}
				b, err := plotter.NewBarChart(plotter.Values{v}, w)
				if err != nil {
					continue
				}
				b.XMin = float64(j)
				b.Color = barFills[i%len(barFills)]
				b.LineStyle = draw.LineStyle{Color: color.Gray{0x20}, Width: vg.Points(0.5)}
				b.Offset = c.offset(i, j, w)
				panel.p.Add(b)
				if first && panel.p == rp {
					panel.p.Legend.Add(name, b)
				}
				first = false
				if len(c.inputs)*len(c.runs) > 16 {
					continue // too many bars to label
				}
				lx := plotter.XYLabels{XYs: plotter.XYs{{X: float64(j), Y: v}}, Labels: []string{panel.format(v)}}
				if l, err := plotter.NewLabels(lx); err == nil {
					sty := labelStyle(panel.p, 8)
					sty.XAlign, sty.YAlign = draw.XCenter, draw.YBottom
					l.TextStyle[0] = sty
					l.Offset = vg.Point{X: b.Offset, Y: vg.Points(2)}
					panel.p.Add(l)
				}
			}
		}
		panel.p.NominalX(c.runs...)
		if longLabels(c.runs) {
			panel.p.X.Tick.Label.Rotation = math.Pi / 9
			panel.p.X.Tick.Label.XAlign, panel.p.X.Tick.Label.YAlign = draw.XRight, draw.YTop
		}
		linearTicks(&panel.p.Y, panel.format)
		headroom(panel.p, true, len(c.inputs))
		panel.p.Y.Min = 0
		panel.p.X.Min, panel.p.X.Max = -0.5, float64(len(c.runs))-0.5
	}
	rp.Legend.Left = false
	rp.Legend.XOffs = -vg.Points(6)
	return 2 * panelHeight, stack(rp, lp)
}

// offset places input i's bar within run j's group: the inputs that have
// run j share the group, centred.
func (c comparison) offset(i, j int, w vg.Length) vg.Length {
	pos, n := 0, 0
	for k := range c.inputs {
		if math.IsNaN(c.rate[k][j]) {
			continue
		}
		if k < i {
			pos++
		}
		n++
	}
	return (vg.Length(pos) - vg.Length(n-1)/2) * w
}

// widest is the most bars any run's group has.
func (c comparison) widest() int {
	n := 1
	for j := range c.runs {
		k := 0
		for i := range c.inputs {
			if !math.IsNaN(c.rate[i][j]) {
				k++
			}
		}
		n = max(n, k)
	}
	return n
}

// longLabels reports whether category labels would crowd a horizontal axis.
func longLabels(names []string) bool {
	n := 0
	for _, s := range names {
		n += len(s) + 3
	}
	return n > 90
}
