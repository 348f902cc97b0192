package cypher_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/neomem/neomem/cypher"
	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/testcontainers"
	"github.com/neomem/neomem/vector"
)

func search(t *testing.T, s *cypher.Store, q graph.SearchRequest) graph.SearchResponse {
	t.Helper()
	if q.Vector == nil {
		q.Vector = embedder.Vector(q.Query)
	}
	res, err := s.Search(context.Background(), q)
	if err != nil {
		t.Fatalf("Search(%q): %v", q.Query, err)
	}
	return res
}

func texts(res graph.SearchResponse) []string {
	var out []string
	for _, h := range res.Results {
		out = append(out, h.Text)
	}
	return out
}

func TestSearchFusesVectorAndText(t *testing.T) {
	s, tenant := newStore(t)
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	var batch []graph.Memory
	for _, text := range []string{
		"alice likes cheese pizza", "alice likes pepperoni pizza", "bob plays tennis on sundays",
		"the weather in seattle is rainy", "alice has a dog named biscuit", "the zyxwvut protocol uses port 4242",
	} {
		batch = append(batch, mem(scope, text))
	}
	mustCreate(t, s, batch...)
	res := search(t, s, graph.SearchRequest{Scope: scope, Query: "cheese pizza", TopK: 3})
	if len(res.Results) != 3 || res.Results[0].Text != "alice likes cheese pizza" || res.Strategy != "exact" || res.Candidates != 6 {
		t.Fatalf("hits = %q, strategy %s, candidates %d", texts(res), res.Strategy, res.Candidates)
	}
	top := res.Results[0]
	if top.Score != 1 || top.Explain.VectorRank != 1 || top.Explain.TextRank != 1 || top.Explain.VectorScore <= 0 || top.Explain.TextScore <= 0 {
		t.Fatalf("top hit explanation = %+v", top)
	}
	for i := 1; i < len(res.Results); i++ {
		if res.Results[i].Score > res.Results[i-1].Score || res.Results[i].Score < 0 || res.Results[i].Score > 1 {
			t.Fatalf("scores not in [0,1] descending: %+v", res.Results)
		}
	}
	// A rare word only the full-text step knows still finds its memory.
	res = search(t, s, graph.SearchRequest{Scope: scope, Query: "zyxwvut", Vector: embedder.Vector("weather"), TopK: 2})
	var rare *graph.Hit
	for i := range res.Results {
		if res.Results[i].Text == "the zyxwvut protocol uses port 4242" {
			rare = &res.Results[i]
		}
	}
	if rare == nil || rare.Explain.TextRank != 1 || rare.Explain.TextScore <= 0 {
		t.Fatalf("full-text match missing or unranked: %+v", res.Results)
	}
	// The threshold is on cosine similarity: the exact text passes 0.999,
	// an unrelated query keeps nothing at 0.5.
	res = search(t, s, graph.SearchRequest{Scope: scope, Query: "alice likes cheese pizza", TopK: 5, Threshold: 0.999})
	if len(res.Results) != 1 || res.Results[0].Explain.VectorScore < 0.999 {
		t.Fatalf("threshold 0.999 kept %+v", res.Results)
	}
	res = search(t, s, graph.SearchRequest{Scope: scope, Query: "quantum chromodynamics lattice", TopK: 5, Threshold: 0.5})
	if len(res.Results) != 0 {
		t.Fatalf("threshold 0.5 kept irrelevant %q", texts(res))
	}
	// Weights: text only — vector-only hits do not come back with score 0.
	res = search(t, s, graph.SearchRequest{Scope: scope, Query: "tennis", Vector: embedder.Vector("cheese pizza"), TopK: 5, VectorWeight: 0, TextWeight: 1})
	if len(res.Results) != 1 || res.Results[0].Text != "bob plays tennis on sundays" || res.Results[0].Score != 1 {
		t.Fatalf("text-only search = %+v", res.Results)
	}
}

