package bench

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// Known values from scipy 1.10.1, scipy.stats.mannwhitneyu(x, y,
// method=M) (two-sided, use_continuity=True); the first case is the
// example in scipy's documentation.
var scipyCases = []struct {
	name  string
	x, y  []float64
	exact bool // method="exact", else "asymptotic"
	u, p  float64
}{
	{"docs example", []float64{19, 22, 16, 29, 24}, []float64{20, 11, 17, 12}, true, 17, 0.1111111111111111},
	{"docs example asymptotic", []float64{19, 22, 16, 29, 24}, []float64{20, 11, 17, 12}, false, 17, 0.11134688653314041},
	{"separated 5v5", []float64{1, 2, 3, 4, 5}, []float64{6, 7, 8, 9, 10}, true, 0, 0.007936507936507936},
	{"interleaved 5v5", []float64{1, 3, 5, 7, 9}, []float64{2, 4, 6, 8, 10}, true, 10, 0.6904761904761905},
	{"separated 3v3", []float64{1, 2, 3}, []float64{4, 5, 6}, true, 0, 0.1},
	{"8v7", []float64{3.1, 4.7, 2.2, 9.9, 5.5, 6.1, 7.3, 0.4}, []float64{8.8, 1.2, 4.1, 6.6, 10.2, 11.5, 2.9}, true, 21, 0.46340326340326343},
	{"12v10", []float64{12.1, 15.3, 9.8, 11.2, 14.4, 13.0, 10.5, 16.7, 12.9, 11.8, 13.6, 15.0},
		[]float64{9.1, 10.9, 8.7, 12.4, 9.9, 11.1, 10.2, 8.1, 13.3, 9.4}, true, 102, 0.004429007524982757},
	{"12v10 asymptotic", []float64{12.1, 15.3, 9.8, 11.2, 14.4, 13.0, 10.5, 16.7, 12.9, 11.8, 13.6, 15.0},
		[]float64{9.1, 10.9, 8.7, 12.4, 9.9, 11.1, 10.2, 8.1, 13.3, 9.4}, false, 102, 0.006211000298815913},
	{"ties 5v5", []float64{1, 2, 2, 3, 4}, []float64{2, 3, 5, 5, 6}, false, 4.5, 0.11049202405566802},
	{"ties 6v7", []float64{10, 10, 12, 15, 15, 15}, []float64{9, 10, 11, 12, 12, 16, 17}, false, 22, 0.942095857778815},
	{"all tied", []float64{5, 5, 5}, []float64{5, 5, 5}, false, 4.5, 1},
}

func TestMannWhitneyScipy(t *testing.T) {
	for _, tt := range scipyCases {
		t.Run(tt.name, func(t *testing.T) {
			u, ties := uStatistic(tt.x, tt.y)
			if u != tt.u {
				t.Errorf("U = %v, want %v", u, tt.u)
			}
			var p float64
			if tt.exact {
				p = exactP(u, len(tt.x), len(tt.y))
			} else {
				p = normalP(u, len(tt.x), len(tt.y), ties)
			}
			if math.Abs(p-tt.p) > 1e-12 {
				t.Errorf("p = %.17g, want %.17g", p, tt.p)
			}
			// MannWhitney picks exact exactly when there are no ties here.
			got, err := MannWhitney(tt.x, tt.y)
			if err != nil {
				t.Fatal(err)
			}
			if got.Exact != (len(ties) == 0) || (got.Exact == tt.exact && math.Abs(got.P-tt.p) > 1e-12) {
				t.Errorf("MannWhitney = %+v", got)
			}
			// Swapping the samples keeps p and turns U into n1*n2 - U.
			sw, _ := MannWhitney(tt.y, tt.x)
			if math.Abs(sw.P-got.P) > 1e-12 || sw.U != float64(len(tt.x)*len(tt.y))-got.U {
				t.Errorf("swapped: %+v vs %+v", sw, got)
			}
		})
	}
}

// TestUCountsBruteForce checks the exact distribution of U against an
// enumeration of every way to pick which of n1+n2 ranks belong to x.
func TestUCountsBruteForce(t *testing.T) {
	for n1 := 1; n1 <= 6; n1++ {
		for n2 := 1; n2 <= 6; n2++ {
			want := make([]float64, n1*n2+1)
			n := n1 + n2
			for mask := uint(0); mask < 1<<n; mask++ {
				if bits.OnesCount(mask) != n1 {
					continue
				}
				u, ys := 0, 0 // ranks ascending: each x beats the y's below it
				for r := range n {
					if mask&(1<<r) != 0 {
						u += ys
					} else {
						ys++
					}
				}
				want[u]++
			}
			got := uCounts(n1, n2)
			for u := range want {
				if got[u] != want[u] {
					t.Fatalf("n1=%d n2=%d: counts %v, want %v", n1, n2, got, want)
				}
			}
		}
	}
}

// TestMannWhitneyNormalApproachesExact: for 30 against 30 without ties
// the two p-values agree closely.
func TestMannWhitneyNormalApproachesExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20 {
		var x, y []float64
		for range 30 {
			x = append(x, rng.NormFloat64())
			y = append(y, rng.NormFloat64()+0.3)
		}
		u, ties := uStatistic(x, y)
		if len(ties) > 0 {
			continue
		}
		e, n := exactP(u, 30, 30), normalP(u, 30, 30, nil)
		if math.Abs(e-n) > 0.005 {
			t.Errorf("sample %d: exact %v, normal %v", i, e, n)
		}
	}
}

func TestMannWhitneyErrors(t *testing.T) {
	if _, err := MannWhitney(nil, []float64{1}); err == nil {
		t.Error("empty sample accepted")
	}
	if _, err := MannWhitney([]float64{1, math.NaN()}, []float64{1}); err == nil {
		t.Error("NaN accepted")
	}
}

// FuzzMannWhitney: for any two samples, U lies in [0, n1*n2], p in (0, 1],
// and swapping the samples keeps p and complements U. Bytes are values
// from a small range, so ties are common.
func FuzzMannWhitney(f *testing.F) {
	f.Add([]byte{3, 1, 2, 3, 4, 5, 6})
	f.Add([]byte{2, 7, 7, 7, 7})
	f.Add([]byte{10, 1, 9, 2, 8, 3, 7, 4, 6, 5, 15, 14, 13, 12, 11, 0, 1, 2, 3, 4, 5})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 3 || len(b) > 61 {
			return
		}
		split := 1 + int(b[0])%(len(b)-2)
		var x, y []float64
		for i, c := range b[1:] {
			v := float64(c%32) / 4
			if i < split {
				x = append(x, v)
			} else {
				y = append(y, v)
			}
		}
		got, err := MannWhitney(x, y)
		if err != nil {
			t.Fatal(err)
		}
		nn := float64(len(x) * len(y))
		if got.U < 0 || got.U > nn || !(got.P > 0 && got.P <= 1) {
			t.Fatalf("x=%v y=%v: %+v", x, y, got)
		}
		sw, _ := MannWhitney(y, x)
		if math.Abs(sw.P-got.P) > 1e-9 || sw.U != nn-got.U {
			t.Fatalf("x=%v y=%v: %+v, swapped %+v", x, y, got, sw)
		}
	})
}
