package api_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"

	"github.com/neomem/neomem/testcontainers"
)

// TestIdempotencyKeys: every write route answers a retry with the same
// Idempotency-Key with the first answer and writes nothing more; the same key
// with another body is a 422. The concurrent sends go to two replicas of the
// API sharing the store, as retries behind a load balancer would.
func TestIdempotencyKeys(t *testing.T) {
	srv := startServer(t, serverConfig{NoRateLimit: true, Replicas: 2})
	key, tenant := newKey(t, false)
	hc := &http.Client{Timeout: time.Minute}
	do := func(method, path, idem string, body any, hdr map[string]string) (int, http.Header, map[string]any) {
		t.Helper()
		h := map[string]string{"Idempotency-Key": idem}
		for k, v := range hdr {
			h[k] = v
		}
		code, header, out, err := call(hc, srv.base, key, method, path, h, body)
		if err != nil {
			t.Fatal(err)
		}
		return code, header, out
	}
	add := map[string]any{"user_id": "u", "infer": false, "messages": []map[string]any{{"role": "user", "content": "I live in Austin"}}}

	// Ten concurrent sends of one add with one key: one memory, one answer.
	var wg sync.WaitGroup
	ids := make([]string, 10)
	for i := range ids {
		wg.Go(func() {
			base := srv.replicas[i%len(srv.replicas)]
			code, _, out, err := call(hc, base, key, "POST", "/memories", map[string]string{"Idempotency-Key": "add-1"}, add)
			if err != nil || code != 200 {
				t.Errorf("add %d: %d %v %v", i, code, out, err)
				return
			}
			ids[i] = out["results"].([]any)[0].(map[string]any)["id"].(string)
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("concurrent retries answered different ids: %v", ids)
		}
	}
	if n := countOf(t, `MATCH (m:Memory {tenant: $tenant}) RETURN count(m) AS n`, tenant); n != 1 {
		t.Fatalf("%d memories after 10 sends of one add with one key, want 1", n)
	}
	code, header, _ := do("POST", "/memories", "add-1", add, nil)
	if code != 200 || header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry: %d, Idempotent-Replayed %q", code, header.Get("Idempotent-Replayed"))
	}
	// Key order and spacing of the JSON body do not matter; its content does.
	other := map[string]any{"user_id": "u", "infer": false, "messages": []map[string]any{{"role": "user", "content": "I live in Boston"}}}
	if code, _, out := do("POST", "/memories", "add-1", other, nil); code != http.StatusUnprocessableEntity {
		t.Fatalf("same key, other body: %d %v, want 422", code, out)
	}
	if code, _, out := do("POST", "/v3/memories/add/", "add-1", add, nil); code != http.StatusUnprocessableEntity {
		t.Fatalf("same key, other route: %d %v, want 422", code, out)
	}

	// Update: one UPDATE event however often it is retried.
	id := ids[0]
	up := map[string]any{"text": "I live in Denver", "metadata": map[string]any{"k": 1}}
	code, first, _ := do("PUT", "/memories/"+id, "up-1", up, nil)
	code2, again, _ := do("PUT", "/memories/"+id, "up-1", up, nil)
	if code != 200 || code2 != 200 || first.Get("ETag") != again.Get("ETag") || again.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("update retry: %d %d, ETags %q %q", code, code2, first.Get("ETag"), again.Get("ETag"))
	}
	if n := countOf(t, `MATCH (e:Event {tenant: $tenant, op: 'UPDATE'}) RETURN count(e) AS n`, tenant); n != 1 {
		t.Fatalf("%d UPDATE events, want 1", n)
	}

	// Relations, delete and delete-all answer their retries too.
	rel := map[string]any{"user_id": "u", "relations": []map[string]any{{"source": "alice", "relationship": "lives in", "target": "Denver"}}}
	for range 2 {
		if code, _, out := do("POST", "/relations", "rel-1", rel, nil); code != 200 {
			t.Fatalf("relations: %d %v", code, out)
		}
	}
	if n := countOf(t, `MATCH (e:Event {tenant: $tenant, op: 'ADD', target_kind: 'relation'}) RETURN count(e) AS n`, tenant); n != 1 {
		t.Fatalf("%d relation ADD events after a retried POST /relations, want 1", n)
	}
	for range 2 {
		if code, _, out := do("DELETE", "/memories/"+id, "del-1", nil, nil); code != 200 {
			t.Fatalf("retried delete: %d %v, want 200 both times", code, out)
		}
	}
	for range 2 {
		if code, _, out := do("DELETE", "/memories?user_id=u", "del-all-1", nil, nil); code != 200 {
			t.Fatalf("retried delete-all: %d %v", code, out)
		}
	}

	// Mem0's batch update: one answer for its retries, too.
	id2 := addRaw(t, client{t: t, base: srv.base, key: key}, "u", "I have a cat")
	batchBody := map[string]any{"memories": []map[string]any{{"memory_id": id2, "text": "I have two cats"}}}
	for i := range 2 {
		code, h, out := do("PUT", "/v1/batch/", "batch-1", batchBody, nil)
		if code != 200 || (i == 1) != (h.Get("Idempotent-Replayed") == "true") {
			t.Fatalf("batch update %d: %d %v, replayed %q", i, code, out, h.Get("Idempotent-Replayed"))
		}
	}
	// A delete-all left unfinished under a key (a crash between its
	// batches) is resumed by the same request and refused to another.
	if _, err := neo4j.ExecuteQuery(context.Background(), testcontainers.Driver(t),
		`CREATE (:IdempotencyKey {tenant: $tenant, key: 'half-done', fingerprint: 'another request', created_at: datetime(), expires_at: datetime() + duration('PT1H')})`,
		map[string]any{"tenant": tenant}, neo4j.EagerResultTransformer); err != nil {
		t.Fatal(err)
	}
	if code, _, out := do("DELETE", "/memories?user_id=u", "half-done", nil, nil); code != http.StatusUnprocessableEntity {
		t.Fatalf("another request with the key of an unfinished delete: %d %v, want 422", code, out)
	}
	if n := countOf(t, `MATCH (m:Memory {tenant: $tenant, user_id: 'u'}) RETURN count(m) AS n`, tenant); n == 0 {
		t.Fatal("the refused delete-all deleted the scope")
	}

	// Bad keys and routes that keep no answer.
	if code, _, _ := do("POST", "/memories", "job:"+id2, add, nil); code != 400 {
		t.Fatalf("a key in the jobs' namespace: %d, want 400", code)
	}
	if code, _, _ := do("POST", "/memories", fmt.Sprintf("%0300d", 1), add, nil); code != 400 {
		t.Fatalf("a 300-character key: %d, want 400", code)
	}
	if code, _, _ := do("POST", "/keys", "keys-1", map[string]any{"name": "x"}, nil); code != 400 && code != 403 {
		t.Fatalf("POST /keys with a key: %d, want 400 (or 403 for a non-admin)", code)
	}
}