func TestSearchLuceneSyntaxIsText(t *testing.T) {
	s, tenant := newStore(t)
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	mustCreate(t, s, mem(scope, "AND OR NOT title:x (a) [b] {c} ~ * ? \\ / \" ' ! ^ + -"))
	for _, q := range []string{`title:x AND (a OR b)*~`, `"unbalanced`, `\`, `+-&&||!(){}[]^"~*?:\/`, `NOT`, ` `, "日本語 テキスト"} {
		if _, err := s.Search(context.Background(), graph.SearchRequest{Scope: scope, Query: q, Vector: embedder.Vector(q)}); err != nil {
			t.Fatalf("Search(%q): %v", q, err)
		}
	}
	// Lucene syntax in the query is plain words: "title:x" finds the
	// memory that has the words title and x.
	res := search(t, s, graph.SearchRequest{Scope: scope, Query: `title:x`, Vector: embedder.Vector("unrelated")})
	if len(res.Results) != 1 || res.Results[0].Explain.TextRank != 1 {
		t.Fatalf("text match for title:x = %+v", res.Results)
	}
	// Scripts with combining marks keep their words whole.
	mustCreate(t, s, mem(scope, "मुझे क्रिकेट पसंद है"))
	res = search(t, s, graph.SearchRequest{Scope: scope, Query: "क्रिकेट", Vector: embedder.Vector("unrelated"), VectorWeight: 0, TextWeight: 1})
	if len(res.Results) != 1 || res.Results[0].Text != "मुझे क्रिकेट पसंद है" {
		t.Fatalf("Devanagari text match = %q", texts(res))
	}
}

func TestSearchCurrentAndHistory(t *testing.T) {
	s, tenant := newStore(t)
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	created := time.Now().Add(-2 * time.Hour).UTC()
	invalidAt := time.Now().Add(-time.Hour).UTC()
	old := mem(scope, "alice lives in seattle")
	old.CreatedAt, old.ValidFrom, old.InvalidAt = created, created, &invalidAt
	cur := mem(scope, "alice lives in austin")
	cur.CreatedAt, cur.ValidFrom = invalidAt, invalidAt
	mustCreate(t, s, old, cur)
	has := func(res graph.SearchResponse, text string) bool { return slices.Contains(texts(res), text) }
	res := search(t, s, graph.SearchRequest{Scope: scope, Query: "alice lives in seattle"})
	if has(res, "alice lives in seattle") || !has(res, "alice lives in austin") {
		t.Fatalf("current search = %q", texts(res))
	}
	res = search(t, s, graph.SearchRequest{Scope: scope, Query: "alice lives", IncludeInvalid: true})
	if !has(res, "alice lives in seattle") || !has(res, "alice lives in austin") {
		t.Fatalf("with history = %q", texts(res))
	}
	between := created.Add(30 * time.Minute)
	res = search(t, s, graph.SearchRequest{Scope: scope, Query: "alice lives", AsOf: &between})
	if !has(res, "alice lives in seattle") || has(res, "alice lives in austin") {
		t.Fatalf("as of between = %q", texts(res))
	}
	before := created.Add(-time.Minute)
	res = search(t, s, graph.SearchRequest{Scope: scope, Query: "alice lives", AsOf: &before})
	if len(res.Results) != 0 {
		t.Fatalf("as of before anything = %q", texts(res))
	}
}

