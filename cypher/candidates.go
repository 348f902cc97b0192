package cypher

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"unicode/utf8"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/vector"
)

// Defaults and bounds of a CandidateQuery.
const (
	// DefaultMemoryCandidates is the MemoryLimit used when it is 0.
	DefaultMemoryCandidates = 10
	// DefaultEntityCandidates is the EntityLimit used when it is 0.
	DefaultEntityCandidates = 5
	// DefaultRelationCandidates is the RelationLimit used when it is 0.
	DefaultRelationCandidates = 100
	// MaxCandidates bounds every limit of a CandidateQuery.
	MaxCandidates = 1000
	// MaxCandidateProbes bounds the number of fact vectors and the number
	// of entity probes of one CandidateQuery.
	MaxCandidateProbes = 1000
	// maxEntityKey bounds the length of a key or alias, in bytes.
	maxEntityKey = 1024
)

// candidates is the one read of the add pipeline. Three CALL subqueries, each
// ending in an aggregation so it yields exactly one row even when it finds
// nothing:
//
//  1. memories: for each fact vector, the top $memory_limit current memories
//     of the scope by exact cosine (a scan of the scope's memories), then
//     merged over all vectors keeping each memory's best score;
//  2. probes: for each entity probe (by index), the scope's entities whose
//     key or an alias is one of the probe's keys, then the top $entity_limit
//     other entities by cosine of their name embedding; found is every
//     entity of every probe;
//  3. relations: the current relations between entities of the scope that
//     touch a found entity, most recently updated first. The horizon (WITH
//     DISTINCT r, o) before the far end's scope check keeps the planner
//     expanding from the found entities instead of joining with every
//     entity of the scope.
//
// vector.similarity.cosine is Neo4j's normalised cosine, (1 + cos) / 2 in
// [0, 1], the same score the vector indexes return.
const candidates = `
CALL () {
  UNWIND $fact_vectors AS v
  CALL (v) {
    MATCH (m:Memory)
    WHERE {{exact_scope m}}
      AND m.kind = 'fact'
      AND m.invalid_at IS NULL
      AND (m.expires_at IS NULL OR m.expires_at > $now)
    WITH m, vector.similarity.cosine(m.embedding, v) AS score
    WHERE score >= $memory_min_score
    RETURN m, score
    ORDER BY score DESC, m.id
    LIMIT $memory_limit
  }
  WITH m, max(score) AS score
  ORDER BY score DESC, m.id
  RETURN collect({m: ` + memoryMap + `, score: score}) AS memories
}
CALL () {
  UNWIND range(0, size($probes) - 1) AS i
  WITH i, $probes[i] AS p
  CALL (p) {
    MATCH (e:__Entity__)
    WHERE {{exact_scope e}}
      AND (e.key IN p.keys OR any(a IN coalesce(e.aliases, []) WHERE a IN p.keys))
    WITH e
    ORDER BY e.mentions DESC, e.id
    RETURN collect(e) AS exact
  }
  CALL (p, exact) {
    MATCH (e:__Entity__)
    WHERE p.vector IS NOT NULL
      AND {{exact_scope e}}
      AND NOT e IN exact
    WITH e, vector.similarity.cosine(e.embedding, p.vector) AS score
    WHERE score >= $entity_min_score
    WITH e, score
    ORDER BY score DESC, e.id
    LIMIT $entity_limit
    RETURN collect({e: ` + entityMap + `, score: score}) AS similar, collect(e) AS similar_nodes
  }
  RETURN collect({i: i, exact: [e IN exact | ` + entityMap + `], similar: similar}) AS probes,
    reduce(acc = [], nodes IN collect(exact + similar_nodes) | acc + nodes) AS found
}
CALL (found) {
  UNWIND found AS e
  WITH DISTINCT e
  MATCH (e)-[r]-(o)
  WHERE r.invalid_at IS NULL
    AND {{exact_scope r}}
  WITH DISTINCT r, o
  WHERE o:__Entity__
    AND {{exact_scope o}}
  WITH DISTINCT r
  ORDER BY r.updated_at DESC, r.id DESC
  LIMIT $relation_limit
  RETURN collect(` + relationMap + `) AS relations
}
RETURN memories, probes, relations`

// Candidates returns, in one query and one read transaction, what an add's
// decision needs to see: the current memories similar to the new facts, the
// existing entities matching each extracted entity (exact key or alias
// first, then by name embedding), and the current relations around those
// entities. Scores are Neo4j's normalised cosine in [0, 1]; MemoryMinScore
// and EntityMinScore are on that scale. Zero limits take the Default…
// constants. A probe without a Vector matches by key only. Keys are compared
// as given: callers pass graph.EntityKey of the names.
//
// The scope needs at least one id; like every selector, empty ids are
// wildcards. Embeddings are not returned.
//
// Errors: Invalid (scope, limits, scores, vector dimensions), Unavailable.
func (s *Store) Candidates(ctx context.Context, q graph.CandidateQuery) (graph.Candidates, error) {
	const op = "candidates"
	params, err := s.candidateParams(op, q)
	if err != nil {
		return graph.Candidates{}, err
	}
	cq := scoped(candidates, q.Scope, params)
	res, err := s.read(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		recs, err := collect(ctx, tx, cq, params)
		if err != nil {
			return nil, err
		}
		if len(recs) != 1 {
			return nil, graph.E(graph.Other, op, "query returned %d rows, want 1", len(recs))
		}
		return recs[0], nil
	})
	if err != nil {
		return graph.Candidates{}, translate(op, err)
	}
	return candidatesFromRecord(res.(*neo4j.Record), len(q.Entities)), nil
}

