package reports

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Number formats shared by the Markdown, HTML and text outputs. Tables
// print exact-looking figures (thousands separators, microseconds); the
// one-screen summary prints short ones (564k msg/s, 1.2 ms).

// grouped formats v with thousands separators and prec decimals.
func grouped(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	s := strconv.FormatFloat(math.Abs(v), 'f', prec, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	if v < 0 && strings.Trim(s, "0.") != "" {
		b.WriteByte('-')
	}
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if frac != "" {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String()
}

// fmtCount formats a count: 1,234,567.
func fmtCount(n int64) string { return grouped(float64(n), 0) }

// fmtRate formats msg/s or batches/s: whole numbers, one decimal below 10.
func fmtRate(v float64) string {
	if v != 0 && math.Abs(v) < 10 {
		return grouped(v, 1)
	}
	return grouped(v, 0)
}

// fmtMB formats MB/s: two decimals below 100, one above.
func fmtMB(v float64) string {
	if math.Abs(v) >= 100 {
		return grouped(v, 1)
	}
	return grouped(v, 2)
}

// fmtUs formats a latency in microseconds for a table: one decimal below
// 1,000 µs, whole microseconds above.
func fmtUs(v float64) string {
	if math.Abs(v) >= 1000 {
		return grouped(v, 0)
	}
	return grouped(v, 1)
}

// fmtSeconds formats a time on a run's clock: 12.3.
func fmtSeconds(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// short formats v with a k/M/G suffix and three significant figures:
// 564k, 1.23M, 950.
func short(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 1e9:
		return sig3(v/1e9) + "G"
	case a >= 1e6:
		return sig3(v/1e6) + "M"
	case a >= 1e3:
		return sig3(v/1e3) + "k"
	}
	return sig3(v)
}

// sig3 formats v with three significant figures, no exponent.
func sig3(v float64) string {
	a := math.Abs(v)
	switch {
	case a == 0:
		return "0"
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// human formats a latency given in microseconds with a unit that suits
// it: 850 µs, 1.23 ms, 2.05 s.
func human(us float64) string {
	a := math.Abs(us)
	switch {
	case a >= 1e6:
		return sig3(us/1e6) + " s"
	case a >= 1e3:
		return sig3(us/1e3) + " ms"
	}
	return sig3(us) + " µs"
}

// plural returns "1 thing" or "n things".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// fmtValue formats a metric's value: grouped when whole, else as short as
// it reads exactly (up to 3 decimals).
func fmtValue(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return grouped(v, 0)
	}
	s := strconv.FormatFloat(v, 'f', 3, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	whole, frac, _ := strings.Cut(s, ".")
	w, _ := strconv.ParseFloat(whole, 64)
	g := grouped(w, 0)
	if strings.HasPrefix(whole, "-") && w == 0 {
		g = "-0"
	}
	return g + "." + frac
}
