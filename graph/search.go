package graph

import "time"

// SearchQuery is one search: the query's vector and text, the caller's
// filter, and how to rank and cut the results.
type SearchQuery struct {
	Scope  Scope
	Vector []float32
	// Text is the query as the user wrote it, for the full-text (BM25) step
	// and for matching entity names.
	Text   string
	Filter Filter
	// TopK is how many memories to return.
	TopK int
	// Threshold drops results whose cosine similarity to the query is
	// below it (Mem0's meaning; text-only matches are held to it too); 0
	// keeps everything.
	Threshold float64
	// AsOf returns what was current at that time; IncludeInvalid returns
	// current and invalidated items alike. Neither: current items only.
	AsOf           *time.Time
	IncludeInvalid bool
	// VectorWeight and TextWeight weigh the two rankings in reciprocal rank
	// fusion; RRFK is its constant (60 when 0).
	VectorWeight float64
	TextWeight   float64
	RRFK         int
	// RelationLimit bounds the relations returned.
	RelationLimit int
}

// SearchHit is one memory found, with its fused score in (0, 1] (1 = first
// in every ranking that found anything) and, for explanations, its cosine
// similarity to the query, its BM25 score, and its rank in each ranking (0
// when that ranking did not find it).
type SearchHit struct {
	Memory
	Score       float64
	VectorScore float64
	VectorRank  int
	TextScore   float64
	TextRank    int
}

// SearchResult is the answer of one search query.
type SearchResult struct {
	Hits      []SearchHit
	Relations []Relation
	// Strategy says how the vector step ran: "exact" (a scan of the
	// filtered scope), "ann" (the vector index with over-fetch) or "search"
	// (Neo4j 2026's in-index filtered SEARCH).
	Strategy string
	// Candidates is how many memories of the scope passed the filters,
	// counted up to the exact-scan limit plus one (past it, "many").
	Candidates int
}
