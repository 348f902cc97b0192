package memory_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/neomem/neomem/graph"
	"github.com/neomem/neomem/llm"
	"github.com/neomem/neomem/llm/llmtest"
	"github.com/neomem/neomem/memory"
	"github.com/neomem/neomem/prompts"
)

// workers runs the engine's workers for the env's tenant until the test
// ends.
func (e *env) workers(cfg memory.WorkerConfig) {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg.Tenants = []string{e.tenant}
	var wg sync.WaitGroup
	wg.Go(func() { e.engine.RunWorkers(ctx, e.store, cfg) })
	e.t.Cleanup(func() { cancel(); wg.Wait() })
}

// waitJob polls a job until it ends or 20s pass.
func (e *env) waitJob(id string) graph.Job {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		j, err := e.store.GetJob(context.Background(), e.tenant, id)
		if err != nil {
			e.t.Fatal(err)
		}
		if j.Status == graph.JobSucceeded || j.Status == graph.JobFailed {
			return j
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("job %s still %s after 20s", id, j.Status)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func (e *env) enqueue(content string) graph.Job {
	e.t.Helper()
	j, err := e.engine.Enqueue(context.Background(), graph.AddRequest{Scope: e.scope, Infer: true,
		Messages: []graph.Message{{Role: "user", Content: content}}})
	if err != nil {
		e.t.Fatalf("Enqueue: %v", err)
	}
	if j.Status != graph.JobPending {
		e.t.Fatalf("new job is %s", j.Status)
	}
	return j
}

var unavailable = &llm.ProviderError{Provider: "scripted", Status: 503, Kind: graph.Unavailable, Msg: "overloaded"}

// TestJobRetriesProviderFailures: a job whose model is unavailable is tried
// again with backoff and succeeds; one that keeps failing ends FAILED with
// its error after its attempts, writing nothing.
func TestJobRetriesProviderFailures(t *testing.T) {
	e := newEnv(t, memory.Config{JobAttempts: 3})
	e.workers(memory.WorkerConfig{Workers: 1, RetryBase: 20 * time.Millisecond, Poll: 20 * time.Millisecond})

	e.model.ThenError(unavailable).Then(extraction([]fact{{Text: "alice likes tea"}}, nil, nil, ""))
	j := e.waitJob(e.enqueue("I like tea").ID)
	if j.Status != graph.JobSucceeded || j.Attempts != 2 || j.Result == nil || len(j.Result.Results) != 1 {
		t.Fatalf("job after one provider failure: %s, %d attempts, result %+v", j.Status, j.Attempts, j.Result)
	}

	e.model.ThenError(unavailable).ThenError(unavailable).ThenError(unavailable)
	j = e.waitJob(e.enqueue("I like coffee").ID)
	if j.Status != graph.JobFailed || j.Attempts != 3 || j.Error == "" {
		t.Fatalf("job whose model stays down: %s after %d attempts, error %q", j.Status, j.Attempts, j.Error)
	}
	if n := e.count(`MATCH (m:Memory {tenant: $tenant}) RETURN count(m) AS n`, nil); n != 1 {
		t.Fatalf("%d memories, want the one of the job that succeeded", n)
	}
}

// TestJobWriteIsFenced: a job's write commits only while its worker holds
// the claim, and marks the job SUCCEEDED in the same transaction; a worker
// whose claim lapsed and was taken over writes nothing.
func TestJobWriteIsFenced(t *testing.T) {
	e := newEnv(t, memory.Config{})
	ctx := context.Background()
	// run adds text as job j's worker would; decide scripts the decision
	// call a scope with memories needs.
	run := func(j graph.Job, text string, decide bool) (graph.AddResult, error) {
		e.model.Then(extraction([]fact{{Text: text}}, nil, nil, ""))
		if decide {
			e.model.Then(llmtest.ToolCalls(llmtest.Call(prompts.ToolAddMemory, map[string]string{"text": text, "fact": "F1"})))
		}
		req := j.Request
		req.JobID = j.ID
		req.Audit.Once = &graph.Once{Key: "job:" + j.ID, Fingerprint: "job", JobID: j.ID, JobToken: j.Token}
		return e.engine.Add(ctx, req)
	}

	// A worker that wrote and died before recording the end: the job is
	// SUCCEEDED anyway, with the write's result.
	j := e.enqueue("I like tea")
	claimed, ok, err := e.store.ClaimJob(ctx, "dying-worker", time.Minute, []string{e.tenant})
	if err != nil || !ok || claimed.ID != j.ID {
		t.Fatalf("ClaimJob = %v, %v, %v", claimed.ID, ok, err)
	}
	if _, err := run(claimed, "alice likes tea", false); err != nil {
		t.Fatal(err)
	}
	got, err := e.store.GetJob(ctx, e.tenant, j.ID)
	if err != nil || got.Status != graph.JobSucceeded || got.Result == nil || len(got.Result.Results) != 1 {
		t.Fatalf("job after its fenced write: %+v, %v", got, err)
	}

	// A worker whose claim lapsed and was taken over cannot commit.
	j = e.enqueue("I like coffee")
	stale, _, err := e.store.ClaimJob(ctx, "stale-worker", 200*time.Millisecond, []string{e.tenant})
	if err != nil || stale.ID != j.ID {
		t.Fatalf("ClaimJob = %v, %v", stale.ID, err)
	}
	time.Sleep(400 * time.Millisecond)
	fresh, ok, err := e.store.ClaimJob(ctx, "new-worker", time.Minute, []string{e.tenant})
	if err != nil || !ok || fresh.ID != j.ID || fresh.Attempts != 2 {
		t.Fatalf("take-over = %+v, %v, %v", fresh, ok, err)
	}
	if _, err := run(stale, "alice likes coffee", true); !errors.Is(err, graph.Conflict) {
		t.Fatalf("write of the stale worker = %v, want Conflict", err)
	}
	if n := e.count(`MATCH (m:Memory {tenant: $tenant}) WHERE m.text CONTAINS 'coffee' RETURN count(m) AS n`, nil); n != 0 {
		t.Fatalf("the stale worker wrote %d memories", n)
	}
	if err := e.store.FinishJob(ctx, stale, graph.JobFailed, nil, "late", 0); !errors.Is(err, graph.Conflict) {
		t.Fatalf("finish by the stale worker = %v, want Conflict", err)
	}

}

// TestExhaustedJobFails: a job whose workers died max_attempts times is
// FAILED by the next claim, and the next job of its scope runs.
func TestExhaustedJobFails(t *testing.T) {
	e := newEnv(t, memory.Config{JobAttempts: 1})
	ctx := context.Background()
	first := e.enqueue("I like tea")
	second := e.enqueue("I like coffee")
	if _, ok, err := e.store.ClaimJob(ctx, "dead", 100*time.Millisecond, []string{e.tenant}); !ok || err != nil {
		t.Fatalf("claim: %v %v", ok, err)
	}
	time.Sleep(300 * time.Millisecond)
	// The first job is exhausted: FAILED, nothing handed out.
	if j, ok, err := e.store.ClaimJob(ctx, "next", time.Minute, []string{e.tenant}); ok || err != nil {
		t.Fatalf("claim of an exhausted job handed out %s (%v)", j.ID, err)
	}
	if j, _ := e.store.GetJob(ctx, e.tenant, first.ID); j.Status != graph.JobFailed || j.Error == "" {
		t.Fatalf("exhausted job: %s %q", j.Status, j.Error)
	}
	if j, ok, err := e.store.ClaimJob(ctx, "next", time.Minute, []string{e.tenant}); !ok || err != nil || j.ID != second.ID {
		t.Fatalf("next claim = %v %v %v, want the scope's second job", j.ID, ok, err)
	}
}

// TestJobsOfOneScopeRunInOrder: a later add of a scope sees what an earlier
// one wrote, with several workers.
func TestJobsOfOneScopeRunInOrder(t *testing.T) {
	e := newEnv(t, memory.Config{})
	first := e.enqueue("I like tea")
	second := e.enqueue("Actually I like green tea")
	e.model.Then(extraction([]fact{{Text: "alice likes tea"}}, nil, nil, ""))
	e.model.Then(extraction([]fact{{Text: "alice likes green tea"}}, nil, nil, "")).
		Then(llmtest.ToolCalls(llmtest.Call(prompts.ToolUpdateMemory, map[string]string{"id": "M1", "text": "alice likes green tea", "fact": "F1"})))
	e.workers(memory.WorkerConfig{Workers: 3, Poll: 20 * time.Millisecond})
	if j := e.waitJob(first.ID); j.Status != graph.JobSucceeded {
		t.Fatalf("first job: %s %s", j.Status, j.Error)
	}
	j := e.waitJob(second.ID)
	if j.Status != graph.JobSucceeded || len(j.Result.Results) != 1 || j.Result.Results[0].Event != graph.EventUpdate {
		t.Fatalf("second job: %s %s %+v (it must update what the first wrote)", j.Status, j.Error, j.Result)
	}
}
