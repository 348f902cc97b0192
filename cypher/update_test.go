package cypher_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/testcontainers"
)

// TestConcurrentUpdatesKeepEveryChange runs many updates of one memory at
// once: each sets the text and adds its own metadata key. None may be lost,
// the history must be one unbroken chain, and the flattened meta_*
// properties must equal the metadata map.
func TestConcurrentUpdatesKeepEveryChange(t *testing.T) {
	s, tenant := newStore(t)
	ctx := context.Background()
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	m := mustCreate(t, s, mem(scope, "v0"))[0]
	if m.Version != 1 {
		t.Fatalf("new memory version = %d, want 1", m.Version)
	}

	const workers, each = 8, 6
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range each {
				text := fmt.Sprintf("w%d-%d", w, n)
				_, err := s.UpdateMemory(ctx, scope, m.ID, graph.MemoryPatch{Text: &text, Embedding: embedder.Vector(text),
					Metadata: map[string]any{fmt.Sprintf("w%d_%d", w, n): int64(n)}}, graph.Audit{})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("UpdateMemory: %v", err)
	}

	got, err := s.GetMemory(ctx, scope, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Metadata) != workers*each {
		t.Fatalf("metadata has %d keys, want %d: %d updates lost", len(got.Metadata), workers*each, workers*each-len(got.Metadata))
	}
	if got.Version != 1+workers*each {
		t.Fatalf("version = %d, want %d", got.Version, 1+workers*each)
	}
	hist, err := s.History(ctx, scope, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Walk the chain from the created text: every UPDATE's old text is the
	// text the previous one wrote.
	next := map[string]graph.Event{}
	for _, e := range hist[1:] {
		if _, dup := next[e.Old]; dup {
			t.Fatalf("two updates replaced the same text %q: the history forks", e.Old)
		}
		next[e.Old] = e
	}
	text, steps := "v0", 0
	for {
		e, ok := next[text]
		if !ok {
			break
		}
		text, steps = e.New, steps+1
	}
	if steps != workers*each || text != got.Text {
		t.Fatalf("history chain: %d steps ending at %q, want %d ending at the current text %q", steps, text, workers*each, got.Text)
	}

	// meta_* equal the map.
	res, err := neo4j.ExecuteQuery(ctx, testcontainers.Driver(t),
		`MATCH (m:Memory {id: $id}) RETURN [k IN keys(m) WHERE k STARTS WITH 'meta_' | [substring(k, 5), m[k]]] AS flat`,
		map[string]any{"id": m.ID}, neo4j.EagerResultTransformer)
	if err != nil {
		t.Fatal(err)
	}
	// Numbers come back from the JSON map as float64, from the properties
	// as int64: compare their printed values.
	flat, md := map[string]string{}, map[string]string{}
	v, _ := res.Records[0].Get("flat")
	for _, kv := range v.([]any) {
		p := kv.([]any)
		flat[p[0].(string)] = fmt.Sprint(p[1])
	}
	for k, v := range got.Metadata {
		md[k] = fmt.Sprint(v)
	}
	if diff := cmp.Diff(md, flat); diff != "" {
		t.Fatalf("meta_* properties differ from the metadata map (-map +props):\n%s", diff)
	}
}

// TestUpdateAndDeleteIfVersion checks optimistic concurrency: a change that
// names a version that is no longer current is Stale and changes nothing.
func TestUpdateAndDeleteIfVersion(t *testing.T) {
	s, tenant := newStore(t)
	ctx := context.Background()
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	m := mustCreate(t, s, mem(scope, "first"))[0]

	got, err := s.UpdateMemory(ctx, scope, m.ID, graph.MemoryPatch{Metadata: map[string]any{"a": 1.0}, IfVersion: 1}, graph.Audit{})
	if err != nil || got.Version != 2 {
		t.Fatalf("update at version 1 = v%d, %v; want v2", got.Version, err)
	}
	_, err = s.UpdateMemory(ctx, scope, m.ID, graph.MemoryPatch{Metadata: map[string]any{"b": 1.0}, IfVersion: 1}, graph.Audit{})
	wantKind(t, "update at a stale version", err, graph.Stale)
	err = s.DeleteMemory(ctx, scope, m.ID, 1, graph.Audit{})
	wantKind(t, "delete at a stale version", err, graph.Stale)

	after, err := s.GetMemory(ctx, scope, m.ID)
	if err != nil || after.Version != 2 || len(after.Metadata) != 1 {
		t.Fatalf("after refused changes: %+v, %v", after, err)
	}
	hist, _ := s.History(ctx, scope, m.ID)
	if len(hist) != 2 {
		t.Fatalf("%d events after one update, want 2 (refused changes leave nothing)", len(hist))
	}
	err = s.DeleteMemory(ctx, scope, graph.NewID(), 3, graph.Audit{})
	wantKind(t, "delete of an unknown id with a version", err, graph.NotFound)
	if err := s.DeleteMemory(ctx, scope, m.ID, 2, graph.Audit{}); err != nil {
		t.Fatalf("delete at the current version: %v", err)
	}
}
