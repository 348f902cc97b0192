package cypher_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neomem/neomem/cypher"
	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/llm/llmtest"
	"github.com/neomem/neomem/testcontainers"
	"github.com/neomem/neomem/vector"
)

// dims is the dimension every test uses: the vector indexes are shared by all
// test packages, and 384 is the default embedder's.
const dims = 384

var (
	embedder  = llmtest.NewHashEmbedder(dims)
	bootOnce  sync.Once
	bootError error
)

// newStore returns a bootstrapped store and a fresh tenant.
func newStore(t testing.TB, opts ...func(*cypher.Config)) (*cypher.Store, string) {
	t.Helper()
	d := testcontainers.Driver(t)
	cfg := cypher.Config{Dimensions: dims}
	for _, o := range opts {
		o(&cfg)
	}
	s, err := cypher.New(d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	bootOnce.Do(func() { bootError = s.Bootstrap(context.Background()) })
	if bootError != nil {
		t.Fatalf("Bootstrap: %v", bootError)
	}
	return s, testcontainers.Tenant(t)
}

func mem(scope graph.Scope, text string) graph.Memory {
	return graph.Memory{Scope: scope, Text: text, Kind: graph.KindRaw, Role: "user", Embedding: embedder.Vector(text)}
}

func mustCreate(t testing.TB, s *cypher.Store, ms ...graph.Memory) []graph.Memory {
	t.Helper()
	out, err := s.CreateMemories(context.Background(), ms, graph.Audit{ActorID: "tester"})
	if err != nil {
		t.Fatalf("CreateMemories: %v", err)
	}
	return out
}

// count runs a counting Cypher query straight against Neo4j, to check the
// graph itself rather than the store's own view of it.
func count(t *testing.T, q string, params map[string]any) int64 {
	t.Helper()
	res, err := neo4j.ExecuteQuery(context.Background(), testcontainers.Driver(t), q, params, neo4j.EagerResultTransformer)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	n, _, err := neo4j.GetRecordValue[int64](res.Records[0], "n")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func wantKind(t *testing.T, what string, err error, k graph.Kind) {
	t.Helper()
	if !errors.Is(err, k) {
		t.Fatalf("%s: error %v, want kind %v", what, err, k)
	}
}

func TestBootstrap(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	// Idempotent: a second run (as by a second server) changes nothing.
	if err := s.Bootstrap(ctx); err != nil {
		t.Fatalf("second Bootstrap: %v", err)
	}
	info, err := s.Server(ctx)
	if err != nil || info.Version == "" {
		t.Fatalf("Server() = %+v, %v", info, err)
	}
	states, err := s.IndexStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range states {
		if st.State != "ONLINE" {
			t.Errorf("index %s is %s, want ONLINE", st.Name, st.State)
		}
	}
	for _, name := range []string{"memory_id", "entity_id", "entity_key", "event_id", "scope_lock"} {
		if n := count(t, "SHOW CONSTRAINTS YIELD name WHERE name = $name RETURN count(*) AS n", map[string]any{"name": name}); n != 1 {
			t.Errorf("constraint %s: %d, want 1", name, n)
		}
	}
}

func TestBootstrapDimensionMismatch(t *testing.T) {
	newStore(t) // the shared indexes exist with 384 dimensions
	other, err := cypher.New(testcontainers.Driver(t), cypher.Config{Dimensions: 768})
	if err != nil {
		t.Fatal(err)
	}
	err = other.Bootstrap(context.Background())
	wantKind(t, "Bootstrap with 768 dimensions", err, graph.Conflict)
	for _, want := range []string{"384", "768", "DROP INDEX memory_embedding", "NEOMEM_EMBEDDING_DIMS"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	// Nothing changed: the index still has 384 dimensions.
	n := count(t, "SHOW VECTOR INDEXES YIELD name, options WHERE name = 'memory_embedding' AND options.indexConfig.`vector.dimensions` = 384 RETURN count(*) AS n", nil)
	if n != 1 {
		t.Fatalf("memory_embedding with 384 dimensions: %d, want 1", n)
	}
}

// vectorIndexInfo returns the id and HNSW settings of a vector index.
func vectorIndexInfo(t *testing.T, name string) (id int64, cfg vector.IndexConfig) {
	t.Helper()
	res, err := neo4j.ExecuteQuery(context.Background(), testcontainers.Driver(t),
		`SHOW VECTOR INDEXES YIELD id, name, options WHERE name = $name RETURN id, options.indexConfig AS c`,
		map[string]any{"name": name}, neo4j.EagerResultTransformer)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 1 {
		t.Fatalf("vector index %s: %d found", name, len(res.Records))
	}
	id, _, _ = neo4j.GetRecordValue[int64](res.Records[0], "id")
	c, _, _ := neo4j.GetRecordValue[map[string]any](res.Records[0], "c")
	cfg.Quantization, _ = cypher.Quantized(c)
	m, _ := c["vector.hnsw.m"].(int64)
	ef, _ := c["vector.hnsw.ef_construction"].(int64)
	cfg.M, cfg.EfConstruction = int(m), int(ef)
	return id, cfg
}

func TestBootstrapVectorSettings(t *testing.T) {
	newStore(t)
	// The shared indexes have the default settings.
	for _, name := range []string{cypher.MemoryVectorIndex, cypher.EntityVectorIndex} {
		_, got := vectorIndexInfo(t, name)
		want := vector.IndexConfig{M: vector.DefaultHNSWM, EfConstruction: vector.DefaultHNSWEfConstruction}
		if got != want {
			t.Errorf("%s settings %+v, want %+v", name, got, want)
		}
	}
}

// TestVectorSettingsMigration rebuilds a test-only index (the shared ones
// serve other packages' tests at the same time) when the settings change,
// and leaves it alone when they do not.
func TestVectorSettingsMigration(t *testing.T) {
	ctx := context.Background()
	d := testcontainers.Driver(t)
	const name, label = "neomem_test_vector_settings", "NeomemTestVectorSettings"
	drop := func() {
		if _, err := neo4j.ExecuteQuery(ctx, d, "DROP INDEX "+name+" IF EXISTS", nil, neo4j.EagerResultTransformer); err != nil {
			t.Fatal(err)
		}
	}
	drop()
	t.Cleanup(func() {
		drop()
		_, _ = neo4j.ExecuteQuery(ctx, d, "MATCH (x:"+label+") DELETE x", nil, neo4j.EagerResultTransformer)
	})
	ensure := func(cfg vector.IndexConfig) {
		t.Helper()
		s, err := cypher.New(d, cypher.Config{Dimensions: dims, Vector: cfg})
		if err != nil {
			t.Fatal(err)
		}
		if err := cypher.EnsureTestVectorIndex(ctx, s, name, label); err != nil {
			t.Fatalf("ensure with %+v: %v", cfg, err)
		}
	}
	quantised := vector.IndexConfig{Quantization: true, M: 8, EfConstruction: 50}
	ensure(quantised)
	id1, got := vectorIndexInfo(t, name)
	if got != quantised {
		t.Fatalf("created with %+v, want %+v", got, quantised)
	}
	ensure(quantised)
	if id, _ := vectorIndexInfo(t, name); id != id1 {
		t.Fatalf("same settings rebuilt the index (id %d → %d)", id1, id)
	}
	for _, next := range []vector.IndexConfig{
		{M: 8, EfConstruction: 50},                                // quantisation off
		{M: 24, EfConstruction: 50},                               // M
		{M: 24, EfConstruction: vector.DefaultHNSWEfConstruction}, // ef_construction
	} {
		before, _ := vectorIndexInfo(t, name)
		ensure(next)
		id, got := vectorIndexInfo(t, name)
		if id == before || got != next {
			t.Fatalf("after ensure with %+v: id %d (before %d), settings %+v", next, id, before, got)
		}
	}
	// The rebuilt index works: it finds a node written before the rebuild.
	v := toFloat64(embedder.Vector("a vector for the rebuilt index"))
	if _, err := neo4j.ExecuteQuery(ctx, d, "CREATE (:"+label+" {embedding: $v})", map[string]any{"v": v}, neo4j.EagerResultTransformer); err != nil {
		t.Fatal(err)
	}
	ensure(vector.IndexConfig{}) // defaults: another rebuild, over the existing node
	if _, err := neo4j.ExecuteQuery(ctx, d, "CALL db.awaitIndexes(120)", nil, neo4j.EagerResultTransformer); err != nil {
		t.Fatal(err)
	}
	res, err := neo4j.ExecuteQuery(ctx, d, "CALL db.index.vector.queryNodes($name, 1, $v) YIELD score RETURN score",
		map[string]any{"name": name, "v": v}, neo4j.EagerResultTransformer)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != 1 {
		t.Fatalf("rebuilt index returned %d nodes, want 1", len(res.Records))
	}
}

func TestNewRejectsBadDimension(t *testing.T) {
	_, err := cypher.New(nil, cypher.Config{Dimensions: 0})
	wantKind(t, "New with 0 dimensions", err, graph.Invalid)
	for _, v := range []vector.IndexConfig{{M: 513}, {M: -5}, {EfConstruction: 3201}, {EfConstruction: -1}} {
		_, err = cypher.New(nil, cypher.Config{Dimensions: 8, Vector: v})
		wantKind(t, fmt.Sprintf("New with %+v", v), err, graph.Invalid)
	}
}

func TestCreateAndGet(t *testing.T) {
	s, tenant := newStore(t)
	ctx := context.Background()
	scope := graph.Scope{Tenant: tenant, UserID: "alice", AgentID: "helper"}
	exp := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
	in := mem(scope, "Alice likes  cheese pizza")
	in.Metadata = map[string]any{"topic": "food", "rating": 5.0, "tags": []any{"a", "b"}, "nested": map[string]any{"x": 1.0}}
	in.Source = []string{"msg-1"}
	in.ActorID = "alice"
	in.ExpiresAt = &exp
	created := mustCreate(t, s, in)[0]
	if !graph.ValidID(created.ID) || created.Hash != graph.HashText("Alice likes cheese pizza") {
		t.Fatalf("created = %+v", created)
	}
	got, err := s.GetMemory(ctx, graph.Scope{Tenant: tenant}, created.ID)
	if err != nil {
		t.Fatalf("GetMemory: %v", err)
	}
	want := created
	want.Embedding = nil
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("GetMemory mismatch (-want +got):\n%s", diff)
	}
	// The graph holds the vector as a property of the right size, the
	// flattened metadata and the ADD event.
	n := count(t, `MATCH (m:Memory {id: $id}) WHERE size(m.embedding) = 384 AND m.meta_topic = 'food'
		AND m.meta_rating = 5 AND m.meta_tags = ['a', 'b'] AND m.meta_nested IS NULL RETURN count(*) AS n`,
		map[string]any{"id": created.ID})
	if n != 1 {
		t.Fatalf("stored node with vector and flattened metadata: %d, want 1", n)
	}
	n = count(t, `MATCH (e:Event {target_id: $id, op: 'ADD', tenant: $t, user_id: 'alice', actor_id: 'tester'}) RETURN count(*) AS n`,
		map[string]any{"id": created.ID, "t": tenant})
	if n != 1 {
		t.Fatalf("ADD events: %d, want 1", n)
	}

	// A narrower scope that does not match hides it.
	_, err = s.GetMemory(ctx, graph.Scope{Tenant: tenant, UserID: "bob"}, created.ID)
	wantKind(t, "GetMemory in another user's scope", err, graph.NotFound)
	_, err = s.GetMemory(ctx, graph.Scope{Tenant: tenant}, graph.NewID())
	wantKind(t, "GetMemory of an unknown id", err, graph.NotFound)
	_, err = s.GetMemory(ctx, graph.Scope{Tenant: tenant}, "not-a-uuid")
	wantKind(t, "GetMemory of a malformed id", err, graph.Invalid)
	_, err = s.GetMemory(ctx, graph.Scope{}, created.ID)
	wantKind(t, "GetMemory without a tenant", err, graph.Invalid)
}

func TestCreateValidation(t *testing.T) {
	s, tenant := newStore(t)
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	short := mem(scope, "short vector")
	short.Embedding = short.Embedding[:10]
	tests := []struct {
		name  string
		mem   graph.Memory
		field string
	}{
		{"no scope id", mem(graph.Scope{Tenant: tenant}, "x"), "memories[0].user_id"},
		{"no tenant", mem(graph.Scope{UserID: "u"}, "x"), "memories[0].tenant"},
		{"bad tenant", mem(graph.Scope{Tenant: "a b", UserID: "u"}, "x"), "memories[0].tenant"},
		{"control char in user id", mem(graph.Scope{Tenant: tenant, UserID: "a\x00b"}, "x"), "memories[0].user_id"},
		{"empty text", mem(scope, "  "), "memories[0].text"},
		{"wrong dimension", short, "memories[0].embedding"},
		{"bad kind", func() graph.Memory { m := mem(scope, "x"); m.Kind = "other"; return m }(), "memories[0].kind"},
		{"bad metadata key", func() graph.Memory { m := mem(scope, "x"); m.Metadata = map[string]any{"": 1}; return m }(), "memories[0].metadata."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.CreateMemories(context.Background(), []graph.Memory{tt.mem}, graph.Audit{})
			wantKind(t, "CreateMemories", err, graph.Invalid)
			fields := graph.FieldsOf(err)
			if len(fields) == 0 || fields[0].Path != tt.field {
				t.Fatalf("CreateMemories fields = %+v, want path %q", fields, tt.field)
			}
		})
	}
	if n := count(t, "MATCH (n) WHERE n.tenant = $t RETURN count(n) AS n", map[string]any{"t": tenant}); n != 0 {
		t.Fatalf("nodes after rejected creates: %d, want 0", n)
	}
}

func TestCreateIsAtomic(t *testing.T) {
	s, tenant := newStore(t)
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	first := mustCreate(t, s, mem(scope, "exists"))[0]
	// The second memory reuses an existing id: the uniqueness constraint
	// fails the transaction, so the first of the batch must not land either.
	dup := mem(scope, "duplicate id")
	dup.ID = first.ID
	_, err := s.CreateMemories(context.Background(), []graph.Memory{mem(scope, "new one"), dup}, graph.Audit{})
	wantKind(t, "CreateMemories with a duplicate id", err, graph.Conflict)
	if n := count(t, "MATCH (m:Memory {tenant: $t}) RETURN count(m) AS n", map[string]any{"t": tenant}); n != 1 {
		t.Fatalf("memories after failed batch: %d, want 1", n)
	}
	if n := count(t, "MATCH (e:Event {tenant: $t}) RETURN count(e) AS n", map[string]any{"t": tenant}); n != 1 {
		t.Fatalf("events after failed batch: %d, want 1", n)
	}
}

func TestListPagination(t *testing.T) {
	s, tenant := newStore(t)
	ctx := context.Background()
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	var batch []graph.Memory
	for i := range 25 {
		batch = append(batch, mem(scope, fmt.Sprintf("fact number %d", i)))
	}
	created := mustCreate(t, s, batch...)
	mustCreate(t, s, mem(graph.Scope{Tenant: tenant, UserID: "other"}, "someone else's"))
	invalid := mem(scope, "an old version")
	past := time.Now().Add(-time.Hour)
	invalid.InvalidAt = &past
	expired := mem(scope, "expired")
	expired.ExpiresAt = &past
	hidden := mustCreate(t, s, invalid, expired)

	var ids []string
	cursor := ""
	pages := 0
	for {
		page, err := s.ListMemories(ctx, scope, graph.ListQuery{Limit: 10, Cursor: cursor})
		if err != nil {
			t.Fatalf("ListMemories page %d: %v", pages, err)
		}
		pages++
		for _, m := range page.Items {
			ids = append(ids, m.ID)
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if pages != 3 {
		t.Errorf("pages = %d, want 3", pages)
	}
	// Listing order is creation time, then id (one batch shares its time).
	slices.SortFunc(created, func(a, b graph.Memory) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	var want []string
	for _, m := range created {
		want = append(want, m.ID)
	}
	if diff := cmp.Diff(want, ids); diff != "" {
		t.Fatalf("listed ids (-want +got):\n%s", diff)
	}

	// History on request: the invalidated one appears, the expired one never.
	page, err := s.ListMemories(ctx, scope, graph.ListQuery{Limit: 100, IncludeInvalid: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 26 || page.Items[25].ID != hidden[0].ID {
		t.Fatalf("with invalid: %d items, last %v; want 26 ending with %s", len(page.Items), page.Items[len(page.Items)-1].ID, hidden[0].ID)
	}

	_, err = s.ListMemories(ctx, scope, graph.ListQuery{Cursor: "garbage!"})
	wantKind(t, "ListMemories with a bad cursor", err, graph.Invalid)
	_, err = s.ListMemories(ctx, scope, graph.ListQuery{Limit: cypher.MaxPageSize + 1})
	wantKind(t, "ListMemories with a too large limit", err, graph.Invalid)
	_, err = s.ListMemories(ctx, graph.Scope{Tenant: tenant}, graph.ListQuery{})
	wantKind(t, "ListMemories without a scope id", err, graph.Invalid)
}

func TestListDuringConcurrentInserts(t *testing.T) {
	s, tenant := newStore(t)
	ctx := context.Background()
	scope := graph.Scope{Tenant: tenant, RunID: "r1"}
	var batch []graph.Memory
	for i := range 40 {
		batch = append(batch, mem(scope, fmt.Sprintf("before %d", i)))
	}
	before := mustCreate(t, s, batch...)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := s.CreateMemories(ctx, []graph.Memory{mem(scope, fmt.Sprintf("during %d", i))}, graph.Audit{}); err != nil {
				t.Errorf("concurrent insert: %v", err)
				return
			}
		}
	}()
	seen := map[string]bool{}
	cursor := ""
	for {
		page, err := s.ListMemories(ctx, scope, graph.ListQuery{Limit: 7, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Items {
			if seen[m.ID] {
				t.Fatalf("memory %s listed twice", m.ID)
			}
			seen[m.ID] = true
		}
		if page.Next == "" || len(seen) > 200 {
			break
		}
		cursor = page.Next
	}
	close(stop)
	wg.Wait()
	for _, m := range before {
		if !seen[m.ID] {
			t.Fatalf("memory %s (%s) that existed before the listing was skipped", m.ID, m.Text)
		}
	}
}

func TestUpdate(t *testing.T) {
	s, tenant := newStore(t)
	ctx := context.Background()
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	in := mem(scope, "likes cheese pizza")
	in.Metadata = map[string]any{"keep": "yes", "drop": "soon"}
	m := mustCreate(t, s, in)[0]

	text := "likes cheese and pepperoni pizza"
	got, err := s.UpdateMemory(ctx, graph.Scope{Tenant: tenant}, m.ID, graph.MemoryPatch{
		Text: &text, Embedding: embedder.Vector(text),
		Metadata: map[string]any{"drop": nil, "new": true},
	}, graph.Audit{ActorID: "editor", RequestID: "req-1"})
	if err != nil {
		t.Fatalf("UpdateMemory: %v", err)
	}
	if got.Text != text || got.Hash != graph.HashText(text) || !got.UpdatedAt.After(m.UpdatedAt) || got.Scope != scope {
		t.Fatalf("updated = %+v", got)
	}
	if diff := cmp.Diff(map[string]any{"keep": "yes", "new": true}, got.Metadata); diff != "" {
		t.Fatalf("metadata (-want +got):\n%s", diff)
	}
	// The flattened copy of the removed key is gone, the new one is there,
	// and the stored vector is the new text's.
	n := count(t, `MATCH (m:Memory {id: $id}) WHERE m.meta_drop IS NULL AND m.meta_new = true AND m.meta_keep = 'yes'
		AND vector.similarity.cosine(m.embedding, $v) > 0.999 RETURN count(*) AS n`,
		map[string]any{"id": m.ID, "v": toFloat64(embedder.Vector(text))})
	if n != 1 {
		t.Fatalf("updated node properties/vector: %d matches, want 1", n)
	}

	// Replace the metadata without touching the text.
	got, err = s.UpdateMemory(ctx, scope, m.ID, graph.MemoryPatch{Metadata: map[string]any{"only": 1.0}, ReplaceMetadata: true}, graph.Audit{})
	if err != nil || got.Text != text || len(got.Metadata) != 1 {
		t.Fatalf("metadata-only update = %+v, %v", got, err)
	}

	hist, err := s.History(ctx, scope, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, e := range hist {
		ops = append(ops, string(e.Op)+":"+e.Old+">"+e.New)
	}
	want := []string{"ADD:>likes cheese pizza", "UPDATE:likes cheese pizza>" + text, "UPDATE:" + text + ">" + text}
	if diff := cmp.Diff(want, ops); diff != "" {
		t.Fatalf("history (-want +got):\n%s", diff)
	}
	if hist[1].ActorID != "editor" || hist[1].RequestID != "req-1" || hist[1].Scope.UserID != "u" {
		t.Fatalf("update event = %+v", hist[1])
	}

	_, err = s.UpdateMemory(ctx, scope, graph.NewID(), graph.MemoryPatch{Text: &text, Embedding: embedder.Vector(text)}, graph.Audit{})
	wantKind(t, "UpdateMemory of an unknown id", err, graph.NotFound)
	_, err = s.UpdateMemory(ctx, scope, m.ID, graph.MemoryPatch{}, graph.Audit{})
	wantKind(t, "UpdateMemory with nothing to change", err, graph.Invalid)
	_, err = s.UpdateMemory(ctx, scope, m.ID, graph.MemoryPatch{Text: &text}, graph.Audit{})
	wantKind(t, "UpdateMemory without the new embedding", err, graph.Invalid)
}

func toFloat64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func TestDeleteKeepsHistory(t *testing.T) {
	s, tenant := newStore(t)
	ctx := context.Background()
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	m := mustCreate(t, s, mem(scope, "to be deleted"))[0]
	if err := s.DeleteMemory(ctx, graph.Scope{Tenant: tenant}, m.ID, 0, graph.Audit{ActorID: "cleaner"}); err != nil {
		t.Fatalf("DeleteMemory: %v", err)
	}
	_, err := s.GetMemory(ctx, scope, m.ID)
	wantKind(t, "GetMemory after delete", err, graph.NotFound)
	err = s.DeleteMemory(ctx, scope, m.ID, 0, graph.Audit{})
	wantKind(t, "DeleteMemory twice", err, graph.NotFound)
	hist, err := s.History(ctx, scope, m.ID)
	if err != nil || len(hist) != 2 || hist[1].Op != graph.OpDelete || hist[1].Old != "to be deleted" || hist[1].Scope.UserID != "u" {
		t.Fatalf("History after delete = %+v, %v", hist, err)
	}
	_, err = s.History(ctx, scope, graph.NewID())
	wantKind(t, "History of an unknown id", err, graph.NotFound)
}

func TestDeleteAllInBatches(t *testing.T) {
	s, tenant := newStore(t, func(c *cypher.Config) { c.DeleteBatch = 7 })
	ctx := context.Background()
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	var batch []graph.Memory
	for i := range 30 {
		batch = append(batch, mem(graph.Scope{Tenant: tenant, UserID: "u", RunID: fmt.Sprintf("run-%d", i%3)}, fmt.Sprintf("fact %d", i)))
	}
	created := mustCreate(t, s, batch...)
	other := mustCreate(t, s, mem(graph.Scope{Tenant: tenant, UserID: "keep"}, "another user's fact"))[0]

	n, err := s.DeleteAll(ctx, scope, graph.DeleteOptions{}, graph.Audit{})
	if err != nil || n != 30 {
		t.Fatalf("DeleteAll = %d, %v, want 30", n, err)
	}
	if c := count(t, "MATCH (m:Memory {tenant: $t, user_id: 'u'}) RETURN count(m) AS n", map[string]any{"t": tenant}); c != 0 {
		t.Fatalf("memories left: %d", c)
	}
	if c := count(t, "MATCH (e:Event {tenant: $t, op: 'DELETE', target_kind: 'memory'}) RETURN count(e) AS n", map[string]any{"t": tenant}); c != 30 {
		t.Fatalf("DELETE events: %d, want 30", c)
	}
	if _, err := s.GetMemory(ctx, graph.Scope{Tenant: tenant}, other.ID); err != nil {
		t.Fatalf("other user's memory: %v", err)
	}
	hist, err := s.History(ctx, scope, created[0].ID)
	if err != nil || len(hist) != 2 || hist[1].Scope.RunID != "run-0" {
		t.Fatalf("history after delete-all = %+v, %v", hist, err)
	}

	// Purge removes the history too.
	if _, err := s.DeleteAll(ctx, graph.Scope{Tenant: tenant, UserID: "keep"}, graph.DeleteOptions{Purge: true}, graph.Audit{}); err != nil {
		t.Fatal(err)
	}
	_, err = s.History(ctx, scope, other.ID)
	wantKind(t, "History after purge", err, graph.NotFound)

	_, err = s.DeleteAll(ctx, graph.Scope{Tenant: tenant}, graph.DeleteOptions{}, graph.Audit{})
	wantKind(t, "DeleteAll without a scope id", err, graph.Invalid)
}

func TestMetadataCannotChangeScope(t *testing.T) {
	s, tenant := newStore(t)
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	in := mem(scope, "sneaky")
	in.Metadata = map[string]any{"tenant": "victim", "user_id": "admin", "id": "x", "text": "overwritten"}
	m := mustCreate(t, s, in)[0]
	n := count(t, `MATCH (m:Memory {id: $id}) WHERE m.tenant = $t AND m.user_id = 'u' AND m.text = 'sneaky'
		AND m.meta_tenant = 'victim' AND m.meta_user_id = 'admin' RETURN count(*) AS n`, map[string]any{"id": m.ID, "t": tenant})
	if n != 1 {
		t.Fatalf("memory with scope intact and metadata flattened under meta_: %d, want 1", n)
	}
}

// TestTenantIsolation: nothing written for one tenant is visible to, changed
// by or deleted by any operation of another, even with the same scope ids.
func TestTenantIsolation(t *testing.T) {
	s, tenantA := newStore(t)
	tenantB := testcontainers.Tenant(t)
	ctx := context.Background()
	a := graph.Scope{Tenant: tenantA, UserID: "same-user", AgentID: "same-agent"}
	b := graph.Scope{Tenant: tenantB, UserID: "same-user", AgentID: "same-agent"}
	am := mustCreate(t, s, mem(a, "A's secret one"), mem(a, "A's secret two"))
	mustCreate(t, s, mem(b, "B's own"))
	snapshot := func() string {
		res, err := neo4j.ExecuteQuery(ctx, testcontainers.Driver(t),
			`MATCH (n) WHERE n.tenant = $t RETURN n.id AS id, n.text AS text, n.updated_at AS u ORDER BY id`,
			map[string]any{"t": tenantA}, neo4j.EagerResultTransformer)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, r := range res.Records {
			fmt.Fprintln(&b, r.Values...)
		}
		return b.String()
	}
	before := snapshot()

	text := "hijacked"
	for _, id := range []string{am[0].ID, am[1].ID} {
		_, err := s.GetMemory(ctx, b, id)
		wantKind(t, "B gets A's memory", err, graph.NotFound)
		_, err = s.GetMemory(ctx, graph.Scope{Tenant: tenantB}, id)
		wantKind(t, "B gets A's memory by id alone", err, graph.NotFound)
		_, err = s.UpdateMemory(ctx, b, id, graph.MemoryPatch{Text: &text, Embedding: embedder.Vector(text)}, graph.Audit{})
		wantKind(t, "B updates A's memory", err, graph.NotFound)
		err = s.DeleteMemory(ctx, graph.Scope{Tenant: tenantB}, id, 0, graph.Audit{})
		wantKind(t, "B deletes A's memory", err, graph.NotFound)
		_, err = s.History(ctx, b, id)
		wantKind(t, "B reads A's history", err, graph.NotFound)
	}
	page, err := s.ListMemories(ctx, b, graph.ListQuery{IncludeInvalid: true})
	if err != nil || len(page.Items) != 1 || page.Items[0].Text != "B's own" {
		t.Fatalf("B lists %+v, %v; want only B's memory", page.Items, err)
	}
	if _, err := s.DeleteAll(ctx, b, graph.DeleteOptions{Purge: true}, graph.Audit{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Reset(ctx, tenantB, graph.Audit{}); err != nil {
		t.Fatal(err)
	}
	if after := snapshot(); after != before {
		t.Fatalf("tenant A changed by tenant B's operations:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if c := count(t, "MATCH (n) WHERE n.tenant = $t RETURN count(n) AS n", map[string]any{"t": tenantB}); c != 0 {
		t.Fatalf("tenant B nodes after reset: %d, want 0", c)
	}
	page, err = s.ListMemories(ctx, a, graph.ListQuery{})
	if err != nil || len(page.Items) != 2 {
		t.Fatalf("A lists %d memories, %v; want 2", len(page.Items), err)
	}
}

func TestReset(t *testing.T) {
	s, tenant := newStore(t, func(c *cypher.Config) { c.DeleteBatch = 5 })
	ctx := context.Background()
	var batch []graph.Memory
	for i := range 12 {
		batch = append(batch, mem(graph.Scope{Tenant: tenant, UserID: fmt.Sprintf("user-%d", i%4)}, fmt.Sprintf("fact %d", i)))
	}
	mustCreate(t, s, batch...)
	n, err := s.Reset(ctx, tenant, graph.Audit{})
	if err != nil || n != 24 { // 12 memories + 12 ADD events
		t.Fatalf("Reset = %d, %v; want 24", n, err)
	}
	if c := count(t, "MATCH (n) WHERE n.tenant = $t RETURN count(n) AS n", map[string]any{"t": tenant}); c != 0 {
		t.Fatalf("nodes after reset: %d", c)
	}
	_, err = s.Reset(ctx, "", graph.Audit{})
	wantKind(t, "Reset without a tenant", err, graph.Invalid)
}

func TestNeo4jDownIsUnavailable(t *testing.T) {
	newStore(t)
	d, err := neo4j.NewDriverWithContext("bolt://127.0.0.1:1", neo4j.NoAuth())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(context.Background())
	s, err := cypher.New(d, cypher.Config{Dimensions: dims})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = s.GetMemory(ctx, graph.Scope{Tenant: "t"}, graph.NewID())
	wantKind(t, "GetMemory with Neo4j unreachable", err, graph.Unavailable)
}

// TestDiagnose: readiness reasons name what to fix, never an address.
func TestDiagnose(t *testing.T) {
	d, err := neo4j.NewDriverWithContext("bolt://127.0.0.1:1", neo4j.NoAuth())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := cypher.New(d, cypher.Config{Dimensions: dims})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Ping(ctx)
	got := cypher.Diagnose(err)
	if !strings.Contains(got, "cannot connect") || strings.Contains(got, "127.0.0.1") {
		t.Fatalf("Diagnose(%v) = %q", err, got)
	}
	if got := cypher.Diagnose(nil); got != "" {
		t.Fatalf("Diagnose(nil) = %q", got)
	}
}
