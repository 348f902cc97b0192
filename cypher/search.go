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
// {{filter}}, {{rel_validity}}, {{ann}}, {{entity_ann}}) are replaced by
// fixed predicates and clauses built from constants; every value is a
// parameter.
//
//  1. n counts the candidate memories — the scope's memories that pass the
//     validity and the caller's filters — up to $exact_max + 1 (beyond, the
//     exact count does not matter and would cost a scan); when the scope's
//     index entries alone pass $exact_max and the search has no filter of
//     its own, that count is n ("many") and no node is read; scope_all is
//     the scope's size (counted from the index where it sizes something);
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
//  4. the graph step (skipped when $graph_weight is 0) ranks the candidates
//     that MENTION entities of the scope:
//     a. entities the query names: by name in the entity full-text index
//     (named, also used by the expansion; strength = Lucene score / the
//     best one, in (0, 1]) and by name embedding (similar: cosine to
//     $vector of at least $entity_min_score; an exact scan of the scope's
//     entities up to $entity_exact_max of them (the switch sized by the
//     entity index), else the entity vector index
//     ({{entity_ann}}, index-wide on 5.26 with the same share arithmetic as
//     the memory step, in-index filtered on 2026); strength = the cosine,
//     in [entityMinCosine, 1]);
//     b. one hop (hop): the entities related (any relation but MENTIONS,
//     valid and in scope) to the entities mentioned by the first
//     $graph_seeds hits of the vector and the full-text rankings, at most
//     $graph_per_entity per seed entity and $graph_entities in all (the
//     ones linked to most seeds first), each of strength $graph_hop;
//     c. an entity found several ways keeps its strongest strength; per
//     entity, at most $graph_walk MENTIONS are walked (never all of a
//     much-mentioned entity, in whatever order the store keeps them) and
//     at most $graph_per_entity of those memories that pass the scope,
//     validity and filters are taken; a memory's graph score is the sum of
//     the strengths of the distinct entities that brought it, so it is
//     ranked once, by all it mentions; ties by m.id;
//  5. the time step (only when the query names a date, $time_from is set,
//     and $time_weight is not 0) ranks the candidates created within
//     [$time_from, $time_to) by similarity to $vector; at most $time_scan
//     of them are compared (in the order the store finds them);
//  6. reciprocal rank fusion: score = Σ w/(k + rank) over the signals with
//     a weight, divided by the score of first place in every ranking that
//     found anything, so it is in (0, 1]; each signal's part of it is
//     returned too;
//  7. the threshold (on the cosine similarity of each hit, computed for
//     text-only, graph-only and time-only hits too) and the top-k cut;
//  8. expansion: the entities the hits MENTION and the entities whose names
//     match the query, and the relations around them (at most
//     $relation_limit walked per entity).
const searchQuery = `
CALL () {
  // Counting stops past $exact_max: beyond it only "many" matters (the
  // index path takes over and sizes its over-fetch from the scope). The
  // scope's entries alone come from the index, without reading a node.
  MATCH (m:Memory)
  WHERE {{scope m}}
  WITH m LIMIT $exact_max + 1
  RETURN count(m) AS scope_n
}
CALL (scope_n) {
  // The candidates (validity, the caller's filters) need reading the
  // nodes: only when the scope is small or the search filtered.
  UNWIND CASE WHEN scope_n > $exact_max AND NOT $filtered THEN [] ELSE [1] END AS _
  MATCH (m:Memory)
  WHERE {{scope m}} AND {{validity}}{{filter}}
  WITH m LIMIT $exact_max + 1
  RETURN count(m) AS counted_n
}
WITH scope_n, CASE WHEN scope_n > $exact_max AND NOT $filtered THEN scope_n ELSE counted_n END AS n
CALL (scope_n, n) {
  // The scope's whole size sizes the index path on 5.26 (its share of the
  // whole index) and the full-text fetch when the filters leave few
  // candidates. With many candidates on 2026 (filtered in the index) it
  // sizes nothing: a large scope is then not counted on every search.
  UNWIND CASE WHEN scope_n > $exact_max AND ($count_scope OR n <= $exact_max) THEN [1] ELSE [] END AS _
  MATCH (m:Memory)
  WHERE {{scope m}}
  RETURN count(m) AS counted
}
WITH n, CASE WHEN scope_n <= $exact_max THEN scope_n
             WHEN $count_scope OR n <= $exact_max THEN counted
             ELSE n END AS scope_all
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
  // A quantised index scores approximately: then rank by the exact
  // similarity, so the ANN path differs from the exact one only in which
  // candidates it saw. A full-precision index's score is already exact, and
  // reading every candidate's vector again would cost more than the search.
  WITH m, CASE WHEN $rescore THEN vector.similarity.cosine(m.embedding, $vector) ELSE s END AS s
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
WITH n, scope_all, exact + CASE WHEN size(fallback) > 0 THEN fallback ELSE ann END AS vhits, thits,
     CASE WHEN n <= $exact_max THEN 'exact'
          WHEN size(fallback) > 0 THEN 'exact-fallback'
          ELSE $ann_strategy END AS strategy
CALL () {
  UNWIND CASE WHEN $entity_lucene = '' THEN [] ELSE [1] END AS _
  CALL db.index.fulltext.queryNodes($entity_index, $entity_lucene, {limit: $graph_entities}) YIELD node AS e, score AS s
  WHERE {{scope e}}
  WITH e, s
  ORDER BY s DESC, e.id
  RETURN collect({e: e, s: s}) AS named
}
CALL (n) {
  UNWIND CASE WHEN $graph_weight > 0.0 AND n > 0 THEN [1] ELSE [] END AS _
  CALL () {
    MATCH (e:__Entity__)
    WHERE {{scope e}}
    WITH e
    LIMIT $entity_exact_max + 1
    RETURN count(e) AS entities
  }
  CALL (entities) {
    UNWIND CASE WHEN entities <= $entity_exact_max THEN [1] ELSE [] END AS _
    MATCH (e:__Entity__)
    WHERE {{scope e}}
    RETURN e
  UNION
    UNWIND CASE WHEN entities > $entity_exact_max THEN [1] ELSE [] END AS _
    {{entity_ann}}
    WHERE {{scope e}}
    RETURN e
  }
  // Rank by the exact similarity, whichever path found the entity.
  WITH e, vector.similarity.cosine(e.embedding, $vector) AS s
  WHERE s >= $entity_min_score
  WITH e, s
  ORDER BY s DESC, e.id
  LIMIT $graph_entities
  RETURN collect({e: e, w: 2.0 * s - 1.0}) AS similar
}
CALL (vhits, thits) {
  UNWIND CASE WHEN $graph_weight > 0.0 THEN
           [i IN range(0, size(vhits) - 1) WHERE $vector_weight > 0.0 AND i < $graph_seeds | {m: vhits[i].m, rank: i}] +
           [i IN range(0, size(thits) - 1) WHERE i < $graph_seeds | {m: thits[i].m, rank: i}]
         ELSE [] END AS h
  WITH h.m AS m, min(h.rank) AS rank
  MATCH (m)-[:MENTIONS]->(x:__Entity__)
  WHERE {{scope x}}
  WITH x, min(rank) AS rank
  ORDER BY rank, x.id
  LIMIT $graph_entities
  CALL (x) {
    MATCH (x)-[r]-(y:__Entity__)
    WHERE type(r) <> 'MENTIONS' AND {{scope r}} AND {{rel_validity}} AND {{scope y}}
    RETURN y
    LIMIT $graph_per_entity
  }
  WITH y, count(*) AS links
  ORDER BY links DESC, y.id
  LIMIT $graph_entities
  RETURN collect({e: y, w: $graph_hop}) AS hop
}
CALL (named, similar, hop, scope_all) {
  UNWIND CASE WHEN $graph_weight > 0.0 THEN [x IN named | {e: x.e, w: x.s / named[0].s}] + similar + hop ELSE [] END AS d
  // An entity counts by its specificity too: one that most of the scope's
  // memories mention (the user) says little about which of them answers.
  WITH d.e AS e, max(d.w) AS w
  WITH e, CASE WHEN scope_all > 0 THEN w * log(1.0 + toFloat(scope_all) / coalesce(e.mentions, 1)) / log(1.0 + scope_all)
               ELSE w END AS w
  CALL (e) {
    // Bounded walk first, filters after: a much-mentioned entity costs
    // $graph_walk expansions at most.
    MATCH (e)<-[:MENTIONS]-(m:Memory)
    WITH m
    LIMIT $graph_walk
    WITH m
    WHERE {{scope m}} AND {{validity}}{{filter}}
    RETURN m
    LIMIT $graph_per_entity
  }
  // Ties (the memories of one entity) go by their similarity to the query.
  WITH m, sum(w) AS s
  ORDER BY s DESC, vector.similarity.cosine(m.embedding, $vector) DESC, m.id
  LIMIT $k_fetch
  RETURN collect({m: m, s: s}) AS ghits
}
CALL (n) {
  UNWIND CASE WHEN $time_weight > 0.0 AND $time_from IS NOT NULL AND n > 0 THEN [1] ELSE [] END AS _
  MATCH (m:Memory)
  WHERE {{scope m}} AND m.created_at >= $time_from AND m.created_at < $time_to AND {{validity}}{{filter}}
  WITH m
  LIMIT $time_scan
  WITH m, vector.similarity.cosine(m.embedding, $vector) AS s
  ORDER BY s DESC, m.id
  LIMIT $k_fetch
  RETURN collect({m: m, s: s}) AS dhits
}
WITH n, strategy, named,
     [i IN range(0, size(vhits) - 1) | {m: vhits[i].m, vs: vhits[i].s, vr: i + 1, ts: null, tr: null, gs: null, gr: null, dr: null}] +
     [i IN range(0, size(thits) - 1) | {m: thits[i].m, vs: null, vr: null, ts: thits[i].s, tr: i + 1, gs: null, gr: null, dr: null}] +
     [i IN range(0, size(ghits) - 1) | {m: ghits[i].m, vs: null, vr: null, ts: null, tr: null, gs: ghits[i].s, gr: i + 1, dr: null}] +
     [i IN range(0, size(dhits) - 1) | {m: dhits[i].m, vs: dhits[i].s, vr: null, ts: null, tr: null, gs: null, gr: null, dr: i + 1}] AS ranked,
     (CASE WHEN size(vhits) > 0 THEN $vector_weight ELSE 0.0 END +
      CASE WHEN size(thits) > 0 THEN $text_weight ELSE 0.0 END +
      CASE WHEN size(ghits) > 0 THEN $graph_weight ELSE 0.0 END +
      CASE WHEN size(dhits) > 0 THEN $time_weight ELSE 0.0 END) / ($rrf_k + 1.0) AS best
CALL (ranked, best) {
  UNWIND CASE WHEN best > 0.0 THEN ranked ELSE [] END AS h
  WITH h.m AS m, max(h.vs) AS vs, min(h.vr) AS vr, max(h.ts) AS ts, min(h.tr) AS tr, max(h.gs) AS gs, min(h.gr) AS gr,
       min(h.dr) AS dr
  WITH m, vr, ts, tr, gs, gr, dr,
       coalesce(vs, vector.similarity.cosine(m.embedding, $vector)) AS vs,
       coalesce($vector_weight / ($rrf_k + vr), 0.0) / best AS vc,
       coalesce($text_weight / ($rrf_k + tr), 0.0) / best AS tc,
       coalesce($graph_weight / ($rrf_k + gr), 0.0) / best AS gc,
       coalesce($time_weight / ($rrf_k + dr), 0.0) / best AS dc
  WITH m, vs, vr, ts, tr, gs, gr, dr, vc, tc, gc, dc, vc + tc + gc + dc AS score
  // The threshold is on similarity (cosine), as Mem0 users expect, not on
  // the rank-based score.
  WHERE score > 0.0 AND ($threshold <= 0.0 OR 2.0 * vs - 1.0 >= $threshold)
  WITH m, vs, vr, ts, tr, gs, gr, dr, vc, tc, gc, dc, score
  ORDER BY score DESC, vs DESC, m.id
  LIMIT $top_k
  // First place in every ranking may sum to a hair above 1 in floating
  // point.
  RETURN collect({node: m, mm: ` + memoryMap + `, score: CASE WHEN score > 1.0 THEN 1.0 ELSE score END,
                  vs: 2.0 * vs - 1.0, vr: vr, ts: ts, tr: tr, gs: gs, gr: gr, dr: dr, vc: vc, tc: tc, gc: gc, dc: dc}) AS hits
}
WITH n, strategy, hits, named
CALL (hits) {
  UNWIND hits AS h
  WITH h.node AS m
  MATCH (m)-[:MENTIONS]->(e:__Entity__)
  RETURN collect(DISTINCT e) AS mentioned
}
CALL (mentioned, named) {
  UNWIND mentioned + [x IN named | x.e] AS e
  WITH DISTINCT e
  CALL (e) {
    MATCH (e)-[r]-(:__Entity__)
    WHERE type(r) <> 'MENTIONS' AND {{scope r}} AND {{rel_validity}}
    RETURN r
    LIMIT $relation_limit
  }
  WITH DISTINCT r
  WITH r, startNode(r) AS src, endNode(r) AS dst
  ORDER BY r.updated_at DESC, r.id
  LIMIT $relation_limit
  RETURN collect({id: r.id, type: type(r), source_id: src.id, source: src.name, target_id: dst.id, target: dst.name,
                  valid_from: r.valid_from, invalid_at: r.invalid_at, created_at: r.created_at,
                  updated_at: r.updated_at, mentions: r.mentions, memory_ids: r.memory_ids,
                  tenant: r.tenant, user_id: r.user_id, agent_id: r.agent_id, run_id: r.run_id}) AS relations
}
RETURN n, strategy, [h IN hits | {m: h.mm, score: h.score, vs: h.vs, vr: h.vr, ts: h.ts, tr: h.tr,
                                  gs: h.gs, gr: h.gr, dr: h.dr, vc: h.vc, tc: h.tc, gc: h.gc, dc: h.dc}] AS hits, relations`

