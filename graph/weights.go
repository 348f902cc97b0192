package graph

// Weights are a search's own fusion settings: each field that is set
// replaces the engine's configured value (NEOMEM_SEARCH_* settings) for this
// search only; nil fields keep it.
type Weights struct {
	// Vector, Text and Graph weigh the three rankings in reciprocal rank
	// fusion (0 turns a ranking off; not all three 0).
	Vector *float64
	Text   *float64
	Graph  *float64
	// Time weighs the ranking of the memories created within the period
	// the query names (used only when it names one; 0 turns it off).
	Time *float64
	// RRFK is the fusion's constant (at least 1).
	RRFK *int
}
