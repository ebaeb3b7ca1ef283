package reports

import (
	"math"
	"strconv"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"gonum.org/v1/plot/plotter"
)

// The latency percentile spectrum, as HdrHistogram plots it: x is
// 1/(1-p) on a log axis, so 50%, 90%, 99%, 99.9% ... sit one step apart,
// and y is the latency at that percentile. A run of n samples says
// nothing past p = 1-1/n, so a curve stops there, with the max.

// spectrumX is the x coordinate of percentile pct (0-100).
func spectrumX(pct float64) float64 { return 100 / (100 - pct) }

// percentilesCurve is the spectrum of a summary's percentiles, in µs.
func percentilesCurve(p Percentiles) plotter.XYs {
	if p.Count == 0 {
		return nil
	}
	n := float64(p.Count)
	var xys plotter.XYs
	for _, q := range []struct{ pct, v float64 }{
		{50, p.P50}, {75, p.P75}, {90, p.P90}, {95, p.P95},
		{99, p.P99}, {99.9, p.P999}, {99.99, p.P9999},
	} {
		if x := spectrumX(q.pct); x < n {
			xys = append(xys, plotter.XY{X: x, Y: q.v})
		}
	}
	if n > 2 {
		xys = append(xys, plotter.XY{X: n, Y: p.Max})
	}
	return xys
}

// histogramCurve is the spectrum of a full histogram of nanoseconds, in µs,
// five points per halving of 1-p.
func histogramCurve(h *hdr.Histogram) plotter.XYs {
	n := float64(h.TotalCount())
	if n == 0 {
		return nil
	}
	var xys plotter.XYs
	for _, b := range h.CumulativeDistributionWithTicks(5) {
		if b.Quantile >= 100 {
			continue
		}
		x := spectrumX(b.Quantile)
		if x >= n {
			break
		}
		if len(xys) > 0 && xys[len(xys)-1].X == x {
			continue
		}
		xys = append(xys, plotter.XY{X: x, Y: float64(b.ValueAt) / 1e3})
	}
	xys = append(xys, plotter.XY{X: max(n, 1.01), Y: float64(h.Max()) / 1e3})
	return xys
}

// spectrumTicks are the percentile labels up to x = hi.
func spectrumTicks(hi float64) []float64 {
	var xs []float64
	for _, pct := range []float64{50, 90, 99, 99.9, 99.99, 99.999, 99.9999, 99.99999} {
		x := spectrumX(pct)
		xs = append(xs, x)
		if x >= hi {
			break
		}
	}
	return xs
}

// spectrumLabel labels x as a percentile: 50%, 99.9%.
func spectrumLabel(x float64) string {
	pct := math.Round((100-100/x)*1e6) / 1e6 // 99.9, not 99.90000000000001
	return strconv.FormatFloat(pct, 'f', -1, 64) + "%"
}
