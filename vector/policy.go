package vector

import "fmt"

// Policy decides how a search's vector step runs: an exact scan of the
// candidates (scope and filters applied) while they are few, else the
// vector index with over-fetch (Neo4j 5.26: index-wide, then filtered;
// 2026.01+: filtered inside the index with SEARCH), falling back to the exact
// scan when the index brings too few candidates.
type Policy struct {
	// ExactMax is the number of candidates up to which the vector step
	// scans them exactly. 0 (the default) takes each path's measured
	// switch: on Neo4j 5.26 it grows with the index (ExactMaxBySize), on
	// 2026.01+ it is DefaultSearchExactMax.
	ExactMax int
	// SearchExactMax is the same for Neo4j 2026.01+ only, whose in-index
	// filtered SEARCH makes the index path cheap for small scopes too
	// (default: ExactMax when that is set, else DefaultSearchExactMax).
	SearchExactMax int
	// ANNMax caps how many neighbours one vector-index call asks for
	// (default 20000); past it, a search whose candidates are too sparse in
	// the index falls back to an exact scan.
	ANNMax int
}

const (
	// ExactMinBySize and ExactMaxBySize's upper bound bracket 5.26's switch
	// (ExactMaxBySize): its grid on this project's 2-core machine
	// (docs/benchmarks.md, 5.26 run) had the exact scan as fast up to 1,000
	// candidates in an index of 10,000 (the index path faster from 2,000),
	// and up to 10,000 in indexes of 100,000 and 1,000,000 (the index path
	// faster from 20,000): 5.26's index is shared by all tenants, so a
	// scope's index path asks for more neighbours the bigger the index
	// around it, while its exact scan costs the same.
	ExactMinBySize = 1000
	exactMaxBySize = 10000
	// exactShareBySize: the switch is a tenth of the index between the two
	// bounds (1,000 at 10,000 memories, 10,000 from 100,000 on).
	exactShareBySize = 10
	// DefaultSearchExactMax is the switch on Neo4j 2026.01+ (2026.08.1, same
	// machine): in an index of 10,000 the exact scan was as fast up to 200
	// candidates and the filtered SEARCH 2.7× faster at 500 (recall@10 1.0);
	// since SEARCH's neighbours are cut to SearchKeep before being read, it
	// was 1.2× faster already at 100 (docs/benchmarks.md, 2026 run); the
	// grids of the 100,000 and 1,000,000 indexes start at 500 and have no
	// point where the scan wins: SEARCH filters by scope inside the index,
	// so the switch does not grow with the index as 5.26's does. Both
	// paths are exact there, the exact scan by construction.
	DefaultSearchExactMax = 300
	defaultANNMax         = 20000
	// overfetch multiplies the index-share over-fetch of the ANN path.
	overfetch = 4
	// fetchFactor is how many vector candidates per requested hit enter
	// the fusion; textFactor, how many full-text ones.
	fetchFactor = 3
	textFactor  = 12
	// searchBreadth is how many neighbours Neo4j 2026's SEARCH is asked for
	// per vector candidate (SearchLimit).
	searchBreadth = 64
	// searchKeep is how many of those per vector candidate a search without
	// filters reads further (SearchKeep).
	searchKeep = 8
)

// WithDefaults fills the zero settings.
func (p Policy) WithDefaults() Policy {
	if p.SearchExactMax <= 0 {
		p.SearchExactMax = p.ExactMax
		if p.SearchExactMax <= 0 {
			p.SearchExactMax = DefaultSearchExactMax
		}
	}
	if p.ANNMax <= 0 {
		p.ANNMax = defaultANNMax
	}
	return p
}

// Overfetch multiplies the share of the index the candidates hold: the ANN
// path asks for Fetch(topK) × Overfetch / share neighbours (capped by
// ANNMax).
func (p Policy) Overfetch() int { return overfetch }

// Fetch is how many vector candidates a search of topK hits ranks (k_fetch).
func (p Policy) Fetch(topK int) int { return topK * fetchFactor }

// TextFetch is how many full-text candidates a search of topK hits ranks.
func (p Policy) TextFetch(topK int) int { return topK * textFactor }