// annIndex526 asks the vector index of all tenants; the candidates' share of
// the index (n / total) sets the over-fetch.
const annIndex526 = `CALL db.index.vector.queryNodes($vector_index, want, $vector) YIELD node AS m, score AS s`

// annSearch2026 filters by tenant and scope inside the index (Neo4j 2026.01+
// SEARCH clause; only the declared filter properties may appear), so the
// over-fetch only covers validity and the caller's filters (n / scope_all).
//
// The LIMIT is the search's breadth (its recall); of what it returns, only
// the best $search_keep (a top-N on the score alone) go on to have their
// properties read: validity, the caller's filters, the id for ties. Without
// filters that is a few times k_fetch, since the index already kept the
// scope; with filters, or a set of scopes the index cannot filter exactly,
// all of them. Too few valid among them ends in the exact fallback.
const annSearch2026 = `MATCH (m:Memory)
    SEARCH m IN (VECTOR INDEX memory_embedding FOR $vector WHERE {{search_scope m}} LIMIT $search_limit) SCORE AS s
  WITH m, s
  ORDER BY s DESC
  LIMIT $search_keep
  WITH m, s`

// entityANN526 asks the entity vector index of all tenants when the scope
// has more than $entity_exact_max entities; like the memory step, the scope's share
// of the index sets the over-fetch (capped by $ann_max).
const entityANN526 = `CALL () {
      MATCH (x:__Entity__)
      WHERE {{scope x}}
      RETURN count(x) AS scope_entities
    }
    CALL () {
      MATCH (x:__Entity__)
      RETURN count(x) AS all_entities
    }
    WITH toInteger(ceil($graph_entities * $overfetch * toFloat(all_entities) / scope_entities)) AS want
    WITH CASE WHEN want > $ann_max THEN $ann_max ELSE want END AS want
    CALL db.index.vector.queryNodes($entity_vector_index, want, $vector) YIELD node AS e, score AS s`

