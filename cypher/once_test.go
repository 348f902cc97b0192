package cypher_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/neomem/neomem/cypher"
	"github.com/neomem/neomem/graph"
)

// TestOnceWritesOnce: a write with an idempotency key that was recorded
// writes nothing and says so (IsDone); the record holds the first result.
func TestOnceWritesOnce(t *testing.T) {
	s, tenant := newStore(t)
	ctx := context.Background()
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	once := &graph.Once{Key: "k-create", Fingerprint: "fp1", Result: json.RawMessage(`{"answer":1}`)}

	// Concurrent first attempts: exactly one lands.
	var wg sync.WaitGroup
	var mu sync.Mutex
	landed, done := 0, 0
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.CreateMemories(ctx, []graph.Memory{mem(scope, "once only")}, graph.Audit{Once: once})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				landed++
			case graph.IsDone(err):
				done++
			default:
				t.Errorf("CreateMemories: %v", err)
			}
		}()
	}
	wg.Wait()
	if landed != 1 || done != 5 {
		t.Fatalf("6 creates with one key: %d landed, %d done; want 1 and 5", landed, done)
	}
	if n := count(t, `MATCH (m:Memory {tenant: $t, text: 'once only'}) RETURN count(m) AS n`, map[string]any{"t": tenant}); n != 1 {
		t.Fatalf("%d memories stored, want 1", n)
	}
	rec, ok, err := s.Recall(ctx, tenant, "k-create")
	if err != nil || !ok || string(rec.Result) != `{"answer":1}` || rec.Fingerprint != "fp1" || !rec.ExpiresAt.After(time.Now().Add(23*time.Hour)) {
		t.Fatalf("Recall = %+v, %v, %v", rec, ok, err)
	}
	// Keys are per tenant.
	if _, ok, _ := s.Recall(ctx, tenant+"-other", "k-create"); ok {
		t.Fatal("another tenant sees the key")
	}

	// An update records its own result; a retry changes nothing.
	m := mustCreate(t, s, mem(scope, "v1"))[0]
	up := graph.Audit{Once: &graph.Once{Key: "k-update", Fingerprint: "fp"}}
	patch := graph.MemoryPatch{Metadata: map[string]any{"a": 1.0}}
	got, err := s.UpdateMemory(ctx, scope, m.ID, patch, up)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.UpdateMemory(ctx, scope, m.ID, patch, up)
	if !graph.IsDone(err) {
		t.Fatalf("second update with the key = %v, want done", err)
	}
	rec, _, _ = s.Recall(ctx, tenant, "k-update")
	var recorded graph.Memory
	if err := json.Unmarshal(rec.Result, &recorded); err != nil || recorded.Version != got.Version || recorded.ID != m.ID {
		t.Fatalf("recorded update = %s (%v), want the updated memory v%d", rec.Result, err, got.Version)
	}
	if h, _ := s.History(ctx, scope, m.ID); len(h) != 2 {
		t.Fatalf("%d events, want ADD and one UPDATE", len(h))
	}

	// A refused write leaves no key behind: the retry runs.
	bad := graph.Audit{Once: &graph.Once{Key: "k-refused", Fingerprint: "fp"}}
	err = s.DeleteMemory(ctx, scope, graph.NewID(), 0, bad)
	wantKind(t, "delete of an unknown memory", err, graph.NotFound)
	if _, ok, _ := s.Recall(ctx, tenant, "k-refused"); ok {
		t.Fatal("a refused write recorded its key")
	}

	// Delete-all records its count in its last batch.
	da := graph.Audit{Once: &graph.Once{Key: "k-delete-all", Fingerprint: "fp"}}
	n, err := s.DeleteAll(ctx, scope, graph.DeleteOptions{}, da)
	if err != nil || n != 2 {
		t.Fatalf("DeleteAll = %d, %v; want 2", n, err)
	}
	if _, err := s.DeleteAll(ctx, scope, graph.DeleteOptions{}, da); !graph.IsDone(err) {
		t.Fatalf("second DeleteAll with the key = %v, want done", err)
	}
	rec, _, _ = s.Recall(ctx, tenant, "k-delete-all")
	if string(rec.Result) != "2" {
		t.Fatalf("recorded delete-all = %s, want 2", rec.Result)
	}
}

// TestExpiredKeysArePurged: past the retention, a key is free again and the
// purge removes it.
func TestExpiredKeysArePurged(t *testing.T) {
	s, tenant := newStore(t, func(c *cypher.Config) { c.OnceTTL = 300 * time.Millisecond })
	ctx := context.Background()
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	a := graph.Audit{Once: &graph.Once{Key: "k", Fingerprint: "fp"}}
	if _, err := s.CreateMemories(ctx, []graph.Memory{mem(scope, "first")}, a); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if _, ok, _ := s.Recall(ctx, tenant, "k"); ok {
		t.Fatal("an expired key is recalled")
	}
	if _, err := s.CreateMemories(ctx, []graph.Memory{mem(scope, "second")}, a); err != nil {
		t.Fatalf("an expired key is not free: %v", err)
	}
	time.Sleep(500 * time.Millisecond)
	if _, err := s.PurgeExpiredKeys(ctx); err != nil {
		t.Fatal(err)
	}
	if n := count(t, `MATCH (k:IdempotencyKey {tenant: $t}) RETURN count(k) AS n`, map[string]any{"t": tenant}); n != 0 {
		t.Fatalf("%d expired keys left after the purge", n)
	}
}

// TestDeleteAllTakesJobsAndPurgeTakesKeys: deleting a scope removes its
// queued adds (which would write into it afterwards, and keep its raw
// messages); erasing it also removes its recorded idempotency answers.
func TestDeleteAllTakesJobsAndPurgeTakesKeys(t *testing.T) {
	s, tenant := newStore(t)
	ctx := context.Background()
	scope := graph.Scope{Tenant: tenant, UserID: "u"}
	other := graph.Scope{Tenant: tenant, UserID: "v"}
	req := graph.AddRequest{Scope: scope, Messages: []graph.Message{{Role: "user", Content: "secret"}}}
	if _, err := s.EnqueueJob(ctx, req, 3, graph.Audit{}); err != nil {
		t.Fatal(err)
	}
	req.Scope = other
	if _, err := s.EnqueueJob(ctx, req, 3, graph.Audit{}); err != nil {
		t.Fatal(err)
	}
	keyed := graph.Audit{Once: &graph.Once{Key: "k", Fingerprint: "fp"}}
	if _, err := s.CreateMemories(ctx, []graph.Memory{mem(scope, "secret fact")}, keyed); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeleteAll(ctx, scope, graph.DeleteOptions{}, graph.Audit{}); err != nil {
		t.Fatal(err)
	}
	jobs := func(user string) int64 {
		return count(t, `MATCH (j:Job {tenant: $t, user_id: $u}) RETURN count(j) AS n`, map[string]any{"t": tenant, "u": user})
	}
	if jobs("u") != 0 || jobs("v") != 1 {
		t.Fatalf("jobs left: u %d (want 0), v %d (want 1)", jobs("u"), jobs("v"))
	}
	if _, ok, _ := s.Recall(ctx, tenant, "k"); !ok {
		t.Fatal("a delete without purge removed the key")
	}
	if _, err := s.DeleteAll(ctx, scope, graph.DeleteOptions{Purge: true}, graph.Audit{}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Recall(ctx, tenant, "k"); ok {
		t.Fatal("erasure left the scope's recorded answer")
	}
}