func (s *Store) candidateParams(op string, q graph.CandidateQuery) (map[string]any, error) {
	if err := q.Scope.ValidateSelector(op); err != nil {
		return nil, err
	}
	var bad []graph.FieldError
	limit := func(path string, n, def int) int64 {
		switch {
		case n == 0:
			return int64(def)
		case n < 0 || n > MaxCandidates:
			bad = append(bad, graph.FieldError{Path: path, Message: fmt.Sprintf("must be between 0 and %d", MaxCandidates)})
		}
		return int64(n)
	}
	score := func(path string, f float64) float64 {
		if math.IsNaN(f) || f < 0 || f > 1 {
			bad = append(bad, graph.FieldError{Path: path, Message: "must be between 0 and 1"})
		}
		return f
	}
	dims := func(path string, v []float32) {
		if fe := vector.CheckDims(path, v, s.cfg.Dimensions); fe != nil {
			bad = append(bad, *fe)
		}
	}
	params := map[string]any{
		"now":              now(),
		"memory_limit":     limit("memory_limit", q.MemoryLimit, DefaultMemoryCandidates),
		"memory_min_score": score("memory_min_score", q.MemoryMinScore),
		"entity_limit":     limit("entity_limit", q.EntityLimit, DefaultEntityCandidates),
		"entity_min_score": score("entity_min_score", q.EntityMinScore),
		"relation_limit":   limit("relation_limit", q.RelationLimit, DefaultRelationCandidates),
	}
	if len(q.FactVectors) > MaxCandidateProbes {
		bad = append(bad, graph.FieldError{Path: "fact_vectors", Message: fmt.Sprintf("has more than %d vectors", MaxCandidateProbes)})
	}
	if len(q.Entities) > MaxCandidateProbes {
		bad = append(bad, graph.FieldError{Path: "entities", Message: fmt.Sprintf("has more than %d probes", MaxCandidateProbes)})
	}
	if len(bad) > 0 {
		return nil, graph.InvalidFields(op, bad...)
	}
	vectors := make([]any, len(q.FactVectors))
	for i, v := range q.FactVectors {
		dims(fmt.Sprintf("fact_vectors[%d]", i), v)
		vectors[i] = vector64(v)
	}
	probes := make([]any, len(q.Entities))
	for i, p := range q.Entities {
		keys := make([]string, 0, len(p.Keys))
		for j, k := range p.Keys {
			switch {
			case k == "":
				continue
			case len(k) > maxEntityKey || !utf8.ValidString(k):
				bad = append(bad, graph.FieldError{Path: fmt.Sprintf("entities[%d].keys[%d]", i, j),
					Message: fmt.Sprintf("must be valid UTF-8 of at most %d bytes", maxEntityKey)})
			}
			keys = append(keys, k)
		}
		probe := map[string]any{"keys": keys, "vector": nil}
		if p.Vector != nil {
			dims(fmt.Sprintf("entities[%d].vector", i), p.Vector)
			probe["vector"] = vector64(p.Vector)
		}
		probes[i] = probe
	}
	if len(bad) > 0 {
		return nil, graph.InvalidFields(op, bad...)
	}
	params["fact_vectors"] = vectors
	params["probes"] = probes
	return params, nil
}

func candidatesFromRecord(rec *neo4j.Record, probes int) graph.Candidates {
	out := graph.Candidates{Entities: make([][]graph.ScoredEntity, probes)}
	get := func(k string) []any {
		v, _ := rec.Get(k)
		xs, _ := v.([]any)
		return xs
	}
	for _, x := range get("memories") {
		p, _ := x.(map[string]any)
		m, _ := p["m"].(map[string]any)
		sc, _ := p["score"].(float64)
		out.Memories = append(out.Memories, graph.ScoredMemory{Memory: memoryFromMap(m), Score: sc})
	}
	// The query orders them; sorting again keeps the contract independent
	// of how collect happens to preserve order.
	slices.SortStableFunc(out.Memories, func(a, b graph.ScoredMemory) int {
		return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.ID, b.ID))
	})
	for _, x := range get("probes") {
		p, _ := x.(map[string]any)
		i, ok := p["i"].(int64)
		if !ok || i < 0 || int(i) >= probes {
			continue
		}
		var list []graph.ScoredEntity
		exact, _ := p["exact"].([]any)
		for _, e := range exact {
			em, _ := e.(map[string]any)
			list = append(list, graph.ScoredEntity{Entity: entityFromMap(em), Score: 1, Exact: true})
		}
		similar, _ := p["similar"].([]any)
		var vec []graph.ScoredEntity
		for _, y := range similar {
			ym, _ := y.(map[string]any)
			em, _ := ym["e"].(map[string]any)
			sc, _ := ym["score"].(float64)
			vec = append(vec, graph.ScoredEntity{Entity: entityFromMap(em), Score: sc})
		}
		slices.SortStableFunc(vec, func(a, b graph.ScoredEntity) int {
			return cmp.Or(cmp.Compare(b.Score, a.Score), cmp.Compare(a.ID, b.ID))
		})
		out.Entities[i] = append(list, vec...)
	}
	for _, x := range get("relations") {
		p, _ := x.(map[string]any)
		out.Relations = append(out.Relations, relationFromMap(p))
	}
	slices.SortStableFunc(out.Relations, func(a, b graph.Relation) int {
		return cmp.Or(b.UpdatedAt.Compare(a.UpdatedAt), cmp.Compare(b.ID, a.ID))
	})
	return out
}