// entitySearch2026 filters the entity vector index by tenant and scope
// inside the index, like annSearch2026.
const entitySearch2026 = `MATCH (e:__Entity__)
    SEARCH e IN (VECTOR INDEX entity_embedding FOR $vector WHERE {{search_scope e}} LIMIT $entity_search_limit) SCORE AS s`

// The graph step's constants (see searchQuery, step 4).
const (
	// GraphPerEntity bounds, per entity, the memories that mention it which
	// the graph ranking takes, and the relations followed from a seed
	// entity to its neighbours: enough to rank an entity's memories within
	// the k_fetch of a typical search, few enough that a much-mentioned
	// entity (the user's own) costs little.
	GraphPerEntity = 50
	// graphWalk bounds the MENTIONS walked per entity before validity and
	// the caller's filters: a filter that passes one memory in four still
	// fills GraphPerEntity.
	graphWalk = 4 * GraphPerEntity
	// graphEntities bounds each set of entities the graph step considers:
	// named in the query by name, by embedding, and one hop away.
	graphEntities = 20
	// graphSeeds is how many of the first hits of the vector and of the
	// full-text ranking seed the hop (the default top_k).
	graphSeeds = graph.DefaultTopK
	// graphHop is the strength of an entity one relation away from one the
	// top hits mention: half a full match, so a memory about a named entity
	// ranks before one reached by a hop.
	graphHop = 0.5
	// entityMinCosine is the cosine similarity of an entity's name embedding
	// to the query from which the query names it. With all-MiniLM-L6-v2,
	// names that occur in the question ("alice" in "where does alice
	// live") or are synonyms of its words score 0.55–0.75, unrelated names
	// 0.35 at most.
	entityMinCosine = 0.5
	// timeScan bounds the memories of a named period the time step
	// compares with the query: a busy month of one user fits. At the bound
	// the step costs about 15 ms (BenchmarkSearchNamedPeriod: a 5,000
	// memory scope searched in 7.7 ms without the period and 22.7 ms with
	// it; 2,000 took 40 ms). Finding them still reads the scope's memories
	// of the period up to that many (and, when the planner takes the
	// (tenant, created_at) index, the other scopes' memories of the tenant
	// in between).
	timeScan = 1000
)

