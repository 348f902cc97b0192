package cypher

import (
	"context"
	"fmt"
	"strings"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/vector"
)

// validity is the time predicate of a search over variable v.
func validity(v string, q graph.SearchRequest, params map[string]any) string {
	params["now"] = now()
	expiry := fmt.Sprintf("(%[1]s.expires_at IS NULL OR %[1]s.expires_at > $now)", v)
	switch {
	case q.AsOf != nil:
		params["as_of"] = q.AsOf.UTC()
		// As of a time, a memory counts if it had not expired then.
		return fmt.Sprintf("%[1]s.valid_from <= $as_of AND (%[1]s.invalid_at IS NULL OR %[1]s.invalid_at > $as_of)"+
			" AND (%[1]s.expires_at IS NULL OR %[1]s.expires_at > $as_of)", v)
	case q.IncludeInvalid:
		return expiry
	}
	return v + ".invalid_at IS NULL AND " + expiry
}

// relValidity is the time predicate of the relations a search returns.
func relValidity(q graph.SearchRequest) string {
	switch {
	case q.AsOf != nil:
		return "r.valid_from <= $as_of AND (r.invalid_at IS NULL OR r.invalid_at > $as_of)"
	case q.IncludeInvalid:
		return "true"
	}
	return "r.invalid_at IS NULL"
}

