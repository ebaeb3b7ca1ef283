package reports

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// The look shared by every plot: a sans-serif face, a white background, a
// light grid, a palette that stays apart in grayscale (Okabe-Ito, without
// its yellow, ordered so that neighbours differ in lightness) and dashes
// and glyphs that vary with the colour, so lines stay apart when printed
// in black and white. Nothing here is global state of gonum/plot: every
// plot gets its styles set on it.

// plotDPI is the PNGs' resolution: an 8 in wide plot is 960 px wide.
const plotDPI = 120

// Plot sizes.
var (
	plotWidth   = 8 * vg.Inch
	panelHeight = 3.6 * vg.Inch // one panel; stacked panels add up
)

var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

var palette = []color.Color{
	color.RGBA{0x00, 0x00, 0x00, 0xff}, // black
	color.RGBA{0xe6, 0x9f, 0x00, 0xff}, // orange
	color.RGBA{0x00, 0x72, 0xb2, 0xff}, // blue
	color.RGBA{0x56, 0xb4, 0xe9, 0xff}, // sky blue
	color.RGBA{0xd5, 0x5e, 0x00, 0xff}, // vermillion
	color.RGBA{0x00, 0x9e, 0x73, 0xff}, // bluish green
	color.RGBA{0xcc, 0x79, 0xa7, 0xff}, // reddish purple
}

var dashes = [][]vg.Length{
	nil,
	{vg.Points(6), vg.Points(3)},
	{vg.Points(1.5), vg.Points(2.5)},
	{vg.Points(8), vg.Points(3), vg.Points(1.5), vg.Points(3)},
}

var glyphs = []draw.GlyphDrawer{
	draw.CircleGlyph{}, draw.TriangleGlyph{}, draw.SquareGlyph{}, draw.CrossGlyph{},
	draw.RingGlyph{}, draw.PyramidGlyph{}, draw.BoxGlyph{}, draw.PlusGlyph{},
}

// seriesLook is the colour, dash and glyph of series i, with the dash
// chosen separately (so that, say, colour tells the run and dash the kind
// of latency).
func seriesLook(ci, di int) (draw.LineStyle, draw.GlyphStyle) {
	c := palette[ci%len(palette)]
	ls := draw.LineStyle{Color: c, Width: vg.Points(1.6), Dashes: dashes[di%len(dashes)]}
	gs := draw.GlyphStyle{Color: c, Radius: vg.Points(2.6), Shape: glyphs[ci%len(glyphs)]}
	return ls, gs
}

// newPlot returns a plot with the report's fonts, a grid and the legend at
// the top left.
func newPlot(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = font.From(sans, 13)
	p.Title.Padding = vg.Points(6)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, 11)
		a.Tick.Label.Font = font.From(sans, 9.5)
		a.Padding = vg.Points(2)
	}
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	p.Legend.TextStyle.Font = font.From(sans, 9.5)
	p.Legend.Top, p.Legend.Left = true, true
	p.Legend.XOffs, p.Legend.YOffs = vg.Points(6), -vg.Points(4)
	p.Legend.ThumbnailWidth = vg.Points(24)
	g := plotter.NewGrid()
	g.Vertical.Color = color.Gray{0xe0}
	g.Horizontal.Color = color.Gray{0xe0}
	g.Vertical.Width, g.Horizontal.Width = vg.Points(0.5), vg.Points(0.5)
	p.Add(g)
	return p
}

// addSeries adds a line with points, named in the legend.
func addSeries(p *plot.Plot, name string, xys plotter.XYs, ls draw.LineStyle, gs draw.GlyphStyle, points bool) {
	if len(xys) == 0 {
		return
	}
	l, err := plotter.NewLine(xys)
	if err != nil {
		return // NaN or Inf: the series is left out rather than drawn wrong
	}
	l.LineStyle = ls
	thumbs := []plot.Thumbnailer{l}
	p.Add(l)
	if points {
		s, err := plotter.NewScatter(xys)
		if err == nil {
			s.GlyphStyle = gs
			p.Add(s)
			thumbs = append(thumbs, s)
		}
	}
	if name != "" {
		p.Legend.Add(name, thumbs...)
	}
}

// headroom raises the y axis's top so that the legend, at the top, does
// not cover the data; fromZero also starts the axis at 0.
func headroom(p *plot.Plot, fromZero bool, lines int) {
	if math.IsInf(p.Y.Max, 0) || math.IsNaN(p.Y.Max) {
		return
	}
	if fromZero && p.Y.Min > 0 {
		p.Y.Min = 0
	}
	span := p.Y.Max - p.Y.Min
	if span <= 0 {
		span = max(math.Abs(p.Y.Max), 1)
	}
	p.Y.Max += span * 0.08 * float64(lines+1)
}

// Log axes: gonum/plot's LogScale places an axis label by the arithmetic
// midpoint of the data range, which on a log axis pads the plot with empty
// space; so log axes here are linear axes over log10 of the data (see
// logXY), with ticks labelled in the data's own units.

// logAxis labels a linear axis that carries log10 of the data with ticks
// at 1, 2, ... 9 times the powers of ten, format labelling them.
func logAxis(a *plot.Axis, format func(float64) string) {
	a.Tick.Marker = plot.TickerFunc(func(lo, hi float64) []plot.Tick {
		ts := logTicks{format: format}.Ticks(math.Pow(10, lo), math.Pow(10, hi))
		for i := range ts {
			ts[i].Value = math.Log10(ts[i].Value)
		}
		return ts
	})
}

