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
	j, err := e.engine.Enqueue(context.Background(), memory.AddRequest{Scope: e.scope, Infer: true,
		Messages: []memory.Message{{Role: "user", Content: content}}})
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

// TestJobOfDeadWorkerRunsOnce: a worker that died after writing (its lease
// lapses with the job RUNNING) is taken over; the new run finds the write
// recorded under the job's key and finishes without writing or calling the
// model again.
func TestJobOfDeadWorkerRunsOnce(t *testing.T) {
	e := newEnv(t, memory.Config{})
	ctx := context.Background()
	j := e.enqueue("I like tea")
	// The dead worker: claims with a short lease, writes, never finishes.
	claimed, ok, err := e.store.ClaimJob(ctx, "dead-worker", 300*time.Millisecond, []string{e.tenant})
	if err != nil || !ok || claimed.ID != j.ID {
		t.Fatalf("ClaimJob = %v, %v, %v", claimed.ID, ok, err)
	}
	e.model.Then(extraction([]fact{{Text: "alice likes tea"}}, nil, nil, ""))
	req := claimed.Request
	req.JobID = j.ID
	req.Audit.Once = &graph.Once{Key: "job:" + j.ID, Fingerprint: "job"}
	if _, err := e.engine.Add(ctx, req); err != nil {
		t.Fatal(err)
	}
	calls := e.model.Calls()

	e.workers(memory.WorkerConfig{Workers: 2, Poll: 20 * time.Millisecond})
	done := e.waitJob(j.ID)
	if done.Status != graph.JobSucceeded || done.Attempts != 2 || done.Result == nil || len(done.Result.Results) != 1 {
		t.Fatalf("taken-over job: %s after %d attempts, result %+v", done.Status, done.Attempts, done.Result)
	}
	if e.model.Calls() != calls {
		t.Fatalf("the second run called the model %d more times", e.model.Calls()-calls)
	}
	if n := e.count(`MATCH (m:Memory {tenant: $tenant}) RETURN count(m) AS n`, nil); n != 1 {
		t.Fatalf("%d memories after a job ran twice, want 1", n)
	}
	// The dead worker's claim is fenced off.
	err = e.store.FinishJob(ctx, claimed, graph.JobFailed, nil, "late", 0)
	if !errors.Is(err, graph.Conflict) {
		t.Fatalf("finish by the worker that lost the claim = %v, want Conflict", err)
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