// searchQuery is the one query of a search. Its placeholders ({{validity}},
// {{filter}}, {{rel_validity}}, {{ann}}) are replaced by fixed predicates and
// clauses built from constants; every value is a parameter.
//
//  1. n counts the candidate memories — the scope's memories that pass the
//     validity and the caller's filters — up to $exact_max + 1 (beyond, the
//     exact count does not matter and would cost a scan); scope_all counts
//     the scope's memories from the index alone;
//  2. the vector step ranks them by similarity to $vector: an exact scan
//     when n ≤ $exact_max, else the vector index ({{ann}}), asked for
//     enough neighbours that the candidates' share of them is k_fetch times
//     $overfetch (index-wide on 5.26; within the scope with Neo4j 2026's
//     in-index filtered SEARCH, whose LIMIT must be a fixed $search_limit),
//     re-scored exactly; if the index path still found fewer than k_fetch
//     candidates (a filter that few pass), an exact scan replaces it, so a
//     search never comes back short;
//  3. the full-text step ranks them by BM25 (the Lucene query requires the
//     scope's tags, so only this scope's memories compete);
//  4. reciprocal rank fusion: score = Σ w/(k + rank) over the signals with
//     a weight, divided by the score of first place in every ranking that
//     found anything, so it is in (0, 1];
//  5. the threshold (on the cosine similarity of each hit, computed for
//     text-only hits too) and the top-k cut;
//  6. expansion: the entities the hits MENTION and the entities whose names
//     match the query, and the relations around them.
const searchQuery = `
CALL () {
  MATCH (m:Memory)
  WHERE {{scope m}}
  RETURN count(m) AS scope_all
}
CALL () {
  // Counting stops past $exact_max: beyond it only "many" matters (the
  // index path takes over and sizes its over-fetch from the scope).
  MATCH (m:Memory)
  WHERE {{scope m}} AND {{validity}}{{filter}}
  WITH m LIMIT $exact_max + 1
  RETURN count(m) AS n
}
CALL () {
  MATCH (x:Memory)
  RETURN count(x) AS total
}
CALL (n) {
  UNWIND CASE WHEN n <= $exact_max THEN [1] ELSE [] END AS _
  MATCH (m:Memory)
  WHERE {{scope m}} AND {{validity}}{{filter}}
  WITH m, vector.similarity.cosine(m.embedding, $vector) AS s
  ORDER BY s DESC, m.id
  LIMIT $k_fetch
  RETURN collect({m: m, s: s}) AS exact
}
CALL (n, total, scope_all) {
  UNWIND CASE WHEN n > $exact_max THEN [1] ELSE [] END AS _
  WITH toInteger(ceil($k_fetch * $overfetch * toFloat({{ann_base}}) / CASE WHEN n > $exact_max THEN scope_all ELSE n END)) AS want
  WITH CASE WHEN want > $ann_max THEN $ann_max ELSE want END AS want
  {{ann}}
  WHERE {{scope m}} AND {{validity}}{{filter}}
  // The index's scores may come from quantised vectors: rank by the exact
  // similarity, so the ANN path differs from the exact one only in which
  // candidates it saw.
  WITH m, vector.similarity.cosine(m.embedding, $vector) AS s
  ORDER BY s DESC, m.id
  LIMIT $k_fetch
  RETURN collect({m: m, s: s}) AS ann
}
CALL (n, ann) {
  // n is only counted up to $exact_max + 1, so past it the index path must
  // bring k_fetch candidates; when the switch is set below k_fetch, a scope
  // with fewer candidates is then scanned exactly (correct, just slower).
  UNWIND CASE WHEN n > $exact_max AND size(ann) < $k_fetch THEN [1] ELSE [] END AS _
  MATCH (m:Memory)
  WHERE {{scope m}} AND {{validity}}{{filter}}
  WITH m, vector.similarity.cosine(m.embedding, $vector) AS s
  ORDER BY s DESC, m.id
  LIMIT $k_fetch
  RETURN collect({m: m, s: s}) AS fallback
}
CALL (n, scope_all) {
  UNWIND CASE WHEN $lucene = '' OR $text_weight = 0.0 OR n = 0 THEN [] ELSE [1] END AS _
  // The index already requires the scope's tags; fetch enough that the
  // candidates' share of the scope (validity, filters) still fills k_fetch.
  WITH toInteger(ceil($text_fetch * toFloat(scope_all) / CASE WHEN n > $exact_max THEN scope_all ELSE n END)) AS want
  WITH CASE WHEN want > $ann_max THEN $ann_max ELSE want END AS want
  CALL db.index.fulltext.queryNodes($text_index, $lucene, {limit: want}) YIELD node AS m, score AS s
  WHERE {{scope m}} AND {{validity}}{{filter}}
  WITH m, s
  ORDER BY s DESC, m.id
  LIMIT $k_fetch
  RETURN collect({m: m, s: s}) AS thits
}
WITH n, exact + CASE WHEN size(fallback) > 0 THEN fallback ELSE ann END AS vhits, thits,
     CASE WHEN n <= $exact_max THEN 'exact'
          WHEN size(fallback) > 0 THEN 'exact-fallback'
          ELSE $ann_strategy END AS strategy
WITH n, strategy,
     [i IN range(0, size(vhits) - 1) | {m: vhits[i].m, vs: vhits[i].s, vr: i + 1, ts: null, tr: null}] +
     [i IN range(0, size(thits) - 1) | {m: thits[i].m, vs: null, vr: null, ts: thits[i].s, tr: i + 1}] AS ranked,
     (CASE WHEN size(vhits) > 0 THEN $vector_weight ELSE 0.0 END +
      CASE WHEN size(thits) > 0 THEN $text_weight ELSE 0.0 END) / ($rrf_k + 1.0) AS best
CALL (ranked, best) {
  UNWIND CASE WHEN best > 0.0 THEN ranked ELSE [] END AS h
  WITH h.m AS m, max(h.vs) AS vs, min(h.vr) AS vr, max(h.ts) AS ts, min(h.tr) AS tr
  WITH m, vr, ts, tr,
       coalesce(vs, vector.similarity.cosine(m.embedding, $vector)) AS vs,
       (coalesce($vector_weight / ($rrf_k + vr), 0.0) + coalesce($text_weight / ($rrf_k + tr), 0.0)) / best AS score
  // The threshold is on similarity (cosine), as Mem0 users expect, not on
  // the rank-based score.
  WHERE score > 0.0 AND ($threshold <= 0.0 OR 2.0 * vs - 1.0 >= $threshold)
  WITH m, vs, vr, ts, tr, score
  ORDER BY score DESC, vs DESC, m.id
  LIMIT $top_k
  RETURN collect({node: m, mm: ` + memoryMap + `, score: score, vs: 2.0 * vs - 1.0, vr: vr, ts: ts, tr: tr}) AS hits
}
WITH n, strategy, hits
CALL (hits) {
  UNWIND hits AS h
  WITH h.node AS m
  MATCH (m)-[:MENTIONS]->(e:__Entity__)
  RETURN collect(DISTINCT e) AS mentioned
}
CALL () {
  UNWIND CASE WHEN $entity_lucene = '' THEN [] ELSE [1] END AS _
  CALL db.index.fulltext.queryNodes($entity_index, $entity_lucene, {limit: 20}) YIELD node AS e, score AS s
  WHERE {{scope e}}
  RETURN collect(e) AS named
}
CALL (mentioned, named) {
  UNWIND mentioned + named AS e
  MATCH (e)-[r]-(:__Entity__)
  WHERE type(r) <> 'MENTIONS' AND {{scope r}} AND {{rel_validity}}
  WITH DISTINCT r
  WITH r, startNode(r) AS src, endNode(r) AS dst
  ORDER BY r.updated_at DESC, r.id
  LIMIT $relation_limit
  RETURN collect({id: r.id, type: type(r), source_id: src.id, source: src.name, target_id: dst.id, target: dst.name,
                  valid_from: r.valid_from, invalid_at: r.invalid_at, created_at: r.created_at,
                  updated_at: r.updated_at, mentions: r.mentions, memory_ids: r.memory_ids,
                  tenant: r.tenant, user_id: r.user_id, agent_id: r.agent_id, run_id: r.run_id}) AS relations
}
RETURN n, strategy, [h IN hits | {m: h.mm, score: h.score, vs: h.vs, vr: h.vr, ts: h.ts, tr: h.tr}] AS hits, relations`

