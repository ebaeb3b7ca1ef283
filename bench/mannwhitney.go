package bench

import (
	"errors"
	"math"
	"slices"
)

// UTest is the outcome of a two-sided Mann-Whitney U test of two samples.
type UTest struct {
	// U is the statistic of the first sample: the number of pairs (x, y)
	// with x > y, ties counting one half (scipy.stats.mannwhitneyu's U1).
	U float64
	// P is the two-sided p-value: the probability, were both samples drawn
	// from one distribution, of a U at least as far from its mean.
	P float64
	// Exact is true when P comes from the exact distribution of U (no ties
	// and small samples); false when from the normal approximation with tie
	// and continuity corrections.
	Exact bool
}

// maxExact bounds the combined size of two samples whose p-value is
// computed exactly; beyond it the normal approximation is close enough.
const maxExact = 60

// MannWhitney runs a two-sided Mann-Whitney U test (Wilcoxon rank-sum) of x
// against y. Without ties and with len(x)+len(y) <= 60 the p-value is exact;
// otherwise it comes from the normal approximation with the tie correction
// of the variance and a continuity correction, as scipy.stats.mannwhitneyu
// computes it (method "asymptotic", use_continuity=True). NaNs are an
// error; so is an empty sample.
func MannWhitney(x, y []float64) (UTest, error) {
	if len(x) == 0 || len(y) == 0 {
		return UTest{}, errors.New("bench: Mann-Whitney needs two non-empty samples")
	}
	if slices.ContainsFunc(x, math.IsNaN) || slices.ContainsFunc(y, math.IsNaN) {
		return UTest{}, errors.New("bench: Mann-Whitney sample holds NaN")
	}
	u, ties := uStatistic(x, y)
	n1, n2 := len(x), len(y)
	if len(ties) == 0 && n1+n2 <= maxExact {
		return UTest{U: u, P: exactP(u, n1, n2), Exact: true}, nil
	}
	return UTest{U: u, P: normalP(u, n1, n2, ties)}, nil
}

// uStatistic returns U of x (rank sum of x minus its minimum) and the sizes
// of the groups of tied values (only groups of two or more).
func uStatistic(x, y []float64) (float64, []int) {
	type obs struct {
		v     float64
		fromX bool
	}
	all := make([]obs, 0, len(x)+len(y))
	for _, v := range x {
		all = append(all, obs{v, true})
	}
	for _, v := range y {
		all = append(all, obs{v, false})
	}
	slices.SortFunc(all, func(a, b obs) int {
		switch {
		case a.v < b.v:
			return -1
		case a.v > b.v:
			return 1
		}
		return 0
	})
	var rankSumX float64
	var ties []int
	for i := 0; i < len(all); {
		j := i
		for j < len(all) && all[j].v == all[i].v {
			j++
		}
		rank := float64(i+j+1) / 2 // mean of ranks i+1 .. j
		for k := i; k < j; k++ {
			if all[k].fromX {
				rankSumX += rank
			}
		}
		if j-i > 1 {
			ties = append(ties, j-i)
		}
		i = j
	}
	n1 := float64(len(x))
	return rankSumX - n1*(n1+1)/2, ties
}

// exactP is the two-sided exact p-value of U for samples of n1 and n2
// without ties: twice the tail beyond the larger of U and n1*n2-U,
// at most 1.
func exactP(u float64, n1, n2 int) float64 {
	counts := uCounts(n1, n2)
	hi := max(u, float64(n1*n2)-u)
	// P(U >= hi) = P(U <= n1*n2-hi) by symmetry; sum the lower tail.
	lo := int(math.Round(float64(n1*n2) - hi))
	var tail, total float64
	for k, c := range counts {
		total += c
		if k <= lo {
			tail += c
		}
	}
	return min(1, 2*tail/total)
}

// uCounts returns, for each u in 0..n1*n2, how many of the C(n1+n2, n1)
// orderings of n1 x's and n2 y's give U = u. Let N(i, j) be that
// distribution for i x's and j y's: the largest element is either an x,
// above all j y's (N(i-1, j) shifted by j), or a y (N(i, j-1)). Only sums,
// so counts stay exact as long as float64 holds them.
func uCounts(n1, n2 int) []float64 {
	size := n1*n2 + 1
	prev := make([][]float64, n2+1) // prev[j] = N(i-1, j)
	for j := range prev {
		prev[j] = make([]float64, size)
		prev[j][0] = 1 // N(0, j): one ordering, U = 0
	}
	for i := 1; i <= n1; i++ {
		cur := make([][]float64, n2+1)
		cur[0] = make([]float64, size)
		cur[0][0] = 1 // N(i, 0)
		for j := 1; j <= n2; j++ {
			c := make([]float64, size)
			copy(c, cur[j-1])
			for u := j; u < size; u++ {
				c[u] += prev[j][u-j]
			}
			cur[j] = c
		}
		prev = cur
	}
	return prev[n2]
}

// normalP is the two-sided p-value of U from the normal approximation,
// with the variance corrected for ties and a continuity correction of 1/2.
func normalP(u float64, n1, n2 int, ties []int) float64 {
	a, b := float64(n1), float64(n2)
	n := a + b
	mean := a * b / 2
	var tieTerm float64
	for _, t := range ties {
		tf := float64(t)
		tieTerm += tf*tf*tf - tf
	}
	variance := a * b / 12 * ((n + 1) - tieTerm/(n*(n-1)))
	if variance <= 0 {
		return 1 // every value tied: no evidence of a difference
	}
	z := (max(u, a*b-u) - mean - 0.5) / math.Sqrt(variance)
	return min(1, math.Erfc(z/math.Sqrt2)) // 2 * P(Z > z)
}
