package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"
)

// Ks are the cut-offs every metric is reported at.
var Ks = []int{5, 10, 20, 30}

// maxK is the deepest cut-off: each search asks for that many hits.
func maxK() int { return Ks[len(Ks)-1] }

// Score is one question's metrics for one system.
type Score struct {
	Category int
	// Recall[k] is evidence recall@k: the share of the evidence turns found
	// among the dia_ids of the top k hits.
	Recall map[int]float64
	// Hit[k] is 1 when any evidence turn is in the top k.
	Hit map[int]float64
	// SessionRecall[k] is the share of the evidence's sessions (D<n>)
	// present in the top k.
	SessionRecall map[int]float64
	// RR is the reciprocal rank of the first hit holding evidence (0 when
	// none of the top maxK does).
	RR float64
}

// ScoreQuestion scores one question's ranked hits (best first; each hit's
// dia_ids are the turns its memory came from).
func ScoreQuestion(q Question, hits [][]string) Score {
	s := Score{Category: q.Category, Recall: map[int]float64{}, Hit: map[int]float64{}, SessionRecall: map[int]float64{}}
	evidence := map[string]bool{}
	sessions := map[string]bool{}
	for _, e := range q.Evidence {
		evidence[e] = true
		sessions[sessionOf(e)] = true
	}
	found := map[string]bool{}
	foundSess := map[string]bool{}
	ki := 0
	for rank := 1; rank <= maxK(); rank++ {
		if rank <= len(hits) {
			for _, d := range hits[rank-1] {
				if evidence[d] {
					found[d] = true
					if s.RR == 0 {
						s.RR = 1 / float64(rank)
					}
				}
				if sessions[sessionOf(d)] {
					foundSess[sessionOf(d)] = true
				}
			}
		}
		if ki < len(Ks) && rank == Ks[ki] {
			k := Ks[ki]
			s.Recall[k] = float64(len(found)) / float64(len(evidence))
			s.SessionRecall[k] = float64(len(foundSess)) / float64(len(sessions))
			if len(found) > 0 {
				s.Hit[k] = 1
			} else {
				s.Hit[k] = 0
			}
			ki++
		}
	}
	return s
}

// Summary is the micro average of metrics over a set of questions (each
// question weighs the same).
type Summary struct {
	N             int             `json:"n"`
	Recall        map[int]float64 `json:"recall"`
	Hit           map[int]float64 `json:"hit"`
	SessionRecall map[int]float64 `json:"session_recall"`
	MRR           float64         `json:"mrr"`
}

// Summarize averages scores.
func Summarize(scores []Score) Summary {
	out := Summary{N: len(scores), Recall: map[int]float64{}, Hit: map[int]float64{}, SessionRecall: map[int]float64{}}
	if len(scores) == 0 {
		return out
	}
	for _, s := range scores {
		for _, k := range Ks {
			out.Recall[k] += s.Recall[k]
			out.Hit[k] += s.Hit[k]
			out.SessionRecall[k] += s.SessionRecall[k]
		}
		out.MRR += s.RR
	}
	n := float64(len(scores))
	for _, k := range Ks {
		out.Recall[k] /= n
		out.Hit[k] /= n
		out.SessionRecall[k] /= n
	}
	out.MRR /= n
	return out
}

// ByCategory summarises scores per question category.
func ByCategory(scores []Score) map[int]Summary {
	groups := map[int][]Score{}
	for _, s := range scores {
		groups[s.Category] = append(groups[s.Category], s)
	}
	out := map[int]Summary{}
	for c, g := range groups {
		out[c] = Summarize(g)
	}
	return out
}

// Latency is a distribution of search times.
type Latency struct {
	N    int     `json:"n"`
	P50  float64 `json:"p50_ms"`
	P95  float64 `json:"p95_ms"`
	P99  float64 `json:"p99_ms"`
	Mean float64 `json:"mean_ms"`
}

// LatencyOf summarises durations (nearest-rank percentiles).
func LatencyOf(ds []time.Duration) Latency {
	if len(ds) == 0 {
		return Latency{}
	}
	ms := make([]float64, len(ds))
	sum := 0.0
	for i, d := range ds {
		ms[i] = float64(d) / float64(time.Millisecond)
		sum += ms[i]
	}
	sort.Float64s(ms)
	pct := func(p float64) float64 {
		i := int(math.Ceil(p/100*float64(len(ms)))) - 1
		return ms[max(0, min(i, len(ms)-1))]
	}
	return Latency{N: len(ms), P50: pct(50), P95: pct(95), P99: pct(99), Mean: sum / float64(len(ms))}
}

// Diff is a paired comparison of two systems on one metric: the mean
// difference a − b over the same questions and its 95% bootstrap interval.
type Diff struct {
	A      string  `json:"a"`
	B      string  `json:"b"`
	Metric string  `json:"metric"`
	Mean   float64 `json:"mean"`
	Lo     float64 `json:"lo"`
	Hi     float64 `json:"hi"`
}

// PairedBootstrap resamples the questions (with replacement, rounds times,
// seeded) and returns the mean of a − b with the 2.5th and 97.5th
// percentiles of the resampled means.
func PairedBootstrap(a, b []float64, rounds int, seed uint64) (mean, lo, hi float64) {
	if len(a) != len(b) || len(a) == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	d := make([]float64, len(a))
	for i := range a {
		d[i] = a[i] - b[i]
		mean += d[i]
	}
	mean /= float64(len(d))
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	means := make([]float64, rounds)
	for j := range means {
		s := 0.0
		for range d {
			s += d[r.IntN(len(d))]
		}
		means[j] = s / float64(len(d))
	}
	slices.Sort(means)
	at := func(p float64) float64 { return means[min(len(means)-1, int(p*float64(len(means))))] }
	return mean, at(0.025), at(0.975)
}