// annIndex526 asks the vector index of all tenants; the candidates' share of
// the index (n / total) sets the over-fetch.
const annIndex526 = `CALL db.index.vector.queryNodes($vector_index, want, $vector) YIELD node AS m, score AS s`

// annSearch2026 filters by tenant and scope inside the index (Neo4j 2026.01+
// SEARCH clause; only the declared filter properties may appear), so the
// over-fetch only covers validity and the caller's filters (n / scope_all).
const annSearch2026 = `MATCH (m:Memory)
    SEARCH m IN (VECTOR INDEX memory_embedding FOR $vector WHERE {{search_scope m}} LIMIT $search_limit) SCORE AS s`

// Search runs one search in one query. Errors: Invalid (scope, vector,
// limits, weights), Unavailable.
func (s *Store) Search(ctx context.Context, q graph.SearchRequest) (graph.SearchResponse, error) {
	const op = "search"
	if err := s.checkSearch(op, &q); err != nil {
		return graph.SearchResponse{}, err
	}
	params := map[string]any{
		"vector":         vector64(q.Vector),
		"vector_index":   MemoryVectorIndex,
		"text_index":     MemoryFulltextIndex,
		"entity_index":   EntityFulltextIndex,
		"lucene":         luceneQuery("text", q.Query, q.Scope),
		"entity_lucene":  luceneQuery("name", q.Query, q.Scope),
		"k_fetch":        int64(s.cfg.Policy.Fetch(q.TopK)),
		"text_fetch":     int64(s.cfg.Policy.TextFetch(q.TopK)),
		"top_k":          int64(q.TopK),
		"threshold":      q.Threshold,
		"vector_weight":  q.VectorWeight,
		"text_weight":    q.TextWeight,
		"rrf_k":          float64(q.RRFK),
		"relation_limit": int64(q.RelationLimit),
		"exact_max":      int64(s.cfg.Policy.ExactMax),
		"overfetch":      float64(s.cfg.Policy.Overfetch()),
		"ann_max":        int64(s.cfg.Policy.ANNMax),
		"ann_strategy":   "ann",
		"search_limit":   int64(s.cfg.Policy.SearchLimit(q.TopK)),
	}
	filter, err := filterClause(q.Filter, "m", params)
	if err != nil {
		return graph.SearchResponse{}, err
	}
	info, err := s.serverInfo(ctx)
	if err != nil {
		return graph.SearchResponse{}, err
	}
	text := searchQuery
	ann, base := annIndex526, "total"
	if info.FilteredVectorSearch {
		// The index filters by the scope's ids; a set of scopes only by the
		// tenant (SEARCH's WHERE takes no OR), and the over-fetch (n /
		// scope_all) covers the rest.
		in := q.Scope
		if in.Any != nil {
			in = graph.Scope{Tenant: in.Tenant}
		}
		ann, base = strings.ReplaceAll(annSearch2026, "{{search_scope m}}", scopeWhere("m", in)), "scope_all"
		params["ann_strategy"] = "search"
		text = "CYPHER 25\n" + text
	}
	text = strings.NewReplacer(
		"{{ann}}", ann,
		"{{ann_base}}", base,
		"{{validity}}", validity("m", q, params),
		"{{filter}}", filter,
		"{{rel_validity}}", relValidity(q),
	).Replace(text)
	text = scoped(text, q.Scope, params)
	recs, err := s.readRecords(ctx, text, params)
	if err != nil {
		return graph.SearchResponse{}, translate(op, err)
	}
	if len(recs) != 1 {
		return graph.SearchResponse{}, graph.E(graph.Other, op, "search returned %d rows", len(recs))
	}
	return searchResult(recs[0])
}