func TestSearchFiltersAndValidation(t *testing.T) {
	s, tenant := newStore(t)
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	a, b := mem(scope, "note about pizza one"), mem(scope, "note about pizza two")
	a.Metadata = map[string]any{"topic": "food", "year": 2024.0}
	b.Metadata = map[string]any{"topic": "work", "year": 2025.0}
	mustCreate(t, s, a, b)
	f, err := graph.ParseFilterJSON([]byte(`{"AND": [{"topic": "food"}, {"year": {"gte": 2020}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	res := search(t, s, graph.SearchRequest{Scope: scope, Query: "pizza", Filter: f})
	if len(res.Results) != 1 || res.Results[0].Text != "note about pizza one" || res.Candidates != 1 {
		t.Fatalf("filtered = %q (candidates %d)", texts(res), res.Candidates)
	}
	for _, bad := range []graph.SearchRequest{
		{Scope: scope, Query: "x", TopK: 1000},
		{Scope: scope, Query: "x", Threshold: 2},
		{Scope: graph.Scope{Tenant: tenant}, Query: "x"},
		{Scope: scope, Query: "x", Vector: []float32{1, 2}},
		{Scope: scope, Query: "x", VectorWeight: -1},
	} {
		if bad.Vector == nil {
			bad.Vector = embedder.Vector("x")
		}
		if _, err := s.Search(context.Background(), bad); graph.KindOf(err) != graph.Invalid {
			t.Errorf("Search(%+v) = %v, want Invalid", bad, err)
		}
	}
}

func TestSearchReturnsRelationsAroundHits(t *testing.T) {
	s, tenant := newStore(t)
	scope := graph.Scope{Tenant: tenant, UserID: "alice"}
	ctx := context.Background()
	alice, seattle, austin, acme := graph.NewID(), graph.NewID(), graph.NewID(), graph.NewID()
	ent := func(id, name, typ string) graph.EntityUpsert {
		return graph.EntityUpsert{ID: id, New: true, Name: name, Key: graph.EntityKey(name), Type: typ, Embedding: embedder.Vector(name)}
	}
	m1 := mem(scope, "alice lives in austin")
	m1.ID, m1.Kind = graph.NewID(), graph.KindFact
	lease, err := s.AcquireLease(ctx, scope, "t", time.Minute, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Hour).UTC()
	oldRel := graph.NewID()
	if err := s.Apply(ctx, graph.Plan{Scope: scope, At: past,
		Entities: []graph.EntityUpsert{ent(alice, "alice", "Person"), ent(seattle, "Seattle", "City"), ent(austin, "Austin", "City"), ent(acme, "Acme", "Company")},
		Relations: []graph.RelationOp{{Op: graph.OpAdd, Relation: graph.Relation{ID: oldRel, SourceID: alice, Type: "LIVES_IN", TargetID: seattle}},
			{Op: graph.OpAdd, Relation: graph.Relation{ID: graph.NewID(), SourceID: alice, Type: "WORKS_AT", TargetID: acme}}},
	}, lease); err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(ctx, graph.Plan{Scope: scope,
		Memories:  []graph.MemoryOp{{Op: graph.OpAdd, Memory: m1, Mentions: []string{alice, austin}}},
		Relations: []graph.RelationOp{{Op: graph.OpUpdate, OldID: oldRel, Relation: graph.Relation{ID: graph.NewID(), SourceID: alice, Type: "LIVES_IN", TargetID: austin}}},
	}, lease); err != nil {
		t.Fatal(err)
	}
	rels := func(res graph.SearchResponse) []string {
		var out []string
		for _, r := range res.Relations {
			out = append(out, r.Source+" "+r.Type+" "+r.Target)
		}
		slices.Sort(out)
		return out
	}
	res := search(t, s, graph.SearchRequest{Scope: scope, Query: "where does alice live"})
	if got := rels(res); !slices.Equal(got, []string{"alice LIVES_IN Austin", "alice WORKS_AT Acme"}) {
		t.Fatalf("current relations = %q", got)
	}
	between := past.Add(time.Minute)
	res = search(t, s, graph.SearchRequest{Scope: scope, Query: "alice", AsOf: &between, IncludeInvalid: true})
	if got := rels(res); !slices.Contains(got, "alice LIVES_IN Seattle") || slices.Contains(got, "alice LIVES_IN Austin") {
		t.Fatalf("relations as of before the move = %q", got)
	}
	// An entity whose name matches the query brings its relations even
	// without a memory hit (the threshold keeps every memory out).
	res = search(t, s, graph.SearchRequest{Scope: scope, Query: "Acme", Threshold: 0.999, Vector: embedder.Vector("nothing similar at all")})
	if got := rels(res); len(res.Results) != 0 || !slices.Equal(got, []string{"alice WORKS_AT Acme"}) {
		t.Fatalf("hits %q, relations of the entity named in the query = %q", texts(res), got)
	}
	// Stop words name no entity.
	res = search(t, s, graph.SearchRequest{Scope: scope, Query: "where is the", Threshold: 0.999, Vector: embedder.Vector("nothing similar at all")})
	if got := rels(res); len(got) != 0 {
		t.Fatalf("stop words brought relations %q", got)
	}
}

func TestSearchTenantIsolation(t *testing.T) {
	s, tenantA := newStore(t)
	tenantB := testcontainers.Tenant(t)
	a := graph.Scope{Tenant: tenantA, UserID: "same"}
	b := graph.Scope{Tenant: tenantB, UserID: "same"}
	mustCreate(t, s, mem(a, "secret of tenant a about pizza"))
	mustCreate(t, s, mem(b, "tenant b likes pizza"))
	res := search(t, s, graph.SearchRequest{Scope: b, Query: "secret of tenant a about pizza", TopK: 10})
	for _, h := range res.Results {
		if h.Scope.Tenant != tenantB {
			t.Fatalf("tenant B found %q of tenant %s", h.Text, h.Scope.Tenant)
		}
	}
	if len(res.Results) != 1 {
		t.Fatalf("tenant B hits = %q", texts(res))
	}
}

// corpus makes deterministic sentences from a small vocabulary, so their
// hashing-embedder vectors cluster the way real text does.
func corpus(r *rand.Rand, n int) []string {
	words := strings.Fields(`alice bob carol dave likes hates visits owns pizza tennis seattle austin dog cat
		coffee tea music jazz rock work office project deadline meeting doctor health run marathon book movie
		paris rome tokyo train flight hotel budget salary team manager garden flower bread cheese wine`)
	out := make([]string, n)
	for i := range out {
		k := 4 + r.IntN(5)
		w := make([]string, k)
		for j := range w {
			w[j] = words[r.IntN(len(words))]
		}
		out[i] = strings.Join(w, " ") + fmt.Sprintf(" #%d", r.IntN(1000))
	}
	return out
}

func cosine(a, b []float32) float64 {
	var d, na, nb float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return d / math.Sqrt(na*nb)
}

// exactTop returns the ids of the k memories most similar to v.
func exactTop(mems []graph.Memory, v []float32, k int) []string {
	type sc struct {
		id string
		s  float64
	}
	all := make([]sc, len(mems))
	for i, m := range mems {
		all[i] = sc{m.ID, cosine(m.Embedding, v)}
	}
	slices.SortFunc(all, func(a, b sc) int {
		if a.s != b.s {
			if a.s > b.s {
				return -1
			}
			return 1
		}
		return strings.Compare(a.id, b.id)
	})
	var ids []string
	for _, x := range all[:min(k, len(all))] {
		ids = append(ids, x.id)
	}
	return ids
}

// rotation maps the hashing embedder's vectors by a random signed
// permutation of their dimensions, new for every test run: cosine
// similarities among the rotated vectors are unchanged, but they share no
// neighbourhood with the vectors other tests (or earlier runs) write into the
// same index. Recall measured with them depends on the index, not on what
// other packages happen to write or delete meanwhile.
type rotation struct {
	perm []int
	sign []float32
}

func newRotation(dims int) rotation {
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	ro := rotation{perm: r.Perm(dims), sign: make([]float32, dims)}
	for i := range ro.sign {
		ro.sign[i] = float32(1 - 2*r.IntN(2))
	}
	return ro
}

func (ro rotation) apply(v []float32) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[ro.perm[i]] = ro.sign[i] * x
	}
	return out
}

// TestVectorRecall checks the vector step against exact search, in one index
// holding one large tenant and many small ones: recall@10 ≥ 0.99 for the
// exact path, and an ANN path that works (see the bound below).
// This is the reduced CI size (4,000 + 200×20 memories, the exact/ANN switch
// lowered to 500 so the large tenant takes the ANN path); the benchmark runs
// 50,000 + 1,000×20.
func TestVectorRecall(t *testing.T) {
	s, big := newStore(t, func(c *cypher.Config) { c.Policy.ExactMax = 500 })
	r := rand.New(rand.NewPCG(7, 11))
	ro := newRotation(dims)
	rotated := func(scope graph.Scope, text string) graph.Memory {
		m := mem(scope, text)
		m.Embedding = ro.apply(m.Embedding)
		return m
	}
	bigScope := graph.Scope{Tenant: big, UserID: "big"}
	var bigMems []graph.Memory
	texts := corpus(r, 4000)
	for start := 0; start < len(texts); start += 1000 {
		var batch []graph.Memory
		for _, text := range texts[start:min(start+1000, len(texts))] {
			batch = append(batch, rotated(bigScope, text))
		}
		bigMems = append(bigMems, mustCreate(t, s, batch...)...)
	}
	type small struct {
		scope graph.Scope
		mems  []graph.Memory
	}
	var smalls []small
	for i := range 200 {
		sc := graph.Scope{Tenant: big, UserID: fmt.Sprintf("small-%d", i)}
		smalls = append(smalls, small{sc, nil})
	}
	var batch []graph.Memory
	for i := range smalls {
		for _, text := range corpus(r, 20) {
			batch = append(batch, rotated(smalls[i].scope, text))
		}
	}
	for start := 0; start < len(batch); start += 1000 {
		for _, m := range mustCreate(t, s, batch[start:min(start+1000, len(batch))]...) {
			for i := range smalls {
				if smalls[i].scope == m.Scope {
					smalls[i].mems = append(smalls[i].mems, m)
				}
			}
		}
	}
	recall := func(scope graph.Scope, mems []graph.Memory, queries []string, wantStrategy string) float64 {
		hits, total := 0, 0
		for _, q := range queries {
			v := ro.apply(embedder.Vector(q))
			res, err := s.Search(context.Background(), graph.SearchRequest{Scope: scope, Vector: v, TopK: 10})
			if err != nil {
				t.Fatal(err)
			}
			if res.Strategy != wantStrategy && !(wantStrategy == "ann" && res.Strategy == "search") {
				t.Fatalf("strategy %s, want %s", res.Strategy, wantStrategy)
			}
			want := exactTop(mems, v, 10)
			for _, h := range res.Results {
				if slices.Contains(want, h.ID) {
					hits++
				}
			}
			total += len(want)
		}
		return float64(hits) / float64(total)
	}
	queries := corpus(r, 30)
	bigRecall := recall(bigScope, bigMems, queries, "ann")
	var smallHits float64
	for i := range 30 {
		sm := smalls[i*6]
		smallHits += recall(sm.scope, sm.mems, queries[i:i+1], "exact")
	}
	smallRecall := smallHits / 30
	t.Logf("recall@10: large tenant (4,000, ann) %.4f, small tenants (20 each, exact) %.4f", bigRecall, smallRecall)
	// The exact path is exact. The ANN path's 0.99 target is measured by
	// make bench-search on a Neo4j of its own: here the index is shared
	// with every package's tests, whose writes and deletes while this runs
	// cost the index-wide ANN of Neo4j 5.26 recall (0.81–0.96 seen in CI,
	// 1.0 alone; issue #11). Below 0.7 the over-fetch itself is broken.
	if smallRecall < 0.99 {
		t.Fatalf("recall@10 of the exact path %.4f; want ≥ 0.99", smallRecall)
	}
	if bigRecall < 0.7 {
		t.Fatalf("recall@10 of the ANN path %.4f; want ≥ 0.7 here (0.99 on a dedicated Neo4j: make bench-search)", bigRecall)
	}
	if bigRecall < 0.99 {
		t.Logf("recall@10 of the ANN path %.4f, below the 0.99 target, on the shared and busy test Neo4j", bigRecall)
	}
}

func TestListWithFilter(t *testing.T) {
	s, tenant := newStore(t)
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	var batch []graph.Memory
	for i := range 12 {
		m := mem(scope, fmt.Sprintf("note %d", i))
		m.Metadata = map[string]any{"n": float64(i), "even": i%2 == 0}
		batch = append(batch, m)
	}
	mustCreate(t, s, batch...)
	f, err := graph.ParseFilterJSON([]byte(`{"even": true, "n": {"gte": 4}}`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	cursor := ""
	for {
		page, err := s.ListMemories(context.Background(), scope, graph.ListQuery{Limit: 2, Cursor: cursor, Filter: f})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Items {
			got = append(got, m.Text)
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	slices.Sort(got)
	if want := []string{"note 10", "note 4", "note 6", "note 8"}; !slices.Equal(got, want) {
		t.Fatalf("filtered listing = %q, want %q", got, want)
	}
}

// TestSearchNeverComesBackShort: when the vector index cannot deliver enough
// of a sparse filter's candidates, the exact scan replaces it.
func TestSearchNeverComesBackShort(t *testing.T) {
	s, tenant := newStore(t, func(c *cypher.Config) { c.Policy.ExactMax, c.Policy.ANNMax = 5, 50 })
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	r := rand.New(rand.NewPCG(3, 5))
	var batch []graph.Memory
	for i, text := range corpus(r, 300) {
		m := mem(scope, text)
		if i%30 == 0 {
			m.Metadata = map[string]any{"tag": "rare"}
		}
		batch = append(batch, m)
	}
	mustCreate(t, s, batch...)
	f, err := graph.ParseFilterJSON([]byte(`{"tag": "rare"}`))
	if err != nil {
		t.Fatal(err)
	}
	res := search(t, s, graph.SearchRequest{Scope: scope, Query: "", Vector: embedder.Vector("alice likes pizza"), Filter: f, TopK: 20})
	// Candidates are counted only up to ExactMax + 1.
	if len(res.Results) != 10 || res.Candidates != 6 {
		t.Fatalf("%d hits of %d candidates (strategy %s), want all 10 hits, 6 counted", len(res.Results), res.Candidates, res.Strategy)
	}
	// On 5.26 the index (asked for 50 of the whole database) cannot deliver
	// the 10; on 2026 SEARCH (scope filtered inside the index) may, but
	// fewer than k_fetch (60) pass the filter, and only a scan can tell
	// that there are no more.
	if res.Strategy != "exact-fallback" {
		t.Fatalf("strategy %s, want exact-fallback", res.Strategy)
	}
	// With the switch below top_k (the count stops at 2), a short index
	// answer still falls back to the exact scan.
	tiny, err := cypher.New(testcontainers.Driver(t), cypher.Config{Dimensions: dims, Policy: vector.Policy{ExactMax: 1, ANNMax: 50}})
	if err != nil {
		t.Fatal(err)
	}
	res2, err := tiny.Search(context.Background(), graph.SearchRequest{Scope: scope, Vector: embedder.Vector("alice likes pizza"), Filter: f, TopK: 20})
	if err != nil || len(res2.Results) != 10 {
		t.Fatalf("ExactMax 1: %d hits (strategy %s), %v; want all 10", len(res2.Results), res2.Strategy, err)
	}
	// The full-text step is not starved by the filter either.
	res = search(t, s, graph.SearchRequest{Scope: scope, Query: corpusWord(batch[30].Text), Vector: embedder.Vector("x"), Filter: f, TopK: 20, VectorWeight: 0, TextWeight: 1})
	if len(res.Results) == 0 {
		t.Fatalf("no text hit among the filtered candidates")
	}
}

func corpusWord(text string) string { return strings.Fields(text)[0] }

// TestSearchPastInvalidNeighbours: an unfiltered search reads only the best
// of the vector index's neighbours further (vector.Policy.SearchKeep on
// 2026); when the nearest memories of the scope are all expired, it still
// answers with the valid ones, through the exact fallback. (On 5.26 the
// path depends on what else the shared index holds near the query: only
// the answer is checked there.)
func TestSearchPastInvalidNeighbours(t *testing.T) {
	s, tenant := newStore(t, func(c *cypher.Config) { c.Policy.ExactMax = 5 })
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	past := time.Now().Add(-time.Minute).UTC()
	created := past.Add(-time.Hour)
	var batch []graph.Memory
	for i := range 300 {
		m := mem(scope, fmt.Sprintf("pizza topping order %d", i))
		m.CreatedAt, m.ValidFrom, m.ExpiresAt = created, created, &past
		batch = append(batch, m)
	}
	// 40 valid memories: more than the 30 vector candidates of 10 hits, so
	// only the cut to the best 240 (all expired) sends 2026 to the scan.
	for i := range 40 {
		batch = append(batch, mem(scope, fmt.Sprintf("garden flower bed %d", i)))
	}
	mustCreate(t, s, batch...)
	res := search(t, s, graph.SearchRequest{Scope: scope, Vector: embedder.Vector("pizza topping order"), TopK: 10, VectorWeight: 1})
	if len(res.Results) != 10 {
		t.Fatalf("%d hits (strategy %s), want 10", len(res.Results), res.Strategy)
	}
	for _, h := range res.Results {
		if !strings.HasPrefix(h.Memory.Text, "garden") {
			t.Fatalf("expired memory %q found (strategy %s)", h.Memory.Text, res.Strategy)
		}
	}
	info, err := s.Server(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.FilteredVectorSearch && res.Strategy != "exact-fallback" {
		t.Errorf("strategy %s, want exact-fallback: the best 240 of SEARCH's neighbours are all expired", res.Strategy)
	}
}

// TestExactMaxFollowsIndexSize: on Neo4j 5.26 the exact/ANN switch is a
// tenth of the index (vector.ExactMaxBySize): a scope of 1,100 memories is
// scanned exactly in an index of 20,000 and searched on the index in one of
// 5,000; the size is read from the count store at most once per
// IndexSizeTTL. On 2026 the switch is one number whatever the size.
func TestExactMaxFollowsIndexSize(t *testing.T) {
	s, tenant := newStore(t)
	ctx := context.Background()
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	r := rand.New(rand.NewPCG(13, 17))
	var batch []graph.Memory
	for _, text := range corpus(r, 1100) {
		batch = append(batch, mem(scope, text))
	}
	mustCreate(t, s, batch...)
	info, err := s.Server(ctx)
	if err != nil {
		t.Fatal(err)
	}
	q := graph.SearchRequest{Scope: scope, Vector: embedder.Vector("alice likes pizza"), TopK: 10, VectorWeight: 1}
	for _, c := range []struct {
		size int64
		want string
	}{{20000, "exact"}, {5000, "ann"}, {100000, "exact"}} {
		cypher.SetIndexSize(s, cypher.IndexSizes{Memories: c.size}, time.Now())
		res := search(t, s, q)
		want := c.want
		if info.FilteredVectorSearch {
			want = "search"
		}
		if res.Strategy != want || len(res.Results) != 10 {
			t.Errorf("index of %d: strategy %s with %d hits, want %s with 10", c.size, res.Strategy, len(res.Results), want)
		}
	}
	// A stale size is read again: the real count holds the 1,100 at least
	// (on 2026 the switch needs no size, so nothing is read there).
	cypher.SetIndexSize(s, cypher.IndexSizes{Memories: 1}, time.Now().Add(-cypher.IndexSizeTTL))
	res := search(t, s, q)
	if got := cypher.CachedIndexSize(s).Memories; !info.FilteredVectorSearch && got < 1100 {
		t.Errorf("after a search with a stale size the store uses %d memories, want the count read again (at least 1,100)", got)
	}
	sizes, err := s.IndexSize(ctx)
	real := sizes.Memories
	if err != nil || real < 1100 {
		t.Fatalf("IndexSize = %+v, %v; want at least this test's 1,100 memories", sizes, err)
	}
	if want := map[bool]string{true: "exact", false: "ann"}[vector.ExactMaxBySize(real) >= 1100]; !info.FilteredVectorSearch && res.Strategy != want {
		t.Errorf("after a stale size, strategy %s, want %s for an index of %d", res.Strategy, want, real)
	}
	// A configured switch ignores the size.
	fixed, _ := newStore(t, func(c *cypher.Config) { c.Policy.ExactMax = 2000 })
	cypher.SetIndexSize(fixed, cypher.IndexSizes{Memories: 5000}, time.Now())
	if res := search(t, fixed, q); res.Strategy != "exact" {
		t.Errorf("ExactMax 2000: strategy %s, want exact", res.Strategy)
	}
}

func TestSearchExpiredMemories(t *testing.T) {
	s, tenant := newStore(t)
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	expired := mem(scope, "the coupon code is SAVE10")
	past := time.Now().Add(-time.Minute).UTC()
	created := past.Add(-time.Hour)
	expired.CreatedAt, expired.ValidFrom, expired.ExpiresAt = created, created, &past
	mustCreate(t, s, expired)
	if res := search(t, s, graph.SearchRequest{Scope: scope, Query: "coupon code"}); len(res.Results) != 0 {
		t.Fatalf("expired memory found: %q", texts(res))
	}
	before := past.Add(-time.Minute)
	if res := search(t, s, graph.SearchRequest{Scope: scope, Query: "coupon code", AsOf: &before}); len(res.Results) != 1 {
		t.Fatalf("as of before it expired: %q", texts(res))
	}
}

func TestListCursorInAnotherZone(t *testing.T) {
	s, tenant := newStore(t)
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	mustCreate(t, s, mem(scope, "a"), mem(scope, "b"))
	page, err := s.ListMemories(context.Background(), scope, graph.ListQuery{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(page.Next)
	var c struct {
		T  time.Time `json:"t"`
		ID string    `json:"id"`
	}
	_ = json.Unmarshal(raw, &c)
	c.T = c.T.In(time.FixedZone("", 3600))
	b, _ := json.Marshal(c)
	next, err := s.ListMemories(context.Background(), scope, graph.ListQuery{Limit: 1, Cursor: base64.RawURLEncoding.EncodeToString(b)})
	if err != nil || len(next.Items) != 1 || next.Items[0].Text == page.Items[0].Text {
		t.Fatalf("cursor in +01:00: %+v, %v", next.Items, err)
	}
	// The connection is still fine afterwards.
	if _, err := s.ListMemories(context.Background(), scope, graph.ListQuery{}); err != nil {
		t.Fatal(err)
	}
}
