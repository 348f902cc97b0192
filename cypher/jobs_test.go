package cypher_test

import (
	"context"
	"testing"
	"time"

	"github.com/neomem/neomem/graph"
)

// TestExhaustedJobFailedByAnotherClaimer drives the claims of
// memory.TestExhaustedJobFails with one more claim between them, as another
// worker of the same database makes it: that claim finds the exhausted job
// and fails it, so the next claim rightly hands out the scope's second job.
// "Nothing is handed out after an exhausted job" holds only while no other
// worker sees the tenant: a worker that claims for every tenant (nil
// tenants) on the shared test database breaks that test this way.
func TestExhaustedJobFailedByAnotherClaimer(t *testing.T) {
	s, tenant := newStore(t)
	ctx := context.Background()
	scope := graph.Scope{Tenant: tenant, UserID: "alice"}
	enqueue := func(text string) graph.Job {
		t.Helper()
		j, err := s.EnqueueJob(ctx, graph.AddRequest{Scope: scope, Infer: true,
			Messages: []graph.Message{{Role: "user", Content: text}}}, 1, graph.Audit{})
		if err != nil {
			t.Fatalf("EnqueueJob(%q): %v", text, err)
		}
		return j
	}
	first, second := enqueue("I like tea"), enqueue("I like coffee")
	tenants := []string{tenant}

	if j, ok, err := s.ClaimJob(ctx, "dead", 100*time.Millisecond, tenants); err != nil || !ok || j.ID != first.ID {
		t.Fatalf("ClaimJob(dead) = %s, %v, %v, want the first job", j.ID, ok, err)
	}
	time.Sleep(300 * time.Millisecond)

	// The other worker's claim comes first: it fails the exhausted job.
	if j, ok, err := s.ClaimJob(ctx, "other", time.Minute, tenants); err != nil || ok {
		t.Fatalf("ClaimJob(other) = %s, %v, %v, want nothing (the exhausted job FAILED)", j.ID, ok, err)
	}
	if j, err := s.GetJob(ctx, tenant, first.ID); err != nil || j.Status != graph.JobFailed || j.Error == "" || j.CompletedAt == nil {
		t.Fatalf("GetJob(first) = %s %q, %v, want FAILED with its error", j.Status, j.Error, err)
	}
	// The claim TestExhaustedJobFails expects to come back empty now hands
	// out the scope's second job: its "handed out" failure.
	j, ok, err := s.ClaimJob(ctx, "next", time.Minute, tenants)
	if err != nil || !ok || j.ID != second.ID || j.Status != graph.JobRunning || j.Attempts != 1 {
		t.Fatalf("ClaimJob(next) = %s %s attempt %d, %v, %v, want the second job, RUNNING, attempt 1", j.ID, j.Status, j.Attempts, ok, err)
	}
}