// Search runs one search in one query. Errors: Invalid (scope, vector,
// limits, weights), Unavailable.
func (s *Store) Search(ctx context.Context, q graph.SearchRequest) (graph.SearchResponse, error) {
	const op = "search"
	text, params, err := s.searchText(ctx, op, q)
	if err != nil {
		return graph.SearchResponse{}, err
	}
	recs, err := s.readRecords(ctx, text, params)
	if err != nil {
		return graph.SearchResponse{}, translate(op, err)
	}
	if len(recs) != 1 {
		return graph.SearchResponse{}, graph.E(graph.Other, op, "search returned %d rows", len(recs))
	}
	return searchResult(recs[0])
}

// searchText checks a search and builds its one query and parameters for
// the connected server.
func (s *Store) searchText(ctx context.Context, op string, q graph.SearchRequest) (string, map[string]any, error) {
	if err := s.checkSearch(op, &q); err != nil {
		return "", nil, err
	}
	info, err := s.serverInfo(ctx)
	if err != nil {
		return "", nil, err
	}
	inIndex := info.FilteredVectorSearch
	exactMax, entityExactMax, err := s.exactMax(ctx, inIndex)
	if err != nil {
		return "", nil, err
	}
	params := map[string]any{
		"vector":           vector64(q.Vector),
		"vector_index":     MemoryVectorIndex,
		"text_index":       MemoryFulltextIndex,
		"entity_index":     EntityFulltextIndex,
		"lucene":           luceneQuery("text", q.Query, q.Scope),
		"entity_lucene":    luceneQuery("name", q.Query, q.Scope),
		"k_fetch":          int64(s.cfg.Policy.Fetch(q.TopK)),
		"text_fetch":       int64(s.cfg.Policy.TextFetch(q.TopK)),
		"top_k":            int64(q.TopK),
		"threshold":        q.Threshold,
		"vector_weight":    q.VectorWeight,
		"text_weight":      q.TextWeight,
		"rrf_k":            float64(q.RRFK),
		"relation_limit":   int64(q.RelationLimit),
		"exact_max":        int64(exactMax),
		"entity_exact_max": int64(entityExactMax),
		"overfetch":        float64(s.cfg.Policy.Overfetch()),
		"ann_max":          int64(s.cfg.Policy.ANNMax),
		"ann_strategy":     "ann",
		"search_limit":     int64(s.cfg.Policy.SearchLimit(q.TopK)),
		"graph_weight":     q.GraphWeight,
		"time_weight":      q.TimeWeight,
		"time_from":        nil,
		"time_to":          nil,
		"time_scan":        int64(timeScan),
		"graph_entities":   int64(graphEntities),
		"graph_seeds":      int64(graphSeeds),
		"graph_hop":        float64(graphHop),
		"graph_walk":       int64(graphWalk),
		"graph_per_entity": int64(GraphPerEntity),
		// Neo4j's vector.similarity.cosine is (1 + cos) / 2.
		"entity_min_score":    (1 + entityMinCosine) / 2,
		"entity_vector_index": EntityVectorIndex,
		"entity_search_limit": int64(graphEntities * s.cfg.Policy.Overfetch()),
	}
	if q.Period != nil {
		params["time_from"], params["time_to"] = q.Period.From.UTC(), q.Period.To.UTC()
	}
	filter, err := filterClause(q.Filter, "m", params)
	if err != nil {
		return "", nil, err
	}
	text := searchQuery
	ann, base, entityANN := annIndex526, "total", entityANN526
	// The scope's whole size sizes 5.26's index-wide over-fetch.
	params["count_scope"] = !inIndex
	filtered := q.Filter != nil || q.AsOf != nil
	params["filtered"] = filtered
	params["rescore"] = s.cfg.Vector.Quantization
	if inIndex {
		// The index filters by the scope's ids; a set of scopes only by the
		// tenant (SEARCH's WHERE takes no OR), and the over-fetch (n /
		// scope_all) covers the rest.
		in := q.Scope
		if in.Any != nil {
			in = graph.Scope{Tenant: in.Tenant}
		}
		ann, base = strings.ReplaceAll(annSearch2026, "{{search_scope m}}", scopeWhere("m", in)), "scope_all"
		keep := s.cfg.Policy.SearchLimit(q.TopK)
		if !filtered && q.Scope.Any == nil {
			keep = s.cfg.Policy.SearchKeep(q.TopK)
		}
		params["search_keep"] = int64(keep)
		entityANN = strings.ReplaceAll(entitySearch2026, "{{search_scope e}}", scopeWhere("e", in))
		params["ann_strategy"] = "search"
		text = "CYPHER 25\n" + text
	}
	text = strings.NewReplacer(
		"{{ann}}", ann,
		"{{ann_base}}", base,
		"{{entity_ann}}", entityANN,
		"{{validity}}", validity("m", q, params),
		"{{filter}}", filter,
		"{{rel_validity}}", relValidity(q),
	).Replace(text)
	return scoped(text, q.Scope, params), params, nil
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
	f, err := vector.Fusion{VectorWeight: q.VectorWeight, TextWeight: q.TextWeight, GraphWeight: q.GraphWeight,
		TimeWeight: q.TimeWeight, K: q.RRFK}.WithDefaults()
	if err != nil {
		bad = append(bad, graph.FieldError{Path: "weights", Message: "must not be negative"})
	}
	q.VectorWeight, q.TextWeight, q.GraphWeight, q.TimeWeight, q.RRFK = f.VectorWeight, f.TextWeight, f.GraphWeight, f.TimeWeight, f.K
	if q.Period != nil && !q.Period.From.Before(q.Period.To) {
		bad = append(bad, graph.FieldError{Path: "period", Message: "must end after it starts"})
	}
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
		ex.GraphScore, _ = hm["gs"].(float64)
		vr, _ := hm["vr"].(int64)
		tr, _ := hm["tr"].(int64)
		gr, _ := hm["gr"].(int64)
		dr, _ := hm["dr"].(int64)
		ex.VectorRank, ex.TextRank, ex.GraphRank, ex.TimeRank = int(vr), int(tr), int(gr), int(dr)
		ex.VectorContribution, _ = hm["vc"].(float64)
		ex.TextContribution, _ = hm["tc"].(float64)
		ex.GraphContribution, _ = hm["gc"].(float64)
		ex.TimeContribution, _ = hm["dc"].(float64)
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