func (s *Store) checkSearch(op string, q *graph.SearchRequest) error {
	if err := q.Scope.ValidateSet(op); err != nil {
		return err
	}
	var bad []graph.FieldError
	if fe := vector.CheckDims("vector", q.Vector, s.cfg.Dimensions); fe != nil {
		bad = append(bad, *fe)
	}
	switch {
	case q.TopK == 0:
		q.TopK = graph.DefaultTopK
	case q.TopK < 0 || q.TopK > graph.MaxTopK:
		bad = append(bad, graph.FieldError{Path: "top_k", Message: fmt.Sprintf("must be between 1 and %d", graph.MaxTopK)})
	}
	if q.Threshold < 0 || q.Threshold > 1 {
		bad = append(bad, graph.FieldError{Path: "threshold", Message: "must be between 0 and 1"})
	}
	f, err := vector.Fusion{VectorWeight: q.VectorWeight, TextWeight: q.TextWeight, K: q.RRFK}.WithDefaults()
	if err != nil {
		bad = append(bad, graph.FieldError{Path: "weights", Message: "must not be negative"})
	}
	q.VectorWeight, q.TextWeight, q.RRFK = f.VectorWeight, f.TextWeight, f.K
	switch {
	case q.RelationLimit == 0:
		q.RelationLimit = graph.DefaultRelations
	case q.RelationLimit < 0 || q.RelationLimit > MaxPageSize:
		bad = append(bad, graph.FieldError{Path: "relation_limit", Message: fmt.Sprintf("must be between 1 and %d", MaxPageSize)})
	}
	if len(bad) > 0 {
		return graph.InvalidFields(op, bad...)
	}
	return nil
}

func searchResult(rec *neo4j.Record) (graph.SearchResponse, error) {
	m := rec.AsMap()
	out := graph.SearchResponse{}
	n, _ := m["n"].(int64)
	out.Candidates = int(n)
	out.Strategy, _ = m["strategy"].(string)
	hits, _ := m["hits"].([]any)
	for _, h := range hits {
		hm, _ := h.(map[string]any)
		mm, _ := hm["m"].(map[string]any)
		ex := &graph.Explain{Strategy: out.Strategy}
		ex.VectorScore, _ = hm["vs"].(float64)
		ex.TextScore, _ = hm["ts"].(float64)
		vr, _ := hm["vr"].(int64)
		tr, _ := hm["tr"].(int64)
		ex.VectorRank, ex.TextRank = int(vr), int(tr)
		hit := graph.Hit{Memory: memoryFromMap(mm), Explain: ex}
		hit.Score, _ = hm["score"].(float64)
		out.Results = append(out.Results, hit)
	}
	rels, _ := m["relations"].([]any)
	for _, r := range rels {
		rm, _ := r.(map[string]any)
		out.Relations = append(out.Relations, relationFromMap(rm))
	}
	return out, nil
}
