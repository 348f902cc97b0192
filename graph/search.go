package graph

import "time"

// Search defaults and bounds, the engine's (the API document states the
// same).
const (
	DefaultTopK = 10
	MaxTopK     = 100
	// DefaultRelations is how many relations a search returns, and how
	// many existing relations an add shows the model for its decisions.
	DefaultRelations = 50
)

// SearchRequest is one search: the query, the caller's filter, and how to
// rank and cut the results. The engine embeds the query (Vector) and fills
// the fusion settings from its configuration before the store runs it.
type SearchRequest struct {
	Scope Scope
	// Query is the query as the user wrote it, for the embedding, the
	// full-text (BM25) step and matching entity names.
	Query string
	// Vector is Query's embedding.
	Vector []float32
	// Filter is the caller's parsed filter (ParseFilter), or nil.
	Filter Filter
	// TopK is how many memories to return.
	TopK int
	// Threshold drops results whose cosine similarity to the query is
	// below it (Mem0's meaning; text-only matches are held to it too); 0
	// keeps everything.
	Threshold float64
	// Explain keeps each signal's score and rank in the hits.
	Explain bool
	// AsOf returns what was current at that time; IncludeInvalid returns
	// current and invalidated items alike. Neither: current items only.
	AsOf           *time.Time
	IncludeInvalid bool
	// VectorWeight, TextWeight and GraphWeight weigh three of the rankings
	// in reciprocal rank fusion, TimeWeight (below) the fourth (all four 0:
	// the defaults; a weight of 0 beside a non-zero one turns its ranking
	// off, so TimeWeight alone ranks only queries that name a time); RRFK
	// is its constant (the default when 0). The graph ranking holds the memories that mention the entities
	// the query names, and, at a lower score, those that mention the
	// neighbours of the entities the top hits mention.
	VectorWeight float64
	TextWeight   float64
	GraphWeight  float64
	RRFK         int
	// Period is the time the query names (QueryPeriod), or nil; the engine
	// sets it. TimeWeight weighs a fourth ranking, used only then: the
	// memories created within the period, by similarity to the query (0
	// turns it off).
	Period     *Period
	TimeWeight float64
	// RelationLimit bounds the relations returned.
	RelationLimit int
	// Weights, when set, are the request's own fusion settings (the API
	// passes them on; the engine resolves them over its configuration into
	// the weight fields above).
	Weights *Weights
}

// Hit is one memory found, with its fused score in (0, 1] (1 = first in
// every ranking that found anything) and what each signal gave it.
type Hit struct {
	Memory
	Score float64
	// Explain is each signal's part: the store always fills it; the engine
	// keeps it only when the request asked.
	Explain *Explain
}

// Explain is the part each signal had in a hit's score: its cosine
// similarity to the query, its BM25 score, its graph score, and its rank in
// each ranking (0 when that ranking did not find it).
type Explain struct {
	VectorScore float64 `json:"vector_score"`
	VectorRank  int     `json:"vector_rank"`
	TextScore   float64 `json:"text_score"`
	TextRank    int     `json:"text_rank"`
	// GraphScore sums, over the entities of the graph ranking the memory
	// mentions, each entity's strength: how well it matches the query (in
	// (0, 1]) when the query names it, a fixed fraction of a full match when
	// it is a neighbour of an entity the top hits mention.
	GraphScore float64 `json:"graph_score"`
	GraphRank  int     `json:"graph_rank"`
	// TimeRank is the memory's rank among those created within the period
	// the query names (0 when it names none, or the memory is not of it).
	TimeRank int `json:"time_rank"`
	// VectorContribution, TextContribution, GraphContribution and
	// TimeContribution are each ranking's share of Score (weight / (RRFK +
	// rank), normalised like Score; 0 when the ranking did not find the
	// memory): they sum to Score.
	VectorContribution float64 `json:"vector_contribution"`
	TextContribution   float64 `json:"text_contribution"`
	GraphContribution  float64 `json:"graph_contribution"`
	TimeContribution   float64 `json:"time_contribution"`
	// Strategy is how the vector step ran (exact, ann, search).
	Strategy string `json:"strategy"`
}

// SearchResponse is the answer of one search.
type SearchResponse struct {
	Results   []Hit
	Relations []Relation
	// Strategy says how the vector step ran: "exact" (a scan of the
	// filtered scope), "ann" (the vector index with over-fetch) or "search"
	// (Neo4j 2026's in-index filtered SEARCH).
	Strategy string
	// Candidates is how many memories of the scope passed the filters,
	// counted up to the exact-scan limit plus one (past it, "many").
	Candidates int
	// EmbedTime and EngineTime split the engine's latency: the query's
	// embedding, and the one Cypher query.
	EmbedTime  time.Duration
	EngineTime time.Duration
}