// logXY returns xys with log10 taken of x and/or y, dropping points a log
// axis cannot show (zero or negative).
func logXY(xys plotter.XYs, logX, logY bool) plotter.XYs {
	if !logX && !logY {
		return xys
	}
	out := make(plotter.XYs, 0, len(xys))
	for _, p := range xys {
		if (logX && p.X <= 0) || (logY && p.Y <= 0) {
			continue
		}
		if logX {
			p.X = math.Log10(p.X)
		}
		if logY {
			p.Y = math.Log10(p.Y)
		}
		out = append(out, p)
	}
	return out
}

// linearTicks relabels gonum's default ticks with format.
func linearTicks(a *plot.Axis, format func(float64) string) {
	a.Tick.Marker = plot.TickerFunc(func(lo, hi float64) []plot.Tick {
		ts := plot.DefaultTicks{}.Ticks(lo, hi)
		for i := range ts {
			if ts[i].Label != "" {
				ts[i].Label = format(ts[i].Value)
			}
		}
		return ts
	})
}

// logTicks marks 1, 2, ..., 9 times each power of ten, labelling the
// powers (and 2 and 5 when the axis spans fewer than three decades).
type logTicks struct{ format func(float64) string }

func (t logTicks) Ticks(lo, hi float64) []plot.Tick {
	if lo <= 0 || hi <= 0 || lo > hi {
		return nil
	}
	e0, e1 := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	few := math.Log10(hi/lo) < 2.5
	var ts []plot.Tick
	for e := e0; e <= e1; e++ {
		base := math.Pow(10, e)
		for m := 1; m <= 9; m++ {
			v := float64(m) * base
			if v < lo*(1-1e-9) || v > hi*(1+1e-9) {
				continue // gonum makes room for labels even out of range
			}
			tk := plot.Tick{Value: v}
			if m == 1 || (few && (m == 2 || m == 5)) {
				tk.Label = t.format(v)
			}
			ts = append(ts, tk)
		}
	}
	labelled := 0
	for _, tk := range ts {
		if tk.Label != "" {
			labelled++
		}
	}
	if labelled < 2 { // a narrow range: label every tick
		for i := range ts {
			ts[i].Label = t.format(ts[i].Value)
		}
	}
	return ts
}

// trimFloat formats v in at most three significant figures without
// trailing zeros: 1, 2.5, 120.
func trimFloat(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if len(s) > 5 {
		s = strconv.FormatFloat(v, 'g', 3, 64)
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			s = strconv.FormatFloat(f, 'f', -1, 64)
		}
	}
	return s
}

// tickCount labels a count or rate: 500, 20k, 1.5M.
func tickCount(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e9:
		return trimFloat(v/1e9) + "G"
	case a >= 1e6:
		return trimFloat(v/1e6) + "M"
	case a >= 1e3:
		return trimFloat(v/1e3) + "k"
	}
	return trimFloat(v)
}

// tickMicros labels a latency given in microseconds: 500 µs, 2 ms, 1 s.
func tickMicros(v float64) string {
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0"
	case a >= 1e6:
		return trimFloat(v/1e6) + " s"
	case a >= 1e3:
		return trimFloat(v/1e3) + " ms"
	}
	return trimFloat(v) + " µs"
}

// labelStyle is the style of text drawn inside a plot.
func labelStyle(p *plot.Plot, size vg.Length) text.Style {
	return text.Style{Color: color.Gray{0x30}, Font: font.From(sans, size), XAlign: draw.XLeft, YAlign: draw.YTop, Handler: p.TextHandler}
}

// stack draws plots one above the other with their x axes aligned.
func stack(plots ...*plot.Plot) func(draw.Canvas) {
	return func(dc draw.Canvas) {
		rows := make([][]*plot.Plot, len(plots))
		for i, p := range plots {
			rows[i] = []*plot.Plot{p}
		}
		t := draw.Tiles{
			Rows: len(plots), Cols: 1,
			PadY:   vg.Points(14),
			PadTop: vg.Points(6), PadBottom: vg.Points(6), PadLeft: vg.Points(6), PadRight: vg.Points(12),
		}
		cs := plot.Align(rows, t, dc)
		for i, p := range plots {
			p.Draw(cs[i][0])
		}
	}
}

// renderPlot draws a figure twice, into name.png and name.svg in dir, and
// returns the Plot naming them and the SVG's bytes (for report.html).
func renderPlot(dir, name, title, alt string, h vg.Length, drawFn func(draw.Canvas)) (Plot, []byte, error) {
	pl := Plot{Name: name, Title: title, Alt: alt, PNG: name + ".png", SVG: name + ".svg"}
	img := vgimg.NewWith(vgimg.UseWH(plotWidth, h), vgimg.UseDPI(plotDPI), vgimg.UseBackgroundColor(color.White))
	drawFn(draw.New(img))
	var pngBuf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&pngBuf); err != nil {
		return pl, nil, fmt.Errorf("reports: drawing %s: %w", pl.PNG, err)
	}
	sc := vgsvg.New(plotWidth, h)
	drawFn(draw.New(sc))
	var svgBuf bytes.Buffer
	if _, err := sc.WriteTo(&svgBuf); err != nil {
		return pl, nil, fmt.Errorf("reports: drawing %s: %w", pl.SVG, err)
	}
	if err := os.WriteFile(filepath.Join(dir, pl.PNG), pngBuf.Bytes(), 0o644); err != nil {
		return pl, nil, fmt.Errorf("reports: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, pl.SVG), svgBuf.Bytes(), 0o644); err != nil {
		return pl, nil, fmt.Errorf("reports: %w", err)
	}
	return pl, svgBuf.Bytes(), nil
}