// SearchLimit is the LIMIT of Neo4j 2026's in-index SEARCH, which must be
// known before the query runs: the index already filters by tenant and
// scope, so it covers validity and the caller's filters — and it is the
// HNSW search's breadth, so it sets the recall. Measured with the bare
// filtered SEARCH, top 10 against the exact scan (2026.08.1, M 32): for a
// tenant of 50,000 in an index of 1,000,000, recall@10 0.983 with LIMIT
// 480, 0.987 with 960, 0.990 with 1,440 and 0.997 with 2,000, for 12.3,
// 13.4, 15.1 and 16.3 ms a query (a throwaway probe of 60 queries;
// bench-search has 0.983 at 480 and 0.995 at 1,920, docs/benchmarks.md);
// in an index of 100,000, 0.995 already with 480. Tenants of 3,000 and
// 10,000 in the 1M index were at 1.0 and no slower with 1,920 than with
// 480. Recall first: 64 neighbours per vector candidate (1,920 for 10
// hits), at most ANNMax.
func (p Policy) SearchLimit(topK int) int {
	return min(p.Fetch(topK)*searchBreadth, p.WithDefaults().ANNMax)
}

// SearchKeep is how many of SEARCH's best neighbours a search without
// filters reads further (validity, ties): the index has already kept the
// scope, so only memories no longer valid stand between them and the
// k_fetch candidates — and past SearchKeep, the exact fallback covers a
// scope whose nearest memories are mostly superseded or deleted.
func (p Policy) SearchKeep(topK int) int {
	return min(p.Fetch(topK)*searchKeep, p.SearchLimit(topK))
}

// Fusion weighs the rankings of a search in reciprocal rank fusion: the
// vector ranking, the full-text (BM25) ranking, the graph ranking
// (memories that mention the entities the query names, or their
// neighbours) and, when the query names a date, the time ranking (the
// memories of that day, month or year, by similarity); score = Σ weight /
// (K + rank) over the rankings that found the memory, normalised. A weight
// of 0 turns its ranking off.
type Fusion struct {
	VectorWeight float64
	TextWeight   float64
	GraphWeight  float64
	TimeWeight   float64
	// K is the fusion's constant (DefaultFusion's when 0).
	K int
}

// DefaultFusion weighs the vector and the full-text rankings equally and
// the graph ranking at half their weight, with k = 5: measured on the
// LoCoMo dev split (docs/evaluation.md), k from 3 to 10 is a plateau well
// above the usual 60 (turns recall@10 0.648–0.661 against 0.584 at 60,
// observations 0.627 against 0.610): the two rankings find different
// memories, and a small k lets the first places of each one through
// instead of favouring memories both rank low.
//
// The time ranking weighs 2: a date the user names is a constraint, so the
// first memory of that date comes before one that is first in the vector
// or the full-text ranking alone (2/(5+1) is both firsts together). On the
// dev split (83 of its 760 questions name a date) weights from 1.5 to 5
// were a plateau: recall@10 0.679–0.681 on turns and 0.646–0.648 on
// observations, against 0.678 and 0.642 at weight 1 and 0.658 and 0.627
// without the ranking (docs/evaluation.md).
var DefaultFusion = Fusion{VectorWeight: 1, TextWeight: 1, GraphWeight: 0.5, TimeWeight: 2, K: 5}

// WithDefaults fills a zero Fusion (all four weights 0: DefaultFusion's
// weights; K 0: DefaultFusion's) and checks it: a negative weight is an
// error. A Fusion that sets any weight keeps its zero weights, so callers
// can turn single rankings off.
func (f Fusion) WithDefaults() (Fusion, error) {
	if f.VectorWeight < 0 || f.TextWeight < 0 || f.GraphWeight < 0 || f.TimeWeight < 0 {
		return f, fmt.Errorf("fusion weights must not be negative")
	}
	if f.VectorWeight == 0 && f.TextWeight == 0 && f.GraphWeight == 0 && f.TimeWeight == 0 {
		f.VectorWeight, f.TextWeight, f.GraphWeight, f.TimeWeight = DefaultFusion.VectorWeight, DefaultFusion.TextWeight,
			DefaultFusion.GraphWeight, DefaultFusion.TimeWeight
	}
	if f.K <= 0 {
		f.K = DefaultFusion.K
	}
	return f, nil
}

// ExactMaxFor is the switch of the path a server takes: inIndex for Neo4j
// 2026.01+'s filtered SEARCH; indexSize is the number of memories in the
// vector index, which sets 5.26's switch unless ExactMax is set.
func (p Policy) ExactMaxFor(inIndex bool, indexSize int64) int {
	switch {
	case inIndex:
		return p.WithDefaults().SearchExactMax
	case p.ExactMax > 0:
		return p.ExactMax
	}
	return ExactMaxBySize(indexSize)
}

// ExactMaxBySize is Neo4j 5.26's switch for an index of indexSize
// memories: a tenth of it, at least ExactMinBySize and at most 10,000.
func ExactMaxBySize(indexSize int64) int {
	return int(min(max(indexSize/exactShareBySize, ExactMinBySize), exactMaxBySize))
}
