package main

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// Stats summarises a sample: latencies in milliseconds, or ratios.
type Stats struct {
	N    int     `json:"n"`
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
	Mean float64 `json:"mean"`
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
}

// percentile returns the p-th percentile (0–100) of sorted values, linearly
// interpolated between the closest ranks (numpy's default). Empty: NaN.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	rank := p / 100 * float64(len(sorted)-1)
	lo := int(math.Floor(rank))
	hi := int(math.Ceil(rank))
	return sorted[lo] + (sorted[hi]-sorted[lo])*(rank-float64(lo))
}

// summarize returns the statistics of values (any order).
func summarize(values []float64) Stats {
	if len(values) == 0 {
		return Stats{}
	}
	s := slices.Clone(values)
	slices.Sort(s)
	var sum float64
	for _, v := range s {
		sum += v
	}
	return Stats{
		N: len(s), P50: percentile(s, 50), P95: percentile(s, 95), P99: percentile(s, 99),
		Mean: sum / float64(len(s)), Min: s[0], Max: s[len(s)-1],
	}
}

// ms converts durations to milliseconds.
func ms(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = float64(d) / float64(time.Millisecond)
	}
	return out
}

// ratios returns a[i]/b[i].
func ratios(a, b []time.Duration) []float64 {
	out := make([]float64, 0, len(a))
	for i := range a {
		if i < len(b) && b[i] > 0 {
			out = append(out, float64(a[i])/float64(b[i]))
		}
	}
	return out
}

// vectors holds the memories of one tenant as inserted: ids, embeddings and
// metadata buckets, for exact search in Go.
type vectors struct {
	ids     []string
	vecs    [][]float32
	norms   []float64
	buckets []int
}

func (v *vectors) add(id string, vec []float32, bucket int) {
	v.ids = append(v.ids, id)
	v.vecs = append(v.vecs, vec)
	v.norms = append(v.norms, norm(vec))
	v.buckets = append(v.buckets, bucket)
}

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

// scored is one memory with its exact cosine similarity to a query.
type scored struct {
	id string
	s  float64
}

// exactTop returns the k memories most similar to q (cosine) among those
// whose bucket is below maxBucket, best first, ties by id — the order of the
// engine's exact scan.
func (v *vectors) exactTop(q []float32, k, maxBucket int) []scored {
	qn := norm(q)
	all := make([]scored, 0, len(v.ids))
	for i, vec := range v.vecs {
		if v.buckets[i] >= maxBucket {
			continue
		}
		var dot float64
		for j, x := range vec {
			dot += float64(x) * float64(q[j])
		}
		all = append(all, scored{v.ids[i], dot / (v.norms[i] * qn)})
	}
	slices.SortFunc(all, func(a, b scored) int {
		if c := cmp.Compare(b.s, a.s); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	return all[:min(k, len(all))]
}

// similarity returns the cosine similarity of memory id to q, or false.
func (v *vectors) similarity(id string, q []float32, index map[string]int) (float64, bool) {
	i, ok := index[id]
	if !ok {
		return 0, false
	}
	var dot float64
	for j, x := range v.vecs[i] {
		dot += float64(x) * float64(q[j])
	}
	return dot / (v.norms[i] * norm(q)), true
}

// tieTolerance is how much lower than the k-th exact similarity a hit may
// score and still count as a true neighbour in the tie-aware recall: Neo4j
// computes in float32, Go in float64.
const tieTolerance = 1e-5

// recallOf returns recall@k of got (the engine's ids, best first) against
// want (exact top k): by id, and tie-aware (a hit counts when its exact
// similarity is at least the k-th exact similarity, so an equally similar
// memory in place of another is not a miss). sim gives a hit's exact
// similarity. An empty want is recall 1.
func recallOf(got []string, want []scored, sim func(id string) (float64, bool)) (byID, tieAware float64) {
	if len(want) == 0 {
		return 1, 1
	}
	wantIDs := make(map[string]bool, len(want))
	for _, w := range want {
		wantIDs[w.id] = true
	}
	kth := want[len(want)-1].s
	var hits, tieHits int
	seen := map[string]bool{}
	for _, id := range got {
		if seen[id] {
			continue
		}
		seen[id] = true
		if wantIDs[id] {
			hits++
		}
		if s, ok := sim(id); ok && s >= kth-tieTolerance {
			tieHits++
		}
	}
	return float64(hits) / float64(len(want)), math.Min(1, float64(tieHits)/float64(len(want)))
}

// Recall summarises recall@10 over queries.
type Recall struct {
	Queries int `json:"queries"`
	// Mean is the mean of per-query recall@10 by id (every query wants 10
	// memories, or all of a smaller candidate set, so this is also the
	// micro average).
	Mean float64 `json:"mean"`
	Min  float64 `json:"min"`
	// Missed is how many queries missed at least one true neighbour.
	Missed int `json:"queries_with_a_miss"`
	// TieAwareMean counts a hit as found when its exact similarity equals
	// the 10th best (within 1e-5), so swapped ties are not misses.
	TieAwareMean float64 `json:"tie_aware_mean"`
}

func summarizeRecall(byID, tieAware []float64) Recall {
	r := Recall{Queries: len(byID), Min: 1}
	if len(byID) == 0 {
		return Recall{}
	}
	for i, x := range byID {
		r.Mean += x
		r.TieAwareMean += tieAware[i]
		r.Min = math.Min(r.Min, x)
		if x < 1 {
			r.Missed++
		}
	}
	r.Mean /= float64(len(byID))
	r.TieAwareMean /= float64(len(byID))
	return r
}
