package vector

import "fmt"

// Defaults of the HNSW vector indexes, measured at 1M memories
// (docs/benchmarks.md): full precision with M 32 and ef_construction 200
// keeps recall@10 ≥ 0.996 for a 50k tenant (int8 with M 16: 0.962).
const (
	DefaultHNSWM              = 32
	DefaultHNSWEfConstruction = 200
)

// IndexConfig is how Neo4j builds neomem's vector indexes (Lucene HNSW
// graphs).
type IndexConfig struct {
	// Quantization makes the index traverse quantised copies of the
	// vectors (int8 on Neo4j 5.x, binary on 2026.x): less memory for the hot
	// set, but the graph search then misses more true neighbours; neomem
	// re-scores with the exact vectors either way. Default false (full
	// precision). Every server of one database must use the same settings:
	// the store rebuilds an index built with others.
	Quantization bool `json:"quantization"`
	// M is the number of neighbours each vector links to in the graph
	// (vector.hnsw.m, 1..512; 0 means DefaultHNSWM). More means better
	// recall on hard data, more memory and slower inserts.
	M int `json:"hnsw_m"`
	// EfConstruction is the candidate list size while inserting
	// (vector.hnsw.ef_construction, 1..3200; 0 means
	// DefaultHNSWEfConstruction).
	EfConstruction int `json:"hnsw_ef_construction"`
}

// WithDefaults fills the zero settings with the defaults and checks the
// ranges.
func (c IndexConfig) WithDefaults() (IndexConfig, error) {
	if c.M == 0 {
		c.M = DefaultHNSWM
	}
	if c.EfConstruction == 0 {
		c.EfConstruction = DefaultHNSWEfConstruction
	}
	if c.M < 1 || c.M > 512 || c.EfConstruction < 1 || c.EfConstruction > 3200 {
		return c, fmt.Errorf("vector index M %d (max 512) or ef_construction %d (max 3200) out of range", c.M, c.EfConstruction)
	}
	return c, nil
}
